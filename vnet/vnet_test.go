package vnet

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"mip6/wire/ipv6"
	"mip6/wire/pcap"
)

func recvReply(t *testing.T, p *Pinger, seq uint16, within time.Duration) EchoReply {
	t.Helper()
	select {
	case r := <-p.C:
		if r.Seq != seq {
			t.Fatalf("reply seq %d, want %d", r.Seq, seq)
		}
		return r
	case <-time.After(within):
		t.Fatalf("no echo reply for seq %d", seq)
	}
	return EchoReply{}
}

func TestPingAcrossRouterWithLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := NewDemo()
		defer d.Net.Close()
		d.CNLink.SetLatency(5 * time.Millisecond)
		d.Home.SetLatency(1 * time.Millisecond)
		p := d.CN.NewPinger(7, netip.Addr{})
		if err := p.Send(HAAddr, 1); err != nil {
			t.Fatal(err)
		}
		r := recvReply(t, p, 1, time.Second)
		if r.From != HAAddr || r.RTT != 12*time.Millisecond {
			t.Fatalf("reply %+v, want from %v after 12ms", r, HAAddr)
		}
	})
}

func TestLossIsDeterministic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := NewDemo()
		defer d.Net.Close()
		d.CNLink.SetLoss(DropSeq(1)) // first packet on the CN link: request 1
		p := d.CN.NewPinger(1, netip.Addr{})
		_ = p.Send(HAAddr, 1)
		time.Sleep(time.Second)
		select {
		case r := <-p.C:
			t.Fatalf("unexpected reply %+v", r)
		default:
		}
		_ = p.Send(HAAddr, 2)
		recvReply(t, p, 2, time.Second)
		if got := d.CNLink.Stats.Lost.Load(); got != 1 {
			t.Fatalf("lost %d, want 1", got)
		}
	})
}

func TestProxyClaimWinsAndMove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := NewDemo()
		defer d.Net.Close()
		hoa := AddrOn(HomePrefix, 0x100)
		got := make(chan []byte, 4)
		d.HA.SetHandler(func(ifc *Interface, pkt []byte) bool {
			h, _ := parseHeader(pkt)
			if h.dst == hoa {
				got <- pkt
				return true
			}
			return false
		})
		d.Home.Claim(hoa, d.HAIfc)
		p := d.CN.NewPinger(3, netip.Addr{})
		_ = p.Send(hoa, 1)
		select {
		case pkt := <-got:
			if h, _ := parseHeader(pkt); h.src != CNAddr {
				t.Fatalf("src %v", h.src)
			}
		case <-time.After(time.Second):
			t.Fatal("claimed packet not delivered to the HA")
		}
		// The MN at home with its HoA: the claim still wins until released.
		mn := d.Net.NewNode("mn")
		ifc := mn.Attach(d.Home, hoa)
		_ = p.Send(hoa, 2)
		<-got
		d.Home.Release(hoa, d.HAIfc)
		_ = p.Send(hoa, 3)
		recvReply(t, p, 3, time.Second)
		// Move to access network A: a new care-of address answers.
		ifc.Detach()
		coa := AddrOn(APrefix, 0x100)
		mn.Attach(d.A, coa)
		_ = p.Send(coa, 4)
		recvReply(t, p, 4, time.Second)
		_ = p.Send(hoa, 5) // home address is nowhere now
		time.Sleep(time.Second)
		if d.Home.Stats.Unresolved.Load() == 0 {
			t.Fatal("packet to a vanished address not counted as unresolved")
		}
	})
}

