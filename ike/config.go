package ike

import (
	"bytes"
	gocrypto "crypto"
	"crypto/x509"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"mip6/ike/crypto"
	"mip6/wire/ikev2"
)

// Identity is an IKE identity (RFC 7296 §3.5): ID_IPV6_ADDR, ID_FQDN,
// ID_RFC822_ADDR, ID_DER_ASN1_DN or ID_KEY_ID with its data.
type Identity struct {
	Type ikev2.IDType
	Data []byte
}

// FQDN returns an ID_FQDN identity.
func FQDN(name string) Identity { return Identity{Type: ikev2.IDFQDN, Data: []byte(name)} }

// RFC822 returns an ID_RFC822_ADDR identity (an NAI such as alice@example.net).
func RFC822(addr string) Identity { return Identity{Type: ikev2.IDRFC822Addr, Data: []byte(addr)} }

// AddrIdentity returns an ID_IPV6_ADDR identity.
func AddrIdentity(a netip.Addr) Identity {
	id := ikev2.IDFromAddr(a)
	return Identity{Type: id.Type, Data: id.Data}
}

// KeyID returns an ID_KEY_ID identity.
func KeyID(b []byte) Identity { return Identity{Type: ikev2.IDKeyID, Data: b} }

// DN returns an ID_DER_ASN1_DN identity from a DER-encoded Name, e.g.
// x509.Certificate.RawSubject.
func DN(der []byte) Identity { return Identity{Type: ikev2.IDDERASN1DN, Data: der} }

// IsZero reports an unset identity.
func (id Identity) IsZero() bool { return id.Type == 0 && len(id.Data) == 0 }

// Equal compares type and data.
func (id Identity) Equal(o Identity) bool { return id.Type == o.Type && bytes.Equal(id.Data, o.Data) }

func (id Identity) String() string {
	p := ikev2.ID{Type: id.Type, Data: id.Data}
	return p.String()
}

func (id Identity) payload(responder bool) *ikev2.ID {
	return &ikev2.ID{Responder: responder, Type: id.Type, Data: id.Data}
}

// AuthKind is how one side proves its identity.
type AuthKind uint8

const (
	AuthPSK  AuthKind = iota + 1 // pre-shared key
	AuthCert                     // certificate and private key signature
	AuthEAP                      // EAP, then AUTH with the MSK (initiator only)
)

// EAPAuthenticator is the responder's side of an EAP conversation inside
// IKE_AUTH (RFC 7296 §2.16): an EAP method or a RADIUS pass-through. It
// is driven by one IKE SA's goroutine.
type EAPAuthenticator interface {
	// Start returns the first EAP request for the peer's IDi.
	Start(id Identity) ([]byte, error)
	// Next consumes an EAP response and returns the next EAP message to
	// send. When done, msg is EAP-Success or EAP-Failure and result is set.
	Next(resp []byte) (msg []byte, result *EAPResult, err error)
}

// EAPResult ends an EAP conversation. Identity is the peer's real identity
// when the method (or AAA server) learned it; MSK may be empty for methods
// that derive none, in which case SK_pi/SK_pr stand in (§2.16).
type EAPResult struct {
	Success  bool
	MSK      []byte
	Identity Identity
}

// EAPPeer is the initiator's side: it answers EAP requests.
type EAPPeer interface {
	// Respond consumes an EAP request and returns the response.
	Respond(req []byte) ([]byte, error)
	// MSK is the key after EAP-Success; nil if the method derives none.
	MSK() []byte
}

// ChildConfig describes CHILD_SAs for a peer.
type ChildConfig struct {
	Name      string
	Proposals []ChildProposal // DefaultChildProposals when empty
	// LocalTS and RemoteTS are what policy allows; the initiator proposes
	// them. An unspecified Start address (::) in RemoteTS stands for the
	// peer's address: its assigned home address when CP gave one, else
	// its IKE address (strongSwan's "dynamic").
	LocalTS, RemoteTS []Selector
	// Transport asks for (initiator) or accepts (responder) transport mode.
	Transport bool
	// RekeyTime starts a CHILD_SA rekey; 0 never. LifeTime deletes a
	// CHILD_SA that was not rekeyed in time (the hard limit); 0 never.
	RekeyTime time.Duration
	LifeTime  time.Duration
}

