package bootstrap

import (
	gocrypto "crypto"
	"crypto/tls"
	"crypto/x509"
	"net/netip"
	"time"

	"mip6/discovery"
	"mip6/eap"
	"mip6/ike"
)

// Certificate is a certificate credential: the chain (leaf first, its
// rfc822Name SubjectAltName the NAI) and its private key.
type Certificate struct {
	Chain []*x509.Certificate
	Key   gocrypto.Signer
}

// EAPMethod names an EAP peer method.
type EAPMethod uint8

const (
	EAPMSCHAPv2 EAPMethod = iota + 1
	EAPMD5
	EAPTLS
)

func (m EAPMethod) String() string {
	switch m {
	case EAPMSCHAPv2:
		return "EAP-MSCHAPv2"
	case EAPMD5:
		return "EAP-MD5"
	case EAPTLS:
		return "EAP-TLS"
	}
	return "EAP-?"
}

// EAPCredential is an EAP credential checked by the home AAA server
// through the home agent (RFC 4877 §8).
type EAPCredential struct {
	Method EAPMethod
	// UserName for the method (MSCHAPv2, MD5); the NAI when empty.
	UserName string
	Password string
	// TLS is the EAP-TLS client configuration (certificate, roots).
	TLS *tls.Config
}

// Config is the mobile node's seed information (RFC 4640 §8, Parameter
// Set 1): an identity and one credential; everything else is optional.
type Config struct {
	// Identity is the NAI, sent as IDi (ID_RFC822_ADDR) and used for
	// discovery (its realm) and the cache.
	Identity string
	// RoutingIdentity, when set, is sent as IDi instead of Identity with
	// EAP (e.g. "@example.net"): the AAA server learns the real one.
	RoutingIdentity string

	// Exactly one credential: Parameter Set 1 (PSK, Certificate, EAP),
	// or Parameter Set 2: AccessKey, from network access authentication,
	// from which the mobility PSK is derived (DeriveMobilityKey).
	PSK         []byte
	Certificate *Certificate
	EAP         *EAPCredential
	AccessKey   *AccessKey

	// The home agent's authentication: its identity when known (IDr is
	// then sent and checked), and with a certificate or EAP credential
	// the roots its certificate must chain to. A PSK MN expects the HA
	// to prove the same PSK.
	HAIdentity   ike.Identity
	HATrustRoots *x509.CertPool
	HACAs        []*x509.Certificate // named in CERTREQ

	// Optional seed: static home agents, an HA FQDN, the home domain,
	// the home prefix (DHAAD), DNS servers.
	HomeAgents []netip.Addr
	HAName     string
	Domain     string
	HomePrefix netip.Prefix
	DHAAD      *discovery.DHAADClient
	DNSServers []netip.AddrPort
	// Resolver replaces the one built from DNSServers (simulated networks).
	Resolver *discovery.Resolver

	// SuggestAddress is offered in CP when the cache has none.
	SuggestAddress netip.Addr
	Cache          CacheConfig

	// Local is the care-of address and IKE port; HAPort the home agent's
	// (default 4500 when Local's port is 4500, else 500). The transport
	// has one socket: behind a NAT use port 4500 from the start.
	Local  netip.AddrPort
	HAPort uint16
	// Transport carries IKE; nil opens a UDP socket on Local.
	Transport Transport

	// IKE is the base engine configuration (proposals, retransmission,
	// Logger, KeyLog); its responder hooks are not used.
	IKE ike.Config
	// Children: the first is created in IKE_AUTH; default one tunnel-mode
	// CHILD_SA "home" from the home address to anywhere (RFC 4877 §3).
	Children []ike.ChildConfig
	// TransportForm also negotiates, right after IKE_AUTH, the transport-mode
	// CHILD_SA for Binding Updates and Acknowledgements (SignallingChild)
	// that the RFC 3776 wire form needs; a home agent that refuses it fails
	// the attempt with a *SignallingError. Behind a NAT the path does not
	// allow that form: Result.Signalling stays nil and a warning is logged.
	TransportForm bool
	// AttemptTimeout bounds one candidate (default 30 s); the engine's own
	// retransmission schedule usually ends it first.
	AttemptTimeout time.Duration
	// DPDInterval, when set, checks that the home agent still answers
	// after that long without a message from it (IKEv2 liveness check): a
	// silent one ends the IKE SA and Lost fires.
	DPDInterval time.Duration
	// IKERekeyTime and ChildRekeyTime, when set, rekey the IKE SA and the
	// CHILD_SAs of the default children (RFC 7296 §2.8) that long after
	// they were made; a rekeyed IKE SA also renews the lease.
	IKERekeyTime, ChildRekeyTime time.Duration
	// OnEvent receives the engine's events after a successful bootstrap
	// (rekeys, deletes, failures of the kept IKE SA).
	OnEvent func(ike.Event)
}

