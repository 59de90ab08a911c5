package ha

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var (
	haAddr = netip.MustParseAddr("2001:db8:1::2")
	home   = netip.MustParsePrefix("2001:db8:1::/64")
	hoaA   = netip.MustParseAddr("2001:db8:1::a")
	hoaB   = netip.MustParseAddr("2001:db8:1::b")
	coa1   = netip.MustParseAddr("2001:db8:a::a")
	coa2   = netip.MustParseAddr("2001:db8:b::a")
	coaB   = netip.MustParseAddr("2001:db8:a::b")
	t0     = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// mapPAD is a PAD for tests: identity -> home addresses.
type mapPAD struct {
	mu sync.RWMutex
	m  map[string]map[netip.Addr]bool
}

func (p *mapPAD) Authorized(id string, hoa netip.Addr) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.m[id][hoa]
}

func (p *mapPAD) allow(id string, hoa netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]map[netip.Addr]bool{}
	}
	if p.m[id] == nil {
		p.m[id] = map[netip.Addr]bool{}
	}
	p.m[id][hoa] = true
}

func newHA(t testing.TB, mod func(*Config)) (*HomeAgent, *mapPAD) {
	pad := &mapPAD{}
	pad.allow("alice@example.net", hoaA)
	pad.allow("bob@example.net", hoaB)
	cfg := Config{Address: haAddr, HomePrefixes: []netip.Prefix{home}, KeyMgmtMobility: true}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg, pad)
	if err != nil {
		t.Fatal(err)
	}
	return h, pad
}

// secAlice is alice's SA bound to her home address, arriving from coa.
func secAlice(coa netip.Addr) SecurityContext {
	return SecurityContext{SA: 0x1001, IKESA: 7, Identity: "alice@example.net", HomeAddress: hoaA, OuterSource: coa}
}

func secBob(coa netip.Addr) SecurityContext {
	return SecurityContext{SA: 0x2001, IKESA: 8, Identity: "bob@example.net", HomeAddress: hoaB, OuterSource: coa}
}

func buFor(hoa, coa netip.Addr, seq, life uint16) *BindingUpdate {
	return &BindingUpdate{Sequence: seq, Acknowledge: true, Home: true, KeyMgmt: true, Lifetime: life, HomeAddress: hoa, AltCoA: coa}
}

func mustAccept(t *testing.T, r Result) {
	t.Helper()
	if r.Verdict != Accepted || !r.SendAck || r.Ack.Status != StatusAccepted {
		t.Fatalf("not accepted: %+v", r)
	}
}

