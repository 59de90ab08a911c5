package bootstrap

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mip6/ike"
	"mip6/lease"
	"mip6/store"
	"mip6/wire/mh"
)

// With the transport form asked for, bootstrapping also gives the RFC 4877
// transport-mode SAs, each with SPIs of its own: §7.2.1 for BU/BA (home
// address, MH type BU out; home agent, MH type BAck back) and §7.2.3 for
// Mobile Prefix Discovery (ICMPv6 MPS out, MPA back).
func TestTransportFormSAs(t *testing.T) {
	n := newMemNet()
	th := newTestHA(t, n, ha1Addr, newPKI(t), func(h *HomeAgent, _ *lease.PoolConfig) { h.TransportForm = true })
	cfg := mnConfig(n, ha1Addr)
	cfg.TransportForm = true
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	checkResult(t, res, th, alice)
	hoa := res.HomeAddress.Addr()
	mhType := func(typ mh.Type) [2]uint16 { return [2]uint16{uint16(typ) << 8, uint16(typ) << 8} }
	icmpType := func(typ uint16) [2]uint16 { return [2]uint16{typ << 8, typ<<8 | 0xff} }
	for _, c := range []struct {
		sa        *ike.ChildSA
		name      string
		proto     uint8
		out, back [2]uint16 // the type in the ports (RFC 4301 §4.4.1.1)
	}{
		{res.Signalling, SignallingChildName, ike.ProtoMH, mhType(mh.TypeBindingUpdate), mhType(mh.TypeBindingAck)},
		{res.PrefixDiscovery, PrefixDiscoveryChildName, ike.ProtoICMPv6, icmpType(146), icmpType(147)},
	} {
		s := c.sa
		if s == nil || !s.Transport || s.Name != c.name {
			t.Fatalf("%s CHILD_SA %v, want transport mode", c.name, s)
		}
		for _, other := range []*ike.ChildSA{res.Child, res.Signalling, res.PrefixDiscovery} {
			if other != s && (s.InboundSPI == other.InboundSPI || s.OutboundSPI == other.OutboundSPI) {
				t.Fatalf("%s SA shares SPIs with %s: %v / %v", c.name, other.Name, s, other)
			}
		}
		for i, w := range []struct {
			sel  []ike.Selector
			addr netip.Addr
			port [2]uint16
		}{{s.LocalTS, hoa, c.out}, {s.RemoteTS, ha1Addr, c.back}} {
			from, to := w.port[0], w.port[1]
			if len(w.sel) != 1 || w.sel[0].Start != w.addr || w.sel[0].End != w.addr || w.sel[0].Proto != c.proto ||
				w.sel[0].StartPort != from || w.sel[0].EndPort != to {
				t.Fatalf("%s selector %d: %v, want %v protocol %d ports %#x-%#x", c.name, i, w.sel, w.addr, c.proto, from, to)
			}
		}
	}
}

// A home agent that gives the BU/BA SA but not the MPS/MPA one fails the
// attempt with an error that names Mobile Prefix Solicitations.
func TestTransportFormPrefixDiscoveryRefused(t *testing.T) {
	n := newMemNet()
	newTestHA(t, n, ha1Addr, newPKI(t), func(h *HomeAgent, _ *lease.PoolConfig) {
		h.TransportForm = true
		anyAddr := ike.PrefixSelector(netip.MustParsePrefix("::/0"))
		h.Children = []ike.ChildConfig{{Name: "home", LocalTS: []ike.Selector{anyAddr}, RemoteTS: []ike.Selector{{EndPort: 0xffff}}},
			SignallingChild(false)}
	})
	cfg := mnConfig(n, ha1Addr)
	cfg.TransportForm = true
	res, err := Run(context.Background(), cfg)
	if err == nil {
		res.Close()
		t.Fatal("bootstrap succeeded without the prefix discovery SA")
	}
	var se *SignallingError
	if !errors.As(err, &se) || se.Child != PrefixDiscoveryChildName {
		t.Fatalf("error %v, want a SignallingError for %s", err, PrefixDiscoveryChildName)
	}
	if msg := se.Error(); !strings.Contains(msg, "Mobile Prefix Solicitations") || !strings.Contains(msg, "RFC 3776") {
		t.Fatalf("error %q does not name the message and the wire form", msg)
	}
}

// A home agent that does not allow the transport form refuses the MN's
// request clearly; the MN does not settle for a tunnel-mode SA.
func TestTransportFormRefused(t *testing.T) {
	n := newMemNet()
	newTestHA(t, n, ha1Addr, newPKI(t))
	cfg := mnConfig(n, ha1Addr)
	cfg.TransportForm = true
	res, err := Run(context.Background(), cfg)
	if err == nil {
		res.Close()
		t.Fatal("bootstrap succeeded without the signalling SA")
	}
	var cf *CandidatesFailedError
	if !errors.As(err, &cf) || len(cf.Attempts) != 1 {
		t.Fatalf("error %v, want the candidate to fail", err)
	}
	if msg := cf.Attempts[0].Err.Error(); !strings.Contains(msg, "RFC 3776") {
		t.Fatalf("attempt error %q does not name the wire form", msg)
	}
}

