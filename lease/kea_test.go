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

// keaLab is a home link with Kea, a store and the HA's DHCPv6 client.
type keaLab struct {
	t    *testing.T
	k    *kea.Server
	path string
	st   *store.Store
	c    *clock
	d    *DHCPv6
}

func newKeaLab(t *testing.T) *keaLab {
	lab := &keaLab{t: t, k: kea.Start(t, kea.Options{}), path: filepath.Join(t.TempDir(), "ha.db"), c: &clock{time.Now()}}
	lab.open()
	t.Cleanup(func() { lab.d.Close(); lab.st.Close() })
	return lab
}

// open opens the store and a client on it (again, for a restart).
func (lab *keaLab) open() {
	lab.st = openStore(lab.t, lab.path)
	err := lab.k.ClientNS.Do(func() error {
		var err error
		lab.d, err = NewDHCPv6(DHCPv6Config{Policy: Policy{Store: lab.st, HomePrefix: lab.k.Subnet, LeaseTime: time.Hour, Now: lab.c.now},
			Interface: lab.k.ClientIf, Timeout: 500 * time.Millisecond, Tries: 3})
		return err
	})
	if err != nil {
		lab.t.Fatal(err)
	}
}

func (lab *keaLab) restart() {
	lab.d.Close()
	lab.st.Close()
	lab.open()
}

// get assigns and checks the address is in Kea's pool ::100-::103.
func (lab *keaLab) get(id, suggested string) netip.Addr {
	lab.t.Helper()
	var s netip.Addr
	if suggested != "" {
		s = netip.MustParseAddr(suggested)
	}
	p, err := lab.d.Assign(id, s)
	if err != nil {
		lab.t.Fatalf("Assign(%s): %v\n", id, err)
	}
	a := p.Addr()
	if p.Bits() != 64 || a.Less(netip.MustParseAddr("2001:db8:1::100")) || netip.MustParseAddr("2001:db8:1::103").Less(a) {
		lab.t.Fatalf("Assign(%s) = %v, outside the pool", id, p)
	}
	return a
}

func (lab *keaLab) lease(a netip.Addr) store.Lease {
	var l store.Lease
	lab.st.View(func(tx *store.Tx) error { l, _, _ = tx.Lease(a); return nil })
	return l
}

// System test: home addresses from a real Kea DHCPv6 server on a veth home
// link between two namespaces.
func TestKea(t *testing.T) {
	lab := newKeaLab(t)
	alice := keaAssignRenew(lab)
	keaSuggestions(lab, alice)
	keaExhaustRelease(lab, alice)
	keaRestartAndSilence(lab)
}

// keaAssignRenew: a first assignment, re-bootstrap, Renew and Maintain.
func keaAssignRenew(lab *keaLab) netip.Addr {
	t, d, c := lab.t, lab.d, lab.c
	alice := lab.get("alice@example.net", "")
	if got := lab.k.Leases(t)[alice]; !strings.EqualFold(strings.ReplaceAll(got, ":", ""), hexs(DUIDFor("alice@example.net"))) {
		t.Fatalf("kea has %v for %q, want alice's DUID", alice, got)
	}
	if l := lab.lease(alice); l.Source != store.SourceDHCPv6 || len(l.ServerDUID) == 0 || l.Identity != "alice@example.net" {
		t.Fatalf("stored lease %+v", l)
	}
	if again := lab.get("alice@example.net", ""); again != alice {
		t.Fatalf("re-bootstrap gave %v, had %v", again, alice)
	}
	c.t = c.t.Add(30 * time.Minute)
	if err := d.Renew("alice@example.net", alice); err != nil {
		t.Fatal(err)
	}
	l := lab.lease(alice)
	if !l.Expiry.Equal(c.t.Add(time.Hour)) || !l.RenewAt.Equal(c.t.Add(1500*time.Second)) {
		t.Fatalf("renewed expiry %v, renew at %v; want %v and T1 1500 s later", l.Expiry, l.RenewAt, c.t.Add(time.Hour))
	}
	// T1 passes while the IKE SA lives: Maintain renews with the server
	// only, the IKE-bound expiry stays.
	renews := d.Stats.Sent[dhcpRenew].Load()
	if err := d.Maintain(); err != nil || d.Stats.Sent[dhcpRenew].Load() != renews {
		t.Fatalf("Maintain before T1: %v, %d renews", err, d.Stats.Sent[dhcpRenew].Load()-renews)
	}
	c.t = c.t.Add(1600 * time.Second)
	if err := d.Maintain(); err != nil || d.Stats.Sent[dhcpRenew].Load() != renews+1 {
		t.Fatalf("Maintain after T1: %v, %d renews", err, d.Stats.Sent[dhcpRenew].Load()-renews)
	}
	if l2 := lab.lease(alice); !l2.Expiry.Equal(l.Expiry) || !l2.RenewAt.Equal(c.t.Add(1500*time.Second)) {
		t.Fatalf("after Maintain: expiry %v (was %v), renew at %v", l2.Expiry, l.Expiry, l2.RenewAt)
	}
	return alice
}