func TestRegisterMoveDeregister(t *testing.T) {
	h, _ := newHA(t, nil)
	r := h.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, 10, 100))
	mustAccept(t, r)
	want := EffectClaimHomeAddress | EffectTunnelActive | EffectMoveTunnel | EffectMoveIKE
	if r.Effects != want || r.Binding.CareOf != coa1 || r.Ack.CareOf != coa1 || r.Ack.HomeAddress != hoaA {
		t.Fatalf("first registration: effects %b binding %+v ack %+v", r.Effects, r.Binding, r.Ack)
	}
	if r.Ack.Lifetime != 100 || r.Ack.Refresh != 80 || !r.Ack.KeyMgmt || r.Ack.Sequence != 10 {
		t.Fatalf("ack fields %+v", r.Ack)
	}
	// Refresh from the same care-of address: nothing moves.
	r = h.ProcessBU(t0.Add(time.Minute), secAlice(coa1), buFor(hoaA, coa1, 11, 100))
	mustAccept(t, r)
	if r.Effects != 0 {
		t.Fatalf("refresh effects %b", r.Effects)
	}
	// Move.
	r = h.ProcessBU(t0.Add(2*time.Minute), secAlice(coa2), buFor(hoaA, coa2, 12, 100))
	mustAccept(t, r)
	if r.Effects != EffectMoveTunnel|EffectMoveIKE || r.PrevCareOf != coa1 || r.Binding.CareOf != coa2 {
		t.Fatalf("move: %+v", r)
	}
	if b, ok := h.TunnelDestination(hoaA); !ok || b.CareOf != coa2 {
		t.Fatalf("lookup after move: %+v %v", b, ok)
	}
	// Return home: CoA == HoA, no Alt-CoA, outer source is the HoA.
	bu := buFor(hoaA, netip.Addr{}, 13, 0)
	r = h.ProcessBU(t0.Add(3*time.Minute), secAlice(hoaA), bu)
	mustAccept(t, r)
	if r.Effects != EffectReleaseHomeAddress|EffectTunnelInactive|EffectMoveIKE || r.Ack.CareOf != hoaA || r.Ack.Lifetime != 0 ||
		!r.Ack.KeyMgmt || r.Binding.IKESA != 7 {
		t.Fatalf("deregistration (K: the IKE SA moves to the home address, RFC 6275 §10.3.2): %+v", r)
	}
	if _, ok := h.cache.Lookup(hoaA); ok {
		t.Fatal("binding survives deregistration")
	}
	// De-registering again: no binding -> 133.
	r = h.ProcessBU(t0.Add(4*time.Minute), secAlice(hoaA), buFor(hoaA, netip.Addr{}, 14, 0))
	if r.Verdict != Rejected || r.Ack.Status != StatusNotHomeAgentForThisMN {
		t.Fatalf("second deregistration: %+v", r)
	}
}

func TestKFlagNeedsBothSides(t *testing.T) {
	h, _ := newHA(t, func(c *Config) { c.KeyMgmtMobility = false })
	r := h.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, 1, 10))
	mustAccept(t, r)
	if r.Ack.KeyMgmt || r.Effects.Has(EffectMoveIKE) {
		t.Fatalf("K granted without support: %+v", r)
	}
}

func TestSequenceNumbers(t *testing.T) {
	h, _ := newHA(t, nil)
	mustAccept(t, h.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, 0xfffe, 10)))
	for _, c := range []struct {
		seq  uint16
		ok   bool
		last uint16
	}{
		{0xfffe, false, 0xfffe}, // replay
		{0xfff0, false, 0xfffe}, // older
		{0x7ffe, false, 0xfffe}, // 32768 ahead: outside the window
		{0x0001, true, 0},       // wraps around
		{0x0000, false, 0x0001},
		{0x8000, true, 0}, // 32767 ahead of 1
	} {
		r := h.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, c.seq, 10))
		if c.ok {
			mustAccept(t, r)
			continue
		}
		if r.Verdict != Rejected || r.Ack.Status != StatusSequenceOutOfWindow || r.Ack.Sequence != c.last {
			t.Fatalf("seq %#x: %+v", c.seq, r)
		}
	}
	if got := h.Counters().Status[StatusSequenceOutOfWindow]; got != 4 {
		t.Fatalf("135 counted %d times, want 4", got)
	}
	// Deregistration with a stale number is refused too.
	r := h.ProcessBU(t0, secAlice(hoaA), buFor(hoaA, netip.Addr{}, 0x7000, 0))
	if r.Ack.Status != StatusSequenceOutOfWindow {
		t.Fatalf("stale deregistration: %+v", r)
	}
}

func TestLifetimeCapAndRefreshAdvice(t *testing.T) {
	h, _ := newHA(t, func(c *Config) { c.MaxLifetime = 10 * time.Minute; c.RefreshFraction = 0.5 })
	r := h.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, 1, 0xffff))
	mustAccept(t, r)
	if r.Ack.Lifetime != 150 || r.Ack.Refresh != 75 || r.Binding.Expires != t0.Add(10*time.Minute) {
		t.Fatalf("capped: %+v", r.Ack)
	}
	h2, _ := newHA(t, func(c *Config) { c.RefreshFraction = -1 })
	r = h2.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, 1, 1))
	if r.Ack.Lifetime != 1 || r.Ack.Refresh != 0 {
		t.Fatalf("no advice wanted: %+v", r.Ack)
	}
}

