package vnet

import (
	"net/netip"
	"strings"
	"testing"

	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

func TestSummary(t *testing.T) {
	hoa, ha, coa := AddrOn(HomePrefix, 0xa), HAAddr, AddrOn(APrefix, 0xa)
	bu := mh.BindingUpdate{Sequence: 7, Acknowledge: true, HomeRegistration: true, Lifetime: 225,
		Options: mh.Options{Present: mh.HasAlternateCareOfAddress, AlternateCareOfAddress: coa}}
	inner := ipv6.AppendPacket(nil, hoa, ha, ipv6.ProtoMobility, bu.Append(nil, hoa, ha))
	for _, c := range []struct {
		pkt  []byte
		want string
	}{
		{inner, "2001:db8:1::a -> 2001:db8:1::2 MH Binding Update seq=7 lifetime=900s A H alt-coa=2001:db8:a::a"},
		{ipv6.AppendUDP(nil, netip.AddrPortFrom(coa, 4500), netip.AddrPortFrom(ha, 4500), []byte{0xc0, 0xde, 0, 1, 0, 0, 0, 3, 9, 9}),
			"UDP 4500->4500 ESP spi=0xc0de0001 seq=3"},
		{ipv6.AppendUDP(nil, netip.AddrPortFrom(coa, 4500), netip.AddrPortFrom(ha, 4500), []byte{0, 0, 0, 0, 1, 2}), "IKE len 2"},
		{appendICMP(nil, CNAddr, hoa, icmpEchoRequest, 0, []byte{0, 1, 0, 2}), "ICMPv6 echo request id=1 seq=2"},
		{[]byte{0x60, 0}, "malformed"},
	} {
		if got := Summary(c.pkt); !strings.Contains(got, c.want) {
			t.Errorf("Summary = %q, want it to contain %q", got, c.want)
		}
	}
}