// Behind a NAT the path does not allow the RFC 3776 form: the mobile node
// bootstraps without the transport-mode SA and keeps the tunnelled form.
func TestTransportFormNotBehindNAT(t *testing.T) {
	n := newMemNet()
	th := newTestHA(t, n, ha1Addr, newPKI(t), func(h *HomeAgent, _ *lease.PoolConfig) { h.TransportForm = true })
	natt := netip.AddrPortFrom(ha1Addr, ike.PortNATT)
	n.attach(natt, func(l, r netip.AddrPort, b []byte) { th.ep.Receive(l, r, b) })
	t.Cleanup(func() { n.detach(natt) })
	inside := netip.AddrPortFrom(mnCoA.Addr(), ike.PortNATT)
	n.natInside, n.natOutside = inside, netip.MustParseAddrPort("[2001:db8:ff::1]:34567")
	cfg := mnConfig(n, ha1Addr)
	cfg.Local, cfg.Transport = inside, &memTransport{n: n, local: inside}
	cfg.TransportForm = true
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	checkResult(t, res, th, alice)
	if !res.IKESA.NATDetected || res.Signalling != nil {
		t.Fatalf("NAT detected %v, signalling SA %v: want a NAT and no transport-mode SA", res.IKESA.NATDetected, res.Signalling)
	}
	if !res.Child.Encap {
		t.Fatal("tunnel CHILD_SA not UDP-encapsulated behind the NAT")
	}
}

// A lease lasts as long as its IKE SA, rekeyed or not (RFC 4877 §9): the
// home agent's periodic RenewLeases extends the leases live IKE SAs hold,
// at most once per interval, and forgets them when the SA ends.
func TestRenewLeasesWhileIKESALives(t *testing.T) {
	n := newMemNet()
	clock := time.Now()
	now := func() time.Time { return clock }
	th := newTestHA(t, n, ha1Addr, newPKI(t), func(_ *HomeAgent, pc *lease.PoolConfig) { pc.Now = now })
	res, err := Run(context.Background(), mnConfig(n, ha1Addr))
	if err != nil {
		t.Fatal(err)
	}
	hoa := res.HomeAddress.Addr()
	expiry := func() time.Time {
		var l store.Lease
		th.st.View(func(tx *store.Tx) error { l, _, _ = tx.Lease(hoa); return nil })
		return l.Expiry
	}
	first := expiry()
	clock = clock.Add(50 * time.Minute) // of the hour's lease time
	th.ha.RenewLeases(clock, 15*time.Minute)
	if got := expiry(); !got.Equal(clock.Add(time.Hour)) {
		t.Fatalf("lease expiry %v after renewal at %v (was %v), want an hour later", got, clock, first)
	}
	th.ha.RenewLeases(clock.Add(time.Minute), 15*time.Minute) // not due again
	if got := expiry(); !got.Equal(clock.Add(time.Hour)) {
		t.Fatalf("renewed again within the interval: %v", got)
	}
	res.Close()
	waitFor(t, "lease released", func() bool { return expiry().IsZero() })
	th.ha.RenewLeases(clock.Add(time.Hour), 15*time.Minute) // nothing held: nothing renewed
	if !expiry().IsZero() {
		t.Fatal("a released lease came back")
	}
}

// With liveness checks, a home agent that falls silent is noticed within
// the check interval plus the retransmissions, and Lost fires: the mobile
// node bootstraps again elsewhere instead of waiting out its binding.
func TestSilentHomeAgentNoticed(t *testing.T) {
	n := newMemNet()
	newTestHA(t, n, ha1Addr, newPKI(t))
	cfg := mnConfig(n, ha1Addr) // retransmissions: 100 ms, 3 tries
	cfg.DPDInterval = 200 * time.Millisecond
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	select {
	case <-res.Lost():
		t.Fatalf("lost a live home agent: %v", res.LostErr())
	case <-time.After(time.Second): // liveness checks answered meanwhile
	}
	n.detach(netip.AddrPortFrom(ha1Addr, ike.PortIKE))
	start := time.Now()
	select {
	case <-res.Lost():
		t.Logf("silent home agent noticed after %v: %v", time.Since(start).Round(time.Millisecond), res.LostErr())
	case <-time.After(5 * time.Second):
		t.Fatal("a silent home agent went unnoticed")
	}
}
