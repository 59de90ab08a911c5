package bootstrap

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mip6/aaa"
	"mip6/discovery"
	"mip6/eap"
	"mip6/ike"
	"mip6/lease"
	"mip6/store"

	"layeh.com/radius/rfc2866"
)

// Certificates on both sides; the home agent found through DNS SRV of the
// NAI's realm on the embedded DNS server (the MN knows no HA, no domain).
func TestBootstrapCertificateSRV(t *testing.T) {
	zone, err := discovery.ParseZone("example.net", `
$TTL 60
_mip6._ipv6  IN SRV 10 1 0 ha1.example.net.
ha1          IN AAAA 2001:db8:1::1
`)
	if err != nil {
		t.Fatal(err)
	}
	dns, err := discovery.Serve("[::1]:0", zone)
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	n := newMemNet()
	pki := newPKI(t)
	th := newTestHA(t, n, ha1Addr, pki, func(h *HomeAgent, _ *lease.PoolConfig) {
		h.Subscribers = []Subscriber{{Identity: alice, Auth: ike.AuthCert}}
	})
	cfg := mnConfig(n)
	cfg.PSK = nil
	cfg.Certificate = &Certificate{Chain: []*x509.Certificate{pki.mnCert}, Key: pki.mnKey}
	cfg.HATrustRoots, cfg.HACAs = pki.roots, []*x509.Certificate{pki.ca}
	cfg.DNSServers = []netip.AddrPort{dns.Addr()}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	checkResult(t, res, th, alice)
	if res.HomeAgent.Source != discovery.SourceSRV || res.Trace.RoundTrips() != 2 || res.RefreshAfter != time.Minute {
		t.Fatalf("candidate %v, trace:\n%s", res.HomeAgent, res.Trace)
	}
	t.Logf("trace (total %v):\n%s", res.Total, res.Trace)
}

// localAAA runs an in-process RADIUS server on ::1 with alice's password.
func localAAA(t testing.TB, onAcct func(aaa.AccountingRecord)) *aaa.Client {
	t.Helper()
	conn, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &aaa.LocalServer{Secret: []byte("radius secret"), OnAccounting: onAcct,
		Authenticator: &eap.LocalAuthenticator{Users: map[string]string{alice: "alice's password"}}}
	done := make(chan struct{})
	go func() { s.Serve(conn); close(done) }()
	t.Cleanup(func() { s.Close(); conn.Close(); <-done })
	return &aaa.Client{Servers: []aaa.Server{{Addr: conn.LocalAddr().String(), Secret: []byte("radius secret")}},
		Timeout: 500 * time.Millisecond, Retries: 1}
}

func eapHA(t testing.TB, n *memNet, pki *testPKI, client *aaa.Client) *testHA {
	return newTestHA(t, n, ha1Addr, pki, func(h *HomeAgent, _ *lease.PoolConfig) {
		h.Subscribers = nil // every identity of the realm is the AAA server's
		h.AAA = &aaa.EAPAuthenticator{Client: client, CalledStationID: ha1Addr.String()}
		h.AAARealms = []string{"example.net"}
		h.Accounting = client
	})
}

func eapConfig(n *memNet, pki *testPKI, password string) Config {
	cfg := mnConfig(n, ha1Addr)
	cfg.PSK = nil
	cfg.EAP = &EAPCredential{Method: EAPMSCHAPv2, Password: password}
	cfg.RoutingIdentity = "@example.net"
	cfg.HATrustRoots = pki.roots
	return cfg
}

