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

type nopRaw struct{}

func (nopRaw) SendRaw([]byte) error { return nil }

// FuzzHandleRaw feeds arbitrary packets to both roles' transport-form
// input (and the home agent's raw ESP socket input): nothing panics, and no change to a genuine BU (the first seed)
// registers anything but its own binding.
func FuzzHandleRaw(f *testing.F) {
	t := f
	haSig, mnSig := sigPair(t, 0x5000, 0x6000, alice, hoa)
	coa := vnet.AddrOn(vnet.APrefix, 0x100)
	// Seeds: a genuine BU, a genuine BA, and ones sealed by other keys.
	f.Add(rawPacket(t, mnSig.Out, coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoMobility, buMsg(1, hoa, coa)))
	ba := mh.BindingAck{Sequence: 1, Lifetime: 100}
	f.Add(rawPacket(t, haSig.Out, vnet.HAAddr, coa, netip.Addr{}, hoa, ipv6.ProtoMobility, ba.Append(nil, vnet.HAAddr, hoa)))
	f.Add(ipv6.AppendPacket(nil, coa, vnet.HAAddr, ipv6.ProtoESP, []byte{0, 0, 0x50, 0, 0, 0, 0, 1}))
	// ESP alone, as a raw ESP socket reads it (HandleTransportESP, from the home address).
	sealed, err := mnSig.Out.SA.Seal(nil, buMsg(2, hoa, coa), ipv6.ProtoMobility)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		core, err := ha.New(ha.Config{Address: vnet.HAAddr, HomePrefixes: []netip.Prefix{vnet.HomePrefix}},
			padFunc(func(id string, a netip.Addr) bool { return id == alice && a == hoa }))
		if err != nil {
			t.Fatal(err)
		}
		h, err := NewHomeAgent(HomeAgentConfig{Core: core, PAD: ipsec.NewPAD(), SAD: ipsec.NewSAD(), SPD: ipsec.NewSPD(),
			Link: nopLink{}, Raw: nopRaw{}})
		if err != nil {
			t.Fatal(err)
		}
		hs, ms := sigPair(t, 0x5000, 0x6000, alice, hoa)
		if err := h.Install(hs); err != nil {
			t.Fatal(err)
		}
		mcore, err := mn.New(mn.Config{HomeAddress: hoa, HomeAgent: vnet.HAAddr, HomePrefix: vnet.HomePrefix, Lifetime: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewMobileNode(MobileNodeConfig{Identity: alice, HomeAddress: hoa, HomeAgent: vnet.HAAddr, Core: mcore,
			SAD: ipsec.NewSAD(), SPD: ipsec.NewSPD(), TransportForm: true, Raw: nopRaw{}})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Install(ms); err != nil {
			t.Fatal(err)
		}
		h.HandleRaw(append([]byte(nil), pkt...), time.Now())
		h.HandleTransportESP(append([]byte(nil), pkt...), hoa, vnet.HAAddr, time.Now())
		m.HandleRaw(append([]byte(nil), pkt...), time.Now())
		for _, b := range h.Bindings() {
			if b.HomeAddress != hoa || b.CareOf != coa {
				t.Fatalf("binding %+v", b)
			}
		}
	})
}
