package demo

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"mip6/internal/control"
	"mip6/vnet"
)

// scenario: bootstrap, register from A, pings, move to B, pings, return
// home, pings.
func (l *lab) scenario(ctx context.Context) (*Report, error) {
	hoa, err := l.bootstrap(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{HomeAddress: hoa, WireForm: l.form}
	pinger := l.d.CN.NewPinger(0x6d36, vnet.CNAddr)
	seq := uint16(0)
	phase := func(step string, coa netip.Addr) error {
		if err := l.waitBinding(ctx, hoa, coa, step); err != nil {
			return err
		}
		if step == "register from A" {
			l.mn.SolicitPrefixes() // RFC 6275 §11.4.2: tunnelled, or in the transport form (RFC 4877 §7.2.3)
		}
		for i := 0; i < l.opt.Pings; i++ {
			seq++
			rep.PingsSent++
			if err := pinger.Send(hoa, seq); err != nil {
				return err
			}
			select {
			case r := <-pinger.C:
				rep.PingsAnswered++
				l.tl.Addf("cn", step, "echo reply", "from %s seq %d, rtt %s", r.From, r.Seq, r.RTT.Round(time.Microsecond))
			case <-time.After(2 * time.Second):
				l.tl.Addf("cn", step, "echo lost", "seq %d to %s got no reply", seq, hoa)
			}
		}
		return nil
	}
	l.step.Store("register from A")
	l.mn.Attach(mnCoAA)
	if err := phase("register from A", mnCoAA); err != nil {
		return rep, err
	}
	l.step.Store("handover to B")
	l.move(l.d.B, "access network B", mnCoAB)
	if err := phase("handover to B", mnCoAB); err != nil {
		return rep, err
	}
	l.step.Store("attack")
	refused, err := l.attack(ctx, hoa)
	if err != nil {
		return rep, err
	}
	rep.ForgedBindingRefused = refused
	if !refused {
		return rep, fmt.Errorf("demo: a Binding Update for %s through another subscriber's SA changed the binding", hoa)
	}
	l.step.Store("return home")
	l.move(l.d.Home, "home link", hoa)
	if err := phase("return home", hoa); err != nil {
		return rep, err
	}
	var hs, ms control.Status
	l.ha.Status(&hs)
	l.mn.Status(&ms)
	rep.HomeAgentStatus, rep.MobileNodeStatus = hs.Counters, ms.Counters
	rep.Handovers = int(hs.Counters["handovers"])
	if rep.PingsAnswered != rep.PingsSent {
		return rep, fmt.Errorf("demo: %d echo requests to the home address were lost", rep.PingsSent-rep.PingsAnswered)
	}
	return rep, nil
}

// waitBinding waits until the home agent has the binding hoa -> coa (or,
// for coa == hoa, none), within 10 s.
func (l *lab) waitBinding(ctx context.Context, hoa, coa netip.Addr, step string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var st control.Status
		l.ha.Status(&st)
		b, found := bindingFor(st, hoa)
		switch {
		case coa == hoa && !found:
			l.tl.Addf("ha", step, "binding cache", "%s -> none (at home, de-registered)", hoa)
			return nil
		case coa != hoa && found && b.CareOf == coa.String():
			l.tl.Addf("ha", step, "binding cache", "%s -> %s, BU in the %s form", hoa, coa, b.WireForm)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return fmt.Errorf("demo: %s: the home agent has no binding %s -> %s after 10 s", step, hoa, coa)
}

func bindingFor(st control.Status, hoa netip.Addr) (control.Binding, bool) {
	for _, b := range st.Bindings {
		if b.HomeAddress == hoa.String() {
			return b, true
		}
	}
	return control.Binding{}, false
}