func TestExpiry(t *testing.T) {
	h, _ := newHA(t, nil)
	mustAccept(t, h.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, 1, 10))) // 40 s
	mustAccept(t, h.ProcessBU(t0, secBob(coaB), buFor(hoaB, coaB, 1, 20)))   // 80 s
	res, next := h.Expire(t0.Add(39 * time.Second))
	if len(res) != 0 || next != t0.Add(40*time.Second) {
		t.Fatalf("early expire: %v next %v", res, next)
	}
	res, next = h.Expire(t0.Add(40 * time.Second))
	if len(res) != 1 || res[0].Binding.HomeAddress != hoaA || res[0].Effects != EffectReleaseHomeAddress|EffectTunnelInactive {
		t.Fatalf("expire: %+v", res)
	}
	if next != t0.Add(80*time.Second) {
		t.Fatalf("next %v", next)
	}
	// After expiry any sequence number starts a new binding.
	r := h.ProcessBU(t0.Add(time.Minute), secAlice(coa1), buFor(hoaA, coa1, 1, 10))
	mustAccept(t, r)
	if !r.Effects.Has(EffectClaimHomeAddress) {
		t.Fatalf("new binding after expiry without claim: %b", r.Effects)
	}
	// A binding past its lifetime but not swept yet counts as gone.
	r = h.ProcessBU(t0.Add(2*time.Minute+time.Second), secBob(coaB), buFor(hoaB, coaB, 1, 10))
	mustAccept(t, r)
}

func TestStatuses(t *testing.T) {
	outside := netip.MustParseAddr("2001:db8:99::a")
	cases := []struct {
		name   string
		mod    func(*Config)
		pad    func(*mapPAD)
		hoa    netip.Addr
		status uint8
	}{
		{"131 disabled", func(c *Config) { c.HomeRegistrationDisabled = true }, nil, hoaA, StatusHomeRegistrationNotSupported},
		{"132 not home subnet", nil, func(p *mapPAD) { p.allow("alice@example.net", outside) }, outside, StatusNotHomeSubnet},
		{"129 PAD revoked", nil, func(p *mapPAD) { delete(p.m, "alice@example.net") }, hoaA, StatusAdministrativelyProhibited},
		{"129 policy", func(c *Config) {
			c.Prohibited = func(id string, _ netip.Addr) bool { return id == "alice@example.net" }
		}, nil, hoaA, StatusAdministrativelyProhibited},
		{"130 full", func(c *Config) { c.MaxBindings = 1 }, nil, hoaA, StatusInsufficientResources},
		{"134 DAD", func(c *Config) { c.DuplicateAddress = func(a netip.Addr) bool { return a == hoaA } }, nil, hoaA, StatusDADFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, pad := newHA(t, c.mod)
			if c.pad != nil {
				c.pad(pad)
			}
			if c.status == StatusInsufficientResources {
				mustAccept(t, h.ProcessBU(t0, secBob(coaB), buFor(hoaB, coaB, 1, 10)))
			}
			sec := secAlice(coa1)
			sec.HomeAddress = c.hoa
			r := h.ProcessBU(t0, sec, buFor(c.hoa, coa1, 5, 10))
			if r.Verdict != Rejected || !r.SendAck || r.Ack.Status != c.status || r.Ack.Sequence != 5 || r.Ack.CareOf != coa1 {
				t.Fatalf("want status %d, got %+v", c.status, r)
			}
			if _, ok := h.cache.Lookup(c.hoa); ok {
				t.Fatal("rejected BU created a binding")
			}
		})
	}
}

