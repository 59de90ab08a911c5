package labplane

import (
	"bytes"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"mip6/dataplane"
	"mip6/esp"
	"mip6/ipsec"
	"mip6/vnet"
)

var (
	outerA = netip.MustParseAddrPort("[2001:db8:1::1]:4500")
	outerB = netip.MustParseAddrPort("[2001:db8:1::2]:4500")
	innerA = netip.MustParseAddr("2001:db8:a::1")
	innerB = netip.MustParseAddr("2001:db8:b::7")
)

type end struct {
	node  *vnet.Node
	tun   *TUN
	plane *dataplane.Plane
}

// start puts a plane with both carriers on node n: what n sends from
// inner goes into it, and so does the ESP n receives.
func start(t *testing.T, n *vnet.Node, outer netip.AddrPort, inner netip.Addr, sa dataplane.TunnelSA) end {
	t.Helper()
	n.AddLocalAddr(inner)
	c, err := n.ListenUDP(outer)
	if err != nil {
		t.Fatal(err)
	}
	tun, raw := NewTUN(n), NewESPBind(n)
	n.SetHandler(func(_ *vnet.Interface, pkt []byte) bool { return raw.Put(pkt) })
	p, err := dataplane.New(dataplane.Config{TUN: tun, Bind: UDPBind{Conn: c}, RawESP: raw, SPD: ipsec.NewSPD(), SAD: ipsec.NewSAD(), Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if _, err := p.InstallTunnel(sa); err != nil {
		t.Fatal(err)
	}
	n.SetOutputHook(func(pkt []byte) bool {
		if netip.AddrFrom16([16]byte(pkt[8:24])) != inner {
			return false
		}
		tun.Put(pkt)
		return true
	})
	return end{node: n, tun: tun, plane: p}
}

// TestPlanePairOverVnet: two planes on lab nodes carry UDP between their
// inner addresses both ways, sealed and opened once per datagram, and the
// link sees only ESP of the tunnel's carrier: in UDP to port 4500, or raw.
func TestPlanePairOverVnet(t *testing.T) {
	for _, carrier := range []esp.Carrier{esp.CarrierUDP, esp.CarrierESP} {
		t.Run(carrier.String(), func(t *testing.T) { planePair(t, carrier) })
	}
}

func planePair(t *testing.T, carrier esp.Carrier) {
	net := vnet.New()
	defer net.Close()
	link := net.NewLink("l", netip.MustParsePrefix("2001:db8:1::/64"))
	var outer, plain atomic.Int64
	link.Tap(func(_ time.Time, pkt []byte) {
		udp4500 := pkt[6] == 17 && pkt[40+2] == 0x11 && pkt[40+3] == 0x94
		if (carrier == esp.CarrierUDP && udp4500) || (carrier == esp.CarrierESP && pkt[6] == 50) {
			outer.Add(1)
		} else {
			plain.Add(1)
		}
	})
	outerA, outerB := outerA, outerB
	if carrier == esp.CarrierESP {
		outerA, outerB = netip.AddrPortFrom(outerA.Addr(), 0), netip.AddrPortFrom(outerB.Addr(), 0)
	}
	na, nb := net.NewNode("a"), net.NewNode("b")
	na.Attach(link, outerA.Addr())
	nb.Attach(link, outerB.Addr())
	k1, k2 := bytes.Repeat([]byte{1}, 20), bytes.Repeat([]byte{2}, 20)
	a := start(t, na, netip.AddrPortFrom(outerA.Addr(), 4500), innerA, dataplane.TunnelSA{Name: "a", Transform: esp.AESGCM128, SPIOut: 0x1001, SPIIn: 0x2002,
		KeyOut: k1, KeyIn: k2, Local: outerA, Remote: outerB, Carrier: carrier, LocalTS: netip.PrefixFrom(innerA, 128), RemoteTS: netip.PrefixFrom(innerB, 128)})
	b := start(t, nb, netip.AddrPortFrom(outerB.Addr(), 4500), innerB, dataplane.TunnelSA{Name: "b", Transform: esp.AESGCM128, SPIOut: 0x2002, SPIIn: 0x1001,
		KeyOut: k2, KeyIn: k1, Local: outerB, Remote: outerA, Carrier: carrier, LocalTS: netip.PrefixFrom(innerB, 128), RemoteTS: netip.PrefixFrom(innerA, 128)})
	ca, err := na.ListenUDP(netip.AddrPortFrom(innerA, 5000))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := nb.ListenUDP(netip.AddrPortFrom(innerB, 6000))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	buf := make([]byte, 2048)
	for i := range n {
		msg := []byte{byte(i), 'p', 'i', 'n', 'g'}
		if _, err := ca.WriteToUDPAddrPort(msg, netip.AddrPortFrom(innerB, 6000)); err != nil {
			t.Fatal(err)
		}
		cb.SetReadDeadline(time.Now().Add(2 * time.Second))
		k, from, err := cb.ReadFromUDPAddrPort(buf)
		if err != nil || !bytes.Equal(buf[:k], msg) || from != netip.AddrPortFrom(innerA, 5000) {
			t.Fatalf("datagram %d at b: %q from %v, %v", i, buf[:k], from, err)
		}
		if _, err := cb.WriteToUDPAddrPort(buf[:k], from); err != nil {
			t.Fatal(err)
		}
		ca.SetReadDeadline(time.Now().Add(2 * time.Second))
		if k, _, err = ca.ReadFromUDPAddrPort(buf); err != nil || !bytes.Equal(buf[:k], msg) {
			t.Fatalf("answer %d at a: %q, %v", i, buf[:k], err)
		}
	}
	for name, e := range map[string]end{"a": a, "b": b} {
		// The counters follow the packets by a moment: wait for them.
		counted := func() (string, bool) {
			s := e.plane.Stats()
			in, out, drops := e.tun.Stats()
			return fmt.Sprintf("plane %v; TUN in %d out %d drops %d", s, in, out, drops),
				s.Sealed == n && s.Opened == n && s.UDPWritten+s.ESPWritten == n && s.UDPRead+s.ESPRead == n && s.TUNRead == n && s.TUNWritten == n &&
					in == n && out == n && drops == 0
		}
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
			got, ok := counted()
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: %s; want %d each way", name, got, n)
				break
			}
		}
	}
	if outer.Load() != 2*n || plain.Load() != 0 {
		t.Errorf("link carried %d ESP (%v) and %d other packets, want %d and 0", outer.Load(), carrier, plain.Load(), 2*n)
	}
}

// TestTUNClose: a closed TUN ends the plane's read and refuses packets.
func TestTUNClose(t *testing.T) {
	net := vnet.New()
	defer net.Close()
	tun := NewTUN(net.NewNode("a"))
	done := make(chan error, 1)
	go func() {
		_, err := tun.Read([][]byte{make([]byte, 100)}, []int{0}, 0)
		done <- err
	}()
	tun.Close()
	if err := <-done; err == nil {
		t.Fatal("Read after Close returned no error")
	}
	if tun.Put(make([]byte, 40)) {
		t.Fatal("Put after Close was taken")
	}
}
