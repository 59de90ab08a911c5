package discovery

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	xipv6 "golang.org/x/net/ipv6"

	"mip6/internal/netns"
	"mip6/wire/ipv6"
)

// System test: DHAAD over real raw ICMPv6 sockets between two namespaces.
// The MN (care-of address 2001:db8:9::100) asks the Home-Agents anycast
// address of 2001:db8:1::/64; the home agent answers from 2001:db8:1::1.
func TestDHAADNetns(t *testing.T) {
	netns.Require(t)
	mn, ha := netns.New(t, "mn"), netns.New(t, "ha")
	netns.Link(t, mn, "mn0", ha, "ha0")
	mn.AddAddr(t, "mn0", "2001:db8:9::100/64")
	ha.AddAddr(t, "ha0", "2001:db8:9::1/64")
	ha.AddAddr(t, "lo", "2001:db8:1::1/64")
	ha.AddAddr(t, "lo", anycast6.String()+"/128")
	mn.AddRoute(t, "2001:db8:1::/64", "via", "2001:db8:9::1")

	list := []netip.Addr{haAddr, netip.MustParseAddr("2001:db8:1::2")}
	var pc *icmp.PacketConn
	if err := ha.Do(func() error {
		var err error
		pc, err = icmp.ListenPacket("ip6:ipv6-icmp", "::")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	p := pc.IPv6PacketConn()
	var f xipv6.ICMPFilter
	f.SetAll(true)
	f.Accept(xipv6.ICMPType(ipv6.ICMPv6DHAADRequest))
	if err := p.SetICMPFilter(&f); err != nil {
		t.Fatal(err)
	}
	if err := p.SetControlMessage(xipv6.FlagDst, true); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, cm, from, err := p.ReadFrom(buf)
			if err != nil {
				return
			}
			src, _ := netip.AddrFromSlice(from.(*net.IPAddr).IP)
			dst, _ := netip.AddrFromSlice(cm.Dst)
			rep, err := AppendDHAADReply(nil, buf[:n], src, dst, haAddr, list)
			if err != nil {
				t.Errorf("home agent: %v", err)
				continue
			}
			p.WriteTo(rep, &xipv6.ControlMessage{Src: haAddr.AsSlice()}, from)
		}
	}()

	var got []netip.Addr
	err := mn.Do(func() error {
		conn, err := ListenICMPv6(coa)
		if err != nil {
			return err
		}
		defer conn.Close()
		c := &DHAADClient{Conn: conn, Timeout: 500 * time.Millisecond, Retries: 2}
		l, err := Discover(context.Background(), Config{HomePrefix: homePfx, DHAAD: c})
		if err != nil {
			return err
		}
		for _, c := range l.Candidates() {
			got = append(got, c.Addr)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != list[0] || got[1] != list[1] {
		t.Fatalf("home agents %v, want %v", got, list)
	}
}
