package discovery

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mip6/wire/ipv6"
)

var (
	coa      = netip.MustParseAddr("2001:db8:9::100")
	haAddr   = netip.MustParseAddr("2001:db8:1::1")
	homePfx  = netip.MustParsePrefix("2001:db8:1::/64")
	anycast6 = netip.MustParseAddr("2001:db8:1::fdff:ffff:ffff:fffe")
)

// udpICMP carries ICMPv6 messages over a loopback UDP socket to a fake home
// agent; it reports every reply as coming from haAddr.
type udpICMP struct {
	pc   net.PacketConn
	peer net.Addr
	dsts chan netip.Addr
}

func (u *udpICMP) WriteTo(msg []byte, dst netip.Addr) error {
	u.dsts <- dst
	_, err := u.pc.WriteTo(msg, u.peer)
	return err
}

func (u *udpICMP) ReadFrom(b []byte) (int, netip.Addr, error) {
	n, _, err := u.pc.ReadFrom(b)
	return n, haAddr, err
}

func (u *udpICMP) SetReadDeadline(t time.Time) error { return u.pc.SetReadDeadline(t) }
func (u *udpICMP) LocalAddr() netip.Addr             { return coa }

// fakeHA answers DHAAD requests; respond decides, per request number, what
// to send back (nil: nothing).
func fakeHA(t *testing.T, respond func(i int, req ipv6.DHAADRequest) []byte) *udpICMP {
	t.Helper()
	mn, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	ha, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mn.Close(); ha.Close() })
	go func() {
		buf := make([]byte, 1500)
		for i := 0; ; i++ {
			n, from, err := ha.ReadFrom(buf)
			if err != nil {
				return
			}
			if err := ipv6.VerifyICMPv6(coa, anycast6, buf[:n]); err != nil {
				t.Errorf("request checksum: %v", err)
				return
			}
			req, err := ipv6.ParseDHAADRequest(buf[:n])
			if err != nil {
				t.Errorf("request: %v", err)
				return
			}
			if rep := respond(i, req); rep != nil {
				ha.WriteTo(rep, from)
			}
		}
	}()
	return &udpICMP{pc: mn, peer: ha.LocalAddr(), dsts: make(chan netip.Addr, 16)}
}

func reply(id uint16, addrs ...netip.Addr) []byte {
	r := ipv6.DHAADReply{Identifier: id, HomeAgentAddresses: ipv6.MakeAddrList(addrs...)}
	return r.Append(nil, haAddr, coa)
}

func TestDHAAD(t *testing.T) {
	ha2 := netip.MustParseAddr("2001:db8:1::2")
	conn := fakeHA(t, func(i int, req ipv6.DHAADRequest) []byte {
		switch i {
		case 0:
			return nil // lost
		case 1:
			return reply(req.Identifier+1, netip.MustParseAddr("2001:db8:6::6")) // not ours
		}
		return reply(req.Identifier, ha2, netip.MustParseAddr("fe80::1"), haAddr)
	})
	c := &DHAADClient{Conn: conn, Timeout: 50 * time.Millisecond}
	l, err := Discover(context.Background(), Config{HomePrefix: homePfx, DHAAD: c})
	if err != nil {
		t.Fatal(err)
	}
	if got := addrs(l); got != "2001:db8:1::2/dhaad 2001:db8:1::1/dhaad" {
		t.Fatalf("candidates %s", got)
	}
	if dst := <-conn.dsts; dst != anycast6 {
		t.Fatalf("request sent to %v", dst)
	}
}

func TestDHAADNoReply(t *testing.T) {
	conn := fakeHA(t, func(int, ipv6.DHAADRequest) []byte { return nil })
	c := &DHAADClient{Conn: conn, Timeout: 10 * time.Millisecond, Retries: 3}
	_, err := c.Discover(context.Background(), homePfx)
	var de *DHAADError
	if !errors.As(err, &de) || de.Requests != 4 || !strings.Contains(err.Error(), "no Home Agent Address Discovery Reply to 4 requests") {
		t.Fatalf("%v", err)
	}
	t.Log(err)
	// Unusable list only.
	conn = fakeHA(t, func(_ int, req ipv6.DHAADRequest) []byte {
		return reply(req.Identifier, netip.MustParseAddr("ff02::1"))
	})
	c = &DHAADClient{Conn: conn, Timeout: 10 * time.Millisecond, Retries: -1}
	if _, err := c.Discover(context.Background(), homePfx); !errors.As(err, &de) || !strings.Contains(err.Error(), "no usable") {
		t.Fatalf("%v", err)
	}
	// Cancelled context stops the wait.
	conn = fakeHA(t, func(int, ipv6.DHAADRequest) []byte { return nil })
	c = &DHAADClient{Conn: conn, Timeout: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Discover(ctx, homePfx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
}

func TestAppendDHAADReply(t *testing.T) {
	r := ipv6.DHAADRequest{Identifier: 0x1234}
	req := r.Append(nil, coa, anycast6)
	many := make([]netip.Addr, 100)
	for i := range many {
		many[i] = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 15: byte(i + 1)})
	}
	rep, err := AppendDHAADReply(nil, req, coa, anycast6, haAddr, many)
	if err != nil {
		t.Fatal(err)
	}
	if err := ipv6.VerifyICMPv6(haAddr, coa, rep); err != nil {
		t.Fatal(err)
	}
	p, err := ipv6.ParseDHAADReply(rep)
	if err != nil || p.Identifier != 0x1234 || p.HomeAgentAddresses.Len() != 77 || 40+len(rep) > 1280 {
		t.Fatalf("%+v %v (%d octets)", p, err, len(rep))
	}
	if _, err := AppendDHAADReply(nil, req, haAddr, anycast6, haAddr, many); err == nil {
		t.Fatal("request with a bad checksum answered")
	}
}
