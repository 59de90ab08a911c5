package ipv6_test

import (
	"net/netip"
	"strings"
	"testing"

	"mip6/internal/tshark"
	"mip6/wire/ipv6"
)

func TestTsharkUDP(t *testing.T) {
	src := netip.MustParseAddrPort("[2001:db8::10]:49152")
	dst := netip.MustParseAddrPort("[2001:db8:2::20]:9")
	path := tshark.WritePcap(t, ipv6.AppendUDP(nil, src, dst, []byte("odd")))
	tshark.RequireClean(t, path, tshark.Options{})
	p := tshark.Run(t, path, tshark.Options{}, "ipv6.dst", "udp.dstport", "udp.checksum.status")[0]
	if p.Get("ipv6.dst") != "2001:db8:2::20" || p.Get("udp.dstport") != "9" || p.Get("udp.checksum.status") != "1" {
		t.Fatalf("tshark read %v", p.Fields)
	}
}

var (
	home    = netip.MustParseAddr("2001:db8:1::100")
	careOf  = netip.MustParseAddr("2001:db8:2::200")
	agent   = netip.MustParseAddr("2001:db8:1::1")
	anycast = netip.MustParseAddr("2001:db8:1::fdff:ffff:ffff:fffe")
)

// mobilityPackets builds DHAAD, MPS (with a Home Address option) and MPA
// (with a Type 2 Routing header) packets as a mobile node and its home
// agent exchange them.
func mobilityPackets() [][]byte {
	var pkts [][]byte
	req := ipv6.DHAADRequest{Identifier: 0x4242}
	pkts = append(pkts, ipv6.AppendPacket(nil, careOf, anycast, ipv6.ProtoICMPv6, req.Append(nil, careOf, anycast)))
	rep := ipv6.DHAADReply{Identifier: 0x4242, HomeAgentAddresses: ipv6.MakeAddrList(agent, netip.MustParseAddr("2001:db8:1::2"))}
	pkts = append(pkts, ipv6.AppendPacket(nil, agent, careOf, ipv6.ProtoICMPv6, rep.Append(nil, agent, careOf)))

	out := ipv6.Packet{Header: ipv6.Header{HopLimit: 64, Src: careOf, Dst: agent}, HomeAddress: home, Proto: ipv6.ProtoICMPv6}
	mps := ipv6.MobilePrefixSolicitation{Identifier: 7}
	pkts = append(pkts, out.Append(nil, mps.Append(nil, out.PseudoSrc(), out.PseudoDst())))

	in := ipv6.Packet{Header: ipv6.Header{HopLimit: 64, Src: agent, Dst: careOf}, RoutingHomeAddress: home, SegmentsLeft: 1, Proto: ipv6.ProtoICMPv6}
	pio := ipv6.PrefixInformation{PrefixLength: 64, OnLink: true, Autonomous: true, RouterAddress: true, ValidLifetime: 86400, PreferredLifetime: 14400, Prefix: agent}
	mpa := ipv6.MobilePrefixAdvertisement{Identifier: 7, OtherStatefulConfiguration: true, Options: ipv6.AppendPrefixInformation(nil, pio)}
	pkts = append(pkts, in.Append(nil, mpa.Append(nil, in.PseudoSrc(), in.PseudoDst())))

	// A Parameter Problem pointing at the Payload Proto of a Mobility Header.
	bad := ipv6.AppendPacket(nil, careOf, agent, ipv6.ProtoMobility, []byte{6, 0, 5, 0, 0, 0, 0, 0})
	pp := ipv6.ParameterProblem{Code: ipv6.ParamProbErroneousHeaderField, Pointer: ipv6.HeaderLen, Invoking: bad}
	pkts = append(pkts, ipv6.AppendPacket(nil, agent, careOf, ipv6.ProtoICMPv6, pp.Append(nil, agent, careOf)))
	return pkts
}

func TestTsharkMobilityICMPv6(t *testing.T) {
	path := tshark.WritePcap(t, mobilityPackets()...)
	tshark.RequireClean(t, path, tshark.Options{})
	pkts := tshark.Run(t, path, tshark.Options{},
		"icmpv6.type", "icmpv6.checksum.status", "icmpv6.mip6.identifier", "icmpv6.mip6.home_agent_address",
		"icmpv6.mip6.flag.o", "icmpv6.opt.prefix", "icmpv6.opt.prefix.flag.r", "icmpv6.opt.prefix.valid_lifetime",
		"ipv6.opt.mipv6.home_address", "ipv6.routing.type", "ipv6.routing.segleft", "ipv6.routing.mipv6.home_address",
		"icmpv6.code", "icmpv6.pointer")
	if len(pkts) != 5 {
		t.Fatalf("%d packets", len(pkts))
	}
	want := []map[string][]string{
		{"icmpv6.type": {"144"}, "icmpv6.mip6.identifier": {"16962"}},
		{"icmpv6.type": {"145"}, "icmpv6.mip6.identifier": {"16962"}, "icmpv6.mip6.home_agent_address": {"2001:db8:1::1", "2001:db8:1::2"}},
		{"icmpv6.type": {"146"}, "icmpv6.mip6.identifier": {"7"}, "ipv6.opt.mipv6.home_address": {"2001:db8:1::100"}},
		{"icmpv6.type": {"147"}, "icmpv6.mip6.flag.o": {"1"}, "icmpv6.opt.prefix": {"2001:db8:1::1"}, "icmpv6.opt.prefix.flag.r": {"1"},
			"icmpv6.opt.prefix.valid_lifetime": {"86400"}, "ipv6.routing.type": {"2"}, "ipv6.routing.segleft": {"1"},
			"ipv6.routing.mipv6.home_address": {"2001:db8:1::100"}},
		{"icmpv6.type": {"4"}, "icmpv6.code": {"0"}, "icmpv6.pointer": {"40"}},
	}
	for i, w := range want {
		for field, vals := range w {
			got := pkts[i].All(field)
			if strings.Join(got, ",") != strings.Join(vals, ",") {
				t.Errorf("packet %d: %s = %q, want %q", i+1, field, got, vals)
			}
		}
		if s := pkts[i].Get("icmpv6.checksum.status"); s != "1" {
			t.Errorf("packet %d: tshark checksum status %q", i+1, s)
		}
	}
}
