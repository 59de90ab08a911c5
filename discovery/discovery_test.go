package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func srv(prio, weight uint16, target string) *dns.SRV {
	return &dns.SRV{Hdr: dns.RR_Header{Name: "_mip6._ipv6.example.net.", Rrtype: dns.TypeSRV}, Priority: prio, Weight: weight, Target: target}
}

func targets(rs []*dns.SRV) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.Target
	}
	return strings.Join(s, " ")
}

func TestOrderSRVPriorities(t *testing.T) {
	recs := []*dns.SRV{srv(20, 5, "c."), srv(10, 0, "z."), srv(10, 5, "a."), srv(30, 1, "."), srv(10, 5, "b.")}
	// intn always 0: the zero-weight record comes first (RFC 2782), then
	// the first of equal running sums.
	got := targets(OrderSRV(recs, func(int) int { return 0 }))
	if got != "z. a. b. c." {
		t.Fatalf("order %q", got)
	}
	// intn always max: the last record of each priority.
	got = targets(OrderSRV(recs, func(n int) int { return n - 1 }))
	if got != "b. a. z. c." {
		t.Fatalf("order %q", got)
	}
}

// Weighted selection picks a record first with probability weight/sum.
func TestOrderSRVWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	recs := []*dns.SRV{srv(10, 60, "a."), srv(10, 30, "b."), srv(10, 10, "c.")}
	first := map[string]int{}
	const n = 20000
	for range n {
		first[OrderSRV(recs, r.IntN)[0].Target]++
	}
	for _, c := range []struct {
		t    string
		want float64
	}{{"a.", 0.6}, {"b.", 0.3}, {"c.", 0.1}} {
		got := float64(first[c.t]) / n
		if got < c.want-0.02 || got > c.want+0.02 {
			t.Errorf("%s first in %.3f of orders, want %.2f", c.t, got, c.want)
		}
	}
}

func TestRealm(t *testing.T) {
	for nai, want := range map[string]string{
		"alice@example.net":                 "example.net",
		"example.org!alice@visited.example": "visited.example",
		"alice":                             "",
		"alice@":                            "",
		"@":                                 "",
		"alice@bad..name":                   "",
	} {
		if got := Realm(nai); got != want {
			t.Errorf("Realm(%q) = %q, want %q", nai, got, want)
		}
	}
}

func TestHomeAgentsAnycast(t *testing.T) {
	for p, want := range map[string]string{
		"2001:db8:1::/64":  "2001:db8:1::fdff:ffff:ffff:fffe",
		"2001:db8:1::/48":  "2001:db8:1:ffff:ffff:ffff:ffff:fffe",
		"2001:db8:1::/120": "2001:db8:1::fe",
	} {
		got, ok := HomeAgentsAnycast(netip.MustParsePrefix(p))
		if !ok || got != netip.MustParseAddr(want) {
			t.Errorf("HomeAgentsAnycast(%s) = %v, want %s", p, got, want)
		}
	}
	if _, ok := HomeAgentsAnycast(netip.MustParsePrefix("2001:db8::/124")); ok {
		t.Error("/124 has a Home-Agents anycast address")
	}
}

