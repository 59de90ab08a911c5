package store

import (
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

var t0 = time.Unix(1_800_000_000, 0)

func openT(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sampleLease() Lease {
	return Lease{
		Address: netip.MustParseAddr("2001:db8:1::10"), PrefixLen: 64, Identity: "alice@example.net",
		Expiry: t0.Add(time.Hour), RenewAt: t0.Add(30 * time.Minute), IKESA: SARef{1, 2}, Source: SourceDHCPv6,
		ServerDUID: []byte{0, 1, 2, 3}, IAID: 7,
	}
}

func TestCodecRoundTrip(t *testing.T) {
	l := sampleLease()
	var l2 Lease
	if err := DecodeLease(AppendLease(nil, &l), &l2); err != nil {
		t.Fatal(err)
	}
	if !l2.Expiry.Equal(l.Expiry) || !l2.RenewAt.Equal(l.RenewAt) {
		t.Fatalf("expiry %v != %v", l2.Expiry, l.Expiry)
	}
	l2.Expiry, l2.RenewAt = l.Expiry, l.RenewAt
	if !reflect.DeepEqual(l, l2) {
		t.Fatalf("lease %+v != %+v", l2, l)
	}
	b := Binding{HomeAddress: l.Address, CareOfAddress: netip.MustParseAddr("2001:db8:2::5"),
		Identity: "alice@example.net", Sequence: 65535, Lifetime: 420 * time.Second}
	var b2 Binding
	if err := DecodeBinding(AppendBinding(nil, &b), &b2); err != nil || !reflect.DeepEqual(b, b2) {
		t.Fatalf("binding %+v != %+v (%v)", b2, b, err)
	}
	p := PADEntry{Identity: "bob@example.net", HomeAddress: l.Address, Temporary: true}
	var p2 PADEntry
	if err := DecodePAD(AppendPAD(nil, &p), &p2); err != nil || !reflect.DeepEqual(p, p2) {
		t.Fatalf("pad %+v != %+v (%v)", p2, p, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	l := sampleLease()
	enc := AppendLease(nil, &l)
	var out Lease
	var de *DecodeError
	for n := 0; n < len(enc); n++ {
		if err := DecodeLease(enc[:n], &out); !errors.As(err, &de) {
			t.Fatalf("truncated to %d: got %v", n, err)
		}
	}
	if err := DecodeLease(append(enc, 0), &out); !errors.As(err, &de) || de.Field != "end" {
		t.Fatalf("trailing: %v", err)
	}
	bad := append([]byte{9}, enc[1:]...)
	if err := DecodeLease(bad, &out); !errors.As(err, &de) || de.Field != "version" {
		t.Fatalf("version: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	l := sampleLease()
	f.Add(AppendLease(nil, &l))
	f.Add(AppendBinding(nil, &Binding{HomeAddress: l.Address, Identity: "x"}))
	f.Add(AppendPAD(nil, &PADEntry{Identity: "x", HomeAddress: l.Address}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var l Lease
		if DecodeLease(b, &l) == nil {
			var l2 Lease
			if err := DecodeLease(AppendLease(nil, &l), &l2); err != nil {
				t.Fatal(err)
			}
		}
		var bi Binding
		_ = DecodeBinding(b, &bi)
		var p PADEntry
		_ = DecodePAD(b, &p)
	})
}

// backendSuite runs on every backend (TestBolt, TestEtcd); open returns a
// new Store on the same data each time it is called (a restart).
var backendSuite = []struct {
	name string
	f    func(t *testing.T, open func() *Store)
}{
	{"UpdateAtomic", testUpdateAtomic},
	{"LeaseConflictAndRestart", testLeaseConflictAndRestart},
	{"Bindings", testBindings},
	{"InvalidRecords", testInvalidRecords},
	{"IdentityIndexAndMeta", testIdentityIndexAndMeta},
}

func TestBolt(t *testing.T) {
	for _, c := range backendSuite {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ha.db")
			c.f(t, func() *Store { return openT(t, path) })
		})
	}
}

// A lease and its PAD entry are written together or not at all.
func testUpdateAtomic(t *testing.T, open func() *Store) {
	s := open()
	defer s.Close()
	l := sampleLease()
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		if err := tx.PutLease(l, t0); err != nil {
			return err
		}
		if err := tx.PutPAD(PADEntry{Identity: l.Identity, HomeAddress: l.Address, Temporary: true}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		if _, ok, _ := tx.Lease(l.Address); ok {
			t.Error("lease survived a failed transaction")
		}
		if p, _ := tx.PAD(l.Identity); len(p) != 0 {
			t.Error("PAD entry survived a failed transaction")
		}
		return nil
	})
}

func testLeaseConflictAndRestart(t *testing.T, open func() *Store) {
	s := open()
	l := sampleLease()
	if err := s.Update(func(tx *Tx) error {
		if err := tx.PutLease(l, t0); err != nil {
			return err
		}
		return tx.PutPAD(PADEntry{Identity: l.Identity, HomeAddress: l.Address, Temporary: true})
	}); err != nil {
		t.Fatal(err)
	}
	other := l
	other.Identity = "mallory@example.net"
	var ce *ConflictError
	if err := s.Update(func(tx *Tx) error { return tx.PutLease(other, t0) }); !errors.As(err, &ce) || ce.Holder != l.Identity {
		t.Fatalf("second identity got a live-leased address: %v", err)
	}
	s.Close()

	s = open()
	defer s.Close()
	s.View(func(tx *Tx) error {
		got, ok, err := tx.Lease(l.Address)
		if err != nil || !ok || got.Identity != l.Identity {
			t.Fatalf("after restart: %+v %v %v", got, ok, err)
		}
		ls, _ := tx.LeasesOf(l.Identity)
		pad, _ := tx.PAD(l.Identity)
		if len(ls) != 1 || len(pad) != 1 {
			t.Fatalf("after restart: leases %v pad %v", ls, pad)
		}
		return nil
	})
	if err := s.Update(func(tx *Tx) error { return tx.PutLease(other, t0) }); !errors.As(err, &ce) {
		t.Fatalf("after restart: %v", err)
	}
	// Once expired, the address may go to another identity and the old
	// holder's index and PAD entry go with it.
	if err := s.Update(func(tx *Tx) error { return tx.PutLease(other, t0.Add(2*time.Hour)) }); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		if ls, _ := tx.LeasesOf(l.Identity); len(ls) != 0 {
			t.Errorf("old holder still indexed: %v", ls)
		}
		if pad, _ := tx.PAD(l.Identity); len(pad) != 0 {
			t.Errorf("old holder's PAD entry kept: %v", pad)
		}
		return nil
	})
}

func testBindings(t *testing.T, open func() *Store) {
	s := open()
	defer s.Close()
	b := Binding{HomeAddress: netip.MustParseAddr("2001:db8:1::10"), CareOfAddress: netip.MustParseAddr("2001:db8:9::1"),
		Identity: "alice@example.net", Sequence: 3, Lifetime: time.Minute, Expiry: t0}
	if err := s.Update(func(tx *Tx) error { return tx.PutBinding(b) }); err != nil {
		t.Fatal(err)
	}
	var n int
	s.View(func(tx *Tx) error {
		got, ok, err := tx.Binding(b.HomeAddress)
		if err != nil || !ok || got.CareOfAddress != b.CareOfAddress || got.Sequence != 3 {
			t.Fatalf("%+v %v %v", got, ok, err)
		}
		return tx.ForEachBinding(func(Binding) error { n++; return nil })
	})
	if n != 1 {
		t.Fatalf("%d bindings", n)
	}
	s.Update(func(tx *Tx) error { return tx.DeleteBinding(b.HomeAddress) })
	s.View(func(tx *Tx) error {
		if _, ok, _ := tx.Binding(b.HomeAddress); ok {
			t.Fatal("binding not deleted")
		}
		return nil
	})
}

func testInvalidRecords(t *testing.T, open func() *Store) {
	s := open()
	defer s.Close()
	var ie *InvalidError
	for _, l := range []Lease{
		{Address: netip.MustParseAddr("::"), Identity: "a"},
		{Address: netip.MustParseAddr("192.0.2.1"), Identity: "a"},
		{Address: netip.MustParseAddr("2001:db8::1")},
		{Address: netip.MustParseAddr("2001:db8::1"), Identity: "a\x00b"},
	} {
		if err := s.Update(func(tx *Tx) error { return tx.PutLease(l, t0) }); !errors.As(err, &ie) {
			t.Errorf("%+v: %v", l, err)
		}
	}
}

// Identities with the octets an etcd key escapes, several leases per
// identity, deletes seen inside the same Update, and users' meta keys.
func testIdentityIndexAndMeta(t *testing.T, open func() *Store) {
	s := open()
	defer s.Close()
	ids := []string{"a/b%c@example.net", "CN=é, O=x", "a", "a/"}
	addr := func(i int) netip.Addr { return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 1)}) }
	err := s.Update(func(tx *Tx) error {
		for i, id := range ids {
			for j := range 2 {
				a := addr(2*i + j)
				if err := tx.PutLease(Lease{Address: a, Identity: id, PrefixLen: 64}, t0); err != nil {
					return err
				}
				if err := tx.PutPAD(PADEntry{Identity: id, HomeAddress: a}); err != nil {
					return err
				}
			}
		}
		// Read-your-writes inside one transaction, deletes included.
		if err := tx.DeleteLease(addr(1)); err != nil {
			return err
		}
		if ls, err := tx.LeasesOf(ids[0]); err != nil || len(ls) != 1 || ls[0].Address != addr(0) {
			t.Errorf("inside the Update: leases of %q: %v %v", ids[0], ls, err)
		}
		return tx.SetMeta("cursor/2001:db8::/64", []byte{1, 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		for i, id := range ids {
			ls, err := tx.LeasesOf(id)
			pad, err2 := tx.PAD(id)
			want := 2
			if i == 0 {
				want = 1
			}
			if err != nil || err2 != nil || len(ls) != want || len(pad) != want {
				t.Errorf("%q: leases %v pad %v (%v %v), want %d each", id, ls, pad, err, err2, want)
			}
			for _, l := range ls {
				if l.Identity != id {
					t.Errorf("%q got lease of %q", id, l.Identity)
				}
			}
		}
		var prev netip.Addr
		n := 0
		tx.ForEachLease(func(l Lease) error {
			if n++; prev.IsValid() && !prev.Less(l.Address) {
				t.Errorf("leases out of address order: %v after %v", l.Address, prev)
			}
			prev = l.Address
			return nil
		})
		if n != 2*len(ids)-1 {
			t.Errorf("ForEachLease saw %d leases", n)
		}
		if v := tx.Meta("cursor/2001:db8::/64"); string(v) != "\x01\x02" || tx.Meta("none") != nil {
			t.Errorf("meta %x", v)
		}
		return nil
	})
	if err := s.View(func(tx *Tx) error { return tx.SetMeta("x", nil) }); err == nil {
		t.Error("a write inside View succeeded")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ha.db")
	s := openT(t, path)
	defer s.Close()
	var oe *OpenError
	if _, err := Open(path, Options{Timeout: 50 * time.Millisecond}); !errors.As(err, &oe) || oe.Cause != CauseLocked {
		t.Fatalf("second open of a locked file: %v", err)
	} else {
		t.Log(err)
	}

	file := filepath.Join(dir, "plain")
	os.WriteFile(file, []byte("x"), 0o600)
	if _, err := Open(filepath.Join(file, "ha.db"), Options{}); !errors.As(err, &oe) || oe.Cause != CauseNotWritable {
		t.Fatalf("parent is a file: %v", err)
	} else {
		t.Log(err)
	}
	if _, err := Open(filepath.Join(dir, "missing", "ha.db"), Options{}); !errors.As(err, &oe) || oe.Cause != CauseNotWritable {
		t.Fatalf("missing directory: %v", err)
	}

	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, make([]byte, 65536), 0o600)
	if _, err := Open(junk, Options{}); !errors.As(err, &oe) || oe.Cause != CauseNotAStore {
		t.Fatalf("junk file: %v", err)
	} else {
		t.Log(err)
	}
}

// A directory the home agent's user cannot write to: run as nobody in a
// child process (the test runs as root in CI; root may write anywhere).
func TestOpenNotWritable(t *testing.T) {
	if dir := os.Getenv("MIP6_STORE_CHILD_DIR"); dir != "" {
		_, err := Open(filepath.Join(dir, "ha.db"), Options{})
		var oe *OpenError
		if !errors.As(err, &oe) || oe.Cause != CauseNotWritable {
			t.Fatalf("as uid %d: %v", os.Geteuid(), err)
		}
		t.Log(err)
		return
	}
	if os.Geteuid() != 0 {
		dir := t.TempDir()
		os.Chmod(dir, 0o555)
		defer os.Chmod(dir, 0o755)
		var oe *OpenError
		if _, err := Open(filepath.Join(dir, "ha.db"), Options{}); !errors.As(err, &oe) || oe.Cause != CauseNotWritable {
			t.Fatalf("read-only directory: %v", err)
		}
		return
	}
	dir, err := os.MkdirTemp("", "mip6-store-ro")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755) // root-owned: nobody may not create files in it
	// The test binary's own directory is private to root: run a copy.
	bin := filepath.Join(dir, "store.test")
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestOpenNotWritable$", "-test.v")
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "MIP6_STORE_CHILD_DIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "cannot create files in "+dir) {
		t.Fatalf("child output:\n%s", out)
	}
}