// PeerConfig is one Peer Authorization Database entry with its SPD part.
type PeerConfig struct {
	Name string
	// LocalID is sent in IDi/IDr. RemoteID, when set, is sent as IDr by an
	// initiator and must match what the peer presents.
	LocalID, RemoteID Identity
	LocalAuth         AuthKind
	RemoteAuth        AuthKind
	PSK               []byte

	// Certificate authentication: our chain (leaf first) and key, and the
	// roots the peer's certificate must chain to.
	Certificates    []*x509.Certificate
	PrivateKey      gocrypto.Signer
	SignatureScheme crypto.SignatureScheme
	TrustRoots      *x509.CertPool
	// CACertificates are named in CERTREQ (initiator) so that the peer
	// sends its certificate (strongSwan's default send_cert = ifasked).
	CACertificates []*x509.Certificate

	EAP       EAPPeer                 // initiator with LocalAuth == AuthEAP
	EAPServer func() EAPAuthenticator // responder with RemoteAuth == AuthEAP

	IKEProposals []IKEProposal // DefaultIKEProposals when empty
	Children     []ChildConfig // the first is created in IKE_AUTH

	// RequestAddress makes an initiator ask for a home address with
	// CP(CFG_REQUEST); SuggestAddress is offered in it when valid.
	RequestAddress bool
	SuggestAddress netip.Addr
	RequestDNS     bool
	// MOBIKE offers MOBIKE_SUPPORTED (initiator, RFC 4555): once agreed,
	// Endpoint.UpdateLocalAddress moves the SA when our address changes.
	MOBIKE bool

	// IKERekeyTime rekeys the IKE SA; 0 never. DPDInterval sends liveness
	// checks when the peer has been silent; 0 never.
	IKERekeyTime time.Duration
	DPDInterval  time.Duration
	// IKELifeTime deletes an IKE SA that was not rekeyed in time; 0 never.
	IKELifeTime time.Duration
}

func (p *PeerConfig) ikeProposals() []IKEProposal {
	if len(p.IKEProposals) > 0 {
		return p.IKEProposals
	}
	return DefaultIKEProposals()
}

func (c *ChildConfig) proposals() []ChildProposal {
	if len(c.Proposals) > 0 {
		return c.Proposals
	}
	return DefaultChildProposals()
}

// Config configures an Endpoint.
type Config struct {
	// IKEProposals are accepted in IKE_SA_INIT before the peer's identity
	// is known; DefaultIKEProposals when empty.
	IKEProposals []IKEProposal
	// LookupPeer finds the PAD entry for a peer's IDi (responder) and may
	// use the IDr the peer asked for. Nil means this endpoint only initiates.
	LookupPeer func(idi Identity, idr *Identity) (*PeerConfig, error)
	// AssignAddress gives a peer an IPv6 address (RFC 4877 §9), honouring
	// suggested (invalid when none) when allowed. An error makes the reply
	// carry INTERNAL_ADDRESS_FAILURE.
	AssignAddress func(peer Identity, suggested netip.Addr) (netip.Prefix, error)
	// AsyncAssign runs AssignAddress off the IKE SA's lock, for allocators
	// that wait (DHCPv6, a disk-synced lease store); the IKE_AUTH response
	// is sent when it returns.
	AsyncAssign bool
	// ReleaseAddress is told when an IKE SA holding an assigned address
	// (sa.AssignedAddress) ends.
	ReleaseAddress func(sa SAInfo)
	// CACertificates are named in the responder's CERTREQ.
	CACertificates []*x509.Certificate
	// DNS servers handed out in INTERNAL_IP6_DNS.
	DNS []netip.Addr

	// CookieThreshold is the number of half-open IKE SAs above which
	// IKE_SA_INIT requests must carry a valid COOKIE; 0 means 256, a
	// negative value always demands cookies.
	CookieThreshold int
	// DHReuse lets the responder reuse its Diffie-Hellman key in
	// IKE_SA_INIT for up to this long, for many IKE SAs (RFC 7296 §2.12):
	// it halves the public-key work per handshake, at the price of forward
	// secrecy shared by the SAs set up within that window. Nonces stay
	// fresh, so keys differ per SA. 0: a new key for every IKE SA.
	DHReuse time.Duration
	// HalfOpenTimeout drops IKE SAs that do not finish IKE_AUTH; 0 is 30s.
	HalfOpenTimeout time.Duration

	// Retransmission: first timeout (0 = 1s), doubled each try, and the
	// number of retransmissions before giving up (0 = 5).
	RetransmitBase  time.Duration
	RetransmitTries int

	// FragmentSize is the largest IKE message (without IP/UDP headers)
	// sent unfragmented once the peer supports RFC 7383; 0 means 1280-48.
	FragmentSize int

	Rand   io.Reader    // crypto/rand.Reader when nil
	Logger *slog.Logger // slog.Default() when nil
	// KeyLog, when non-nil, receives IKE and ESP keys in lines that
	// Wireshark's ikev2_decryption_table and esp_sa tables accept. Never
	// enable in production.
	KeyLog io.Writer
}
