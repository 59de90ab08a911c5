package lease

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"mip6/internal/peers/etcd"
	"mip6/store"
)

// Two home agents share one etcd: each has its own store.Store (its own
// connection) and its own Pool over the same range.
type sharedLab struct {
	t      *testing.T
	srv    *etcd.Server
	prefix string
	c      *clock
	st     [2]*store.Store
	pool   [2]*Pool
}

func newSharedLab(t *testing.T, srv *etcd.Server, prefix, first, last string) *sharedLab {
	lab := &sharedLab{t: t, srv: srv, prefix: prefix, c: &clock{time.Unix(1_800_000_000, 0)}}
	lab.open()
	for i := range lab.pool {
		lab.pool[i] = newPool(t, lab.st[i], lab.c, first, last)
	}
	return lab
}

func (lab *sharedLab) open() {
	for i := range lab.st {
		st, err := store.OpenEtcd(store.EtcdOptions{Endpoints: lab.srv.Endpoints(), Prefix: lab.prefix})
		if err != nil {
			lab.t.Fatal(err)
		}
		lab.st[i] = st
		lab.t.Cleanup(func() { st.Close() })
	}
}

func (lab *sharedLab) reopen() {
	for i, st := range lab.st {
		st.Close()
		lab.pool[i].cfg.Store = nil
	}
	lab.open()
	for i := range lab.pool {
		lab.pool[i].cfg.Store = lab.st[i]
	}
}

func TestEtcdSharedStore(t *testing.T) {
	srv := etcd.Start(t, etcd.Options{})
	t.Run("TwoPoolsUnique", func(t *testing.T) { testTwoPoolsUnique(t, srv) })
	t.Run("SameIdentityOneAddress", func(t *testing.T) { testSameIdentity(t, srv) })
	t.Run("BindSAAndPADShared", func(t *testing.T) { testBindSAShared(t, srv) })
}

// Two home agents, two goroutines each, assign 40 identities from a
// 32-address pool at once: every address is handed out once, 8 requests
// find the pool exhausted, every lease has its PAD entry, and both home
// agents see the same leases after reopening their stores.
func testTwoPoolsUnique(t *testing.T, srv *etcd.Server) {
	lab := newSharedLab(t, srv, "/mip6/unique", "2001:db8:1::2", "2001:db8:1::21") // 32 addresses
	const workers, rounds = 2, 10
	type res struct {
		id  string
		a   netip.Addr
		err error
	}
	out := make(chan res, len(lab.pool)*workers*rounds)
	for h, p := range lab.pool {
		for w := range workers {
			go func() {
				for r := range rounds {
					id := fmt.Sprintf("mn-ha%d-w%d-r%d@example.net", h, w, r)
					pr, err := p.Assign(id, netip.Addr{})
					out <- res{id, pr.Addr(), err}
				}
			}()
		}
	}
	got := map[netip.Addr]string{}
	exhausted := 0
	timeout := time.After(30 * time.Second)
	for range cap(out) {
		var r res
		select {
		case r = <-out:
		case <-timeout:
			t.Fatalf("assignments not done within 30 s (%d so far)", len(got)+exhausted)
		}
		var ex *ExhaustedError
		switch {
		case errors.As(r.err, &ex):
			exhausted++
		case r.err != nil:
			t.Fatalf("%s: %v", r.id, r.err)
		case got[r.a] != "":
			t.Fatalf("%v assigned to both %s and %s", r.a, got[r.a], r.id)
		default:
			got[r.a] = r.id
		}
	}
	if len(got) != 32 || exhausted != 8 {
		t.Fatalf("%d assigned, %d refused", len(got), exhausted)
	}
	lab.reopen()
	for i, st := range lab.st {
		m := leases(t, st)
		if len(m) != len(got) {
			t.Fatalf("home agent %d sees %d leases after reopening, want %d", i, len(m), len(got))
		}
		for a, id := range got {
			if m[a] != id {
				t.Fatalf("home agent %d: %v leased to %q, was given to %q", i, a, m[a], id)
			}
		}
	}
}

// One MN bootstrapping through both home agents at once (or re-
// bootstrapping through the other one) keeps one home address.
func testSameIdentity(t *testing.T, srv *etcd.Server) {
	lab := newSharedLab(t, srv, "/mip6/same", "2001:db8:1::2", "2001:db8:1::21")
	out := make(chan netip.Addr, 8)
	for i := range cap(out) {
		go func() {
			pr, err := lab.pool[i%2].Assign("alice@example.net", netip.Addr{})
			if err != nil {
				t.Error(err)
			}
			out <- pr.Addr()
		}()
	}
	first := <-out
	for range cap(out) - 1 {
		if a := <-out; a != first {
			t.Fatalf("alice got %v and %v", first, a)
		}
	}
	if m := leases(t, lab.st[1]); len(m) != 1 {
		t.Fatalf("%d leases: %v", len(m), m)
	}
}