func TestUDPSocketsAndSourceSelection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := NewDemo()
		defer d.Net.Close()
		srv, err := d.HA.ListenUDP(netip.AddrPortFrom(netip.Addr{}, 4500))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.HA.ListenUDP(netip.AddrPortFrom(HAAddr, 4500)); err == nil {
			t.Fatal("second bind on a used port succeeded")
		}
		mn := d.Net.NewNode("mn")
		mn.Attach(d.A, AddrOn(APrefix, 5))
		cl, _ := mn.ListenUDP(netip.AddrPortFrom(netip.Addr{}, 4500))
		if _, err := cl.WriteToUDPAddrPort([]byte("hello"), netip.AddrPortFrom(HAAddr, 4500)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		n, from, err := srv.ReadFromUDPAddrPort(buf)
		if err != nil || string(buf[:n]) != "hello" || from != netip.AddrPortFrom(AddrOn(APrefix, 5), 4500) {
			t.Fatalf("read %q from %v err %v", buf[:n], from, err)
		}
		_ = srv.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := srv.ReadFromUDPAddrPort(buf); !os.IsTimeout(err) {
			t.Fatalf("want deadline error, got %v", err)
		}
	})
}

func TestHopLimitAndNoRouteErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := NewDemo()
		d.Net.ICMPErrors = true
		defer d.Net.Close()
		errs := make(chan []byte, 4)
		d.CN.Tap(ipv6.ProtoICMPv6, errs)
		pkt := appendICMP(nil, CNAddr, HAAddr, icmpEchoRequest, 0, []byte{0, 1, 0, 1})
		pkt[7] = 1
		_ = d.CN.SendDirect(pkt)
		select {
		case e := <-errs:
			if e[40] != icmpTimeExceeded {
				t.Fatalf("ICMP type %d, want time exceeded", e[40])
			}
		case <-time.After(time.Second):
			t.Fatal("no time exceeded")
		}
		pkt = appendICMP(nil, CNAddr, netip.MustParseAddr("2001:db8:ff::1"), icmpEchoRequest, 0, []byte{0, 1, 0, 2})
		_ = d.CN.SendDirect(pkt)
		select {
		case e := <-errs:
			if e[40] != icmpDstUnreach {
				t.Fatalf("ICMP type %d, want unreachable", e[40])
			}
		case <-time.After(time.Second):
			t.Fatal("no destination unreachable")
		}
	})
}

func TestQueueBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New()
		n.QueueLen = 4
		defer n.Close()
		l := n.NewLink("l", netip.MustParsePrefix("2001:db8:1::/64"))
		a, b := n.NewNode("a"), n.NewNode("b")
		a.Attach(l, netip.MustParseAddr("2001:db8:1::a"))
		b.Attach(l, netip.MustParseAddr("2001:db8:1::b"))
		l.SetLatency(time.Millisecond) // receiver holds packets: the queue fills
		for i := 0; i < 20; i++ {
			_ = a.Send(appendICMP(nil, netip.MustParseAddr("2001:db8:1::a"), netip.MustParseAddr("2001:db8:1::b"), 200, 0, nil))
		}
		synctest.Wait()
		if b.Stats.QueueDrops.Load() == 0 {
			t.Fatal("no queue drops counted")
		}
	})
}

func TestPcapPerLink(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		d := NewDemo()
		if err := d.Net.CapturePcap(dir); err != nil {
			t.Fatal(err)
		}
		p := d.CN.NewPinger(9, netip.Addr{})
		_ = p.Send(HAAddr, 1)
		recvReply(t, p, 1, time.Second)
		late := d.Net.NewLink("late", netip.MustParsePrefix("2001:db8:d::/64"))
		d.Router.Attach(late, RouterAddr(late.Prefix))
		_ = p.Send(RouterAddr(late.Prefix), 2)
		recvReply(t, p, 2, time.Second)
		if err := d.Net.Close(); err != nil {
			t.Fatal(err)
		}
	})
	for _, name := range []string{"home", "cn"} {
		f, err := os.Open(filepath.Join(dir, name+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcap.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for {
			_, data, err := r.Next()
			if err != nil {
				break
			}
			if _, ok := parseHeader(data); !ok {
				t.Fatalf("%s: record is not IPv6", name)
			}
			n++
		}
		f.Close()
		if want := map[string]int{"home": 2, "cn": 4}[name]; n != want {
			t.Fatalf("%s.pcap has %d packets, want %d", name, n, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "late.pcap")); err != nil {
		t.Fatal("link created after CapturePcap not captured")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "access-a.pcap")); len(b) != 24 || !bytes.Equal(b[:4], []byte{0xd4, 0xc3, 0xb2, 0xa1}) {
		t.Fatalf("idle link capture: %d bytes", len(b))
	}
}

func TestDeadlineWakesBlockedRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := NewDemo()
		defer d.Net.Close()
		c, _ := d.HA.ListenUDP(netip.AddrPortFrom(netip.Addr{}, 500))
		errc := make(chan error, 1)
		go func() {
			_, _, err := c.ReadFromUDPAddrPort(make([]byte, 10))
			errc <- err
		}()
		synctest.Wait() // the read is blocked without a deadline
		start := time.Now()
		_ = c.SetReadDeadline(start.Add(time.Second))
		if err := <-errc; !os.IsTimeout(err) || time.Since(start) != time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
		_ = c.SetReadDeadline(time.Time{})
		go func() {
			_, _, err := c.ReadFromUDPAddrPort(make([]byte, 10))
			errc <- err
		}()
		synctest.Wait()
		c.Close()
		if err := <-errc; err == nil || os.IsTimeout(err) {
			t.Fatalf("read after close: %v", err)
		}
	})
}