// startServer serves the test zones on ::1.
func startServer(t *testing.T) *Server {
	t.Helper()
	s, err := Serve("[::1]:0", mustZones(t)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustZones(t *testing.T) []*Zone {
	t.Helper()
	var zs []*Zone
	for origin, text := range map[string]string{"example.net": zoneExample, "broken.example": zoneBroken,
		"empty.example": zoneEmpty, "none.example": zoneNone} {
		z, err := ParseZone(origin, text)
		if err != nil {
			t.Fatal(err)
		}
		zs = append(zs, z)
	}
	return zs
}

func resolverFor(s *Server) *Resolver {
	return &Resolver{Servers: []netip.AddrPort{s.Addr()}, Timeout: 300 * time.Millisecond, Tries: 2}
}

func addrs(l *List) string {
	var s []string
	for _, c := range l.Candidates() {
		s = append(s, c.Addr.String()+"/"+c.Source.String())
	}
	return strings.Join(s, " ")
}

func TestDiscoverDNS(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	// Nothing but the NAI: its realm's SRV records, by priority.
	l, err := Discover(ctx, Config{Identity: "alice@example.net", Resolver: resolverFor(s), Intn: func(int) int { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	if got := addrs(l); got != "2001:db8:1::1/dns-srv 2001:db8:1::2/dns-srv 2001:db8:2::3/dns-srv" {
		t.Fatalf("candidates %s", got)
	}
	// Static first, then the HA name, then the domain; duplicates dropped.
	l, err = Discover(ctx, Config{Identity: "alice@other.example", Domain: "example.net", HAName: "ha.example.net",
		Static: []netip.Addr{netip.MustParseAddr("2001:db8:9::9")}, Resolver: resolverFor(s), Intn: func(n int) int { return n - 1 }})
	if err != nil {
		t.Fatal(err)
	}
	if got := addrs(l); got != "2001:db8:9::9/static 2001:db8:1::1/dns-fqdn 2001:db8:1::2/dns-srv 2001:db8:2::3/dns-srv" {
		t.Fatalf("candidates %s", got)
	}
	// Fallback through the list.
	c, _ := l.Current()
	for _, f := range []Failure{FailNoAnswer, FailAuthRefused, FailInternalAddressFailure} {
		next, err := l.Failed(f, nil)
		if err != nil || next == c {
			t.Fatalf("after %v: %v %v", f, next, err)
		}
		c = next
	}
	if c.Addr != netip.MustParseAddr("2001:db8:2::3") || c.Priority != 20 {
		t.Fatalf("last candidate %v", c)
	}
	_, err = l.Failed(FailOther, errors.New("x"))
	var ex *ExhaustedError
	if !errors.As(err, &ex) || len(ex.Attempts) != 4 {
		t.Fatalf("exhausted: %v", err)
	}
	t.Log(err)
}

func TestDiscoverErrors(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	var nf *NotFoundError
	var nr *NoRecordsError
	var un *UnusableError

	_, err := Discover(ctx, Config{Identity: "alice@empty.example", Resolver: resolverFor(s)})
	if !errors.As(err, &nf) || !errors.As(err, &nr) || nr.Type != "SRV" || nr.Name != "_mip6._ipv6.empty.example." {
		t.Fatalf("empty zone: %v", err)
	}
	t.Log(err)
	_, err = Discover(ctx, Config{Domain: "empty.example", HAName: "ha.empty.example", Resolver: resolverFor(s)})
	if !errors.As(err, &nf) || len(nf.Errs) != 2 || !strings.Contains(err.Error(), "no AAAA records for ha.empty.example.") ||
		!strings.Contains(err.Error(), "no SRV records for _mip6._ipv6.empty.example.") {
		t.Fatalf("empty zone with name: %v", err)
	}
	t.Log(err)
	_, err = Discover(ctx, Config{Identity: "alice@broken.example", Resolver: resolverFor(s)})
	if !errors.As(err, &un) || !strings.Contains(err.Error(), "::1 is not a global unicast address") ||
		!strings.Contains(err.Error(), "gone.broken.example.") {
		t.Fatalf("broken zone: %v", err)
	}
	t.Log(err)
	_, err = Discover(ctx, Config{Identity: "alice@none.example", Resolver: resolverFor(s)})
	if !errors.As(err, &un) || !strings.Contains(err.Error(), "not available") {
		t.Fatalf(`"." target: %v`, err)
	}
	_, err = Discover(ctx, Config{Identity: "alice@ghost.example.net", Resolver: resolverFor(s)})
	if !errors.As(err, &nr) || !nr.NXDomain {
		t.Fatalf("unknown domain: %v", err)
	}
	_, err = Discover(ctx, Config{Identity: "alice@nowhere.example", Resolver: resolverFor(s)})
	var re *RcodeError
	if !errors.As(err, &re) || re.Rcode != dns.RcodeRefused {
		t.Fatalf("domain the server is not authoritative for: %v", err)
	}
	t.Log(err)
	_, err = Discover(ctx, Config{Identity: "alice"})
	var il *InfrastructureLessError
	if !errors.As(err, &il) {
		t.Fatalf("infrastructure-less: %v", err)
	}
	t.Log(err)
	_, err = Discover(ctx, Config{HomePrefix: netip.MustParsePrefix("2001:db8:1::/64")})
	var de *DHAADError
	if !errors.As(err, &nf) || errors.As(err, &de) || !strings.Contains(err.Error(), "no DHAAD client") {
		t.Fatalf("prefix without DHAAD: %v", err)
	}
}

// A server that does not answer gives a *ServerError naming it, after the
// configured tries.
func TestDiscoverServerDown(t *testing.T) {
	silent, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	n := 0
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
			n++
		}
	}()
	r := &Resolver{Servers: []netip.AddrPort{silent.LocalAddr().(*net.UDPAddr).AddrPort()}, Timeout: 100 * time.Millisecond, Tries: 3}
	start := time.Now()
	_, err = Discover(context.Background(), Config{Identity: "alice@example.net", Resolver: r})
	var se *ServerError
	if !errors.As(err, &se) || se.Tries != 3 || !strings.Contains(err.Error(), "did not answer _mip6._ipv6.example.net. SRV") {
		t.Fatalf("silent server: %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("took %v", d)
	}
	t.Log(err)
}

func TestServerTruncationAndTCP(t *testing.T) {
	var b strings.Builder
	b.WriteString("$ORIGIN big.example.\n$TTL 60\n")
	for i := range 40 {
		b.WriteString("_mip6._ipv6 IN SRV 10 10 0 ha" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".big.example.\n")
		b.WriteString("ha" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + " IN AAAA 2001:db8:5::" + string(rune('1'+i%9)) + "\n")
	}
	z, err := ParseZone("big.example.", b.String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Serve("[::1]:0", z)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cs, err := resolverFor(s).LookupSRV(context.Background(), "big.example", nil)
	if err != nil || len(cs) != 40 {
		t.Fatalf("%d candidates, %v", len(cs), err)
	}
}

// ServeUDP and Resolver.Listen work over any datagram socket.
func TestServeUDPAndListen(t *testing.T) {
	pc, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	s := ServeUDP(pc, pc.LocalAddr().(*net.UDPAddr).AddrPort(), mustZones(t)...)
	defer s.Close()
	r := &Resolver{Servers: []netip.AddrPort{s.Addr()}, Timeout: 300 * time.Millisecond, Tries: 1,
		Listen: func() (UDPConn, error) { return net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}) }}
	l, err := Discover(context.Background(), Config{Identity: "alice@example.net", HAName: "ha.example.net", Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Candidates()) != 1 || s.Queries() != 1 {
		t.Fatalf("candidates %v after %d queries", l.Candidates(), s.Queries())
	}
	l, err = Discover(context.Background(), Config{Identity: "alice@example.net", Resolver: r, Intn: func(int) int { return 0 }})
	if err != nil || len(l.Candidates()) != 3 {
		t.Fatalf("%v %v", l, err)
	}
}

// Candidates carry their DNS TTL and survive a JSON round trip (an MN's
// cache between runs).
func TestCandidateTTLAndJSON(t *testing.T) {
	s := startServer(t)
	l, err := Discover(context.Background(), Config{Domain: "example.net", HAName: "ha.example.net",
		Static: []netip.Addr{netip.MustParseAddr("2001:db8:9::9")}, Resolver: resolverFor(s)})
	if err != nil {
		t.Fatal(err)
	}
	if d := l.RefreshAfter(); d != time.Minute {
		t.Fatalf("refresh after %v, want the zone's 60 s TTL", d)
	}
	b, err := json.Marshal(l.Candidates())
	if err != nil {
		t.Fatal(err)
	}
	var back []Candidate
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, l.Candidates()) {
		t.Fatalf("JSON round trip:\n%s\n%v", b, back)
	}
	t.Logf("%s", b)
}
