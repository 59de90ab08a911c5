package hostnet

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"

	"mip6/internal/netns"
)

func TestAppendNeighborAdvertisement(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0, 0x5e, 0x10, 0x20, 0x30}
	target := netip.MustParseAddr("2001:db8:1::100")
	got := AppendNeighborAdvertisement([]byte{0xee}, target, mac, false)
	want := append([]byte{0xee, 136, 0, 0, 0, 0x20, 0, 0, 0}, target.AsSlice()...)
	want = append(want, 2, 1, 0x02, 0, 0x5e, 0x10, 0x20, 0x30)
	if !bytes.Equal(got, want) {
		t.Fatalf("NA\n got % x\nwant % x", got, want)
	}
	if r := AppendNeighborAdvertisement(nil, target, mac, true); r[4] != 0xa0 {
		t.Fatalf("router NA flags %#x, want R|O", r[4])
	}
	if n := AppendNeighborAdvertisement(nil, target, nil, false); len(n) != 24 {
		t.Fatalf("NA without a link-layer address is %d bytes, want 24", len(n))
	}
	// An 8-byte link-layer address needs two 8-octet option units.
	long := AppendNeighborAdvertisement(nil, target, make(net.HardwareAddr, 8), false)
	if len(long) != 24+16 || long[25] != 2 {
		t.Fatalf("NA with an 8-byte address: %d bytes, option length %d", len(long), long[25])
	}
}

// One namespace with a home-link interface: Claim and Release install and
// remove exactly the route and proxy entry, twice in a row is harmless,
// Close leaves nothing behind.
func TestHomeLinkClaimRelease(t *testing.T) {
	netns.Require(t)
	ns, peer := netns.New(t, "hl"), netns.New(t, "hlpeer")
	netns.Link(t, ns, "home0", peer, "eth0")
	hoa := netip.MustParseAddr("2001:db8:1::100")
	var l *HomeLink
	if err := ns.Do(func() (err error) { l, err = NewHomeLink(HomeLinkConfig{Interface: "home0", TUN: "tha"}); return err }); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, kv := range [][2]string{{"ipv6/conf/all/forwarding", "1"}, {"ipv6/conf/home0/proxy_ndp", "1"}, {"ipv6/neigh/home0/proxy_delay", "0"}} {
		var v []byte
		if err := ns.Do(func() (err error) { v, err = os.ReadFile("/proc/sys/net/" + kv[0]); return err }); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(v)); got != kv[1] {
			t.Errorf("%s = %s, want %s", kv[0], got, kv[1])
		}
	}
	claimed := func() (proxy, route bool) {
		return strings.Contains(ns.Run(t, "ip", "-6", "neigh", "show", "proxy"), hoa.String()),
			strings.Contains(ns.Run(t, "ip", "-6", "route", "show", "dev", "tha"), hoa.String())
	}
	waitLinkLocal(t, ns, "home0")
	waitLinkLocal(t, peer, "eth0")
	nas := listenNA(t, peer, hoa)
	for range 2 {
		l.Claim(hoa)
		if p, r := claimed(); !p || !r || !l.Claimed(hoa) {
			t.Fatalf("after Claim: proxy entry %v, route %v, Claimed %v", p, r, l.Claimed(hoa))
		}
	}
	// Each Claim sends three NAs, a second apart; five or six by now (or
	// so) show the repeats.
	time.Sleep(retransTimer + retransTimer/2)
	if n := nas.Load(); n < 4 {
		t.Fatalf("%d unsolicited NAs for %s on the home link, want 4 or more", n, hoa)
	}
	for range 2 {
		l.Release(hoa)
		if p, r := claimed(); p || r || l.Claimed(hoa) {
			t.Fatalf("after Release: proxy entry %v, route %v, Claimed %v", p, r, l.Claimed(hoa))
		}
	}
	// Released: the pending repeats are not sent.
	before := nas.Load()
	time.Sleep(retransTimer)
	if n := nas.Load(); n != before {
		t.Fatalf("%d NAs after Release", n-before)
	}
	l.Claim(hoa)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if out := ns.Run(t, "ip", "-6", "neigh", "show", "proxy"); strings.Contains(out, hoa.String()) {
		t.Errorf("proxy entry left after Close: %s", out)
	}
	if out, _ := ns.Exec("ip", "link", "show", "tha"); strings.Contains(out, "tha:") {
		t.Errorf("TUN left after Close: %s", out)
	}
	if n := l.Errors.Load(); n != 0 {
		t.Errorf("%d errors", n)
	}
}

