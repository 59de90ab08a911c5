package dataplane

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mip6/esp"
	"mip6/internal/netns"
	"mip6/ipsec"
)

// nsPlane is a data plane running on a real TUN device and UDP socket in a
// namespace.
type nsPlane struct {
	*Plane
	ns   *netns.NS
	bind *UDPBind
}

// startPlane creates TUN device dev with address inner/128 and a UDP 4500
// socket in ns, and runs a plane on them.
// wrap, if not nil, interposes on the socket.
func startPlane(t *testing.T, ns *netns.NS, dev string, inner netip.Addr, wrap func(*UDPBind) Bind) *nsPlane {
	return startPlaneOn(t, ns, dev, inner, esp.CarrierUDP, wrap)
}

// startPlaneOn is startPlane with a choice of carrier: UDP 4500 or raw ESP.
func startPlaneOn(t testing.TB, ns *netns.NS, dev string, inner netip.Addr, carrier esp.Carrier, wrap func(*UDPBind) Bind) *nsPlane {
	t.Helper()
	var (
		tn   TUN
		bind *UDPBind
		bd   Bind
	)
	if err := ns.Do(func() (err error) {
		if tn, err = CreateTUN(dev, 1400); err != nil {
			return err
		}
		if carrier == esp.CarrierESP {
			bd, err = ListenESP(netip.IPv6Unspecified(), 0)
			return err
		}
		bind, err = ListenUDP(netip.MustParseAddrPort("[::]:4500"), 0)
		bd = bind
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ns.AddAddr(t, dev, inner.String()+"/128")
	ns.Up(t, dev)
	if wrap != nil {
		bd = wrap(bind)
	}
	p, err := New(Config{TUN: tn, Bind: bd, SPD: ipsec.NewSPD(), SAD: ipsec.NewSAD(), Carrier: carrier})
	if err != nil {
		t.Fatal(err)
	}
	np := &nsPlane{Plane: p, ns: ns, bind: bind}
	t.Cleanup(func() {
		p.Close()
		if t.Failed() {
			t.Logf("plane in %s: %v (err %v)", ns.Name, p.Stats(), p.Err())
		} else if err := p.Err(); err != nil {
			t.Logf("plane in %s: %v", ns.Name, err)
		}
	})
	return np
}

// tcpEcho checks a TCP exchange of size bytes from client (in a) to server
// (in b) through whatever path joins them.
func tcpEcho(t *testing.T, a *netns.NS, client netip.Addr, b *netns.NS, server netip.Addr, size int) {
	t.Helper()
	var ln net.Listener
	if err := b.Do(func() (err error) {
		ln, err = net.Listen("tcp6", netip.AddrPortFrom(server, 5001).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.Copy(c, c)
	}()
	var c net.Conn
	if err := a.Do(func() (err error) {
		d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(client, 0)), Timeout: 5 * time.Second}
		c, err = d.Dial("tcp6", netip.AddrPortFrom(server, 5001).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	data := make([]byte, size)
	rand.Read(data)
	errc := make(chan error, 1)
	go func() { _, err := c.Write(data); errc <- err }()
	got := make([]byte, size)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("TCP echo: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("TCP echo: data differs")
	}
}

// ping sends four echo requests through the tunnel and wants at least
// three replies: on a machine overloaded by parallel tests a reply is
// occasionally lost outside the data plane (seen with strongSwan's
// libipsec as the peer, with no drop counted by mip6). Losses are logged;
// reliability itself is what the TCP exchanges check.
func ping(t *testing.T, ns *netns.NS, from, to netip.Addr) {
	t.Helper()
	out, _ := ns.Exec("ping", "-6", "-c", "4", "-i", "0.2", "-W", "2", "-I", from.String(), to.String())
	switch {
	case strings.Contains(out, " 0% packet loss"):
	case strings.Contains(out, "4 packets transmitted, 3 received"):
		t.Logf("ping %v -> %v lost one of four:\n%s", from, to, out)
	default:
		t.Fatalf("ping %v -> %v:\n%s", from, to, out)
	}
}

// TestSystemTwoPlanes runs two mip6 data planes in two namespaces on real
// TUN devices (with their offloads) and UDP sockets (with theirs) or raw
// ESP sockets: ping and TCP pass through the ESP tunnel, and the crypto
// counters show they did.
func TestSystemTwoPlanes(t *testing.T) {
	t.Run("udp-encap", func(t *testing.T) { twoPlanes(t, esp.CarrierUDP, 4500) })
	t.Run("raw-esp", func(t *testing.T) { twoPlanes(t, esp.CarrierESP, 0) })
}

func twoPlanes(t *testing.T, carrier esp.Carrier, port int) {
	a, b, pa, pb, innerA, innerB := setupTwoPlanes(t, carrier, port)
	ping(t, a, innerA, innerB)
	tcpEcho(t, a, innerA, b, innerB, 4<<20)
	sa, sb := pa.Stats(), pb.Stats()
	if sa.Sealed < 100 || sb.Opened < 100 || sb.Sealed < 100 || sa.Opened < 100 {
		t.Fatalf("tunnel counters too low: A %v / B %v", sa, sb)
	}
	t.Logf("A: %v\nB: %v", sa, sb)
}

// setupTwoPlanes joins two namespaces with a veth pair and runs a plane
// in each, with one tunnel between 2001:db8:a::/64 and 2001:db8:b::/64 on
// carrier.
func setupTwoPlanes(t testing.TB, carrier esp.Carrier, port int) (a, b *netns.NS, pa, pb *nsPlane, innerA, innerB netip.Addr) {
	t.Helper()
	netns.Require(t, "ping")
	a, b = netns.New(t, "dpa"), netns.New(t, "dpb")
	netns.Link(t, a, "va", b, "vb")
	a.AddAddr(t, "va", "2001:db8:1::1/64")
	b.AddAddr(t, "vb", "2001:db8:1::2/64")
	innerA, innerB = netip.MustParseAddr("2001:db8:a::1"), netip.MustParseAddr("2001:db8:b::1")
	pa = startPlaneOn(t, a, "mip6t", innerA, carrier, nil)
	pb = startPlaneOn(t, b, "mip6t", innerB, carrier, nil)
	a.AddRoute(t, "2001:db8:b::/64", "dev", "mip6t", "src", innerA.String())
	b.AddRoute(t, "2001:db8:a::/64", "dev", "mip6t", "src", innerB.String())
	for _, s := range []struct {
		p             *nsPlane
		out, in       uint32
		kout, kin     []byte
		local, remote string
		lts, rts      string
	}{
		{pa, 0x1001, 0x2002, key(1), key(2), "2001:db8:1::1", "2001:db8:1::2", "2001:db8:a::/64", "2001:db8:b::/64"},
		{pb, 0x2002, 0x1001, key(2), key(1), "2001:db8:1::2", "2001:db8:1::1", "2001:db8:b::/64", "2001:db8:a::/64"},
	} {
		if _, err := s.p.InstallTunnel(TunnelSA{Transform: esp.AESGCM128, ESN: true, SPIOut: s.out, SPIIn: s.in, KeyOut: s.kout, KeyIn: s.kin,
			Local:  netip.AddrPortFrom(netip.MustParseAddr(s.local), uint16(port)),
			Remote: netip.AddrPortFrom(netip.MustParseAddr(s.remote), uint16(port)), Carrier: carrier,
			LocalTS: netip.MustParsePrefix(s.lts), RemoteTS: netip.MustParsePrefix(s.rts)}); err != nil {
			t.Fatal(err)
		}
	}
	return a, b, pa, pb, innerA, innerB
}

// BenchmarkSystemThroughput is one TCP stream through two planes in
// namespaces, ESP in UDP 4500 against raw ESP (no offloads on the raw
// socket: no UDP GSO/GRO there).
//
//	go test -run '^$' -bench SystemThroughput -benchtime 3s ./dataplane
func BenchmarkSystemThroughput(b *testing.B) {
	b.Run("udp", func(b *testing.B) { throughput(b, esp.CarrierUDP, 4500) })
	b.Run("raw-esp", func(b *testing.B) { throughput(b, esp.CarrierESP, 0) })
}

func throughput(b *testing.B, carrier esp.Carrier, port int) {
	na, nb, _, _, innerA, innerB := setupTwoPlanes(b, carrier, port)
	netns.BenchTCP(b, nb, netip.AddrPortFrom(innerB, 5002), na, innerA)
}
