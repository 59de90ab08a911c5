package hostnet

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"mip6/wire/ipv6"
)

var (
	rawPeer  = netip.MustParseAddr("2001:db8:a::1")
	rawHost  = netip.MustParseAddr("2001:db8:a::2")
	rawOther = netip.MustParseAddr("2001:db8:a::3")
	rawHoA   = netip.MustParseAddr("2001:db8:1::100")
	// rawESP stands for an ESP payload: SPI, sequence number, a few bytes.
	rawESP = []byte{0, 0, 0x10, 0x01, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04}
)

// rawBU is a Binding Update in the RFC 3776 transport form as far as the
// host sees it: CoA -> HA, Home Address option, ESP.
func rawBU(src, dst netip.Addr) []byte {
	p := ipv6.Packet{Header: ipv6.Header{Src: src, Dst: dst, HopLimit: 64}, HomeAddress: rawHoA, Proto: ipv6.ProtoESP}
	return p.Append(nil, rawESP)
}

// rawBA is a Binding Acknowledgement likewise: HA -> CoA, Type 2 Routing
// header (Segments Left 1), ESP.
func rawBA(src, dst netip.Addr) []byte {
	p := ipv6.Packet{Header: ipv6.Header{Src: src, Dst: dst, HopLimit: 64}, RoutingHomeAddress: rawHoA, SegmentsLeft: 1, Proto: ipv6.ProtoESP}
	return p.Append(nil, rawESP)
}

// rawType0 is rawBA with its routing header turned into type 0, done.
func rawType0(src, dst netip.Addr) []byte {
	b := rawBA(src, dst)
	b[offRoutingType], b[offRoutingType+1] = 0, 0
	return b
}

// rawAtHome is the transport form at home: ESP right behind the header.
func rawAtHome(src, dst netip.Addr) []byte {
	return ipv6.AppendPacket(nil, src, dst, ipv6.ProtoESP, rawESP)
}

func rawUDP(src, dst netip.Addr) []byte {
	return ipv6.AppendPacket(nil, src, dst, ipv6.ProtoUDP,
		ipv6.AppendUDP(nil, netip.AddrPortFrom(src, 1), netip.AddrPortFrom(dst, 2), []byte("x")))
}