// A lease given by one home agent, bound to its IKE SA, is seen with that
// SA and its PAD entry by the other; the other may renew and release it,
// and the first then sees it gone.
func testBindSAShared(t *testing.T, srv *etcd.Server) {
	lab := newSharedLab(t, srv, "/mip6/bindsa", "2001:db8:1::2", "2001:db8:1::9")
	a := assign(t, lab.pool[0], "alice@example.net", "")
	sa := store.SARef{SPIi: 0x1111, SPIr: 0x2222}
	if err := BindSA(lab.st[0], "alice@example.net", a, sa); err != nil {
		t.Fatal(err)
	}
	if err := BindSA(lab.st[1], "mallory@example.net", a, store.SARef{}); err == nil {
		t.Fatal("another identity rebound alice's lease through the other home agent")
	}
	lab.st[1].View(func(tx *store.Tx) error {
		l, ok, err := tx.Lease(a)
		if err != nil || !ok || l.IKESA != sa || l.Identity != "alice@example.net" {
			t.Fatalf("other home agent sees %+v %v %v", l, ok, err)
		}
		pad, err := tx.PAD("alice@example.net")
		if err != nil || len(pad) != 1 || pad[0].HomeAddress != a || !pad[0].Temporary {
			t.Fatalf("other home agent's PAD: %+v %v", pad, err)
		}
		return nil
	})
	if b := assign(t, lab.pool[1], "alice@example.net", ""); b != a {
		t.Fatalf("re-bootstrap through the other home agent gave %v, had %v", b, a)
	}
	if b := assign(t, lab.pool[1], "bob@example.net", a.String()); b == a {
		t.Fatalf("bob got alice's address %v by suggesting it", a)
	}
	lab.c.t = lab.c.t.Add(30 * time.Minute)
	if err := lab.pool[1].Renew("alice@example.net", a); err != nil {
		t.Fatal(err)
	}
	if err := lab.pool[1].Release("alice@example.net", a); err != nil {
		t.Fatal(err)
	}
	lab.st[0].View(func(tx *store.Tx) error {
		if _, ok, _ := tx.Lease(a); ok {
			t.Error("first home agent still sees the released lease")
		}
		if pad, _ := tx.PAD("alice@example.net"); len(pad) != 0 {
			t.Errorf("first home agent still sees the PAD entry %+v", pad)
		}
		return nil
	})
}

// Two home agents on a three-member etcd keep assigning unique addresses
// while the leader member dies in the middle of their assignments: the
// store waits for the new leader and runs an Update whose commit was lost
// again, on what is really there.
func TestEtcdMemberDown(t *testing.T) {
	srv := etcd.Start(t, etcd.Options{Members: 3})
	lab := newSharedLab(t, srv, "/mip6/memberdown", "2001:db8:1::2", "2001:db8:1::21")
	type res struct {
		id  string
		a   netip.Addr
		err error
	}
	const perHA = 10
	out := make(chan res, 2*perHA)
	for h, p := range lab.pool {
		go func() {
			for i := range perHA {
				id := fmt.Sprintf("mn-ha%d-%d@example.net", h, i)
				pr, err := p.Assign(id, netip.Addr{})
				out <- res{id, pr.Addr(), err}
			}
		}()
	}
	got := map[netip.Addr]string{}
	timeout := time.After(30 * time.Second)
	for n := range cap(out) {
		if n == 4 {
			srv.Kill(srv.Leader(t))
		}
		var r res
		select {
		case r = <-out:
		case <-timeout:
			t.Fatalf("assignments not done within 30 s (%d so far)", n)
		}
		if r.err != nil {
			t.Fatalf("%s: %v", r.id, r.err)
		}
		if got[r.a] != "" {
			t.Fatalf("%v assigned to %s and %s", r.a, got[r.a], r.id)
		}
		got[r.a] = r.id
	}
	for i, st := range lab.st {
		m := leases(t, st)
		if len(m) != len(got) {
			t.Fatalf("home agent %d sees %d leases, want %d", i, len(m), len(got))
		}
		for a, id := range got {
			if m[a] != id {
				t.Fatalf("home agent %d: %v leased to %q, was given to %q", i, a, m[a], id)
			}
		}
	}
}