func TestICMPConnAnycast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := NewDemo()
		defer d.Net.Close()
		anycast := netip.MustParseAddr("2001:db8:1:0:fdff:ffff:ffff:fffe")
		d.HA.AddLocalAddr(anycast)
		d.Home.Claim(anycast, d.HAIfc)
		srv, _ := d.HA.ListenICMP(anycast, ipv6.ICMPv6DHAADRequest)
		mn := d.Net.NewNode("mn")
		coa := AddrOn(APrefix, 7)
		mn.Attach(d.A, coa)
		cl, _ := mn.ListenICMP(netip.Addr{}, ipv6.ICMPv6DHAADReply)
		req := ipv6.DHAADRequest{Identifier: 5}
		if err := cl.WriteTo(req.Append(nil, netip.IPv6Unspecified(), anycast), anycast); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		n, from, err := srv.ReadFrom(buf)
		if err != nil || from != coa {
			t.Fatalf("request from %v: %v", from, err)
		}
		if err := ipv6.VerifyICMPv6(coa, anycast, buf[:n]); err != nil {
			t.Fatalf("checksum not filled in: %v", err)
		}
		rep := ipv6.DHAADReply{Identifier: 5, HomeAgentAddresses: ipv6.MakeAddrList(HAAddr)}
		// The reply leaves from the HA's unicast address.
		srvOut, _ := d.HA.ListenICMP(HAAddr)
		if err := srvOut.WriteTo(rep.Append(nil, HAAddr, coa), coa); err != nil {
			t.Fatal(err)
		}
		_ = cl.SetReadDeadline(time.Now().Add(time.Second))
		n, from, err = cl.ReadFrom(buf)
		if err != nil || from != HAAddr {
			t.Fatalf("reply from %v: %v", from, err)
		}
		if r, err := ipv6.ParseDHAADReply(buf[:n]); err != nil || r.HomeAgentAddresses.At(0) != HAAddr {
			t.Fatalf("%+v %v", r, err)
		}
	})
}

// TestOwnClaimLoopsBack: a node sending to an address it claims gets the
// packet in its handler (an HA forwarding MN-to-MN traffic).
func TestOwnClaimLoopsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := NewDemo()
		defer d.Net.Close()
		hoa := AddrOn(HomePrefix, 0x200)
		d.Home.Claim(hoa, d.HAIfc)
		got := make(chan *Interface, 1)
		d.HA.SetHandler(func(ifc *Interface, pkt []byte) bool {
			if h, _ := parseHeader(pkt); h.dst == hoa {
				got <- ifc
				return true
			}
			return false
		})
		_ = d.HA.Send(appendICMP(nil, AddrOn(HomePrefix, 0x300), hoa, icmpEchoRequest, 0, []byte{0, 1, 0, 1}))
		select {
		case ifc := <-got:
			if ifc != d.HAIfc {
				t.Fatal("looped back on the wrong interface")
			}
		case <-time.After(time.Second):
			t.Fatal("own claim not delivered")
		}
	})
}
