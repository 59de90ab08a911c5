package lease

import (
	"fmt"
	"net/netip"
	"testing"

	"mip6/internal/tshark"
	"mip6/wire/ipv6"
)

// The client's messages, as tshark dissects them.
func TestDHCPv6Tshark(t *testing.T) {
	src := netip.MustParseAddrPort("[fe80::1]:546")
	dst := netip.MustParseAddrPort("[ff02::1:2]:547")
	id := "alice@example.net"
	hint := netip.MustParseAddr("2001:db8:1::100")
	srvID := []byte{0, 2, 0, 0, 0x7e, 0x99, 0x6d, 0x69, 0x70, 0x36}
	d := &DHCPv6{}
	msgs := []Message{
		{Type: dhcpSolicit, TransactionID: 0x010203, ClientID: DUIDFor(id), HasIANA: true, IANA: d.ia(id, hint), RapidCommit: true},
		{Type: dhcpRequest, TransactionID: 0x040506, ClientID: DUIDFor(id), ServerID: srvID, HasIANA: true, IANA: d.ia(id, hint), ElapsedTime: 3},
		{Type: dhcpRenew, TransactionID: 0x070809, ClientID: DUIDFor(id), ServerID: srvID, HasIANA: true, IANA: d.ia(id, hint)},
		{Type: dhcpRelease, TransactionID: 0x0a0b0c, ClientID: DUIDFor(id), ServerID: srvID, HasIANA: true, IANA: d.ia(id, hint)},
	}
	var pkts [][]byte
	for i := range msgs {
		pkts = append(pkts, ipv6.AppendUDP(nil, src, dst, AppendMessage(nil, &msgs[i])))
	}
	pcap := tshark.WritePcap(t, pkts...)
	tshark.RequireClean(t, pcap, tshark.Options{})
	got := tshark.Run(t, pcap, tshark.Options{}, "dhcpv6.msgtype", "dhcpv6.xid", "dhcpv6.iaid", "dhcpv6.iaaddr.ip", "dhcpv6.duid.type")
	if len(got) != len(msgs) {
		t.Fatalf("%d packets dissected", len(got))
	}
	for i, p := range got {
		m := msgs[i]
		if p.Get("dhcpv6.msgtype") != fmt.Sprint(m.Type) || p.Get("dhcpv6.xid") != fmt.Sprintf("0x%06x", m.TransactionID) ||
			p.Get("dhcpv6.iaid") != fmt.Sprintf("%08x", m.IANA.IAID) || p.Get("dhcpv6.iaaddr.ip") != hint.String() ||
			p.Get("dhcpv6.duid.type") != "4" {
			t.Errorf("packet %d: %v", i, p.Fields)
		}
	}
}
