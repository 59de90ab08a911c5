package bootstrap

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"mip6/discovery"
)

func checkResult(t *testing.T, res *Result, th *testHA, identity string) {
	t.Helper()
	if res.HomeAgent.Addr != th.addr {
		t.Fatalf("home agent %s, want %s", res.HomeAgent.Addr, th.addr)
	}
	hoa := res.HomeAddress
	if !hoa.IsValid() || hoa.Bits() != homePrefix.Bits() || !homePrefix.Contains(hoa.Addr()) {
		t.Fatalf("home address %s not in %s", hoa, homePrefix)
	}
	c := res.Child
	if c == nil || c.InboundSPI == 0 || c.OutboundSPI == 0 || len(c.InEncr) == 0 || len(c.OutEncr) == 0 {
		t.Fatalf("first CHILD_SA incomplete: %v", c)
	}
	if len(c.LocalTS) != 1 || c.LocalTS[0].Start != hoa.Addr() || c.LocalTS[0].End != hoa.Addr() {
		t.Fatalf("CHILD_SA local selectors %v, want the home address %s", c.LocalTS, hoa.Addr())
	}
	if owner, ok := th.pad.OwnerOf(hoa.Addr()); !ok || owner != identity {
		t.Fatalf("PAD owner of %s = %q, %v; want %s", hoa.Addr(), owner, ok, identity)
	}
	if got := th.leases(t)[identity]; len(got) != 1 || got[0] != hoa.Addr() {
		t.Fatalf("leases of %s = %v, want [%s]", identity, got, hoa.Addr())
	}
}

// The PSK bootstrap takes discovery plus two round trips; closing the IKE
// SA releases the lease's PAD link; the cache brings the same HA and
// home address back.
func TestBootstrapPSK(t *testing.T) {
	n := newMemNet()
	pki := newPKI(t)
	th := newTestHA(t, n, ha1Addr, pki)
	cfg := mnConfig(n, ha1Addr)
	cfg.Cache = CacheConfig{Path: filepath.Join(t.TempDir(), "mn.json"), HomeAgent: true, HomeAddress: true}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, th, alice)
	if res.Trace.RoundTrips() != 2 || res.Trace[0].Name != "discovery" || res.Trace[1].Name != "IKE_SA_INIT" || res.Trace[2].Name != "IKE_AUTH" {
		t.Fatalf("trace:\n%s", res.Trace)
	}
	t.Logf("trace (total %v):\n%s", res.Total, res.Trace)
	hoa := res.HomeAddress
	res.Close()
	waitFor(t, "PAD entry released", func() bool { _, ok := th.pad.OwnerOf(hoa.Addr()); return !ok })

	cached, err := LoadCache(cfg.Cache.Path, alice)
	if err != nil || cached.HomeAgent == nil || cached.HomeAgent.Addr != ha1Addr || cached.HomeAddress != hoa {
		t.Fatalf("cache %+v, %v", cached, err)
	}
	// The cached home agent comes before the seed's (silent) one.
	cfg.HomeAgents = []netip.Addr{silentAddr}
	res2, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Close()
	if res2.HomeAddress != hoa || len(res2.Attempts) != 0 {
		t.Fatalf("second bootstrap: %s after %v, want %s at once from the cache", res2.HomeAddress, res2.Attempts, hoa)
	}
}

func TestInfrastructureLessRefused(t *testing.T) {
	cfg := mnConfig(newMemNet())
	cfg.Identity = "alice" // no realm, no HA, no domain, no prefix
	_, err := Run(context.Background(), cfg)
	var nh *NoHomeAgentError
	var il *discovery.InfrastructureLessError
	if !errors.As(err, &nh) || !errors.As(err, &il) {
		t.Fatalf("err = %v, want NoHomeAgentError wrapping InfrastructureLessError", err)
	}
	cfg = mnConfig(newMemNet(), ha1Addr)
	cfg.PSK = nil
	var ce *ConfigError
	if _, err := Run(context.Background(), cfg); !errors.As(err, &ce) || ce.Field != "credential" {
		t.Fatalf("no credential: err = %v", err)
	}
}

// A home domain whose SRV record points at a name without addresses: a
// clear error naming the cause, no IKE attempted.
func TestNoUsableDNSRecords(t *testing.T) {
	zone, err := discovery.ParseZone("example.net", "$TTL 60\n_mip6._ipv6 IN SRV 10 1 0 gone.example.net.\n")
	if err != nil {
		t.Fatal(err)
	}
	dns, err := discovery.Serve("[::1]:0", zone)
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	cfg := mnConfig(newMemNet())
	cfg.DNSServers = []netip.AddrPort{dns.Addr()}
	_, err = Run(context.Background(), cfg)
	var nh *NoHomeAgentError
	if !errors.As(err, &nh) || !strings.Contains(err.Error(), "gone.example.net") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}
