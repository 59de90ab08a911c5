package node

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"mip6/esp"
	"mip6/ike"
	"mip6/ipsec"
	"mip6/vnet"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// ChildFromIKE follows IKE's decision per CHILD_SA: ESP in UDP 4500 when
// encapsulated (NAT, or IKE on 4500), raw ESP otherwise and always for
// the transport-mode BU/BA pair.
func TestChildCarrierFromIKE(t *testing.T) {
	mk := func(encap, transport bool) *Child {
		t.Helper()
		port := uint16(500)
		if encap {
			port = 4500
		}
		c := &ike.ChildSA{Name: "home", InboundSPI: 0x100, OutboundSPI: 0x200, Encap: encap, Transport: transport,
			Local: netip.AddrPortFrom(netip.MustParseAddr("2001:db8:1::1"), port), Remote: netip.MustParseAddrPort("[2001:db8:2::1]:500"),
			InEncr: make([]byte, 20), OutEncr: make([]byte, 20)}
		c.Suite.Encr.ID, c.Suite.Encr.KeyLen = 20, 128 // AES-GCM-16
		ch, err := ChildFromIKE(c, 1, alice, hoa)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	for _, tc := range []struct {
		encap, transport bool
		want             esp.Carrier
		port             uint16
	}{{true, false, esp.CarrierUDP, 4500}, {false, false, esp.CarrierESP, 0}, {true, true, esp.CarrierESP, 0}, {false, true, esp.CarrierESP, 0}} {
		c := mk(tc.encap, tc.transport)
		for _, e := range []*ipsec.SAEntry{c.In, c.Out} {
			if ep := e.SA.Endpoints(); ep.Carrier != tc.want || ep.Local.Port() != tc.port || ep.Remote.Port() != tc.port {
				t.Errorf("encap %v transport %v: endpoints %+v", tc.encap, tc.transport, ep)
			}
		}
		if got, want := childStatus(c).Mode, map[esp.Carrier]string{esp.CarrierUDP: "udp", esp.CarrierESP: "esp"}[tc.want]; got[len(got)-len(want):] != want {
			t.Errorf("status mode %q does not end in %q", got, want)
		}
	}
	// Installed, a pair keeps IKE's carrier: the data plane has a bind
	// for each.
	tn := tunnel{sad: ipsec.NewSAD(), spd: ipsec.NewSPD(), counters: newCounters(allCounters...)}
	c := mk(false, false)
	if err := tn.addChild(c, ipsec.Selectors{}, hoa); err != nil {
		t.Fatal(err)
	}
	if ep := c.Out.SA.Endpoints(); ep.Carrier != esp.CarrierESP || ep.Remote.Port() != 0 {
		t.Fatalf("installed raw ESP pair: %+v", ep)
	}
	// A raw SA moved keeps no port.
	c = mk(false, false)
	moveRemote(c.Out, netip.MustParseAddrPort("[2001:db8:3::1]:4500"))
	if got := c.Out.SA.Endpoints().Remote; got != netip.MustParseAddrPort("[2001:db8:3::1]:0") {
		t.Fatalf("raw SA moved to %v", got)
	}
}

// HandleTransportESP takes what a raw ESP socket (a data plane on the raw
// carrier) reads: the BU at home, plain ESP from the home address; the
// checks are HandleRaw's.
func TestHandleTransportESP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLabWith(t, labOptions{transport: true})
		coa := vnet.AddrOn(vnet.APrefix, 0x100)
		l.mn.Attach(coa)
		waitRegistered(t, l, coa)
		time.Sleep(time.Second)
		b, _ := l.ha.core.Cache().Lookup(hoa)
		sigOut := l.mnSig.Out
		espOf := func(msg []byte) []byte {
			sealed, err := sigOut.SA.Seal(nil, msg, ipv6.ProtoMobility)
			if err != nil {
				t.Fatal(err)
			}
			return sealed
		}
		home := mh.BindingUpdate{Sequence: b.Sequence + 1, Acknowledge: true, HomeRegistration: true, Lifetime: 0}
		home.Options.Present |= mh.HasAlternateCareOfAddress
		home.Options.AlternateCareOfAddress = hoa
		deregister := func() []byte { return espOf(home.Append(nil, hoa, vnet.HAAddr)) }
		now := time.Now()
		// From the care-of address without a Home Address option: not the SA's home address.
		n := l.haCount(cDropHAOMismatch)
		l.ha.HandleTransportESP(deregister(), coa, vnet.HAAddr, now)
		if l.haCount(cDropHAOMismatch) != n+1 {
			t.Fatalf("from the care-of address: %v", l.ha.t.counters.snapshot())
		}
		// To another address of the home agent's host.
		n = l.haCount(cDropRawMalformed)
		l.ha.HandleTransportESP(deregister(), hoa, netip.MustParseAddr("2001:db8:1::99"), now)
		if l.haCount(cDropRawMalformed) != n+1 {
			t.Fatalf("to another address: %v", l.ha.t.counters.snapshot())
		}
		if _, ok := l.ha.core.Cache().Lookup(hoa); !ok {
			t.Fatal("binding gone after refused packets")
		}
		n = l.haCount(cTransportIn)
		l.ha.HandleTransportESP(deregister(), hoa, vnet.HAAddr, now)
		if _, ok := l.ha.core.Cache().Lookup(hoa); ok || l.haCount(cTransportIn) != n+1 {
			t.Fatalf("de-registration from home not taken: %v", l.ha.t.counters.snapshot())
		}
		l.d.Net.Close()
	})
}
