package bootstrap

import (
	"context"
	gocrypto "crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"mip6/aaa"
	"mip6/eap"
	"mip6/ike"
	"mip6/ipsec"
	"mip6/lease"
	"mip6/store"
)

// Subscriber is one mobile node a home agent serves.
type Subscriber struct {
	Identity string       // its NAI (IDi)
	Auth     ike.AuthKind // AuthPSK, AuthCert or AuthEAP (checked by AAA)
	PSK      []byte
	// HomeAddress, when set, is this MN's static home address: it gets
	// it, may suggest no other, and no other MN may have it.
	HomeAddress netip.Addr
	// FromAccessKey (with AuthPSK, no PSK): the PSK is the mobility key
	// derived from the MN's network access key (Parameter Set 2), which
	// HomeAgent.AccessKeys fetches.
	FromAccessKey bool
}

// HomeAgent builds the IKE responder configuration of a home agent
// (RFC 4877 §7–§9): peer lookup from configured mobile nodes or the AAA
// server, home addresses from a lease.Assigner with their temporary PAD
// entries, lease renewal on rekey, and RADIUS accounting per binding.
type HomeAgent struct {
	// ID is the home agent's IDr; with certificates its SubjectAltName.
	ID ike.Identity
	// Certificate credential, used towards certificate and EAP mobile
	// nodes; TrustRoots checks certificate mobile nodes.
	Certificates []*x509.Certificate
	PrivateKey   gocrypto.Signer
	TrustRoots   *x509.CertPool

	Subscribers []Subscriber
	// AAA authenticates EAP mobile nodes (aaa.EAPAuthenticator for RADIUS
	// pass-through) and, for the AAARealms, identities not configured
	// here: their IDi may be a routing identity such as "@example.net".
	AAA        eap.Authenticator
	AAARealms  []string
	AAATimeout time.Duration // per AAA round trip, default 10 s

	// AccessKeys gives a subscriber's network access key and when it was
	// issued (from the integrated ASP's AAA server, RFC 4640 §7.2); the
	// mobility key derived from it lasts MobilityKeyLifetime (default 8 h)
	// from then.
	AccessKeys          func(identity string) (AccessKey, time.Time, error)
	MobilityKeyLifetime time.Duration

	// Addresses hands out home addresses (lease.Pool, lease.DHCPv6, ...).
	Addresses lease.Assigner
	// Store, when set, is the one behind Addresses: leases are bound to
	// their IKE SA there (lease.BindSA).
	Store *store.Store
	PAD   *ipsec.PAD
	// Accounting, when set, gets Start/Stop per binding.
	Accounting *aaa.Client
	// Children are the CHILD_SAs accepted; default tunnel mode from
	// anywhere to the MN's home address.
	Children []ike.ChildConfig
	// TransportForm also accepts the transport-mode CHILD_SAs for BU/BA
	// (SignallingChild) and MPS/MPA (PrefixDiscoveryChild) that mobile
	// nodes using the RFC 3776 wire form ask for.
	TransportForm bool
	Logger        *slog.Logger

	mu       sync.Mutex
	mns      map[string]*Subscriber
	statics  map[netip.Addr]string
	sessions map[netip.Addr]*aaa.Session
	lmu      sync.Mutex // serialises assign and release
	// holds counts the IKE SAs using each lease: a re-bootstrapped MN's
	// new IKE SA gets the lease its old one holds, and the old one's end
	// must not release it.
	holds   map[hold]int
	renewed map[hold]time.Time // last RenewLeases of each held lease
	aaaOnly map[string]bool    // PAD entries made for AAA-authenticated identities
}

type hold struct {
	identity string
	addr     netip.Addr
}

// Configure fills base's responder hooks (LookupPeer, AssignAddress,
// ReleaseAddress) and registers the configured mobile nodes in the PAD.
func (h *HomeAgent) Configure(base ike.Config) (ike.Config, error) {
	if h.Addresses == nil || h.PAD == nil {
		return base, &ConfigError{"HomeAgent", "Addresses and PAD are required"}
	}
	h.mu.Lock()
	h.mns, h.statics, h.sessions = map[string]*Subscriber{}, map[netip.Addr]string{}, map[netip.Addr]*aaa.Session{}
	h.holds, h.aaaOnly, h.renewed = map[hold]int{}, map[string]bool{}, map[hold]time.Time{}
	for i := range h.Subscribers {
		mn := &h.Subscribers[i]
		if err := mn.check(); err != nil {
			h.mu.Unlock()
			return base, err
		}
		h.mns[mn.Identity] = mn
		if mn.HomeAddress.IsValid() {
			h.statics[mn.HomeAddress] = mn.Identity
		}
		h.PAD.Set(ipsec.PADEntry{Identity: mn.Identity, Auth: padAuth(mn.Auth)})
	}
	h.mu.Unlock()
	base.LookupPeer = h.lookupPeer
	base.AssignAddress = h.assign
	base.ReleaseAddress = h.release
	return base, nil
}

