package node

import (
	"net/netip"
	"testing"
	"time"

	"mip6/ha"
	"mip6/ipsec"
	"mip6/mn"
	"mip6/vnet"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

type nopLink struct{}

func (nopLink) Forward([]byte) error { return nil }
func (nopLink) Claim(netip.Addr)     {}
func (nopLink) Release(netip.Addr)   {}

// TestHomeAgentPlanePolicy: the home address's PROTECT
// entry sends through the CHILD_SA only while the binding lasts, the
// plane's Local hook consumes Binding Updates and refuses payload from any
// source but the registered home address (RFC 4877 §4.4).
func TestHomeAgentPlanePolicy(t *testing.T) {
	core, err := ha.New(ha.Config{Address: vnet.HAAddr, HomePrefixes: []netip.Prefix{vnet.HomePrefix}, KeyMgmtMobility: true},
		padFunc(func(id string, a netip.Addr) bool { return id == alice && a == hoa }))
	if err != nil {
		t.Fatal(err)
	}
	spd, sad := ipsec.NewSPD(), ipsec.NewSAD()
	h, err := NewHomeAgent(HomeAgentConfig{Core: core, PAD: ipsec.NewPAD(), SAD: sad, SPD: spd, Link: nopLink{}})
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := pair(t, 0x1000, 0x2000, alice, hoa)
	if err := h.Install(hs); err != nil {
		t.Fatal(err)
	}
	cn := netip.MustParseAddr("2001:db8:c::1")
	toHoA := ipsec.OutboundPacket(cn, hoa, ipsec.ProtoUDP, 1, 2)
	protected := func() bool {
		e := spd.Lookup(ipsec.Outbound, &toHoA)
		return e != nil && e.Action == ipsec.Protect && sad.Outbound(e.ID) == hs.Out
	}
	if protected() {
		t.Fatal("tunnel active before any registration")
	}
	from := netip.MustParseAddrPort("[2001:db8:a::100]:4500")
	bu := func(seq, lifetime uint16) []byte {
		m := mh.BindingUpdate{Sequence: seq, Acknowledge: true, HomeRegistration: true, KeyManagementMobilityCapability: true, Lifetime: lifetime}
		m.Options.Present |= mh.HasAlternateCareOfAddress // RFC 4877 §4.4: the tunnelled BU names its care-of address
		m.Options.AlternateCareOfAddress = from.Addr()
		return ipv6.AppendPacket(nil, hoa, vnet.HAAddr, ipv6.ProtoMobility, m.Append(nil, hoa, vnet.HAAddr))
	}
	if !h.PlaneLocal(hs.In, bu(1, 100), from) {
		t.Fatal("Binding Update not consumed")
	}
	if !protected() {
		b, ok := core.Cache().Lookup(hoa)
		t.Fatalf("no protected path to the home address after registration: %v %v %+v %+v", b, ok, core.Counters(), h.t.counters.snapshot())
	}
	if h.PlaneLocal(hs.In, udp(hoa, cn), from) {
		t.Error("payload from the home address refused")
	}
	if !h.PlaneLocal(hs.In, udp(netip.MustParseAddr("2001:db8:1::666"), cn), from) {
		t.Error("payload from another source let through")
	}
	h.PlaneLocal(hs.In, bu(2, 0), from)
	if _, ok := core.Cache().Lookup(hoa); ok || protected() {
		t.Fatal("still tunnelled after de-registration")
	}
	h.Remove(hs)
	if e := spd.Lookup(ipsec.Outbound, &toHoA); e != nil {
		t.Fatalf("policy left after Remove: %+v", e)
	}
}

func udp(src, dst netip.Addr) []byte {
	return ipv6.AppendPacket(nil, src, dst, ipv6.ProtoUDP, []byte{0, 1, 0, 2, 0, 8, 0, 0})
}

// TestMobileNodePlanePolicy: the home address's traffic
// is protected only while the tunnel is on, never the node's own IKE to
// the home agent.
func TestMobileNodePlanePolicy(t *testing.T) {
	mcore, err := mn.New(mn.Config{HomeAddress: hoa, HomeAgent: vnet.HAAddr, HomePrefix: vnet.HomePrefix, KeyMgmt: true, Lifetime: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	spd, sad := ipsec.NewSPD(), ipsec.NewSAD()
	m, err := NewMobileNode(MobileNodeConfig{Identity: alice, HomeAddress: hoa, HomeAgent: vnet.HAAddr, Core: mcore,
		SAD: sad, SPD: spd})
	if err != nil {
		t.Fatal(err)
	}
	_, ms := pair(t, 0x1000, 0x2000, alice, hoa)
	if err := m.Install(ms); err != nil {
		t.Fatal(err)
	}
	cn := netip.MustParseAddr("2001:db8:c::1")
	action := func(dst netip.Addr, port uint16) (ipsec.Action, bool) {
		p := ipsec.OutboundPacket(hoa, dst, ipsec.ProtoUDP, 1, port)
		e := spd.Lookup(ipsec.Outbound, &p)
		if e == nil {
			return ipsec.Discard, false
		}
		return e.Action, sad.Outbound(e.ID) == ms.Out
	}
	if _, sa := action(cn, 80); sa {
		t.Fatal("tunnel on before registration")
	}
	m.setTunnel(true)
	if a, sa := action(cn, 80); a != ipsec.Protect || !sa {
		t.Fatalf("registered: %v, SA %v", a, sa)
	}
	if a, _ := action(vnet.HAAddr, 500); a != ipsec.Bypass {
		t.Fatalf("IKE to the home agent: %v", a)
	}
	m.setTunnel(false)
	if _, sa := action(cn, 80); sa {
		t.Fatal("tunnel still on at home")
	}
}
