package store

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"mip6/internal/peers/etcd"
)

func openEtcdT(t *testing.T, srv *etcd.Server, prefix string) *Store {
	t.Helper()
	s, err := OpenEtcd(EtcdOptions{Endpoints: srv.Endpoints(), Prefix: prefix, DialTimeout: 5 * time.Second, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEtcd runs the backend suite on a real etcd, each case under its own
// prefix; "restart" is a new Store (a new connection) on the same prefix.
func TestEtcd(t *testing.T) {
	srv := etcd.Start(t, etcd.Options{})
	for i, c := range backendSuite {
		t.Run(c.name, func(t *testing.T) {
			prefix := fmt.Sprintf("/mip6/suite%d", i)
			c.f(t, func() *Store { return openEtcdT(t, srv, prefix) })
		})
	}
	t.Run("ConflictRetried", func(t *testing.T) { testEtcdConflictRetried(t, srv) })
	t.Run("PhantomInRange", func(t *testing.T) { testEtcdPhantom(t, srv) })
	t.Run("ManyReadsGuardedPerBucket", func(t *testing.T) { testEtcdManyReads(t, srv) })
	t.Run("Contention", func(t *testing.T) { testEtcdContention(t, srv) })
	t.Run("ContentionManyAttempts", func(t *testing.T) { testEtcdContentionMany(t, srv) })
	t.Run("ViewSnapshot", func(t *testing.T) { testEtcdViewSnapshot(t, srv) })
	t.Run("TooManyWrites", func(t *testing.T) { testEtcdTooManyWrites(t, srv) })
	t.Run("NotAStore", func(t *testing.T) { testEtcdNotAStore(t, srv) })
	t.Run("Compacted", func(t *testing.T) { testEtcdCompacted(t, srv) })
	t.Run("ReadFailureNotCommitted", func(t *testing.T) { testEtcdReadFailure(t, srv) })
	t.Run("ServerRestart", func(t *testing.T) { testEtcdServerRestart(t, srv) })
}

// etcd compacting away the snapshot's revision in the middle of an Update
// makes the attempt start again on the newest revision.
func testEtcdCompacted(t *testing.T, srv *etcd.Server) {
	a, b := openEtcdT(t, srv, "/mip6/compact"), openEtcdT(t, srv, "/mip6/compact")
	defer a.Close()
	defer b.Close()
	runs := 0
	err := a.Update(func(tx *Tx) error {
		runs++
		tx.Meta("first")
		if runs == 1 {
			if err := b.Update(func(tx *Tx) error { return tx.SetMeta("x", []byte{1}) }); err != nil {
				t.Fatal(err)
			}
			e := b.b.(*etcdBackend)
			r, err := e.cli.Get(t.Context(), e.schemaKey)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.cli.Compact(t.Context(), r.Header.Revision); err != nil {
				t.Fatal(err)
			}
		}
		if v := tx.Meta("x"); len(v) != 1 {
			return fmt.Errorf("run %d: x is %x", runs, v)
		}
		return tx.SetMeta("y", []byte{2})
	})
	if err != nil || runs != 2 {
		t.Fatalf("runs %d: %v", runs, err)
	}
}

// A read that fails (etcd went away) fails the Update even when fn drops
// the error, and nothing of it is written.
func testEtcdReadFailure(t *testing.T, srv *etcd.Server) {
	s, err := OpenEtcd(EtcdOptions{Endpoints: srv.Endpoints(), Prefix: "/mip6/readfail", RequestTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := leaseAt(1, "alice@example.net")
	err = s.Update(func(tx *Tx) error {
		srv.Stop()
		tx.Lease(l.Address) // error dropped
		srv.Restart(t)
		return tx.PutBinding(Binding{HomeAddress: l.Address, Identity: l.Identity})
	})
	var ee *EtcdError
	if !errors.As(err, &ee) || ee.Cause != EtcdUnreachable || ee.Op != "read" {
		t.Fatalf("%v", err)
	}
	t.Log(err)
	// The same Store reconnects within its backoff (at most a second).
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := s.View(func(tx *Tx) error {
			if _, ok, err := tx.Binding(l.Address); ok || err != nil {
				return fmt.Errorf("binding present %v: %w", ok, err)
			}
			return nil
		})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: %v", err)
		}
	}
}

func leaseAt(last byte, id string) Lease {
	return Lease{Address: netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 15: last}), PrefixLen: 64,
		Identity: id, Expiry: t0.Add(time.Hour), Source: SourcePool}
}

// Home agent A reads an address as free; B leases it before A commits.
// A's commit must fail, its function run again and see B's lease.
func testEtcdConflictRetried(t *testing.T, srv *etcd.Server) {
	a, b := openEtcdT(t, srv, "/mip6/conflict"), openEtcdT(t, srv, "/mip6/conflict")
	defer a.Close()
	defer b.Close()
	l := leaseAt(1, "alice@example.net")
	runs := 0
	err := a.Update(func(tx *Tx) error {
		runs++
		if _, ok, err := tx.Lease(l.Address); err != nil || ok {
			return fmt.Errorf("run %d: lease present before anyone wrote it: %v", runs, err)
		}
		if runs == 1 {
			bl := l
			bl.Identity = "bob@example.net"
			if err := b.Update(func(tx *Tx) error { return tx.PutLease(bl, t0) }); err != nil {
				t.Fatal(err)
			}
		}
		return tx.PutLease(l, t0)
	})
	// The second run sees bob's lease: "present" is reported by the check
	// above, so the address was never given twice.
	if err == nil || runs != 2 || !strings.Contains(err.Error(), "run 2: lease present") {
		t.Fatalf("runs %d, err %v", runs, err)
	}
	// Without the explicit check, PutLease itself refuses on the rerun.
	runs = 0
	other := leaseAt(2, "alice@example.net")
	var ce *ConflictError
	err = a.Update(func(tx *Tx) error {
		tx.Meta("x") // the snapshot is taken here, before bob's write
		if runs++; runs == 1 {
			bl := other
			bl.Identity = "bob@example.net"
			if err := b.Update(func(tx *Tx) error { return tx.PutLease(bl, t0) }); err != nil {
				t.Fatal(err)
			}
		}
		return tx.PutLease(other, t0)
	})
	if !errors.As(err, &ce) || ce.Holder != "bob@example.net" || runs != 2 {
		t.Fatalf("runs %d: %v", runs, err)
	}
}

// A key appearing in a range read (a new lease of the identity) after the
// snapshot makes the commit fail, although no key read changed.
func testEtcdPhantom(t *testing.T, srv *etcd.Server) {
	a, b := openEtcdT(t, srv, "/mip6/phantom"), openEtcdT(t, srv, "/mip6/phantom")
	defer a.Close()
	defer b.Close()
	runs := 0
	var seen int
	err := a.Update(func(tx *Tx) error {
		runs++
		ls, err := tx.LeasesOf("alice@example.net")
		if err != nil {
			return err
		}
		seen = len(ls)
		if runs == 1 {
			if err := b.Update(func(tx *Tx) error { return tx.PutLease(leaseAt(7, "alice@example.net"), t0) }); err != nil {
				t.Fatal(err)
			}
		}
		return tx.SetMeta("count", []byte{byte(len(ls))})
	})
	if err != nil || runs != 2 || seen != 1 {
		t.Fatalf("runs %d, seen %d, err %v", runs, seen, err)
	}
}

// An Update that read more keys than fit as conditions (most of them
// from the bucket prefetched whole) is guarded per bucket: a delete of
// one of them (which leaves no key to compare) is still noticed through
// the bucket's stamp.
func testEtcdManyReads(t *testing.T, srv *etcd.Server) {
	a, b := openEtcdT(t, srv, "/mip6/many"), openEtcdT(t, srv, "/mip6/many")
	defer a.Close()
	defer b.Close()
	for batch := range 3 {
		err := a.Update(func(tx *Tx) error {
			for i := range 40 {
				if err := tx.PutLease(leaseAt(byte(batch*40+i+1), fmt.Sprintf("mn%d", batch*40+i)), t0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	runs := 0
	var n int
	err := a.Update(func(tx *Tx) error {
		runs++
		n = 0
		for i := range 120 {
			if _, ok, err := tx.Lease(leaseAt(byte(i+1), "").Address); err != nil {
				return err
			} else if ok {
				n++
			}
		}
		if runs == 1 {
			// Lease 100 was read from the prefetched bucket.
			if err := b.Update(func(tx *Tx) error { return tx.DeleteLease(leaseAt(100, "").Address) }); err != nil {
				t.Fatal(err)
			}
		}
		return tx.SetMeta("leases", []byte{byte(n)})
	})
	if err != nil || runs != 2 || n != 119 {
		t.Fatalf("runs %d, counted %d, err %v", runs, n, err)
	}
}

// Another writer changing the read key on every attempt exhausts
// MaxAttempts: a *ContentionError, nothing committed.
func testEtcdContention(t *testing.T, srv *etcd.Server) {
	a, err := OpenEtcd(EtcdOptions{Endpoints: srv.Endpoints(), Prefix: "/mip6/contention", MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := openEtcdT(t, srv, "/mip6/contention")
	defer b.Close()
	var runs atomic.Int32
	err = a.Update(func(tx *Tx) error {
		runs.Add(1)
		tx.Meta("k")
		if err := b.Update(func(tx *Tx) error { return tx.SetMeta("k", []byte{byte(runs.Load())}) }); err != nil {
			t.Fatal(err)
		}
		return tx.SetMeta("mine", []byte{1})
	})
	var ce *ContentionError
	if !errors.As(err, &ce) || ce.Attempts != 3 || runs.Load() != 3 {
		t.Fatalf("runs %d: %v", runs.Load(), err)
	}
	t.Log(err)
	a.View(func(tx *Tx) error {
		if tx.Meta("mine") != nil {
			t.Error("a contended Update committed")
		}
		return nil
	})
}

// A MaxAttempts past 43 once shifted the backoff (1 ms << attempt) out of
// int64 and rand.N panicked on the negative bound; contention on every
// attempt must end in a *ContentionError however many attempts are allowed.
func testEtcdContentionMany(t *testing.T, srv *etcd.Server) {
	const attempts = 48
	a, err := OpenEtcd(EtcdOptions{Endpoints: srv.Endpoints(), Prefix: "/mip6/contention-many", MaxAttempts: attempts})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := openEtcdT(t, srv, "/mip6/contention-many")
	defer b.Close()
	runs := 0
	err = a.Update(func(tx *Tx) error {
		runs++
		tx.Meta("k")
		if err := b.Update(func(tx *Tx) error { return tx.SetMeta("k", []byte{byte(runs)}) }); err != nil {
			t.Fatal(err)
		}
		return tx.SetMeta("mine", []byte{1})
	})
	var ce *ContentionError
	if !errors.As(err, &ce) || ce.Attempts != attempts || runs != attempts {
		t.Fatalf("runs %d: %v", runs, err)
	}
}

// Every read of one View is at one revision.
func testEtcdViewSnapshot(t *testing.T, srv *etcd.Server) {
	a, b := openEtcdT(t, srv, "/mip6/view"), openEtcdT(t, srv, "/mip6/view")
	defer a.Close()
	defer b.Close()
	l := leaseAt(1, "alice@example.net")
	a.View(func(tx *Tx) error {
		if _, ok, err := tx.Lease(l.Address); err != nil || ok {
			t.Fatalf("%v %v", ok, err)
		}
		if err := b.Update(func(tx *Tx) error { return tx.PutLease(l, t0) }); err != nil {
			t.Fatal(err)
		}
		if ls, err := tx.LeasesOf(l.Identity); err != nil || len(ls) != 0 {
			t.Errorf("a View saw a write committed after its first read: %v %v", ls, err)
		}
		return nil
	})
}

// One Update writing more keys than etcd accepts in a Txn is refused
// whole with a cause that says so.
func testEtcdTooManyWrites(t *testing.T, srv *etcd.Server) {
	s := openEtcdT(t, srv, "/mip6/toomany")
	defer s.Close()
	err := s.Update(func(tx *Tx) error {
		for i := range 130 {
			b := Binding{HomeAddress: leaseAt(byte(i+1), "").Address, Identity: "x"}
			if err := tx.PutBinding(b); err != nil {
				return err
			}
		}
		return nil
	})
	var ee *EtcdError
	if !errors.As(err, &ee) || ee.Cause != EtcdRejected || ee.Op != "commit" {
		t.Fatalf("%v", err)
	}
	t.Log(err)
	s.View(func(tx *Tx) error {
		if _, ok, _ := tx.Binding(leaseAt(1, "").Address); ok {
			t.Error("part of a refused Update was written")
		}
		return nil
	})
}

func testEtcdNotAStore(t *testing.T, srv *etcd.Server) {
	s := openEtcdT(t, srv, "/mip6/schema")
	// Corrupt the schema key through the backend's own client.
	e := s.b.(*etcdBackend)
	if _, err := e.cli.Put(t.Context(), e.schemaKey, "\x09"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := OpenEtcd(EtcdOptions{Endpoints: srv.Endpoints(), Prefix: "/mip6/schema/"})
	var ee *EtcdError
	if !errors.As(err, &ee) || ee.Cause != EtcdNotAStore {
		t.Fatalf("%v", err)
	}
	t.Log(err)
}

// Leases survive a restart of etcd itself (its data directory is kept).
func testEtcdServerRestart(t *testing.T, srv *etcd.Server) {
	s := openEtcdT(t, srv, "/mip6/restart")
	l := leaseAt(1, "alice@example.net")
	if err := s.Update(func(tx *Tx) error { return tx.PutLease(l, t0) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	srv.Restart(t)
	s = openEtcdT(t, srv, "/mip6/restart")
	defer s.Close()
	s.View(func(tx *Tx) error {
		if got, ok, err := tx.Lease(l.Address); err != nil || !ok || got.Identity != l.Identity {
			t.Fatalf("after etcd restart: %+v %v %v", got, ok, err)
		}
		return nil
	})
}

// Nobody listens on the endpoint: OpenEtcd fails within DialTimeout and
// names the endpoint.
func TestOpenEtcdUnreachable(t *testing.T) {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	ep := "[::1]:" + fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	start := time.Now()
	_, err = OpenEtcd(EtcdOptions{Endpoints: []string{ep}, DialTimeout: 300 * time.Millisecond})
	var ee *EtcdError
	if !errors.As(err, &ee) || ee.Cause != EtcdUnreachable || !strings.Contains(err.Error(), ep) ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("%v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	t.Log(err)
	if _, err := OpenEtcd(EtcdOptions{}); !errors.As(err, &ee) {
		t.Fatalf("no endpoints: %v", err)
	}
}

func TestEtcdKeyLayout(t *testing.T) {
	e := &etcdBackend{prefix: "/mip6/c1"}
	a := netip.MustParseAddr("2001:db8::10")
	for _, c := range []struct {
		b    bucket
		raw  []byte
		want string
	}{
		{bLeases, addrKey(a), "/mip6/c1/leases/20010db8000000000000000000000010"},
		{bPAD, idKey("a/b%c d", a), "/mip6/c1/pad/a%2Fb%25c%20d/20010db8000000000000000000000010"},
		{bLeaseIDs, idPrefix("alice"), "/mip6/c1/lease-ids/alice/"},
		{bMeta, []byte("u:x/y"), "/mip6/c1/meta/u:x%2Fy"},
	} {
		k := e.key(c.b, c.raw)
		if k != c.want {
			t.Errorf("%v %q: %q, want %q", c.b, c.raw, k, c.want)
		}
		if raw, err := e.rawKey(c.b, k); err != nil || string(raw) != string(c.raw) {
			t.Errorf("%q back: %q %v", k, raw, err)
		}
	}
	// Distinct identities never share a prefix ("a" vs "a/").
	if strings.HasPrefix(e.key(bPAD, idKey("a/", a)), e.key(bPAD, idPrefix("a"))) {
		t.Error("identity a/ falls under a's prefix")
	}
	for _, k := range []string{"/mip6/c1/leases/zz", "/mip6/c1/pad/%4", "/other/leases/00"} {
		var de *DecodeError
		b := bLeases
		if strings.Contains(k, "/pad/") {
			b = bPAD
		}
		if _, err := e.rawKey(b, k); !errors.As(err, &de) {
			t.Errorf("%q: %v", k, err)
		}
	}
}

// A TLS etcd asking for client certificates: with the CA and a client
// certificate the store works; without the certificate, or trusting
// another CA, OpenEtcd fails and says to check TLS.
func TestEtcdTLS(t *testing.T) {
	srv := etcd.Start(t, etcd.Options{TLS: true})
	f := srv.ClientTLS
	cfg, err := LoadEtcdTLS(f.CA, f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenEtcd(EtcdOptions{Endpoints: srv.Endpoints(), Prefix: "/mip6/tls", TLS: cfg})
	if err != nil {
		t.Fatal(err)
	}
	testUpdateAtomic(t, func() *Store { return s })
	noCert, err := LoadEtcdTLS(f.CA, "", "")
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := LoadEtcdTLS(f.Cert, f.Cert, f.Key) // the client's certificate is no CA
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]*tls.Config{"no client certificate": noCert, "wrong CA": otherCA, "no TLS": nil} {
		_, err := OpenEtcd(EtcdOptions{Endpoints: srv.Endpoints(), TLS: cfg, DialTimeout: 500 * time.Millisecond})
		var ee *EtcdError
		// The reason comes from OpenEtcd's own probe of the endpoint.
		if !errors.As(err, &ee) || ee.Cause != EtcdUnreachable || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: %v", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if _, err := LoadEtcdTLS(f.CA, f.Cert, ""); err == nil {
		t.Error("certificate without key accepted")
	}
	if _, err := LoadEtcdTLS(f.Key, "", ""); err == nil {
		t.Error("a key file accepted as CA")
	}
}

// An etcd with authentication on: the right user works within its
// prefix; a wrong password, or a user without rights on the prefix, gets
// EtcdDenied.
func TestEtcdAuth(t *testing.T) {
	srv := etcd.Start(t, etcd.Options{})
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := t.Context()
	steps := []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.RoleAdd(ctx, "ha"); return err },
		func() error {
			_, err := cli.RoleGrantPermission(ctx, "ha", "/mip6/c1/", clientv3.GetPrefixRangeEnd("/mip6/c1/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := cli.UserAdd(ctx, "ha1", "ha1pw"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "ha1", "ha"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	}
	for i, f := range steps {
		if err := f(); err != nil {
			t.Fatalf("auth setup step %d: %v", i, err)
		}
	}
	s, err := OpenEtcd(EtcdOptions{Endpoints: srv.Endpoints(), Prefix: "/mip6/c1", Username: "ha1", Password: "ha1pw"})
	if err != nil {
		t.Fatal(err)
	}
	testUpdateAtomic(t, func() *Store { return s })
	for name, o := range map[string]EtcdOptions{
		"wrong password":   {Prefix: "/mip6/c1", Username: "ha1", Password: "nope"},
		"prefix not given": {Prefix: "/mip6/c2", Username: "ha1", Password: "ha1pw"},
		"no user":          {Prefix: "/mip6/c1"},
	} {
		o.Endpoints = srv.Endpoints()
		_, err := OpenEtcd(o)
		var ee *EtcdError
		if !errors.As(err, &ee) || ee.Cause != EtcdDenied {
			t.Errorf("%s: %v", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// The leader of a three-member cluster dies between an Update's reads and
// its commit: the commit gets no answer, the Update runs again once the
// cluster has a new leader, and succeeds (within about 2 RequestTimeouts).
func TestEtcdLeaderDies(t *testing.T) {
	srv := etcd.Start(t, etcd.Options{Members: 3})
	s, err := OpenEtcd(EtcdOptions{Endpoints: srv.Endpoints(), Prefix: "/mip6/leader", RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs := 0
	start := time.Now()
	err = s.Update(func(tx *Tx) error {
		runs++
		tx.Meta("a")
		if runs == 1 {
			srv.Kill(srv.Leader(t))
		}
		return tx.SetMeta("a", []byte{byte(runs)})
	})
	t.Logf("%d runs, %v", runs, time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		if v := tx.Meta("a"); len(v) != 1 || int(v[0]) != runs {
			t.Errorf("a = %x after %d runs", v, runs)
		}
		return nil
	})
}
