package ike

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestMOBIKEInitiatorMoves: the mobile node's address changes; one
// UPDATE_SA_ADDRESSES exchange from the new address moves both ends' IKE
// SA and CHILD_SAs, and the SA keeps working on the new path only.
func TestMOBIKEInitiatorMoves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.mnPeer.MOBIKE = true
		p.start(t)
		p.settle()
		est := p.mnLog.find(EventChildEstablished)
		if est == nil {
			t.Fatalf("mn: %v", p.mnLog.kinds())
		}
		spi := est.IKESA.LocalSPI()
		moved := netip.MustParseAddr("2001:db8:3::10")
		p.net.set(func() {
			p.net.nodes[moved] = p.mn
			delete(p.net.nodes, mnAddr) // the old address is gone
			p.net.drop = func(d Datagram) bool { return d.Local.Addr() == mnAddr || d.Remote.Addr() == mnAddr }
		})
		if err := p.mn.UpdateLocalAddress(spi, moved); err != nil {
			t.Fatal(err)
		}
		p.settle()
		mm, hm := p.mnLog.find(EventAddressesUpdated), p.haLog.find(EventAddressesUpdated)
		if mm == nil || mm.IKESA.Local.Addr() != moved || hm == nil || hm.IKESA.Remote.Addr() != moved {
			t.Fatalf("mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
		for _, c := range append(children(p.mn), children(p.ha)...) {
			if c.Local.Addr() != moved && c.Remote.Addr() != moved {
				t.Fatalf("CHILD_SA not moved: %s %s -> %s", c, c.Local, c.Remote)
			}
		}
		// Both sides go on over the new path.
		if err := p.mn.RekeyChildSA(spi, est.Child.InboundSPI); err != nil {
			t.Fatal(err)
		}
		p.settle()
		if p.haLog.find(EventChildRekeyed) == nil || p.mnLog.find(EventChildRekeyed) == nil {
			t.Fatalf("rekey after the move: mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
		if err := p.ha.CheckLiveness(hm.IKESA.LocalSPI()); err != nil {
			t.Fatal(err)
		}
		p.settle()
		if p.mnLog.count(EventFailed)+p.haLog.count(EventFailed) != 0 {
			t.Fatalf("mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
	})
}

// TestMOBIKENotNegotiated: without MOBIKE the address cannot be updated
// (the mobility layer uses MoveEndpoints after a Binding Update instead).
func TestMOBIKENotNegotiated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.start(t)
		p.settle()
		spi := p.mnLog.find(EventIKEEstablished).IKESA.LocalSPI()
		if err := p.mn.UpdateLocalAddress(spi, netip.MustParseAddr("2001:db8:3::10")); !errors.Is(err, errNoMOBIKE) {
			t.Fatalf("update without MOBIKE: %v", err)
		}
	})
}

// TestInteropMOBIKECharonResponder: our mobile node moves to another
// address; charon as home agent follows the UPDATE_SA_ADDRESSES.
func TestInteropMOBIKECharonResponder(t *testing.T) {
	moved := netip.MustParseAddr("2001:db8:1::3")
	l := newInteropLabOn(t, Config{}, []netip.Addr{ourAddr, moved})
	if err := l.charon.Load(charonHA(algSets[0].ike, algSets[0].esp)); err != nil {
		t.Fatal(err)
	}
	p := mnPeer(algSets[0])
	p.MOBIKE = true
	l.initiate(t, p)
	est := l.log.wait(t, EventChildEstablished, 1, 15*time.Second)
	if err := l.ep.UpdateLocalAddress(est.IKESA.LocalSPI(), moved); err != nil {
		t.Fatal(err)
	}
	ev := l.log.wait(t, EventAddressesUpdated, 1, 15*time.Second)
	if ev.IKESA.Local.Addr() != moved {
		t.Fatalf("our IKE SA local %s, want %s", ev.IKESA.Local, moved)
	}
	if !strings.Contains(l.charon.Log(), "remote endpoint changed from "+ourAddr.String()+"[4500] to "+moved.String()+"[4500]") {
		t.Fatal("charon did not log the MOBIKE address update")
	}
	sas, err := l.charon.ListSAs()
	if err != nil || len(sas) != 1 || sas[0].RemoteHost != moved.String() {
		t.Fatalf("charon SAs %+v (%v), want remote %s", sas, err, moved)
	}
	// The IKE SA works on the new path: charon rekeys its CHILD_SA.
	if err := l.charon.RekeyChild("home"); err != nil {
		t.Fatal(err)
	}
	rk := l.log.wait(t, EventChildRekeyed, 1, 15*time.Second)
	if rk.Child.Local.Addr() != moved {
		t.Fatalf("CHILD_SA local %s", rk.Child.Local)
	}
	checkCharonChild(t, l.charon, rk.Child, "2001:db8:2::201")
}
