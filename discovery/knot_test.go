package discovery

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"mip6/internal/peers/knot"
)

// System test: discovery against a real knotd in a network namespace.
func TestKnot(t *testing.T) {
	k := knot.Start(t, knot.Options{Zones: map[string]string{
		"example.net": zoneExample, "broken.example": zoneBroken, "empty.example": zoneEmpty, "none.example": zoneNone,
	}})
	res := &Resolver{Servers: []netip.AddrPort{k.Addr}, Timeout: 300 * time.Millisecond, Tries: 2}
	discover := func(cfg Config) (*List, error) {
		cfg.Resolver = res
		var l *List
		err := k.NS.Do(func() error {
			var err error
			l, err = Discover(context.Background(), cfg)
			return err
		})
		return l, err
	}
	t.Run("priorities and weights", func(t *testing.T) { knotWeights(t, discover) })
	t.Run("fallback", func(t *testing.T) { knotFallback(t, discover) })
	t.Run("unusable zones", func(t *testing.T) { knotUnusable(t, discover) })
	t.Run("renumbered", func(t *testing.T) { knotRenumbered(t, k, discover) })
	t.Run("server silent", func(t *testing.T) { knotSilent(t, k, discover) })
	t.Run("server down", func(t *testing.T) {
		k.Stop()
		_, err := discover(Config{Identity: "alice@example.net"})
		var se *ServerError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "DNS server 2001:db8::53 did not answer") {
			t.Fatalf("stopped server: %v", err)
		}
		t.Log(err)
	})
}

type discoverFunc func(Config) (*List, error)

// knotRenumbered: the operator moves the home agents; a re-bootstrapping
// MN finds the new one once the zone is reloaded.
func knotRenumbered(t *testing.T, k *knot.Server, discover discoverFunc) {
	renumbered := strings.NewReplacer(" 1 3600 600", " 2 3600 600", "2001:db8:1::", "2001:db8:7::").Replace(zoneExample)
	k.SetZone(t, "example.net", renumbered)
	l, err := discover(Config{Identity: "alice@example.net", Intn: func(int) int { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	cs := l.Candidates()
	if len(cs) != 3 || cs[0].Addr.As16()[5] != 7 || cs[1].Addr.As16()[5] != 7 {
		t.Fatalf("after renumbering: %v", cs)
	}
	k.SetZone(t, "example.net", strings.Replace(zoneExample, " 1 3600 600", " 3 3600 600", 1))
}

func knotWeights(t *testing.T, discover discoverFunc) {
	r := rand.New(rand.NewPCG(7, 7))
	first := map[netip.Addr]int{}
	const n = 300
	for range n {
		l, err := discover(Config{Identity: "alice@example.net", Intn: r.IntN})
		if err != nil {
			t.Fatal(err)
		}
		cs := l.Candidates()
		if len(cs) != 3 || cs[2].Addr != netip.MustParseAddr("2001:db8:2::3") || cs[2].Priority != 20 {
			t.Fatalf("priority 20 not last: %v", cs)
		}
		first[cs[0].Addr]++
	}
	// Weights 60 and 40 at priority 10.
	if f := float64(first[netip.MustParseAddr("2001:db8:1::1")]) / n; f < 0.5 || f > 0.7 {
		t.Fatalf("weight-60 target first in %.2f of lookups", f)
	}
}

func knotFallback(t *testing.T, discover discoverFunc) {
	l, err := discover(Config{Identity: "alice@example.net", Intn: func(int) int { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := l.Current()
	c2, err := l.Failed(FailAuthRefused, nil)
	if err != nil || c2.Addr == c.Addr {
		t.Fatalf("no move after refusal: %v %v", c2, err)
	}
	c3, err := l.Failed(FailInternalAddressFailure, nil)
	if err != nil || c3.Addr != netip.MustParseAddr("2001:db8:2::3") {
		t.Fatalf("third candidate %v %v", c3, err)
	}
	if _, err := l.Failed(FailNoAnswer, nil); err == nil {
		t.Fatal("list not exhausted")
	}
}

func knotUnusable(t *testing.T, discover discoverFunc) {
	_, err := discover(Config{Identity: "alice@empty.example"})
	var nr *NoRecordsError
	if !errors.As(err, &nr) || nr.Type != "SRV" {
		t.Fatalf("empty zone: %v", err)
	}
	t.Log(err)
	_, err = discover(Config{Identity: "alice@broken.example"})
	var un *UnusableError
	if !errors.As(err, &un) {
		t.Fatalf("broken zone: %v", err)
	}
	t.Log(err)
	_, err = discover(Config{Identity: "alice@none.example"})
	if !errors.As(err, &un) {
		t.Fatalf(`"." target: %v`, err)
	}
}

func knotSilent(t *testing.T, k *knot.Server, discover discoverFunc) {
	// Queries vanish: the resolver times out after Tries×Timeout.
	k.NS.Run(t, "nft", "add table inet drop53 { chain in { type filter hook input priority 0; udp dport 53 drop; }; }")
	start := time.Now()
	_, err := discover(Config{Identity: "alice@example.net"})
	var se *ServerError
	if !errors.As(err, &se) || !errors.Is(err, os.ErrDeadlineExceeded) || !strings.Contains(err.Error(), "DNS server 2001:db8::53 did not answer") {
		t.Fatalf("silent server: %v", err)
	}
	if d := time.Since(start); d < 600*time.Millisecond || d > 20*time.Second {
		t.Fatalf("gave up after %v, want 2 tries of 300ms", d)
	}
	t.Log(err)
	k.NS.Run(t, "nft", "delete table inet drop53")
}
