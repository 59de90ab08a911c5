package daemon

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"

	"mip6/bootstrap"
	"mip6/dataplane"
	"mip6/ike"
	"mip6/internal/config"
	"mip6/internal/control"
	"mip6/internal/hostnet"
	"mip6/internal/node"
)

// MobileNode is a running mobile node daemon: it bootstraps, registers,
// follows its care-of address and re-bootstraps when the home agent asks.
type MobileNode struct {
	cfg     *config.MN
	log     *slog.Logger
	started time.Time
	keyLog  io.WriteCloser

	mu          sync.Mutex
	res         *bootstrap.Result
	host        *hostnet.MobileHost
	node        *node.MobileNode
	plane       *dataplane.Plane
	bind        *dataplane.UDPBind
	raw         *hostnet.RawMobility // RFC 3776 form: BU out, BA in, past the kernel
	stopTimers  chan struct{}
	coa         netip.Addr
	ikeLocal    atomic.Pointer[netip.Addr] // coa, for the plane's workers
	retired     map[uint32]bool            // inbound SPIs of CHILD_SAs a rekey replaced
	rebootstrap chan string
}

// NewMobileNode checks the credential files; Run does the rest.
func NewMobileNode(cfg *config.MN, log *slog.Logger) (*MobileNode, error) {
	m := &MobileNode{cfg: cfg, log: log, started: time.Now(), rebootstrap: make(chan string, 1), retired: map[uint32]bool{}}
	if _, err := m.bootstrapConfig(netip.AddrPort{}); err != nil {
		return nil, err
	}
	kl, err := openKeyLog(cfg.IKE.KeyLog)
	if err != nil {
		return nil, err
	}
	m.keyLog = kl
	return m, nil
}

// bootstrapConfig turns the config file into bootstrap seed information.
func (m *MobileNode) bootstrapConfig(local netip.AddrPort) (bootstrap.Config, error) {
	c := m.cfg
	b := bootstrap.Config{Identity: c.Identity, HAName: c.HomeAgent.FQDN, Domain: c.HomeAgent.Domain,
		HomePrefix: c.HomeAgent.HomePrefix.Prefix, SuggestAddress: c.HomeAddress.Addr, Local: local,
		IKE: ike.Config{Logger: m.log}, TransportForm: c.Mobility.WireForm == "transport",
		DPDInterval: c.HomeAgent.DPDInterval.Duration, AttemptTimeout: c.HomeAgent.AttemptTimeout.Duration,
		IKERekeyTime: c.IKE.Lifetime.Duration, ChildRekeyTime: c.IKE.ChildLifetime.Duration}
	if m.keyLog != nil {
		b.IKE.KeyLog = m.keyLog
	}
	if c.HomeAgent.Address.IsValid() {
		b.HomeAgents = []netip.Addr{c.HomeAgent.Address.Addr}
	}
	if c.HomeAgent.DNSServer.IsValid() {
		b.DNSServers = []netip.AddrPort{c.HomeAgent.DNSServer.AddrPort}
	}
	if c.HomeAgent.Identity != "" {
		b.HAIdentity = ike.FQDN(c.HomeAgent.Identity)
	}
	b.Cache.Path = c.Cache.Path
	for _, it := range c.Cache.Items {
		b.Cache.HomeAgent = b.Cache.HomeAgent || it == "home_agent"
		b.Cache.HomeAddress = b.Cache.HomeAddress || it == "home_address"
	}
	cr := &c.Credential
	roots, err := loadRoots(cr.CA)
	if err != nil {
		return b, err
	}
	b.HATrustRoots = roots
	switch {
	case cr.PSK != "":
		b.PSK = []byte(cr.PSK)
	case cr.AccessKeyFile != "":
		// Parameter Set 2: read at every bootstrap, as access
		// authentication renews it.
		ak, _, err := readAccessKey(cr.AccessKeyFile)
		if err != nil {
			return b, fmt.Errorf("credential.access_key_file: %w", err)
		}
		b.AccessKey = &ak
	case cr.EAPMethod != "":
		e := &bootstrap.EAPCredential{UserName: cr.EAPIdentity, Password: cr.Password}
		switch cr.EAPMethod {
		case "md5":
			e.Method = bootstrap.EAPMD5
		case "mschapv2":
			e.Method = bootstrap.EAPMSCHAPv2
		case "tls":
			e.Method = bootstrap.EAPTLS
			pair, err := tls.LoadX509KeyPair(cr.Certificate, cr.PrivateKey)
			if err != nil {
				return b, fmt.Errorf("credential.certificate: %w", err)
			}
			e.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: roots, MaxVersion: tls.VersionTLS12}
		}
		b.EAP = e
	default:
		chain, key, err := loadKeyPair(cr.Certificate, cr.PrivateKey)
		if err != nil {
			return b, fmt.Errorf("credential.certificate / private_key: %w", err)
		}
		b.Certificate = &bootstrap.Certificate{Chain: chain, Key: key}
	}
	return b, nil
}

func loadRoots(paths []string) (*x509.CertPool, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	pool := x509.NewCertPool()
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("credential.ca: %w", err)
		}
		if blk, _ := pem.Decode(data); blk == nil || !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("credential.ca: %s holds no PEM certificate", p)
		}
	}
	return pool, nil
}

// careOf picks the care-of address: the first global IPv6 address on the
// configured interfaces, or the home address when one of them sits on the
// home link (an address inside the home prefix).
func (m *MobileNode) careOf(hoa netip.Prefix) (netip.Addr, bool, error) {
	var first netip.Addr
	for _, name := range m.cfg.Mobility.Interfaces {
		l, err := netlink.LinkByName(name)
		if err != nil {
			continue
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V6)
		if err != nil {
			return netip.Addr{}, false, err
		}
		for _, a := range addrs {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok || !ip.IsGlobalUnicast() {
				continue
			}
			if hoa.IsValid() && hoa.Masked().Contains(ip) {
				return hoa.Addr(), true, nil
			}
			if !first.IsValid() {
				first = ip
			}
		}
	}
	if !first.IsValid() {
		return first, false, fmt.Errorf("no global IPv6 address on mobility.interfaces %v to use as care-of address", m.cfg.Mobility.Interfaces)
	}
	return first, false, nil
}

// status reports the binding, SAs and counters.
func (m *MobileNode) Status() *control.Status {
	s := &control.Status{Role: "mn", Identity: m.cfg.Identity, Started: m.started, Counters: map[string]uint64{}}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.node != nil {
		m.node.Status(s)
	}
	if m.res != nil {
		sa := m.res.IKESA
		s.IKESAs = append(s.IKESAs, control.IKESA{Identity: sa.RemoteID.String(), Local: sa.Local.String(),
			Remote: sa.Remote.String(), SPIi: fmt.Sprintf("%016x", sa.InitiatorSPI), SPIr: fmt.Sprintf("%016x", sa.ResponderSPI),
			Suite: sa.Suite, State: "established"})
	}
	return s
}

// loadKeyPair reads a PEM certificate chain and its private key.
func loadKeyPair(certFile, keyFile string) ([]*x509.Certificate, crypto.Signer, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, nil, err
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s: the key cannot sign", keyFile)
	}
	var chain []*x509.Certificate
	for _, der := range pair.Certificate {
		x, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, err
		}
		chain = append(chain, x)
	}
	return chain, key, nil
}
