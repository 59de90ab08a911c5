package lease

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"mip6/store"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path, store.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var home = netip.MustParsePrefix("2001:db8:1::/64")

func newPool(t *testing.T, st *store.Store, c *clock, first, last string) *Pool {
	t.Helper()
	p, err := NewPool(PoolConfig{
		Policy: Policy{Store: st, HomePrefix: home, LeaseTime: time.Hour, Now: c.now},
		First:  netip.MustParseAddr(first), Last: netip.MustParseAddr(last),
		Exclude: []netip.Addr{netip.MustParseAddr("2001:db8:1::1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func assign(t *testing.T, p *Pool, id, suggested string) netip.Addr {
	t.Helper()
	var s netip.Addr
	if suggested != "" {
		s = netip.MustParseAddr(suggested)
	}
	got, err := p.Assign(id, s)
	if err != nil {
		t.Fatalf("Assign(%s, %s): %v", id, suggested, err)
	}
	if got.Bits() != 64 {
		t.Fatalf("prefix length %d", got.Bits())
	}
	return got.Addr()
}

// leases returns address -> identity for every lease, and checks that each
// has exactly its PAD entry.
func leases(t *testing.T, st *store.Store) map[netip.Addr]string {
	t.Helper()
	m := map[netip.Addr]string{}
	pads := 0
	st.View(func(tx *store.Tx) error {
		tx.ForEachLease(func(l store.Lease) error { m[l.Address] = l.Identity; return nil })
		return tx.ForEachPAD(func(p store.PADEntry) error {
			pads++
			if m[p.HomeAddress] != p.Identity {
				t.Errorf("PAD entry %s -> %v has no matching lease", p.Identity, p.HomeAddress)
			}
			return nil
		})
	})
	if pads != len(m) {
		t.Errorf("%d PAD entries for %d leases", pads, len(m))
	}
	return m
}

func TestReserved(t *testing.T) {
	for _, c := range []struct {
		p, a string
		want bool
	}{
		{"2001:db8:1::/64", "2001:db8:1::", true},
		{"2001:db8:1::/64", "2001:db8:1::fdff:ffff:ffff:fffe", true}, // Home-Agents anycast
		{"2001:db8:1::/64", "2001:db8:1::fdff:ffff:ffff:ff80", true},
		{"2001:db8:1::/64", "2001:db8:1::fdff:ffff:ffff:ff7f", false},
		{"2001:db8:1::/64", "2001:db8:1::ffff:ffff:ffff:ffff", false},
		{"2001:db8:1::/64", "2001:db8:1::1", false},
		{"2001:db8:1::/120", "2001:db8:1::80", true},
		{"2001:db8:1::/120", "2001:db8:1::7f", false},
		{"2001:db8:1::/120", "2001:db8:1::", true},
	} {
		if got := Reserved(netip.MustParsePrefix(c.p), netip.MustParseAddr(c.a)); got != c.want {
			t.Errorf("Reserved(%s, %s) = %v", c.p, c.a, got)
		}
	}
}

func TestPoolExhaustion(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "ha.db"))
	defer st.Close()
	c := &clock{time.Unix(1_800_000_000, 0)}
	p := newPool(t, st, c, "2001:db8:1::1", "2001:db8:1::4") // ::1 excluded: 3 usable
	seen := map[netip.Addr]bool{}
	for i := range 3 {
		a := assign(t, p, fmt.Sprintf("mn%d@example.net", i), "")
		if seen[a] || a == netip.MustParseAddr("2001:db8:1::1") {
			t.Fatalf("address %v handed out twice or excluded", a)
		}
		seen[a] = true
	}
	if used, size, err := p.Usage(); err != nil || used != 3 || size != 3 {
		t.Fatalf("usage %d/%d %v", used, size, err)
	}
	_, err := p.Assign("late@example.net", netip.Addr{})
	var ex *ExhaustedError
	if !errors.As(err, &ex) || ex.Size != 4 {
		t.Fatalf("fourth MN: %v", err)
	}
	t.Log(err)
	if m := leases(t, st); len(m) != 3 {
		t.Fatalf("half-allocated lease left: %v", m)
	}
	// Time passes, mn0 renews, the others expire: their addresses come back.
	c.t = c.t.Add(50 * time.Minute)
	var mn0 netip.Addr
	for a, id := range leases(t, st) {
		if id == "mn0@example.net" {
			mn0 = a
		}
	}
	if err := p.Renew("mn0@example.net", mn0); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(20 * time.Minute)
	if a := assign(t, p, "late@example.net", mn0.String()); a == mn0 {
		t.Fatalf("renewed lease of mn0 given to another MN")
	}
	// late took mn1's expired address (next fit); mn2's expired lease was
	// left alone, so mn2 gets its address back.
	var mn2 netip.Addr
	for a, id := range leases(t, st) {
		if id == "mn2@example.net" {
			mn2 = a
		}
	}
	if a := assign(t, p, "mn2@example.net", ""); !mn2.IsValid() || a != mn2 {
		t.Fatalf("mn2 came back to %v, its expired lease was %v", a, mn2)
	}
	if gone, err := p.Expire(); err != nil || len(gone) != 0 {
		t.Fatalf("Expire with every lease live: %v %v", gone, err)
	}
	c.t = c.t.Add(2 * time.Hour)
	if gone, err := p.Expire(); err != nil || len(gone) != 3 {
		t.Fatalf("Expire: %v %v", gone, err)
	}
	if m := leases(t, st); len(m) != 0 {
		t.Fatalf("after expiry: %v", m)
	}
}

func TestPoolSuggestions(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "ha.db"))
	defer st.Close()
	c := &clock{time.Unix(1_800_000_000, 0)}
	p := newPool(t, st, c, "2001:db8:1::1", "2001:db8:1::ffff")
	alice := assign(t, p, "alice@example.net", "2001:db8:1::a11c")
	if alice != netip.MustParseAddr("2001:db8:1::a11c") {
		t.Fatalf("free, authorised suggestion not kept: %v", alice)
	}
	// Re-bootstrapping keeps the address, whatever it suggests now.
	if a := assign(t, p, "alice@example.net", ""); a != alice {
		t.Fatalf("re-bootstrap got %v, had %v", a, alice)
	}
	// Mallory suggests Alice's address: she gets another one, Alice's lease
	// and PAD entry are untouched.
	m := assign(t, p, "mallory@example.net", alice.String())
	if m == alice {
		t.Fatal("mallory got alice's address by suggesting it")
	}
	if err := p.Release("mallory@example.net", alice); err == nil {
		t.Fatal("mallory released alice's address")
	}
	if err := p.Renew("mallory@example.net", alice); err == nil {
		t.Fatal("mallory renewed alice's address")
	}
	if l := leases(t, st); l[alice] != "alice@example.net" {
		t.Fatalf("alice's lease changed: %v", l)
	}
	for _, s := range []string{"2001:db8:2::5", "2001:db8:1::fdff:ffff:ffff:fffe", "2001:db8:1::", "2001:db8:1::1"} {
		if a := assign(t, p, "bob-"+s+"@example.net", s); a.String() == s {
			t.Errorf("unusable suggestion %s was kept", s)
		}
	}
	// An Authorize hook limits suggestions.
	p.cfg.Authorize = func(id string, a netip.Addr) bool { return a != netip.MustParseAddr("2001:db8:1::bad") }
	if a := assign(t, p, "carol@example.net", "2001:db8:1::bad"); a == netip.MustParseAddr("2001:db8:1::bad") {
		t.Fatal("unauthorised suggestion kept")
	}
	if err := p.Release("alice@example.net", alice); err != nil {
		t.Fatal(err)
	}
	if err := p.Release("alice@example.net", alice); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if a := assign(t, p, "mallory@example.net", alice.String()); a == alice {
		t.Fatal("mallory already has a live lease and must keep it")
	}
}