func (mn *Subscriber) check() error {
	field := "Subscribers[" + mn.Identity + "]"
	switch {
	case mn.Identity == "":
		return &ConfigError{"Subscribers", "a subscriber without identity"}
	case mn.Auth != ike.AuthPSK && mn.Auth != ike.AuthCert && mn.Auth != ike.AuthEAP:
		return &ConfigError{field, "Auth must be AuthPSK, AuthCert or AuthEAP"}
	case mn.FromAccessKey && mn.Auth != ike.AuthPSK:
		return &ConfigError{field, "FromAccessKey needs AuthPSK"}
	case mn.Auth == ike.AuthPSK && len(mn.PSK) == 0 && !mn.FromAccessKey:
		return &ConfigError{field, "PSK authentication without a key"}
	}
	return nil
}

// UnknownPeerError: an IDi that is neither a subscriber nor of an AAA
// realm; the MN is told AUTHENTICATION_FAILED.
type UnknownPeerError struct {
	Identity string
}

func (e *UnknownPeerError) Error() string {
	return "bootstrap: " + e.Identity + " is not a mobile node of this home agent"
}

func padAuth(k ike.AuthKind) ipsec.AuthMethods {
	switch k {
	case ike.AuthCert:
		return ipsec.AuthCertificate
	case ike.AuthEAP:
		return ipsec.AuthEAP
	}
	return ipsec.AuthSharedSecret
}

func (h *HomeAgent) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *HomeAgent) mobileNode(identity string) *Subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mns[identity]
}

// lookupPeer is the PAD lookup of IKE_AUTH: a configured mobile node, or
// an identity of an AAA realm, which authenticates with EAP.
func (h *HomeAgent) lookupPeer(idi ike.Identity, _ *ike.Identity) (*ike.PeerConfig, error) {
	key := identityKey(idi)
	mn := h.mobileNode(key)
	auth := ike.AuthEAP
	if mn != nil {
		auth = mn.Auth
	} else if h.AAA == nil || !h.aaaRealm(key) {
		return nil, &UnknownPeerError{Identity: key}
	}
	p := &ike.PeerConfig{Name: key, LocalID: h.ID, RemoteID: idi, RemoteAuth: auth, LocalAuth: ike.AuthCert,
		Certificates: h.Certificates, PrivateKey: h.PrivateKey, TrustRoots: h.TrustRoots, Children: h.children()}
	switch auth {
	case ike.AuthPSK:
		psk, err := h.psk(mn)
		if err != nil {
			return nil, err
		}
		p.LocalAuth, p.PSK = ike.AuthPSK, psk
	case ike.AuthEAP:
		if h.AAA == nil {
			return nil, errNoAAA
		}
		p.EAPServer = func() ike.EAPAuthenticator { return &eapServer{auth: h.AAA, timeout: h.aaaTimeout()} }
	}
	return p, nil
}

// psk is a subscriber's PSK: configured, or derived from its access key.
func (h *HomeAgent) psk(mn *Subscriber) ([]byte, error) {
	if !mn.FromAccessKey {
		return mn.PSK, nil
	}
	if h.AccessKeys == nil {
		return nil, &ConfigError{"AccessKeys", "needed for subscribers with FromAccessKey"}
	}
	ak, issued, err := h.AccessKeys(mn.Identity)
	if err != nil {
		return nil, err
	}
	lifetime := h.MobilityKeyLifetime
	if lifetime <= 0 {
		lifetime = 8 * time.Hour
	}
	mk, err := DeriveMobilityKey(ak, mn.Identity, issued, lifetime)
	if err != nil {
		return nil, err
	}
	if time.Now().After(mk.Expiry) {
		return nil, &KeyExpiredError{Identity: mn.Identity, Name: mk.Name, Expiry: mk.Expiry}
	}
	return mk.Key, nil
}

// KeyExpiredError: the mobility key derived from the subscriber's access
// key has expired; the MN must authenticate for network access again.
type KeyExpiredError struct {
	Identity string
	Name     []byte
	Expiry   time.Time
}

func (e *KeyExpiredError) Error() string {
	return fmt.Sprintf("bootstrap: %s: mobility key %x expired at %s", e.Identity, e.Name, e.Expiry.Format(time.RFC3339))
}