func TestCorrespondentRegistrationRefused(t *testing.T) {
	h, _ := newHA(t, nil)
	bu := buFor(hoaA, coa1, 1, 10)
	bu.Home = false
	r := h.ProcessBU(t0, secAlice(coa1), bu)
	if r.Verdict != Rejected || !r.SendError || r.Error.Status != ErrorUnknownMHType || r.SendAck {
		t.Fatalf("H=0 without binding: %+v", r)
	}
	mustAccept(t, h.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, 2, 10)))
	bu.Sequence = 3
	r = h.ProcessBU(t0, secAlice(coa1), bu)
	if r.Ack.Status != StatusRegistrationTypeChange {
		t.Fatalf("H=0 over a home registration: %+v", r)
	}
}

// TestAuthorisationAttacks: nothing an attacker sends changes another MN's
// binding; each attempt is dropped and counted.
func TestAuthorisationAttacks(t *testing.T) {
	h, pad := newHA(t, nil)
	mustAccept(t, h.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, 100, 100)))
	before, _ := h.cache.Lookup(hoaA)
	evil := netip.MustParseAddr("2001:db8:e::e")
	// mallory is allowed hoaA by a confused PAD, but her SA is hers.
	pad.allow("mallory@example.net", hoaA)
	mallory := SecurityContext{SA: 0x3001, Identity: "mallory@example.net", HomeAddress: hoaA, OuterSource: evil}
	attacks := []struct {
		name string
		sec  SecurityContext
		bu   *BindingUpdate
		drop DropReason
	}{
		{"bob's SA for alice's HoA", secBob(evil), buFor(hoaA, evil, 101, 100), DropWrongSA},
		{"mallory takes over a registered HoA", mallory, buFor(hoaA, evil, 101, 100), DropIdentityMismatch},
		{"mallory deregisters alice", func() SecurityContext { s := mallory; s.OuterSource = hoaA; return s }(), buFor(hoaA, netip.Addr{}, 101, 0), DropIdentityMismatch},
		{"unprotected", SecurityContext{OuterSource: evil}, buFor(hoaA, evil, 101, 100), DropUnprotected},
		{"SA without identity", SecurityContext{SA: 9, HomeAddress: hoaA, OuterSource: evil}, buFor(hoaA, evil, 101, 100), DropNoIdentity},
		{"Alt-CoA differs from outer source", secAlice(evil), buFor(hoaA, coa2, 101, 100), DropAltCoAMismatch},
		{"no Alt-CoA away from home", secAlice(evil), buFor(hoaA, netip.Addr{}, 101, 100), DropMissingAltCoA},
		{"multicast care-of", secAlice(netip.MustParseAddr("ff02::1")), buFor(hoaA, netip.MustParseAddr("ff02::1"), 101, 100), DropBadCareOf},
		{"link-local home address", secAlice(coa1), buFor(netip.MustParseAddr("fe80::1"), coa1, 101, 100), DropBadHomeAddress},
	}
	for _, a := range attacks {
		r := h.ProcessBU(t0, a.sec, a.bu)
		if r.Verdict != Dropped || r.Drop != a.drop || r.SendAck || r.Effects != 0 {
			t.Errorf("%s: %+v, want drop %v", a.name, r, a.drop)
		}
		if after, _ := h.cache.Lookup(hoaA); after != before {
			t.Fatalf("%s changed alice's binding: %+v", a.name, after)
		}
	}
	// An SA made for alice's HoA by an identity the PAD does not link to
	// it: refused with 129 through that SA, nothing changes.
	sec := secBob(evil)
	sec.HomeAddress = hoaA
	r := h.ProcessBU(t0, sec, buFor(hoaA, evil, 101, 100))
	if r.Verdict != Rejected || r.Ack.Status != StatusAdministrativelyProhibited || r.Effects != 0 || r.Ack.SA != sec.SA {
		t.Fatalf("SA for a HoA its identity may not use: %+v", r)
	}
	if after, _ := h.cache.Lookup(hoaA); after != before {
		t.Fatalf("binding changed: %+v", after)
	}
	c := h.Counters()
	if c.Drops[DropIdentityMismatch] != 2 || c.Drops[DropWrongSA] != 1 || c.Drops[DropAltCoAMismatch] != 1 {
		t.Fatalf("drop counters %v", c.Drops)
	}
	if h.TunnelSourceAllowed(secBob(coaB), hoaA) || !h.TunnelSourceAllowed(secAlice(coa1), hoaA) || h.TunnelSourceAllowed(mallory, hoaA) {
		t.Fatal("tunnel ingress check")
	}
}

