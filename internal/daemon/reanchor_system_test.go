package daemon_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/netns"
	"mip6/internal/peers/knot"
)

func zone(serial int, target string) string {
	return fmt.Sprintf(`$ORIGIN example.net.
$TTL 60
@ IN SOA ns.example.net. hostmaster.example.net. %d 3600 600 86400 60
@ IN NS ns.example.net.
ns IN AAAA 2001:db8:c::53
_mip6._ipv6 IN SRV 10 1 0 %s.example.net.
ha1 IN AAAA 2001:db8:1::2
ha2 IN AAAA 2001:db8:2::2
`, serial, target)
}

// RFC 4640 §5.3 re-bootstrapping with the real daemons: the MN finds its
// home agent from DNS SRV alone (its NAI's realm), registers with ha1; the
// operator points the SRV record at ha2; the MN notices at its re-anchoring
// interval, de-registers from ha1 and bootstraps with ha2.
func TestDaemonsReanchorToBetterHomeAgent(t *testing.T) {
	netns.Require(t, "knotd", "kdig")
	bin := buildMIP6(t)
	dir := t.TempDir()
	l := newLab(t)
	ha2 := netns.New(t, "ha2")
	netns.Link(t, ha2, "ha0", l.router, "rhome2")
	l.router.AddAddr(t, "rhome2", "2001:db8:2::1/64")
	ha2.AddAddr(t, "ha0", "2001:db8:2::2/64")
	ha2.AddRoute(t, "default", "via", "2001:db8:2::1")
	l.cn.AddAddr(t, "c0", "2001:db8:c::53/64") // on the link, so the router finds it
	dns := knot.Start(t, knot.Options{NS: l.cn, Addr: netip.MustParseAddr("2001:db8:c::53"),
		Zones: map[string]string{"example.net": zone(1, "ha1")}})
	l.attach(t, "a0", "2001:db8:a::100", "2001:db8:a::1")

	haConf := func(n int) string {
		p := filepath.Join(dir, fmt.Sprintf("ha%d.conf", n))
		write(t, p, fmt.Sprintf(`
[home_agent]
address = "2001:db8:%d::2"
home_prefix = "2001:db8:%d::/64"
home_interface = "ha0"
[ike]
listen = ["[2001:db8:%d::2]:500", "[2001:db8:%d::2]:4500"]
identity = "ha%d.example.net"
[addresses]
pool = "2001:db8:%d::1000/116"
[[mobile_node]]
identity = "alice@example.net"
auth = "psk"
psk = "re-anchoring test pre-shared key"
[store]
path = "%s/ha%d.db"
[daemon]
control_socket = "%s/ha%d.sock"
`, n, n, n, n, n, n, dir, n, dir, n))
		return p
	}
	mnConf := filepath.Join(dir, "mn.conf")
	write(t, mnConf, fmt.Sprintf(`
identity = "alice@example.net"
[credential]
psk = "re-anchoring test pre-shared key"
[home_agent]
dns_server = "[2001:db8:c::53]:53"
reanchor_interval = "1s"
[mobility]
interfaces = ["a0", "b0"]
[daemon]
control_socket = "%s/mn.sock"
`, dir))
	h1 := l.ha.Start(t, bin, "ha", "-c", haConf(1))
	h2 := ha2.Start(t, bin, "ha", "-c", haConf(2))
	sock1, sock2 := filepath.Join(dir, "ha1.sock"), filepath.Join(dir, "ha2.sock")
	for _, s := range []string{sock1, sock2} {
		netns.Eventually(t, 10*time.Second, func() error { _, err := status(t, bin, s); return err })
	}
	mn := l.mn.Start(t, bin, "mn", "-c", mnConf)
	defer func() {
		if t.Failed() {
			t.Logf("ha1:\n%s\nha2:\n%s\nmn:\n%s", h1.Output(), h2.Output(), mn.Output())
		}
	}()
	netns.Eventually(t, 20*time.Second, bindingTo(t, bin, sock1, "2001:db8:a::100"))

	dns.SetZone(t, "example.net", zone(2, "ha2"))
	netns.Eventually(t, 20*time.Second, bindingTo(t, bin, sock2, "2001:db8:a::100"))
	s2, err := status(t, bin, sock2)
	if err != nil || !strings.HasPrefix(s2.Bindings[0].HomeAddress, "2001:db8:2::") {
		t.Fatalf("binding at ha2: %+v %v", s2, err)
	}
	netns.Eventually(t, 10*time.Second, func() error {
		s1, err := status(t, bin, sock1)
		if err == nil && len(s1.Bindings) > 0 {
			err = fmt.Errorf("ha1 still has %+v", s1.Bindings)
		}
		return err
	})
	if !strings.Contains(mn.Output(), "re-anchoring to a better home agent 2001:db8:2::2") {
		t.Errorf("the mobile node does not say why it re-bootstrapped")
	}
}