func (c *Config) validate() error {
	if c.Identity == "" {
		return &ConfigError{"Identity", "an NAI is required"}
	}
	n := 0
	for _, set := range []bool{len(c.PSK) > 0, c.Certificate != nil, c.EAP != nil, c.AccessKey != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return &ConfigError{"credential", "exactly one of PSK, Certificate, EAP, AccessKey is required"}
	}
	if c.Certificate != nil && (len(c.Certificate.Chain) == 0 || c.Certificate.Key == nil) {
		return &ConfigError{"Certificate", "chain and key required"}
	}
	if c.EAP != nil && (c.EAP.Method < EAPMSCHAPv2 || c.EAP.Method > EAPTLS) {
		return &ConfigError{"EAP.Method", "unknown method"}
	}
	if c.EAP != nil && c.EAP.Method == EAPTLS && c.EAP.TLS == nil {
		return &ConfigError{"EAP.TLS", "EAP-TLS needs a TLS configuration"}
	}
	if c.AccessKey != nil && len(c.AccessKey.Key) < 32 {
		return &ConfigError{"AccessKey", ErrShortAccessKey.Error()}
	}
	if (c.Certificate != nil || c.EAP != nil) && c.HATrustRoots == nil {
		return &ConfigError{"HATrustRoots", "needed to authenticate the home agent's certificate"}
	}
	if c.Transport == nil && !c.Local.IsValid() {
		return &ConfigError{"Local", "a care-of address and port, or a Transport"}
	}
	return nil
}

func (c *Config) attemptTimeout() time.Duration {
	if c.AttemptTimeout > 0 {
		return c.AttemptTimeout
	}
	return 30 * time.Second
}

func (c *Config) haPort() uint16 {
	if c.HAPort != 0 {
		return c.HAPort
	}
	if c.Local.Port() == ike.PortNATT {
		return ike.PortNATT
	}
	return ike.PortIKE
}

// eapPeer builds a fresh EAP peer for one attempt.
func (c *Config) eapPeer() *eap.Peer {
	user := c.EAP.UserName
	if user == "" {
		user = c.Identity
	}
	var m eap.Method
	switch c.EAP.Method {
	case EAPMD5:
		m = eap.NewMD5(user, c.EAP.Password)
	case EAPTLS:
		m = eap.NewTLS(c.EAP.TLS)
	default:
		m = eap.NewMSCHAPv2(user, c.EAP.Password)
	}
	return eap.NewPeer(c.Identity, m)
}

// peerConfig is the IKE PAD entry for the home agent, for one attempt.
func (c *Config) peerConfig(suggest netip.Addr, rec *recorder) (*ike.PeerConfig, func()) {
	p := &ike.PeerConfig{Name: "home", LocalID: ike.RFC822(c.Identity), RemoteID: c.HAIdentity,
		RequestAddress: true, SuggestAddress: suggest, RequestDNS: true,
		TrustRoots: c.HATrustRoots, CACertificates: c.HACAs, Children: c.children(),
		DPDInterval: c.DPDInterval, IKERekeyTime: c.IKERekeyTime}
	done := func() {}
	switch {
	case len(c.PSK) > 0:
		p.LocalAuth, p.RemoteAuth, p.PSK = ike.AuthPSK, ike.AuthPSK, c.PSK
	case c.AccessKey != nil:
		mk, _ := DeriveMobilityKey(*c.AccessKey, c.Identity, time.Now(), 0) // length checked in validate
		p.LocalAuth, p.RemoteAuth, p.PSK = ike.AuthPSK, ike.AuthPSK, mk.Key
	case c.Certificate != nil:
		p.LocalAuth, p.RemoteAuth = ike.AuthCert, ike.AuthCert
		p.Certificates, p.PrivateKey = c.Certificate.Chain, c.Certificate.Key
	default:
		peer := c.eapPeer()
		p.LocalAuth, p.RemoteAuth = ike.AuthEAP, ike.AuthCert
		p.EAP = &tracingPeer{peer: peer, rec: rec}
		if c.RoutingIdentity != "" {
			p.LocalID = ike.RFC822(c.RoutingIdentity)
		}
		done = peer.Close
	}
	return p, done
}

func (c *Config) children() []ike.ChildConfig {
	if len(c.Children) > 0 {
		return c.Children
	}
	anyAddr := ike.PrefixSelector(netip.MustParsePrefix("::/0"))
	return []ike.ChildConfig{{Name: "home", RemoteTS: []ike.Selector{anyAddr}, RekeyTime: c.ChildRekeyTime}}
}

func (c *Config) discoveryConfig() discovery.Config {
	res := c.Resolver
	if res == nil && len(c.DNSServers) > 0 {
		res = &discovery.Resolver{Servers: c.DNSServers, Timeout: time.Second}
	}
	return discovery.Config{Identity: c.Identity, Domain: c.Domain, HAName: c.HAName,
		HomePrefix: c.HomePrefix, Static: c.HomeAgents, Resolver: res, DHAAD: c.DHAAD}
}