func TestConcurrentRegistrations(t *testing.T) {
	pad := &mapPAD{}
	h, err := New(Config{Address: haAddr, HomePrefixes: []netip.Prefix{home}}, pad)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	for i := 0; i < n; i++ {
		pad.allow(fmt.Sprint(i), hoaN(i))
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := uint16(1); s <= 20; s++ {
				for i := 0; i < n; i++ {
					sec := SecurityContext{SA: SAID(i + 1), Identity: fmt.Sprint(i), HomeAddress: hoaN(i), OuterSource: coa1}
					h.ProcessBU(t0, sec, buFor(hoaN(i), coa1, s, 10))
				}
			}
		}()
	}
	wg.Wait()
	if h.cache.Len() != n {
		t.Fatalf("%d bindings, want %d", h.cache.Len(), n)
	}
	for i := 0; i < n; i++ {
		if b, _ := h.cache.Lookup(hoaN(i)); b.Sequence != 20 {
			t.Fatalf("binding %d sequence %d", i, b.Sequence)
		}
	}
}

func hoaN(i int) netip.Addr {
	a := home.Addr().As16()
	a[12], a[13], a[14], a[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)|0
	a[11] = 1
	return netip.AddrFrom16(a)
}

// TestAnySABoundToTheHomeAddress: the interop rule. A strongSwan-based MN
// sends its BU through its any-protocol tunnel SA: any SA created for the
// identity and bound to the home address is accepted; an SA of the same
// identity bound to another of its home addresses is not.
func TestAnySABoundToTheHomeAddress(t *testing.T) {
	h, pad := newHA(t, nil)
	second := netip.MustParseAddr("2001:db8:1::a2")
	pad.allow("alice@example.net", second)
	mhSA := secAlice(coa1) // MH-typed BU/BA SA
	tunnelSA := secAlice(coa1)
	tunnelSA.SA = 0x1002 // the any-protocol tunnel SA, also bound to hoaA
	mustAccept(t, h.ProcessBU(t0, mhSA, buFor(hoaA, coa1, 1, 10)))
	r := h.ProcessBU(t0, tunnelSA, buFor(hoaA, coa1, 2, 10))
	mustAccept(t, r)
	if r.Binding.SA != 0x1002 || r.Ack.SA != 0x1002 {
		t.Fatalf("ack not through the SA the BU came on: %+v", r)
	}
	otherHoA := secAlice(coa1)
	otherHoA.SA, otherHoA.HomeAddress = 0x1003, second
	if r := h.ProcessBU(t0, otherHoA, buFor(hoaA, coa1, 3, 10)); r.Drop != DropWrongSA {
		t.Fatalf("SA bound to alice's other HoA: %+v", r)
	}
}

func TestPrefixDiscoveryNecessaryAndPrefixLifetimeCap(t *testing.T) {
	h, _ := newHA(t, func(c *Config) {
		c.PrefixDiscoveryNecessary = func(a netip.Addr) bool { return a == hoaA }
		c.MaxLifetime = 2 * time.Hour
		c.PrefixValidLifetime = 10 * time.Minute
	})
	r := h.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, 1, 0xffff))
	if r.Verdict != Accepted || r.Ack.Status != StatusAcceptedPrefixDiscovery || r.Ack.Lifetime != 150 {
		t.Fatalf("%+v", r.Ack)
	}
	if r := h.ProcessBU(t0, secBob(coaB), buFor(hoaB, coaB, 1, 10)); r.Ack.Status != StatusAccepted {
		t.Fatalf("bob: %+v", r.Ack)
	}
}