// Across a restart every address keeps its identity and none is given twice.
func TestPoolRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ha.db")
	c := &clock{time.Unix(1_800_000_000, 0)}
	st := openStore(t, path)
	p := newPool(t, st, c, "2001:db8:1::2", "2001:db8:1::9")
	before := map[string]netip.Addr{}
	for i := range 4 {
		id := fmt.Sprintf("mn%d@example.net", i)
		before[id] = assign(t, p, id, "")
	}
	st.Close()

	st = openStore(t, path)
	defer st.Close()
	p = newPool(t, st, c, "2001:db8:1::2", "2001:db8:1::9")
	for id, a := range before {
		if got := assign(t, p, id, ""); got != a {
			t.Fatalf("%s had %v, after restart got %v", id, a, got)
		}
	}
	for i := 4; i < 8; i++ {
		assign(t, p, fmt.Sprintf("mn%d@example.net", i), "")
	}
	m := leases(t, st)
	if len(m) != 8 {
		t.Fatalf("%d leases for 8 MNs: %v", len(m), m)
	}
	for id, a := range before {
		if m[a] != id {
			t.Fatalf("%v now leased to %s, was %s", a, m[a], id)
		}
	}
	if _, err := p.Assign("mn9@example.net", netip.Addr{}); err == nil {
		t.Fatal("pool of 8 gave a ninth address")
	}
}