func (h *HomeAgent) aaaTimeout() time.Duration {
	if h.AAATimeout > 0 {
		return h.AAATimeout
	}
	return 10 * time.Second
}

func (h *HomeAgent) aaaRealm(identity string) bool {
	i := strings.LastIndexByte(identity, '@')
	if i < 0 {
		return false
	}
	for _, r := range h.AAARealms {
		if strings.EqualFold(identity[i+1:], r) {
			return true
		}
	}
	return false
}

func (h *HomeAgent) children() []ike.ChildConfig {
	if len(h.Children) > 0 {
		return h.Children
	}
	anyAddr := ike.PrefixSelector(netip.MustParsePrefix("::/0"))
	children := []ike.ChildConfig{{Name: "home", LocalTS: []ike.Selector{anyAddr}, RemoteTS: []ike.Selector{{EndPort: 0xffff}}}}
	if h.TransportForm {
		children = append(children, SignallingChild(false), PrefixDiscoveryChild(false))
	}
	return children
}

// Authorize is a lease.Policy.Authorize for the configured static home
// addresses: an MN with one may suggest only it, no other MN may take it.
func (h *HomeAgent) Authorize(identity string, addr netip.Addr) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if owner, ok := h.statics[addr]; ok {
		return owner == identity
	}
	mn := h.mns[identity]
	return mn == nil || !mn.HomeAddress.IsValid()
}

// assign is the CP handler (RFC 4877 §9): a lease for the authenticated
// identity and its temporary PAD entry, both or neither.
func (h *HomeAgent) assign(peer ike.Identity, suggested netip.Addr) (netip.Prefix, error) {
	key := identityKey(peer)
	mn := h.mobileNode(key)
	// lmu, not mu: the Assigner may call back into Authorize.
	h.lmu.Lock()
	defer h.lmu.Unlock()
	if mn != nil && mn.HomeAddress.IsValid() {
		suggested = mn.HomeAddress
	} else if mn == nil {
		// Authenticated by the AAA server under its real identity.
		if _, ok := h.PAD.Lookup(key); !ok {
			h.PAD.Set(ipsec.PADEntry{Identity: key, Auth: ipsec.AuthEAP})
			h.aaaOnly[key] = true
		}
	}
	p, err := h.Addresses.Assign(key, suggested)
	if err == nil {
		if err = h.PAD.AddTemporary(key, p.Addr()); err != nil && h.holds[hold{key, p.Addr()}] == 0 {
			h.releaseLocked(key, p.Addr(), store.SARef{})
		}
	}
	if err != nil {
		h.dropAAAEntry(key)
		return netip.Prefix{}, err
	}
	h.holds[hold{key, p.Addr()}]++
	h.renewed[hold{key, p.Addr()}] = time.Now()
	h.logger().Info("bootstrap: home address assigned", "identity", key, "addr", p)
	return p, nil
}

// release ends the lease and the PAD link when the last IKE SA holding
// them ends.
func (h *HomeAgent) release(sa ike.SAInfo) {
	key, p := identityKey(sa.RemoteID), sa.AssignedAddress
	h.lmu.Lock()
	defer h.lmu.Unlock()
	k := hold{key, p.Addr()}
	if h.holds[k]--; h.holds[k] > 0 {
		return
	}
	delete(h.holds, k)
	delete(h.renewed, k)
	h.releaseLocked(key, p.Addr(), store.SARef{SPIi: sa.InitiatorSPI, SPIr: sa.ResponderSPI})
	h.dropAAAEntry(key)
}

// releaseLocked removes the PAD link and the lease; h.lmu is held. With a
// store shared by several home agents, a lease that another home agent's
// IKE SA has taken over (the mobile node moved there) is left alone.
func (h *HomeAgent) releaseLocked(key string, addr netip.Addr, sa store.SARef) {
	h.PAD.RemoveTemporary(key, addr)
	var err error
	if r, ok := h.Addresses.(lease.SAReleaser); ok && sa != (store.SARef{}) {
		var released bool
		if released, err = r.ReleaseSA(key, addr, sa); err == nil && !released {
			h.logger().Info("bootstrap: lease kept: another IKE SA holds it now", "identity", key, "addr", addr)
		}
	} else {
		err = h.Addresses.Release(key, addr)
	}
	if err != nil {
		h.logger().Warn("bootstrap: lease release", "identity", key, "addr", addr, "err", err)
	}
}