// keaSuggestions: another identity's address is never given by
// suggesting it; a free one is kept. Fills the pool (4 addresses).
func keaSuggestions(lab *keaLab, alice netip.Addr) {
	t := lab.t
	mallory := lab.get("mallory@example.net", alice.String())
	if mallory == alice {
		t.Fatal("mallory obtained alice's address")
	}
	if err := lab.d.Release("mallory@example.net", alice); err == nil {
		t.Fatal("mallory released alice's address")
	}
	free := netip.MustParseAddr("2001:db8:1::103")
	if free == alice || free == mallory {
		free = netip.MustParseAddr("2001:db8:1::102")
	}
	if got := lab.get("bob@example.net", free.String()); got != free {
		t.Fatalf("free suggestion %v not kept: got %v", free, got)
	}
	lab.get("carol@example.net", "")
}

// keaExhaustRelease: NoAddrsAvail leaves nothing behind; Release frees the
// address at the server too.
func keaExhaustRelease(lab *keaLab, alice netip.Addr) {
	t := lab.t
	_, err := lab.d.Assign("dave@example.net", netip.Addr{})
	var de *DHCPv6Error
	if !errors.As(err, &de) || !de.HasStatus || de.Status != StatusNoAddrsAvail {
		t.Fatalf("exhausted pool: %v", err)
	}
	t.Log(err)
	checkNoLease(t, lab.st, "dave@example.net")
	if err := lab.d.Release("alice@example.net", alice); err != nil {
		t.Fatal(err)
	}
	checkNoLease(t, lab.st, "alice@example.net")
	if _, ok := lab.k.Leases(t)[alice]; ok {
		t.Fatalf("kea still leases %v after Release", alice)
	}
	if got := lab.get("dave@example.net", ""); got != alice {
		t.Fatalf("dave got %v, the only free address is %v", got, alice)
	}
}

// keaRestartAndSilence: an HA restart keeps every lease; a silent server
// gives a clear error and no lease.
func keaRestartAndSilence(lab *keaLab) {
	t := lab.t
	before := leases(t, lab.st)
	lab.restart()
	for a, id := range before {
		if got := lab.get(id, ""); got != a {
			t.Fatalf("after restart %s got %v, had %v", id, got, a)
		}
	}
	if m := leases(t, lab.st); len(m) != 4 {
		t.Fatalf("after restart: %v", m)
	}
	lab.k.Stop()
	_, err := lab.d.Assign("erin@example.net", netip.Addr{})
	var de *DHCPv6Error
	if !errors.As(err, &de) || de.Exchange != "Solicit" || !strings.Contains(err.Error(), "no Advertise after 3 tries") {
		t.Fatalf("silent server: %v", err)
	}
	t.Log(err)
	checkNoLease(t, lab.st, "erin@example.net")
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
	start := time.Now()
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
	t.Logf("8 concurrent assignments (Solicit/Reply with Rapid Commit, durable store writes) in %v", time.Since(start))
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