// Concurrent bootstraps never share an address.
func TestPoolConcurrent(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "ha.db"))
	defer st.Close()
	c := &clock{time.Unix(1_800_000_000, 0)}
	p := newPool(t, st, c, "2001:db8:1::2", "2001:db8:1::21") // 32 addresses
	type res struct {
		a   netip.Addr
		err error
	}
	out := make(chan res, 40)
	for i := range 40 {
		go func() {
			pr, err := p.Assign(fmt.Sprintf("mn%d@example.net", i), netip.MustParseAddr("2001:db8:1::10"))
			out <- res{pr.Addr(), err}
		}()
	}
	seen := map[netip.Addr]bool{}
	var exhausted int
	for range 40 {
		r := <-out
		var ex *ExhaustedError
		switch {
		case errors.As(r.err, &ex):
			exhausted++
		case r.err != nil:
			t.Fatal(r.err)
		case seen[r.a]:
			t.Fatalf("%v assigned twice", r.a)
		default:
			seen[r.a] = true
		}
	}
	if len(seen) != 32 || exhausted != 8 {
		t.Fatalf("%d assigned, %d refused", len(seen), exhausted)
	}
	if m := leases(t, st); len(m) != 32 {
		t.Fatalf("%d leases stored", len(m))
	}
}

func TestBindSA(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "ha.db"))
	defer st.Close()
	c := &clock{time.Unix(1_800_000_000, 0)}
	p := newPool(t, st, c, "2001:db8:1::2", "2001:db8:1::9")
	a := assign(t, p, "alice@example.net", "")
	sa := store.SARef{SPIi: 0x1111, SPIr: 0x2222}
	if err := BindSA(st, "alice@example.net", a, sa); err != nil {
		t.Fatal(err)
	}
	if err := BindSA(st, "mallory@example.net", a, store.SARef{}); err == nil {
		t.Fatal("another identity rebound alice's lease")
	}
	st.View(func(tx *store.Tx) error {
		l, _, _ := tx.Lease(a)
		if l.IKESA != sa || !l.Expiry.Equal(c.t.Add(time.Hour)) {
			t.Fatalf("%+v", l)
		}
		return nil
	})
}

// The end of an IKE SA releases its lease only while the lease is still
// bound to it: when the mobile node moved to another home agent sharing the
// store, that one's IKE SA holds the lease now (BindSA) and it stays.
func TestReleaseSAKeepsALeaseAnotherSAHolds(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "ha.db"))
	defer st.Close()
	c := &clock{time.Unix(1_800_000_000, 0)}
	p := newPool(t, st, c, "2001:db8:1::2", "2001:db8:1::9")
	a := assign(t, p, "alice@example.net", "")
	old, now := store.SARef{SPIi: 1, SPIr: 2}, store.SARef{SPIi: 3, SPIr: 4}
	if err := BindSA(st, "alice@example.net", a, old); err != nil {
		t.Fatal(err)
	}
	if err := BindSA(st, "alice@example.net", a, now); err != nil { // the other HA's
		t.Fatal(err)
	}
	held := func() bool {
		var ok bool
		st.View(func(tx *store.Tx) error { _, ok, _ = tx.Lease(a); return nil })
		return ok
	}
	if released, err := p.ReleaseSA("alice@example.net", a, old); err != nil || released || !held() {
		t.Fatalf("the old SA's end: released %v, err %v, lease there %v", released, err, held())
	}
	if released, err := p.ReleaseSA("mallory@example.net", a, now); err == nil || released || !held() {
		t.Fatalf("another identity: released %v, err %v", released, err)
	}
	if released, err := p.ReleaseSA("alice@example.net", a, now); err != nil || !released || held() {
		t.Fatalf("the holding SA's end: released %v, err %v, lease there %v", released, err, held())
	}
	if released, err := p.ReleaseSA("alice@example.net", a, now); err != nil || released {
		t.Fatalf("twice: released %v, err %v", released, err)
	}
	b := assign(t, p, "alice@example.net", "") // never bound to an SA: released by any
	if released, err := p.ReleaseSA("alice@example.net", b, old); err != nil || !released {
		t.Fatalf("unbound lease: released %v, err %v", released, err)
	}
}

// BenchmarkPoolAssign measures one bootstrap's assignment (one durable
// store transaction) and its release.
func BenchmarkPoolAssign(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "ha.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	p, err := NewPool(PoolConfig{Policy: Policy{Store: st, HomePrefix: home}})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("mn%d@example.net", i%1000)
		pr, err := p.Assign(id, netip.Addr{})
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Release(id, pr.Addr()); err != nil {
			b.Fatal(err)
		}
	}
}