// RenewLeases extends the leases of the home addresses that live IKE SAs
// hold, each at most once per every (RFC 4877 §9: a lease lasts as long as
// its IKE SA, which need not rekey before the lease time runs out). The
// home agent calls it periodically, with every well below the lease time.
func (h *HomeAgent) RenewLeases(now time.Time, every time.Duration) {
	h.lmu.Lock()
	var due []hold
	for k := range h.holds {
		if now.Sub(h.renewed[k]) >= every {
			due = append(due, k)
		}
	}
	h.lmu.Unlock()
	// Without the lock: a renewal may be a DHCPv6 exchange or an etcd
	// transaction, and bootstraps must not wait for them.
	for _, k := range due {
		if err := h.Addresses.Renew(k.identity, k.addr); err != nil {
			h.logger().Warn("bootstrap: lease not renewed", "identity", k.identity, "addr", k.addr, "err", err)
			continue
		}
		h.lmu.Lock()
		if h.holds[k] > 0 {
			h.renewed[k] = now
		}
		h.lmu.Unlock()
	}
}

// dropAAAEntry removes a PAD entry made for an AAA identity that holds
// nothing any more; h.lmu is held.
func (h *HomeAgent) dropAAAEntry(key string) {
	if !h.aaaOnly[key] {
		return
	}
	for k := range h.holds {
		if k.identity == key {
			return
		}
	}
	h.PAD.Remove(key)
	delete(h.aaaOnly, key)
}

// OnEvent keeps leases in step with IKE SAs: bound to the SA when it is
// established, extended and re-bound when it is rekeyed (RFC 4877 §9:
// the lease lasts as long as the IKE SA). Call it from the endpoint's
// event callback.
func (h *HomeAgent) OnEvent(ev ike.Event) {
	addr := ev.IKESA.AssignedAddress
	if !addr.IsValid() || ev.IKESA.Initiator && ev.Kind != ike.EventIKERekeyed {
		return
	}
	key := identityKey(ev.IKESA.RemoteID)
	switch ev.Kind {
	case ike.EventIKERekeyed:
		if err := h.Addresses.Renew(key, addr.Addr()); err != nil {
			h.logger().Warn("bootstrap: lease not renewed", "identity", key, "addr", addr, "err", err)
		}
		h.bindSA(key, addr.Addr(), ev.IKESA)
	case ike.EventIKEEstablished:
		h.bindSA(key, addr.Addr(), ev.IKESA)
	}
}

func (h *HomeAgent) bindSA(key string, addr netip.Addr, sa ike.SAInfo) {
	if h.Store == nil {
		return
	}
	if err := lease.BindSA(h.Store, key, addr, store.SARef{SPIi: sa.InitiatorSPI, SPIr: sa.ResponderSPI}); err != nil {
		h.logger().Warn("bootstrap: lease not bound to IKE SA", "identity", key, "addr", addr, "err", err)
	}
}

// BindingStarted sends RADIUS Accounting-Start for a new binding of the
// home address hoa (the mobility layer calls it on the first accepted BU).
func (h *HomeAgent) BindingStarted(ctx context.Context, identity string, hoa, coa netip.Addr) error {
	if h.Accounting == nil {
		return nil
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	s := &aaa.Session{ID: hex.EncodeToString(id[:]), UserName: identity, HomeAddress: hoa, CareOf: coa, Started: time.Now()}
	h.mu.Lock()
	h.sessions[hoa] = s
	h.mu.Unlock()
	return h.Accounting.AccountingStart(ctx, s, s.Started)
}

// BindingInterim sends an Interim-Update for hoa's binding with the
// traffic counted so far (from the MN's side: in is what it sent).
func (h *HomeAgent) BindingInterim(ctx context.Context, hoa, coa netip.Addr, inOctets, outOctets uint64, inPackets, outPackets uint32) error {
	h.mu.Lock()
	s := h.sessions[hoa]
	if s != nil {
		if coa.IsValid() {
			s.CareOf = coa
		}
		s.InputOctets, s.OutputOctets, s.InputPackets, s.OutputPackets = inOctets, outOctets, inPackets, outPackets
	}
	var cp aaa.Session
	if s != nil {
		cp = *s
	}
	h.mu.Unlock()
	if s == nil || h.Accounting == nil {
		return nil
	}
	return h.Accounting.AccountingInterim(ctx, &cp, time.Now())
}

// BindingEnded sends Accounting-Stop for hoa's binding.
func (h *HomeAgent) BindingEnded(ctx context.Context, hoa netip.Addr, cause aaa.TerminateCause) error {
	h.mu.Lock()
	s := h.sessions[hoa]
	delete(h.sessions, hoa)
	h.mu.Unlock()
	if s == nil || h.Accounting == nil {
		return nil
	}
	return h.Accounting.AccountingStop(ctx, s, time.Now(), cause)
}
