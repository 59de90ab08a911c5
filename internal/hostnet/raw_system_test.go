package hostnet

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"mip6/internal/netns"
)

// rawLab is two namespaces on one veth: the peer (a0, rawPeer) sends, the
// host (b0, rawHost and rawOther) runs the RawMobility under test.
type rawLab struct {
	peer, host *netns.NS
}

func newRawLab(t testing.TB) *rawLab {
	netns.Require(t, "nft", "ping")
	l := &rawLab{peer: netns.New(t, "rawp"), host: netns.New(t, "rawh")}
	netns.Link(t, l.peer, "a0", l.host, "b0")
	l.peer.AddAddr(t, "a0", rawPeer.String()+"/64")
	l.host.AddAddr(t, "b0", rawHost.String()+"/64")
	l.host.AddAddr(t, "b0", rawOther.String()+"/64")
	return l
}

func openRaw(t testing.TB, ns *netns.NS, cfg RawConfig) *RawMobility {
	t.Helper()
	var r *RawMobility
	if err := ns.Do(func() (err error) { r, err = OpenRawMobility(cfg); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// serveRaw runs Serve into a channel; done yields Serve's result.
func serveRaw(r *RawMobility) (pkts <-chan []byte, done <-chan error) {
	p, d := make(chan []byte, 64), make(chan error, 1)
	go func() {
		d <- r.Serve(func(pkt []byte) {
			select {
			case p <- bytes.Clone(pkt):
			default: // the test has failed already
			}
		})
	}()
	return p, d
}

func nextRaw(t testing.TB, pkts <-chan []byte) []byte {
	t.Helper()
	select {
	case p := <-pkts:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("RawMobility received nothing within 5 s")
		return nil
	}
}

// paramProblems is the namespace's Icmp6OutParmProblems counter: how many
// ICMPv6 Parameter Problems its kernel has sent.
func paramProblems(t *testing.T, ns *netns.NS) int {
	t.Helper()
	var b []byte
	// thread-self: /proc/net follows the process's main thread.
	if err := ns.Do(func() (err error) { b, err = os.ReadFile("/proc/thread-self/net/snmp6"); return err }); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "Icmp6OutParmProblems" {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no Icmp6OutParmProblems in snmp6:\n%s", b)
	return 0
}

func (l *rawLab) ping(t *testing.T, dst netip.Addr) {
	t.Helper()
	l.peer.Run(t, "ping", "-6", "-c", "1", "-W", "3", dst.String())
}

// udp sends a datagram from the peer to dst and fails unless the host's
// socket gets it.
func (l *rawLab) udp(t *testing.T, dst netip.Addr) {
	t.Helper()
	var ln *net.UDPConn
	if err := l.host.Do(func() (err error) { ln, err = net.ListenUDP("udp6", &net.UDPAddr{IP: dst.AsSlice()}); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var c *net.UDPConn
	if err := l.peer.Do(func() (err error) { c, err = net.DialUDP("udp6", nil, ln.LocalAddr().(*net.UDPAddr)); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ordinary")); err != nil {
		t.Fatal(err)
	}
	ln.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	if n, _, err := ln.ReadFromUDP(buf); err != nil || string(buf[:n]) != "ordinary" {
		t.Fatalf("UDP to %v: got %q, %v", dst, buf[:n], err)
	}
}

func (l *rawLab) tables(t *testing.T) string {
	t.Helper()
	return l.host.Run(t, "nft", "list", "tables")
}

// rawRoleCase is one role's system test: its config, the packet it must
// take from the peer, and near misses it must leave to the kernel.
type rawRoleCase struct {
	host, peer RawConfig
	hit        []byte
	misses     [][]byte
	// homeAddr puts rawHoA on the host, reachable from the peer;
	// hoaOnPeer makes it reachable from the host on the peer's link (where
	// the kernel sends its Parameter Problems).
	homeAddr, hoaOnPeer bool
}

// testRawRole: the host's RawMobility receives the peer's signalling packet
// byte for byte (so the peer's kernel sent it as built, source and
// extension headers included), its kernel answers nothing; near misses,
// UDP and ping are not captured and still work; Close removes the table,
// stops Serve, and then the kernel answers the same packet with a
// Parameter Problem: the rule is what kept it quiet.
func testRawRole(t *testing.T, c rawRoleCase) {
	l := newRawLab(t)
	if c.homeAddr {
		l.host.AddAddr(t, "b0", rawHoA.String()+"/128")
		l.peer.AddRoute(t, rawHoA.String()+"/128", "dev", "a0")
	}
	if c.hoaOnPeer {
		l.peer.AddAddr(t, "a0", rawHoA.String()+"/128")
		l.host.AddRoute(t, rawHoA.String()+"/128", "dev", "b0")
	}
	sender := openRaw(t, l.peer, c.peer)
	// The host's role in the sender's namespace: it must not see the
	// sender's own packets going out.
	mc := c.host
	mc.Interface = ""
	mirror := openRaw(t, l.peer, mc)
	mirrored, _ := serveRaw(mirror)
	r := openRaw(t, l.host, c.host)
	if !strings.Contains(l.tables(t), "table ip6 "+r.Table()) {
		t.Fatalf("table %s missing: %s", r.Table(), l.tables(t))
	}
	before := paramProblems(t, l.host)

	if err := sender.SendRaw(c.hit); err != nil {
		t.Fatal(err)
	}
	readTruncated(t, r, c.hit)
	pkts, done := serveRaw(r)
	if err := sender.SendRaw(c.hit); err != nil {
		t.Fatal(err)
	}
	if got := nextRaw(t, pkts); !bytes.Equal(got, c.hit) {
		t.Fatalf("received\n% x\nsent\n% x", got, c.hit)
	}
	l.ping(t, rawHost) // by now the kernel has handled the packets
	if n := paramProblems(t, l.host); n != before {
		t.Fatalf("the kernel sent %d Parameter Problems for packets the rule drops", n-before)
	}
	select {
	case p := <-mirrored:
		t.Fatalf("the sender's namespace captured its own packet:\n% x", p)
	default:
	}

	for _, m := range c.misses {
		if err := sender.SendRaw(m); err != nil {
			t.Fatal(err)
		}
	}
	l.udp(t, rawHost)
	l.ping(t, rawHost)
	// The packet after the misses must be the next one received.
	if err := sender.SendRaw(c.hit); err != nil {
		t.Fatal(err)
	}
	if got := nextRaw(t, pkts); !bytes.Equal(got, c.hit) {
		t.Fatalf("a packet not of the role was captured:\n% x", got)
	}

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve after Close: %v", err)
	}
	if tabs := l.tables(t); strings.Contains(tabs, r.Table()) {
		t.Fatalf("table %s still there after Close: %s", r.Table(), tabs)
	}
	base := paramProblems(t, l.host)
	if err := sender.SendRaw(c.hit); err != nil {
		t.Fatal(err)
	}
	netns.Eventually(t, 5*time.Second, func() error {
		if paramProblems(t, l.host) == base {
			return fmt.Errorf("without the rule the kernel still sent no Parameter Problem")
		}
		return nil
	})
}

func TestRawHomeAgent(t *testing.T) {
	testRawRole(t, rawRoleCase{
		host: RawConfig{Role: RawHomeAgent, HomeAgent: rawHost},
		peer: RawConfig{Role: RawMobileNode},
		hit:  rawBU(rawPeer, rawHost),
		// A Home Address option to another of the host's addresses, a
		// routing header.
		misses: [][]byte{rawBU(rawPeer, rawOther), rawBA(rawPeer, rawHost), rawUDP(rawPeer, rawHost)},
	})
}

func TestRawMobileNode(t *testing.T) {
	testRawRole(t, rawRoleCase{
		host: RawConfig{Role: RawMobileNode, Interface: "b0"},
		peer: RawConfig{Role: RawHomeAgent, HomeAgent: rawPeer},
		hit:  rawBA(rawPeer, rawHost),
		// A finished type 0 routing header, a Home Address option.
		misses: [][]byte{rawType0(rawPeer, rawHost), rawBU(rawPeer, rawHost), rawUDP(rawPeer, rawHost)},
	})
}

// readTruncated reads the packet want with a buffer too short for it.
func readTruncated(t *testing.T, r *RawMobility, want []byte) {
	t.Helper()
	type result struct {
		n   int
		err error
	}
	buf := make([]byte, 50)
	res := make(chan result, 1)
	go func() { n, err := r.ReadPacket(buf); res <- result{n, err} }()
	select {
	case got := <-res:
		var te *RawTruncatedError
		if !errors.As(got.err, &te) || te.Len != len(want) || te.BufLen != len(buf) || got.n != len(buf) {
			t.Fatalf("ReadPacket into %d bytes: %d, %v; want a truncation of %d bytes", len(buf), got.n, got.err, len(want))
		}
		if !bytes.Equal(buf, want[:len(buf)]) {
			t.Fatalf("truncated read\n% x\nis not the start of\n% x", buf, want)
		}
	case <-time.After(5 * time.Second):
		r.Close()
		t.Fatal("ReadPacket: nothing within 5 s")
	}
}

// Open and Close, in a namespace not the process's own and from a thread
// outside it, leave no file descriptor and no table behind; a failed Open
// (no such interface) neither.
func TestRawCloseLeavesNothing(t *testing.T) {
	l := newRawLab(t)
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := fds()
	for range 3 {
		r := openRaw(t, l.host, RawConfig{Role: RawHomeAgent, HomeAgent: rawHost, Interface: "b0"})
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.host.Do(func() error {
		_, err := OpenRawMobility(RawConfig{Role: RawMobileNode, Interface: "nosuch0"})
		return err
	}); err == nil {
		t.Fatal("Open on a missing interface succeeded")
	}
	if tabs := l.tables(t); strings.Contains(tabs, "mip6_raw_") {
		t.Fatalf("tables left: %s", tabs)
	}
	if after := fds(); after != before {
		t.Fatalf("%d file descriptors before, %d after", before, after)
	}
}

// At home the transport form is ESP right behind the IPv6 header, from the
// home address to the home agent (RFC 6275 §11.5.4).
func TestRawHomeAgentAtHome(t *testing.T) {
	testRawRole(t, rawRoleCase{
		host:      RawConfig{Role: RawHomeAgent, HomeAgent: rawHost, PlainESP: true},
		peer:      RawConfig{Role: RawMobileNode},
		hit:       rawAtHome(rawHoA, rawHost),
		hoaOnPeer: true,
		// ESP to another of the host's addresses.
		misses: [][]byte{rawAtHome(rawHoA, rawOther), rawBA(rawPeer, rawHost), rawUDP(rawPeer, rawHost)},
	})
}

// ... and from the home agent to the home address.
func TestRawMobileNodeAtHome(t *testing.T) {
	testRawRole(t, rawRoleCase{
		host:     RawConfig{Role: RawMobileNode, HomeAddress: rawHoA, PlainESP: true},
		peer:     RawConfig{Role: RawHomeAgent, HomeAgent: rawPeer},
		hit:      rawAtHome(rawPeer, rawHoA),
		homeAddr: true,
		// ESP to another of the host's addresses.
		misses: [][]byte{rawAtHome(rawPeer, rawHost), rawBU(rawPeer, rawHoA), rawUDP(rawPeer, rawHoA)},
	})
}

// SendRaw routes by the header's source like a socket bound to it: a
// "from" rule pointing at an unreachable route stops the packet, the same
// packet from another source goes out; a source not assigned to the
// sender goes out as written.
func TestRawSendRoutesBySource(t *testing.T) {
	l := newRawLab(t)
	l.peer.Run(t, "ip", "-6", "route", "add", "unreachable", "default", "table", "100")
	l.peer.Run(t, "ip", "-6", "rule", "add", "from", rawPeer.String(), "lookup", "100", "priority", "100")
	sender := openRaw(t, l.peer, RawConfig{Role: RawMobileNode})
	r := openRaw(t, l.host, RawConfig{Role: RawHomeAgent, HomeAgent: rawHost})
	pkts, _ := serveRaw(r)
	if err := sender.SendRaw(rawBU(rawPeer, rawHost)); err == nil {
		t.Fatal("SendRaw from a source whose rule leads to an unreachable route succeeded")
	}
	foreign := netip.MustParseAddr("2001:db8:99::5")
	want := rawBU(foreign, rawHost)
	if err := sender.SendRaw(want); err != nil {
		t.Fatal(err)
	}
	if got := nextRaw(t, pkts); !bytes.Equal(got, want) {
		t.Fatalf("received\n% x\nsent\n% x", got, want)
	}
}

// BenchmarkRawRoundTrip: the peer (a mobile node) sends a Binding Update
// in the transport form, the host (a home agent) answers each one from its
// Serve handler with a Binding Acknowledgement, the peer receives it: one
// op is a signalling round trip through both RawMobility paths over veth.
func BenchmarkRawRoundTrip(b *testing.B) {
	l := newRawLab(b)
	mn := openRaw(b, l.peer, RawConfig{Role: RawMobileNode})
	ha := openRaw(b, l.host, RawConfig{Role: RawHomeAgent, HomeAgent: rawHost})
	ba := rawBA(rawHost, rawPeer)
	go ha.Serve(func([]byte) { ha.SendRaw(ba) })
	acks, _ := serveRaw(mn)
	bu := rawBU(rawPeer, rawHost)
	b.ResetTimer()
	for range b.N {
		if err := mn.SendRaw(bu); err != nil {
			b.Fatal(err)
		}
		if got := nextRaw(b, acks); len(got) != len(ba) {
			b.Fatalf("got %d bytes", len(got))
		}
	}
}
