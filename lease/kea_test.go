package lease

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/peers/kea"
	"mip6/store"
)

// System test: home addresses from a real Kea DHCPv6 server on a veth home
// link between two namespaces.
func TestKea(t *testing.T) {
	k := kea.Start(t, kea.Options{})
	path := filepath.Join(t.TempDir(), "ha.db")
	st := openStore(t, path)
	c := &clock{time.Now()}
	newClient := func(st *store.Store) *DHCPv6 {
		var d *DHCPv6
		err := k.ClientNS.Do(func() error {
			var err error
			d, err = NewDHCPv6(DHCPv6Config{Policy: Policy{Store: st, HomePrefix: k.Subnet, LeaseTime: time.Hour, Now: c.now},
				Interface: k.ClientIf, Timeout: 200 * time.Millisecond, Tries: 3})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := newClient(st)
	inPool := func(a netip.Addr) bool {
		return !a.Less(netip.MustParseAddr("2001:db8:1::100")) && !netip.MustParseAddr("2001:db8:1::103").Less(a)
	}
	get := func(id, suggested string) netip.Addr {
		t.Helper()
		var s netip.Addr
		if suggested != "" {
			s = netip.MustParseAddr(suggested)
		}
		p, err := d.Assign(id, s)
		if err != nil {
			t.Fatalf("Assign(%s): %v\n", id, err)
		}
		if p.Bits() != 64 || !inPool(p.Addr()) {
			t.Fatalf("Assign(%s) = %v, outside the pool", id, p)
		}
		return p.Addr()
	}

	alice := get("alice@example.net", "")
	if got := k.Leases(t)[alice]; !strings.EqualFold(strings.ReplaceAll(got, ":", ""), hexs(DUIDFor("alice@example.net"))) {
		t.Fatalf("kea has %v for %q, want alice's DUID", alice, got)
	}
	var l store.Lease
	st.View(func(tx *store.Tx) error { l, _, _ = tx.Lease(alice); return nil })
	if l.Source != store.SourceDHCPv6 || len(l.ServerDUID) == 0 || l.Identity != "alice@example.net" {
		t.Fatalf("stored lease %+v", l)
	}
	if again := get("alice@example.net", ""); again != alice {
		t.Fatalf("re-bootstrap gave %v, had %v", again, alice)
	}
	c.t = c.t.Add(30 * time.Minute)
	if err := d.Renew("alice@example.net", alice); err != nil {
		t.Fatal(err)
	}
	st.View(func(tx *store.Tx) error { l, _, _ = tx.Lease(alice); return nil })
	if !l.Expiry.Equal(c.t.Add(time.Hour)) || !l.RenewAt.Equal(c.t.Add(1500*time.Second)) {
		t.Fatalf("renewed expiry %v, renew at %v; want %v and T1 1500 s later", l.Expiry, l.RenewAt, c.t.Add(time.Hour))
	}
	// T1 passes while the IKE SA lives: Maintain renews with the server
	// only, the IKE-bound expiry stays.
	expiry := l.Expiry
	renews := d.Stats.Sent[dhcpRenew].Load()
	if err := d.Maintain(); err != nil || d.Stats.Sent[dhcpRenew].Load() != renews {
		t.Fatalf("Maintain before T1: %v, %d renews", err, d.Stats.Sent[dhcpRenew].Load()-renews)
	}
	c.t = c.t.Add(1600 * time.Second)
	if err := d.Maintain(); err != nil || d.Stats.Sent[dhcpRenew].Load() != renews+1 {
		t.Fatalf("Maintain after T1: %v, %d renews", err, d.Stats.Sent[dhcpRenew].Load()-renews)
	}
	st.View(func(tx *store.Tx) error { l, _, _ = tx.Lease(alice); return nil })
	if !l.Expiry.Equal(expiry) || !l.RenewAt.Equal(c.t.Add(1500*time.Second)) {
		t.Fatalf("after Maintain: expiry %v (was %v), renew at %v", l.Expiry, expiry, l.RenewAt)
	}

	// Suggesting another identity's address gets a different one.
	mallory := get("mallory@example.net", alice.String())
	if mallory == alice {
		t.Fatal("mallory obtained alice's address")
	}
	if err := d.Release("mallory@example.net", alice); err == nil {
		t.Fatal("mallory released alice's address")
	}
	// A free pool address that is suggested is kept.
	free := netip.MustParseAddr("2001:db8:1::103")
	if free == alice || free == mallory {
		free = netip.MustParseAddr("2001:db8:1::102")
	}
	if got := get("bob@example.net", free.String()); got != free {
		t.Fatalf("free suggestion %v not kept: got %v", free, got)
	}
	get("carol@example.net", "")

	// Pool of 4 exhausted: a clear error, nothing stored for dave.
	_, err := d.Assign("dave@example.net", netip.Addr{})
	var de *DHCPv6Error
	if !errors.As(err, &de) || !de.HasStatus || de.Status != StatusNoAddrsAvail {
		t.Fatalf("exhausted pool: %v", err)
	}
	t.Log(err)
	checkNoLease(t, st, "dave@example.net")

	// Release frees the address at the server too.
	if err := d.Release("alice@example.net", alice); err != nil {
		t.Fatal(err)
	}
	checkNoLease(t, st, "alice@example.net")
	if _, ok := k.Leases(t)[alice]; ok {
		t.Fatalf("kea still leases %v after Release", alice)
	}
	if got := get("dave@example.net", ""); got != alice {
		t.Fatalf("dave got %v, the only free address is %v", got, alice)
	}

	// HA restart: the store keeps every lease; bob gets his address back.
	d.Close()
	st.Close()
	st = openStore(t, path)
	defer st.Close()
	d = newClient(st)
	defer d.Close()
	if got := get("bob@example.net", ""); got != free {
		t.Fatalf("after restart bob got %v, had %v", got, free)
	}
	m := leases(t, st)
	if len(m) != 4 {
		t.Fatalf("after restart: %v", m)
	}

	// Server gone: a clear error naming the exchange, nothing stored.
	k.Stop()
	_, err = d.Assign("erin@example.net", netip.Addr{})
	if !errors.As(err, &de) || de.Exchange != "Solicit" || !strings.Contains(err.Error(), "no Advertise after 3 tries") {
		t.Fatalf("silent server: %v", err)
	}
	t.Log(err)
	checkNoLease(t, st, "erin@example.net")
}

func hexs(b []byte) string {
	const h = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, h[c>>4], h[c&15])
	}
	return string(out)
}

func checkNoLease(t *testing.T, st *store.Store, id string) {
	t.Helper()
	st.View(func(tx *store.Tx) error {
		ls, _ := tx.LeasesOf(id)
		pad, _ := tx.PAD(id)
		if len(ls) != 0 || len(pad) != 0 {
			t.Fatalf("%s: leases %v, PAD %v left in the store", id, ls, pad)
		}
		return nil
	})
}

// Concurrent bootstraps through one client socket, with Rapid Commit: one
// round trip each, distinct addresses.
func TestKeaConcurrentRapidCommit(t *testing.T) {
	k := kea.Start(t, kea.Options{RapidCommit: true,
		PoolFirst: netip.MustParseAddr("2001:db8:1::100"), PoolLast: netip.MustParseAddr("2001:db8:1::107")})
	st := openStore(t, filepath.Join(t.TempDir(), "ha.db"))
	defer st.Close()
	var d *DHCPv6
	if err := k.ClientNS.Do(func() error {
		var err error
		d, err = NewDHCPv6(DHCPv6Config{Policy: Policy{Store: st, HomePrefix: k.Subnet, LeaseTime: time.Hour},
			Interface: k.ClientIf, Timeout: time.Second, Tries: 3, RapidCommit: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	type res struct {
		p   netip.Prefix
		err error
	}
	out := make(chan res, 8)
	for i := range 8 {
		go func() {
			p, err := d.Assign(fmt.Sprintf("mn%d@example.net", i), netip.Addr{})
			out <- res{p, err}
		}()
	}
	seen := map[netip.Addr]bool{}
	for range 8 {
		r := <-out
		if r.err != nil {
			t.Fatal(r.err)
		}
		if seen[r.p.Addr()] {
			t.Fatalf("%v assigned twice", r.p)
		}
		seen[r.p.Addr()] = true
	}
	if n := d.Stats.Sent[dhcpRequest].Load(); n != 0 {
		t.Fatalf("%d Requests sent despite Rapid Commit", n)
	}
	if m := leases(t, st); len(m) != 8 {
		t.Fatalf("%d leases stored", len(m))
	}
	if n := len(k.Leases(t)); n != 8 {
		t.Fatalf("kea has %d leases", n)
	}
}
