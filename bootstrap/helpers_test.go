package bootstrap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mip6/ike"
	"mip6/ipsec"
	"mip6/lease"
	"mip6/store"
)

// memNet is an in-memory network between IKE endpoints: datagrams to an
// address nobody listens on vanish (a silent home agent).
type memNet struct {
	mu    sync.Mutex
	nodes map[netip.AddrPort]func(local, remote netip.AddrPort, b []byte)
	// natInside, when valid, is translated to natOutside on the way out
	// and back on the way in, as a NAT would.
	natInside, natOutside netip.AddrPort
}

func newMemNet() *memNet {
	return &memNet{nodes: map[netip.AddrPort]func(local, remote netip.AddrPort, b []byte){}}
}

func (n *memNet) attach(a netip.AddrPort, recv func(local, remote netip.AddrPort, b []byte)) {
	n.mu.Lock()
	n.nodes[a] = recv
	n.mu.Unlock()
}

func (n *memNet) detach(a netip.AddrPort) {
	n.mu.Lock()
	delete(n.nodes, a)
	n.mu.Unlock()
}

func (n *memNet) WriteTo(b []byte, local, remote netip.AddrPort) error {
	n.mu.Lock()
	if n.natInside.IsValid() && local == n.natInside {
		local = n.natOutside
	}
	if n.natInside.IsValid() && remote == n.natOutside {
		remote = n.natInside
	}
	recv := n.nodes[remote]
	n.mu.Unlock()
	if recv != nil {
		c := append([]byte(nil), b...)
		go recv(remote, local, c)
	}
	return nil
}

// memTransport is the mobile node's Transport on a memNet.
type memTransport struct {
	n     *memNet
	local netip.AddrPort
}

func (m *memTransport) WriteTo(b []byte, local, remote netip.AddrPort) error {
	return m.n.WriteTo(b, local, remote)
}
func (m *memTransport) Serve(recv func(local, remote netip.AddrPort, b []byte)) {
	m.n.attach(m.local, recv)
}
func (m *memTransport) Close() error { m.n.detach(m.local); return nil }

var (
	homePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	ha1Addr    = netip.MustParseAddr("2001:db8:1::1")
	ha2Addr    = netip.MustParseAddr("2001:db8:2::1")
	silentAddr = netip.MustParseAddr("2001:db8:9::1")
	mnCoA      = netip.MustParseAddrPort("[2001:db8:a::100]:500")
	haName     = "ha.example.net"
	alice      = "alice@example.net"
	bob        = "bob@example.net"
	alicePSK   = []byte("alice's pre-shared key, long enough")
	bobPSK     = []byte("bob's pre-shared key, long enough too")
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testPKI is a CA with a home agent certificate and alice's.
type testPKI struct {
	roots       *x509.CertPool
	ca          *x509.Certificate
	haCert      *x509.Certificate
	haKey       *ecdsa.PrivateKey
	mnCert      *x509.Certificate
	mnKey       *ecdsa.PrivateKey
	otherCACert *x509.Certificate
}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mip6 test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{roots: x509.NewCertPool(), ca: ca}
	p.roots.AddCert(ca)
	leaf := func(serial int64, cn string, mod func(*x509.Certificate)) (*x509.Certificate, *ecdsa.PrivateKey) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tm := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
		mod(tm)
		der, err := x509.CreateCertificate(rand.Reader, tm, ca, k.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, k
	}
	p.haCert, p.haKey = leaf(2, haName, func(c *x509.Certificate) { c.DNSNames = []string{haName} })
	p.mnCert, p.mnKey = leaf(3, alice, func(c *x509.Certificate) { c.EmailAddresses = []string{alice} })
	return p
}

func (p *testPKI) haCertChain() []*x509.Certificate { return []*x509.Certificate{p.haCert} }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// testHA is a home agent on the memNet: IKE endpoint, store, pool, PAD.
type testHA struct {
	addr netip.Addr
	ep   *ike.Endpoint
	ha   *HomeAgent
	st   *store.Store
	pad  *ipsec.PAD
}

type haOption func(h *HomeAgent, pc *lease.PoolConfig)

func newTestHA(t testing.TB, n *memNet, addr netip.Addr, pki *testPKI, opts ...haOption) *testHA {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "ha.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := &HomeAgent{ID: ike.FQDN(haName), PAD: ipsec.NewPAD(), Store: st, Logger: quietLogger(),
		Certificates: []*x509.Certificate{pki.haCert}, PrivateKey: pki.haKey, TrustRoots: pki.roots,
		Subscribers: []Subscriber{
			{Identity: alice, Auth: ike.AuthPSK, PSK: alicePSK},
			{Identity: bob, Auth: ike.AuthPSK, PSK: bobPSK},
		}}
	pc := lease.PoolConfig{Policy: lease.Policy{Store: st, HomePrefix: homePrefix, LeaseTime: time.Hour, Authorize: h.Authorize},
		First: netip.MustParseAddr("2001:db8:1::1000"), Last: netip.MustParseAddr("2001:db8:1::1fff"), Exclude: []netip.Addr{addr}}
	for _, o := range opts {
		o(h, &pc)
	}
	pool, err := lease.NewPool(pc)
	if err != nil {
		t.Fatal(err)
	}
	h.Addresses = pool
	cfg, err := h.Configure(ike.Config{Logger: h.Logger})
	if err != nil {
		t.Fatal(err)
	}
	th := &testHA{addr: addr, ha: h, st: st, pad: h.PAD}
	th.ep = ike.NewEndpoint(cfg, n, h.OnEvent)
	local := netip.AddrPortFrom(addr, ike.PortIKE)
	n.attach(local, func(l, r netip.AddrPort, b []byte) { th.ep.Receive(l, r, b) })
	t.Cleanup(func() {
		n.detach(local)
		th.ep.Close()
		st.Close()
	})
	return th
}

// leases returns the store's leases (live or not) by identity.
func (th *testHA) leases(t testing.TB) map[string][]netip.Addr {
	t.Helper()
	out := map[string][]netip.Addr{}
	err := th.st.View(func(tx *store.Tx) error {
		return tx.ForEachLease(func(l store.Lease) error {
			out[l.Identity] = append(out[l.Identity], l.Address)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mnConfig is alice's PSK seed on the memNet, the given HAs static.
func mnConfig(n *memNet, has ...netip.Addr) Config {
	return Config{Identity: alice, PSK: alicePSK, HAIdentity: ike.FQDN(haName), HomeAgents: has,
		Local: mnCoA, Transport: &memTransport{n: n, local: mnCoA},
		IKE: ike.Config{Logger: quietLogger(), RetransmitBase: 100 * time.Millisecond, RetransmitTries: 3}}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