func TestRawMatch(t *testing.T) {
	ha := RawConfig{Role: RawHomeAgent, HomeAgent: rawHost}
	mn := RawConfig{Role: RawMobileNode}
	haESP := RawConfig{Role: RawHomeAgent, HomeAgent: rawHost, PlainESP: true}
	mnESP := RawConfig{Role: RawMobileNode, HomeAddress: rawHoA, PlainESP: true}
	for _, c := range []struct {
		name string
		cfg  RawConfig
		pkt  []byte
		want bool
	}{
		{"HA takes a BU to it", ha, rawBU(rawPeer, rawHost), true},
		{"HA leaves a BU to another address", ha, rawBU(rawPeer, rawOther), false},
		{"HA leaves a BU differing in the last word", ha, rawBU(rawPeer, rawHost.Next()), false},
		{"HA leaves a BA", ha, rawBA(rawPeer, rawHost), false},
		{"HA leaves UDP", ha, rawUDP(rawPeer, rawHost), false},
		{"HA leaves a truncated header", ha, rawBU(rawPeer, rawHost)[:30], false},
		{"MN takes a BA", mn, rawBA(rawPeer, rawHost), true},
		{"MN takes a BA to any address", mn, rawBA(rawPeer, rawOther), true},
		{"MN leaves routing type 0", mn, rawType0(rawPeer, rawHost), false},
		{"MN leaves a BU", mn, rawBU(rawPeer, rawHost), false},
		{"MN leaves UDP", mn, rawUDP(rawPeer, rawHost), false},
		{"MN leaves a packet ending before the routing type", mn, rawBA(rawPeer, rawHost)[:42], false},
		{"HA leaves ESP without PlainESP", ha, rawAtHome(rawHoA, rawHost), false},
		{"MN leaves ESP without PlainESP", mn, rawAtHome(rawPeer, rawHoA), false},
		{"HA with PlainESP takes ESP to it", haESP, rawAtHome(rawHoA, rawHost), true},
		{"HA with PlainESP takes a BU", haESP, rawBU(rawPeer, rawHost), true},
		{"HA with PlainESP leaves ESP to another address", haESP, rawAtHome(rawHoA, rawOther), false},
		{"HA with PlainESP leaves a BU to another address", haESP, rawBU(rawPeer, rawOther), false},
		{"HA with PlainESP leaves UDP", haESP, rawUDP(rawPeer, rawHost), false},
		{"MN with PlainESP takes ESP to the home address", mnESP, rawAtHome(rawPeer, rawHoA), true},
		{"MN with PlainESP takes a BA", mnESP, rawBA(rawPeer, rawHost), true},
		{"MN with PlainESP leaves ESP to another address", mnESP, rawAtHome(rawPeer, rawHost), false},
		{"MN with PlainESP leaves routing type 0", mnESP, rawType0(rawPeer, rawHost), false},
		{"MN with PlainESP leaves UDP to the home address", mnESP, rawUDP(rawPeer, rawHoA), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			prog, err := rawMatch(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			vm, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatal(err)
			}
			n, err := vm.Run(c.pkt)
			if err != nil {
				t.Fatal(err)
			}
			if got := n != 0; got != c.want {
				t.Fatalf("filter kept %d bytes of % x; want taken=%v", n, c.pkt, c.want)
			}
			if c.want && n < len(c.pkt) {
				t.Fatalf("filter keeps only %d of %d bytes", n, len(c.pkt))
			}
		})
	}
	for _, c := range []RawConfig{ha, mn, haESP, mnESP} {
		if _, err := rawFilter(c); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRawRule(t *testing.T) {
	got := nftScript("mip6_raw_1_1", RawConfig{Role: RawHomeAgent, HomeAgent: rawHost, Interface: "home0"})
	for _, want := range []string{"table ip6 mip6_raw_1_1 {", "type filter hook prerouting priority raw; policy accept;",
		`iifname "home0" ip6 daddr 2001:db8:a::2 ip6 nexthdr 60 drop`} {
		if !strings.Contains(got, want) {
			t.Errorf("script lacks %q:\n%s", want, got)
		}
	}
	for _, c := range []struct {
		cfg  RawConfig
		want string
	}{
		{RawConfig{Role: RawMobileNode}, "ip6 nexthdr 43 rt type 2 drop"},
		{RawConfig{Role: RawMobileNode, HomeAddress: rawHoA, PlainESP: true},
			"ip6 nexthdr 43 rt type 2 drop\n\t\tip6 daddr 2001:db8:1::100 ip6 nexthdr 50 drop"},
		{RawConfig{Role: RawHomeAgent, HomeAgent: rawHost, PlainESP: true}, "ip6 daddr 2001:db8:a::2 ip6 nexthdr { 50, 60 } drop"},
	} {
		if got := rawRules(c.cfg); got != c.want {
			t.Errorf("%+v: rules %q, want %q", c.cfg, got, c.want)
		}
	}
}

func TestRawConfigCheck(t *testing.T) {
	for _, c := range []RawConfig{
		{},
		{Role: RawHomeAgent},
		{Role: RawHomeAgent, HomeAgent: netip.MustParseAddr("192.0.2.1")},
		{Role: RawHomeAgent, HomeAgent: netip.IPv6Unspecified()},
		{Role: RawHomeAgent, HomeAgent: netip.MustParseAddr("ff02::1")},
		{Role: RawMobileNode, HomeAgent: rawHost},
		{Role: RawMobileNode, PlainESP: true},
		{Role: RawMobileNode, HomeAddress: rawHoA},
		{Role: RawMobileNode, HomeAddress: netip.MustParseAddr("ff02::1"), PlainESP: true},
		{Role: RawHomeAgent, HomeAgent: rawHost, HomeAddress: rawHoA},
		{Role: RawMobileNode, Interface: `a"b`},
		{Role: RawMobileNode, Interface: "sixteen-chars-xx"},
		{Role: 9},
	} {
		if err := c.check(); err == nil {
			t.Errorf("%+v accepted", c)
		}
		if _, err := OpenRawMobility(c); err == nil {
			t.Errorf("OpenRawMobility(%+v) succeeded", c)
		}
	}
	for _, c := range []RawConfig{{Role: RawMobileNode, Interface: "eth0"}, {Role: RawHomeAgent, HomeAgent: rawHost},
		{Role: RawMobileNode, HomeAddress: rawHoA, PlainESP: true}, {Role: RawHomeAgent, HomeAgent: rawHost, PlainESP: true}} {
		if err := c.check(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// Without nft, Open says what to install, before touching the host.
func TestRawOpenWithoutNft(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := OpenRawMobility(RawConfig{Role: RawMobileNode})
	if err == nil || !strings.Contains(err.Error(), "nftables") {
		t.Fatalf("err = %v, want one naming the nftables package", err)
	}
}

func TestRawSendRejectsNonPackets(t *testing.T) {
	r := &RawMobility{}
	good := rawBA(rawPeer, rawHost)
	v4 := append([]byte(nil), good...)
	v4[0] = 0x45
	for _, c := range []struct {
		pkt   []byte
		field string
	}{
		{good[:39], "length"},
		{v4, "version"},
		{good[:len(good)-1], "payload length"},
		{append(good, 0), "payload length"},
	} {
		var pe *RawPacketError
		if err := r.SendRaw(c.pkt); !errors.As(err, &pe) || pe.Field != c.field {
			t.Errorf("SendRaw(%d bytes) = %v, want a %s error", len(c.pkt), err, c.field)
		}
	}
}

func TestRawWithoutPadding(t *testing.T) {
	pkt := rawAtHome(rawPeer, rawHost)
	for _, c := range []struct {
		b    []byte
		want int
	}{
		{pkt, len(pkt)},
		{append(append([]byte(nil), pkt...), 0, 0, 0, 0, 0, 0), len(pkt)},
		{pkt[:len(pkt)-1], len(pkt) - 1}, // short: the parser's to reject
		{pkt[:20], 20},
		{nil, 0},
	} {
		if got := withoutPadding(c.b); got != c.want {
			t.Errorf("withoutPadding(%d bytes) = %d, want %d", len(c.b), got, c.want)
		}
	}
}