// The mobile host's rule exists exactly while away; packets from the home
// address reach the TUN only then; Close removes the TUN and the rule.
func TestMobileHostAwayHome(t *testing.T) {
	netns.Require(t, "ping")
	ns, peer := netns.New(t, "mh"), netns.New(t, "mhpeer")
	netns.Link(t, ns, "eth0", peer, "eth0")
	ns.AddAddr(t, "eth0", "2001:db8:a::100/64")
	hoa := netip.MustParseAddr("2001:db8:1::100")
	var h *MobileHost
	if err := ns.Do(func() (err error) {
		h, err = NewMobileHost(MobileHostConfig{HomeAddress: hoa, Interface: "eth0", TUN: "tmn", Table: 77})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	got := make(chan []byte, 16)
	go h.TUN().ReadLoop(func(p []byte) {
		select {
		case got <- append([]byte(nil), p...):
		default:
		}
	})
	hasRule := func() bool { return strings.Contains(ns.Run(t, "ip", "-6", "rule", "show"), "lookup 77") }
	if hasRule() {
		t.Fatal("rule present before Away")
	}
	for range 2 {
		if err := h.Away(); err != nil {
			t.Fatal(err)
		}
	}
	if !hasRule() {
		t.Fatal("no rule after Away")
	}
	// A ping from the home address leaves through the TUN.
	ns.ExecWithin(3*time.Second, "ping", "-6", "-n", "-c", "1", "-W", "1", "-I", hoa.String(), "2001:db8:c::2")
	select {
	case p := <-got:
		if len(p) < 40 || !bytes.Equal(p[8:24], hoa.AsSlice()) {
			t.Fatalf("TUN read % x, want a packet from %s", p, hoa)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("nothing from the home address reached the TUN")
	}
	if err := h.Home(); err != nil {
		t.Fatal(err)
	}
	if hasRule() {
		t.Fatal("rule left after Home")
	}
	if err := h.Away(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if hasRule() {
		t.Error("rule left after Close")
	}
	if out, _ := ns.Exec("ip", "link", "show", "tmn"); strings.Contains(out, "tmn:") {
		t.Errorf("TUN left after Close: %s", out)
	}
}

// listenNA counts the Neighbour Advertisements for target that arrive in ns
// (with the override flag and hop limit 255, as the HA must send them).
func listenNA(t *testing.T, ns *netns.NS, target netip.Addr) *atomic.Int64 {
	t.Helper()
	var c *icmp.PacketConn
	if err := ns.Do(func() (err error) { c, err = icmp.ListenPacket("ip6:ipv6-icmp", "::"); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	pc := c.IPv6PacketConn()
	if err := pc.SetControlMessage(ipv6.FlagHopLimit, true); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	go func() {
		buf := make([]byte, 1500)
		for {
			k, cm, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if k >= 24 && buf[0] == icmpTypeNA && buf[4]&naOverride != 0 && cm != nil && cm.HopLimit == 255 &&
				bytes.Equal(buf[8:24], target.AsSlice()) {
				n.Add(1)
			}
		}
	}()
	return &n
}

// waitLinkLocal waits until dev has a usable link-local address: IPv6 on
// a fresh veth starts (joins all-nodes, takes multicast) only once
// linkwatch has reported the carrier, up to a second after the link is set
// up.
func waitLinkLocal(t testing.TB, ns *netns.NS, dev string) {
	t.Helper()
	netns.Eventually(t, 5*time.Second, func() error {
		out := ns.Run(t, "ip", "-6", "-o", "addr", "show", "dev", dev, "scope", "link")
		if !strings.Contains(out, "fe80::") || strings.Contains(out, "tentative") {
			return fmt.Errorf("no usable link-local address on %s yet: %q", dev, out)
		}
		return nil
	})
}
