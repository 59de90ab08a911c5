package hostnet

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"mip6/internal/control"
	"mip6/internal/netns"
)

// attackerAddr sits on access network B next to the mobile node.
var attackerAddr = netip.MustParseAddr("2001:db8:b::666")

// attackDatagrams is how many datagrams attack sends.
const attackDatagrams = 5

// attack sends the home agent's port 4500, from a node on access network
// B, what an off-path attacker can: random bytes, ESP with an unknown SPI,
// ESP with the mobile node's SPI but a forged body (with a sequence number
// far ahead, which must not move the replay window), a NAT keepalive and
// a non-ESP-marked (IKE) datagram. Each is dropped and counted; the binding
// stays where it was and the tunnel still carries pings.
func attack(t testing.TB, tp *topology, h *haRole, m *mnRole, spiToHA uint32) {
	t.Helper()
	evil := netns.New(t, "evil")
	netns.Link(t, evil, "eth0", tp.rt, "p-evil")
	tp.rt.Run(t, "ip", "link", "set", "p-evil", "master", "brB")
	evil.AddAddr(t, "eth0", attackerAddr.String()+"/64")
	evil.AddRoute(t, "default", "via", "2001:db8:b::1")
	waitLinkLocal(t, evil, "eth0")
	var c *net.UDPConn
	if err := evil.Do(func() (err error) { c, err = ListenESP(netip.IPv6Unspecified()); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	before := haCounters(h)
	bound, _ := h.core.Cache().Lookup(homeAddr)
	forged := make([]byte, 8+8+64+16) // SPI, sequence, IV, body, ICV
	binary.BigEndian.PutUint32(forged, spiToHA)
	binary.BigEndian.PutUint32(forged[4:], 0x7fffffff)
	unknown := append([]byte(nil), forged...)
	binary.BigEndian.PutUint32(unknown, 0xdeadbeef)
	ike := append(make([]byte, 4), make([]byte, 28)...) // Non-ESP Marker, truncated IKE header
	to := netip.AddrPortFrom(haAddr, ESPPort)
	datagrams := [][]byte{[]byte("\x01\x02\x03"), unknown, forged, {0xff}, ike}
	if len(datagrams) != attackDatagrams {
		t.Fatalf("%d attack datagrams, attackDatagrams says %d", len(datagrams), attackDatagrams)
	}
	for _, p := range datagrams {
		if _, err := c.WriteToUDPAddrPort(p, to); err != nil {
			t.Fatal(err)
		}
	}
	netns.Eventually(t, 5*time.Second, func() error {
		after := haCounters(h)
		for _, name := range []string{"dataplane_drop_malformed", "dataplane_drop_unknown_spi", "dataplane_drop_bad_icv",
			"dataplane_nat_keepalives", "dataplane_ike"} {
			if after[name] <= before[name] {
				return fmt.Errorf("%s did not count the attack: %d -> %d", name, before[name], after[name])
			}
		}
		return nil
	})
	if b, ok := h.core.Cache().Lookup(homeAddr); !ok || b.CareOf != bound.CareOf || b.Sequence != bound.Sequence {
		t.Fatalf("binding changed by the attack: %+v -> %+v (present %v)", bound, b, ok)
	}
	pingHome(t, tp.cn) // the replay window did not move: the MN's next packets still count
	t.Logf("attack from %s: dropped and counted, binding and tunnel unchanged", attackerAddr)
}

func haCounters(h *haRole) map[string]uint64 {
	var s control.Status
	h.node.Status(&s)
	return s.Counters
}
