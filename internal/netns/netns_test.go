package netns

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestLinkPing(t *testing.T) {
	Require(t, "ping")
	a, b := New(t, "a"), New(t, "b")
	Link(t, a, "va", b, "vb")
	a.AddAddr(t, "va", "2001:db8:1::1/64")
	b.AddAddr(t, "vb", "2001:db8:1::2/64")
	out := a.Run(t, "ping", "-6", "-c", "1", "-W", "2", "2001:db8:1::2")
	if !strings.Contains(out, "1 received") {
		t.Fatalf("ping output:\n%s", out)
	}
	if _, err := a.Exec("ping", "-6", "-c", "1", "-W", "1", "2001:db8:9::9"); err == nil {
		t.Fatal("ping to an unrouted address succeeded")
	}
}

func TestRoutedPing(t *testing.T) {
	Require(t, "ping")
	a, r, b := New(t, "a"), New(t, "r"), New(t, "b")
	Link(t, a, "a0", r, "r0")
	Link(t, r, "r1", b, "b0")
	r.Forwarding(t)
	a.AddAddr(t, "a0", "2001:db8:1::1/64")
	r.AddAddr(t, "r0", "2001:db8:1::ff/64")
	r.AddAddr(t, "r1", "2001:db8:2::ff/64")
	b.AddAddr(t, "b0", "2001:db8:2::1/64")
	a.AddRoute(t, "2001:db8:2::/64", "via", "2001:db8:1::ff")
	b.AddRoute(t, "2001:db8:1::/64", "via", "2001:db8:2::ff")
	a.Run(t, "ping", "-6", "-c", "1", "-W", "2", "2001:db8:2::1")
}

// TestDo opens sockets from Go inside two namespaces and exchanges a datagram.
func TestDo(t *testing.T) {
	Require(t)
	a, b := New(t, "a"), New(t, "b")
	Link(t, a, "va", b, "vb")
	a.AddAddr(t, "va", "2001:db8:1::1/64")
	b.AddAddr(t, "vb", "2001:db8:1::2/64")
	var srv, cli net.PacketConn
	if err := a.Do(func() (err error) {
		srv, err = net.ListenPacket("udp6", "[2001:db8:1::1]:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := b.Do(func() (err error) {
		cli, err = net.ListenPacket("udp6", "[2001:db8:1::2]:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.WriteTo([]byte("hello"), srv.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	srv.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := srv.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hello" || !strings.HasPrefix(from.String(), "[2001:db8:1::2]") {
		t.Fatalf("got %q from %v, %v", buf[:n], from, err)
	}
	// The test's own thread namespace has no such address.
	if c, err := net.ListenPacket("udp6", "[2001:db8:1::1]:0"); err == nil {
		c.Close()
		t.Fatal("address of namespace a usable outside it")
	}
	want := errors.New("x")
	if err := a.Do(func() error { return want }); err != want {
		t.Fatalf("Do error = %v", err)
	}
}

func TestStart(t *testing.T) {
	Require(t, "sh")
	a := New(t, "a")
	p := a.Start(t, "sh", "-c", "echo started; ip -o link show lo; sleep 30")
	Eventually(t, 3*time.Second, func() error {
		if !strings.Contains(p.Output(), "lo:") {
			return errors.New("no output yet")
		}
		return nil
	})
	if ok, _ := p.Exited(); ok {
		t.Fatal("process exited early")
	}
	p.Stop()
	if ok, _ := p.Exited(); !ok {
		t.Fatal("process still running after Stop")
	}
}

// TestAddAddrOnDownLink: an address on a link that is down is added at
// once (it becomes usable when the link comes up).
func TestAddAddrOnDownLink(t *testing.T) {
	Require(t, "ping")
	a := New(t, "a")
	a.Run(t, "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
	start := time.Now()
	a.AddAddr(t, "d0", "2001:db8:7::1/64")
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("AddAddr on a down link took %v", d)
	}
	a.Up(t, "d0")
	a.Up(t, "d1")
	Eventually(t, 5*time.Second, func() error {
		_, err := a.Exec("ping", "-6", "-c", "1", "-W", "1", "2001:db8:7::1")
		return err
	})
}
