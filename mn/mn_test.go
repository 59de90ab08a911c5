package mn

import (
	"net/netip"
	"testing"
	"time"
)

var (
	hoa  = netip.MustParseAddr("2001:db8:1::a")
	haA  = netip.MustParseAddr("2001:db8:1::2")
	pfx  = netip.MustParsePrefix("2001:db8:1::/64")
	coaA = netip.MustParseAddr("2001:db8:a::a")
	coaB = netip.MustParseAddr("2001:db8:b::a")
	t0   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

func newMN(t *testing.T) *MobileNode {
	m, err := New(Config{HomeAddress: hoa, HomeAgent: haA, HomePrefix: pfx, Lifetime: 400 * time.Second, KeyMgmt: true})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func bus(acts []Action) []SendBindingUpdate {
	var out []SendBindingUpdate
	for _, a := range acts {
		if b, ok := a.(SendBindingUpdate); ok {
			out = append(out, b)
		}
	}
	return out
}

func oneBU(t *testing.T, acts []Action) SendBindingUpdate {
	t.Helper()
	b := bus(acts)
	if len(b) != 1 {
		t.Fatalf("want one BU in %#v", acts)
	}
	return b[0]
}

func has[T Action](acts []Action) (T, bool) {
	for _, a := range acts {
		if x, ok := a.(T); ok {
			return x, true
		}
	}
	var zero T
	return zero, false
}

func TestRetransmissionBackoffThenRebootstrap(t *testing.T) {
	m := newMN(t)
	acts := m.Attach(t0, coaA)
	if mv, ok := has[MoveEndpoints](acts); !ok || mv.CareOf != coaA {
		t.Fatalf("no endpoint move first: %#v", acts)
	}
	bu := oneBU(t, acts)
	if bu.Sequence != 1 || bu.Lifetime != 100 || bu.AltCoA != coaA || bu.CareOf != coaA || !bu.Acknowledge || !bu.Home || !bu.KeyMgmt {
		t.Fatalf("first BU %+v", bu)
	}
	now := t0
	var gaps []time.Duration
	for i := 0; i < 20; i++ {
		next := m.NextTimer()
		if next.IsZero() {
			break
		}
		gaps = append(gaps, next.Sub(now))
		now = next
		acts = m.Timer(now)
		if rb, ok := has[Rebootstrap](acts); ok {
			if rb.Status != 0 || len(gaps) != 8 {
				t.Fatalf("rebootstrap %+v after %d timeouts", rb, len(gaps))
			}
			want := []time.Duration{1, 2, 4, 8, 16, 32, 32, 32}
			for j, g := range gaps {
				if g != want[j]*time.Second {
					t.Fatalf("timeouts %v", gaps)
				}
			}
			if !m.State().Failed || !m.NextTimer().IsZero() {
				t.Fatal("failed node keeps timers")
			}
			return
		}
		b := oneBU(t, acts)
		if b.Sequence != uint16(i+2) || !b.Retransmission {
			t.Fatalf("retransmission %d: %+v", i, b)
		}
	}
	t.Fatal("never gave up")
}

func TestRegisterRefreshMoveReturnHome(t *testing.T) {
	m := newMN(t)
	bu := oneBU(t, m.Attach(t0, coaA))
	now := t0.Add(30 * time.Millisecond)
	acts := m.HandleAck(now, BindingAck{Sequence: bu.Sequence, Lifetime: 100, Refresh: 50, KeyMgmt: true})
	reg, ok := has[Registered](acts)
	if !ok || reg.Lifetime != 400*time.Second || reg.Refresh != t0.Add(200*time.Second) || !reg.KeyMgmt {
		t.Fatalf("registered %+v", acts)
	}
	if ta, ok := has[TunnelActive](acts); !ok || !ta.Active {
		t.Fatal("tunnel not activated")
	}
	if m.NextTimer() != t0.Add(200*time.Second) {
		t.Fatalf("next timer %v", m.NextTimer())
	}
	// Refresh at the advice.
	now = t0.Add(200 * time.Second)
	bu = oneBU(t, m.Timer(now))
	if bu.Sequence != 2 || bu.AltCoA != coaA {
		t.Fatalf("refresh %+v", bu)
	}
	acts = m.HandleAck(now, BindingAck{Sequence: 2, Lifetime: 100, KeyMgmt: true})
	if _, ok := has[TunnelActive](acts); ok {
		t.Fatal("refresh re-activated the tunnel")
	}
	if m.NextTimer() != now.Add(320*time.Second) { // 80% of 400 s
		t.Fatalf("next after refresh %v", m.NextTimer())
	}
	// Move to B: endpoints (IKE too: K granted) then BU from the new CoA.
	acts = m.Attach(now, coaB)
	if mv, ok := has[MoveEndpoints](acts); !ok || mv.CareOf != coaB || !mv.IKE {
		t.Fatalf("move %#v", acts)
	}
	bu = oneBU(t, acts)
	if bu.AltCoA != coaB || bu.CareOf != coaB {
		t.Fatalf("move BU %+v", bu)
	}
	m.HandleAck(now, BindingAck{Sequence: bu.Sequence, Lifetime: 100, KeyMgmt: true})
	if m.Attach(now, coaB) != nil {
		t.Fatal("same care-of address started another registration")
	}
	// Home: de-registration, lifetime 0, no Alt-CoA, from the home address.
	bu = oneBU(t, m.Attach(now, hoa))
	if bu.Lifetime != 0 || bu.AltCoA.IsValid() || bu.CareOf != hoa {
		t.Fatalf("deregistration BU %+v", bu)
	}
	acts = m.HandleAck(now, BindingAck{Sequence: bu.Sequence})
	if _, ok := has[Deregistered](acts); !ok {
		t.Fatalf("not deregistered: %#v", acts)
	}
	if ta, ok := has[TunnelActive](acts); !ok || ta.Active {
		t.Fatal("tunnel still active at home")
	}
	if st := m.State(); st.Registered || !st.AtHome || !m.NextTimer().IsZero() {
		t.Fatalf("state at home %+v", st)
	}
}

func TestSequenceOutOfWindowResync(t *testing.T) {
	m := newMN(t)
	bu := oneBU(t, m.Attach(t0, coaA))
	acts := m.HandleAck(t0, BindingAck{Status: StatusSequenceOutOfWindow, Sequence: 5000})
	b := oneBU(t, acts)
	if b.Sequence != 5001 || bu.Sequence != 1 {
		t.Fatalf("resync %+v", b)
	}
	// The stale ack of the first BU is ignored.
	if acts := m.HandleAck(t0, BindingAck{Sequence: 1, Lifetime: 10}); acts != nil {
		t.Fatalf("stale ack acted on: %#v", acts)
	}
	if _, ok := has[Registered](m.HandleAck(t0, BindingAck{Sequence: 5001, Lifetime: 10})); !ok {
		t.Fatal("not registered after resync")
	}
}

func TestRefusals(t *testing.T) {
	for _, st := range []uint8{129, 131, 132, 133, 134, 139} {
		m := newMN(t)
		bu := oneBU(t, m.Attach(t0, coaA))
		rb, ok := has[Rebootstrap](m.HandleAck(t0, BindingAck{Status: st, Sequence: bu.Sequence}))
		if !ok || rb.Status != st || !m.State().Failed {
			t.Fatalf("status %d: no rebootstrap", st)
		}
	}
	// 130 is retried on the back-off schedule.
	m := newMN(t)
	bu := oneBU(t, m.Attach(t0, coaA))
	if acts := m.HandleAck(t0, BindingAck{Status: StatusInsufficientResources, Sequence: bu.Sequence}); acts != nil {
		t.Fatalf("130: %#v", acts)
	}
	if m.NextTimer() != t0.Add(2*time.Second) {
		t.Fatalf("130 retry at %v", m.NextTimer())
	}
	// Moving after a failure tries again.
	if len(bus(m.Attach(t0, coaB))) != 1 {
		t.Fatal("attach after failure sends no BU")
	}
}

func TestExpiryWithoutRefresh(t *testing.T) {
	m := newMN(t)
	bu := oneBU(t, m.Attach(t0, coaA))
	m.HandleAck(t0, BindingAck{Sequence: bu.Sequence, Lifetime: 10}) // 40 s, refresh at 32 s
	m.Timer(t0.Add(32 * time.Second))                                // refresh BU lost
	m.Timer(t0.Add(33 * time.Second))
	m.Timer(t0.Add(35 * time.Second))
	m.Timer(t0.Add(39 * time.Second))
	m.Timer(t0.Add(40 * time.Second))
	if m.State().Registered {
		t.Fatal("still registered after the lifetime ended")
	}
	if !m.State().Pending {
		t.Fatal("gave up refreshing too early")
	}
}

func TestPrefixDiscovery(t *testing.T) {
	m := newMN(t)
	bu := oneBU(t, m.Attach(t0, coaA))
	acts := m.HandleAck(t0, BindingAck{Status: StatusAcceptedPrefixDiscovery, Sequence: bu.Sequence, Lifetime: 100})
	mps, ok := has[SendPrefixSolicitation](acts)
	if !ok || mps.HomeAddress != hoa || mps.HomeAgent != haA {
		t.Fatalf("status 1 without solicitation: %#v", acts)
	}
	if got := m.NextTimer(); got != t0.Add(PrefixSolicitTimeout) {
		t.Fatalf("MPS retransmission at %v", got)
	}
	if _, ok := has[SendPrefixSolicitation](m.Timer(t0.Add(PrefixSolicitTimeout))); !ok {
		t.Fatal("MPS not retransmitted")
	}
	m.HandlePrefixAdvertisement(t0.Add(4*time.Second), mps.Identifier, []PrefixInfo{{Prefix: pfx, ValidLifetime: 100 * time.Second}})
	// Solicit again before the prefix's valid lifetime ends.
	at := m.NextTimer()
	if want := t0.Add(4*time.Second + 100*time.Second - 18*time.Second); at != want {
		t.Fatalf("next solicitation at %v, want %v", at, want)
	}
	if _, ok := has[SendPrefixSolicitation](m.Timer(at)); !ok {
		t.Fatal("no solicitation before prefix expiry")
	}
	rb, ok := has[Rebootstrap](m.HandlePrefixAdvertisement(at, m.mpsID, []PrefixInfo{{Prefix: pfx}}))
	if !ok || rb.Status != 0 {
		t.Fatal("withdrawn home prefix did not trigger a rebootstrap")
	}
}

func TestMoveWithoutKeyMgmtGrant(t *testing.T) {
	m := newMN(t)
	if mv, _ := has[MoveEndpoints](m.Attach(t0, coaA)); mv.ReestablishIKE || mv.IKE {
		t.Fatalf("first attach: %+v", mv)
	}
	m.HandleAck(t0, BindingAck{Sequence: 1, Lifetime: 100}) // K not granted
	mv, _ := has[MoveEndpoints](m.Attach(t0, coaB))
	if mv.IKE || !mv.ReestablishIKE {
		t.Fatalf("move without K: %+v", mv)
	}
}

func TestDeregisterFromAway(t *testing.T) {
	m, err := New(Config{HomeAddress: netip.MustParseAddr("2001:db8:1::100"), HomeAgent: netip.MustParseAddr("2001:db8:1::2"),
		HomePrefix: netip.MustParsePrefix("2001:db8:1::/64")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	if acts := m.Deregister(now); acts != nil {
		t.Fatalf("nothing registered, got %v", acts)
	}
	coa := netip.MustParseAddr("2001:db8:a::100")
	acts := m.Attach(now, coa)
	bu := acts[len(acts)-1].(SendBindingUpdate)
	m.HandleAck(now, BindingAck{Status: StatusAccepted, Sequence: bu.Sequence, Lifetime: bu.Lifetime})
	acts = m.Deregister(now)
	if len(acts) != 1 {
		t.Fatalf("actions %v", acts)
	}
	d := acts[0].(SendBindingUpdate)
	if d.Lifetime != 0 || d.AltCoA != coa || d.Sequence != bu.Sequence+1 {
		t.Fatalf("de-registration BU %+v", d)
	}
	var dereg bool
	for _, a := range m.HandleAck(now, BindingAck{Status: StatusAccepted, Sequence: d.Sequence}) {
		if _, ok := a.(Deregistered); ok {
			dereg = true
		}
	}
	if !dereg || m.State().Registered {
		t.Fatalf("not de-registered: %+v", m.State())
	}
}