// EAP-MSCHAPv2 through the HA's RADIUS pass-through to an in-process
// RADIUS server; the IDi is only a routing identity, the lease and the
// PAD entry go to the real identity from the AAA answer; accounting
// Start/Stop per binding.
func TestBootstrapEAPMSCHAPv2(t *testing.T) {
	var mu sync.Mutex
	var acct []aaa.AccountingRecord
	client := localAAA(t, func(r aaa.AccountingRecord) { mu.Lock(); acct = append(acct, r); mu.Unlock() })
	n := newMemNet()
	pki := newPKI(t)
	th := eapHA(t, n, pki, client)
	res, err := Run(context.Background(), eapConfig(n, pki, "alice's password"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	checkResult(t, res, th, alice)
	if _, ok := th.pad.Lookup("@example.net"); ok {
		t.Fatal("PAD entry for the routing identity")
	}
	if !strings.Contains(res.Trace.String(), "EAP-Request/MSCHAPv2") || res.Trace.RoundTrips() < 4 {
		t.Fatalf("trace:\n%s", res.Trace)
	}
	t.Logf("trace (total %v):\n%s", res.Total, res.Trace)

	ctx := context.Background()
	hoa := res.HomeAddress.Addr()
	if err := th.ha.BindingStarted(ctx, alice, hoa, mnCoA.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := th.ha.BindingInterim(ctx, hoa, mnCoA.Addr(), 1500, 3000, 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := th.ha.BindingEnded(ctx, hoa, aaa.CauseUserRequest); err != nil {
		t.Fatal(err)
	}
	res.Close()
	waitFor(t, "AAA identity's PAD entry removed", func() bool { _, ok := th.pad.Lookup(alice); return !ok })
	mu.Lock()
	defer mu.Unlock()
	if len(acct) != 3 || acct[0].Status != rfc2866.AcctStatusType_Value_Start || acct[1].Status != rfc2866.AcctStatusType_Value_InterimUpdate ||
		acct[2].Status != rfc2866.AcctStatusType_Value_Stop || acct[1].InputOctets != 1500 || acct[2].InputOctets != 1500 ||
		acct[0].UserName != alice || !acct[2].HomeAddress.Equal(hoa.AsSlice()) || acct[0].SessionID != acct[2].SessionID {
		t.Fatalf("accounting records %+v", acct)
	}
}

// EAP-MD5 derives no MSK: the AUTH payloads fall back to SK_pi/SK_pr
// (RFC 7296 §2.16); the MN Naks the server's MSCHAPv2 proposal.
func TestBootstrapEAPMD5(t *testing.T) {
	n := newMemNet()
	pki := newPKI(t)
	th := eapHA(t, n, pki, localAAA(t, nil))
	cfg := eapConfig(n, pki, "alice's password")
	cfg.EAP.Method = EAPMD5
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	checkResult(t, res, th, alice)
	if !strings.Contains(res.Trace.String(), "EAP-Request/MD5") {
		t.Fatalf("trace:\n%s", res.Trace)
	}
}

// RFC 4640 §9.2: a wrong password or PSK gets nothing: authentication
// refused, no lease in the store, no PAD entry.
func TestWrongCredentialsGetNothing(t *testing.T) {
	n := newMemNet()
	pki := newPKI(t)
	t.Run("eap", func(t *testing.T) {
		th := eapHA(t, n, pki, localAAA(t, nil))
		_, err := Run(context.Background(), eapConfig(n, pki, "guessed"))
		checkRefused(t, err, th)
	})
	t.Run("psk", func(t *testing.T) {
		th := newTestHA(t, n, ha1Addr, pki)
		cfg := mnConfig(n, ha1Addr)
		cfg.PSK = bobPSK // bob's key under alice's name
		_, err := Run(context.Background(), cfg)
		checkRefused(t, err, th)
	})
}

func checkRefused(t *testing.T, err error, th *testHA) {
	t.Helper()
	checkFailed(t, err, th, discovery.FailAuthRefused)
}

// checkFailed: the one candidate failed for want, nothing left behind.
func checkFailed(t *testing.T, err error, th *testHA, want discovery.Failure) {
	t.Helper()
	var cf *CandidatesFailedError
	if !errors.As(err, &cf) || !slices.Equal(cf.Reasons(), []discovery.Failure{want}) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if l := th.leases(t); len(l) != 0 {
		t.Fatalf("leases left: %v", l)
	}
	for _, e := range th.pad.Entries() {
		if len(e.ChildSAAddrs) != 0 {
			t.Fatalf("PAD entry left: %+v", e)
		}
	}
	err = th.st.View(func(tx *store.Tx) error {
		return tx.ForEachPAD(func(e store.PADEntry) error { return fmt.Errorf("stored PAD entry left: %+v", e) })
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The first candidate is silent, the second has no address to give
// (INTERNAL_ADDRESS_FAILURE), the third serves: it is used, and the
// attempts name each reason. Without the third, the error does.
func TestCandidateFallback(t *testing.T) {
	n := newMemNet()
	pki := newPKI(t)
	one := netip.MustParseAddr("2001:db8:1::1000")
	full := newTestHA(t, n, ha2Addr, pki, func(_ *HomeAgent, pc *lease.PoolConfig) { pc.First, pc.Last = one, one })
	if _, err := full.ha.Addresses.Assign(bob, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	th := newTestHA(t, n, ha1Addr, pki)

	res, err := Run(context.Background(), mnConfig(n, silentAddr, ha2Addr, ha1Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	checkResult(t, res, th, alice)
	got := []discovery.Failure{}
	for _, a := range res.Attempts {
		got = append(got, a.Failure)
	}
	want := []discovery.Failure{discovery.FailNoAnswer, discovery.FailInternalAddressFailure}
	if !slices.Equal(got, want) || res.Attempts[0].Candidate.Addr != silentAddr {
		t.Fatalf("attempts %v, want %v", res.Attempts, want)
	}
	if l := full.leases(t); len(l[alice]) != 0 {
		t.Fatalf("full HA leased to alice: %v", l)
	}
	t.Logf("trace (total %v):\n%s", res.Total, res.Trace)

	_, err = Run(context.Background(), mnConfig(n, silentAddr, ha2Addr))
	var cf *CandidatesFailedError
	if !errors.As(err, &cf) || !slices.Equal(cf.Reasons(), want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	var f *ike.Failure
	if !errors.As(err, &f) || !strings.Contains(err.Error(), "internal address failure") {
		t.Fatalf("err = %v does not carry the IKE failures", err)
	}
}

// An MN that suggests another MN's home address does not get it (RFC
// 4640 §9.2, RFC 4877 §9: one address, one identity).
func TestSuggestedAddressOfAnotherRefused(t *testing.T) {
	n := newMemNet()
	pki := newPKI(t)
	th := newTestHA(t, n, ha1Addr, pki)
	resA, err := Run(context.Background(), mnConfig(n, ha1Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer resA.Close()
	hoaA := resA.HomeAddress.Addr()

	bobCoA := netip.MustParseAddrPort("[2001:db8:b::200]:500")
	cfg := mnConfig(n, ha1Addr)
	cfg.Identity, cfg.PSK, cfg.SuggestAddress = bob, bobPSK, hoaA
	cfg.Local, cfg.Transport = bobCoA, &memTransport{n: n, local: bobCoA}
	resB, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer resB.Close()
	if resB.HomeAddress.Addr() == hoaA {
		t.Fatalf("bob was given alice's home address %s", hoaA)
	}
	if owner, _ := th.pad.OwnerOf(hoaA); owner != alice {
		t.Fatalf("PAD owner of %s = %q", hoaA, owner)
	}
	if owner, _ := th.pad.OwnerOf(resB.HomeAddress.Addr()); owner != bob {
		t.Fatalf("PAD owner of bob's %s = %q", resB.HomeAddress, owner)
	}
}

// RFC 4640 §9.2: while 40 impostors flood the home agent with bootstrap
// attempts under bob's name, alice still bootstraps; the impostors get
// nothing.
func TestBootstrapDuringFlood(t *testing.T) {
	n := newMemNet()
	th := newTestHA(t, n, ha1Addr, newPKI(t))
	const impostors = 40
	var wg sync.WaitGroup
	fails := make(chan error, impostors)
	for i := range impostors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			coa := netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xe, 15: byte(i + 1)}), 500)
			cfg := mnConfig(n, ha1Addr)
			cfg.Identity, cfg.PSK = bob, []byte("a guess at bob's key")
			cfg.Local, cfg.Transport = coa, &memTransport{n: n, local: coa}
			_, err := Run(context.Background(), cfg)
			fails <- err
		}()
	}
	res, err := Run(context.Background(), mnConfig(n, ha1Addr))
	wg.Wait()
	close(fails)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	checkResult(t, res, th, alice)
	for err := range fails {
		var cf *CandidatesFailedError
		if !errors.As(err, &cf) || !slices.Equal(cf.Reasons(), []discovery.Failure{discovery.FailAuthRefused}) {
			t.Fatalf("impostor: %v", err)
		}
	}
	if l := th.leases(t); len(l) != 1 {
		t.Fatalf("leases %v, want alice's only", l)
	}
}

// lockedBuffer is a log sink shared by goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The home agent's RADIUS server is down: the MN is refused, the
// operator's log names the silent server, and nothing is leased.
func TestAAADown(t *testing.T) {
	silent, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	client := &aaa.Client{Servers: []aaa.Server{{Addr: silent.LocalAddr().String(), Secret: []byte("x")}},
		Timeout: 100 * time.Millisecond, Retries: -1}
	var log lockedBuffer
	n := newMemNet()
	pki := newPKI(t)
	th := newTestHA(t, n, ha1Addr, pki, func(h *HomeAgent, _ *lease.PoolConfig) {
		h.Subscribers = nil
		h.AAA = &aaa.EAPAuthenticator{Client: client}
		h.AAARealms = []string{"example.net"}
		h.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	_, err = Run(context.Background(), eapConfig(n, pki, "alice's password"))
	// The HA answers AUTHENTICATION_FAILED; package ike's initiator reads
	// that notify only in the first IKE_AUTH response and reports a
	// protocol error in later (EAP) rounds: either is a refusal here.
	var cf *CandidatesFailedError
	if errors.As(err, &cf) && len(cf.Attempts) == 1 && cf.Attempts[0].Failure == discovery.FailOther {
		checkFailed(t, err, th, discovery.FailOther)
	} else {
		checkRefused(t, err, th)
	}
	if !strings.Contains(log.String(), silent.LocalAddr().String()) {
		t.Fatalf("HA log does not name the silent RADIUS server:\n%s", log.String())
	}
}

// A subscriber with a static home address gets it without asking; no
// other MN gets it by suggesting it, even while it is free.
func TestStaticHomeAddress(t *testing.T) {
	n := newMemNet()
	static := netip.MustParseAddr("2001:db8:1::1234")
	th := newTestHA(t, n, ha1Addr, newPKI(t), func(h *HomeAgent, _ *lease.PoolConfig) {
		h.Subscribers[0].HomeAddress = static // alice
	})
	bobCoA := netip.MustParseAddrPort("[2001:db8:b::200]:500")
	cfg := mnConfig(n, ha1Addr)
	cfg.Identity, cfg.PSK, cfg.SuggestAddress = bob, bobPSK, static
	cfg.Local, cfg.Transport = bobCoA, &memTransport{n: n, local: bobCoA}
	resB, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer resB.Close()
	if resB.HomeAddress.Addr() == static {
		t.Fatalf("bob was given alice's static home address")
	}
	resA, err := Run(context.Background(), mnConfig(n, ha1Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer resA.Close()
	if resA.HomeAddress.Addr() != static {
		t.Fatalf("alice got %s, want her static %s", resA.HomeAddress, static)
	}
	checkResult(t, resA, th, alice)
}
