package store

import (
	"net/netip"
	"path/filepath"
	"testing"

	"mip6/internal/peers/etcd"
)

func openBoltB(b *testing.B) *Store {
	s, err := Open(filepath.Join(b.TempDir(), "s.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func openEtcdB(b *testing.B) *Store {
	srv := etcd.Start(b, etcd.Options{})
	s, err := OpenEtcd(EtcdOptions{Endpoints: srv.Endpoints(), Prefix: "/mip6/bench"})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkBoltUpdateLease is one lease write (lease, identity index and
// PAD entry) per bbolt Update, fsync included.
func BenchmarkBoltUpdateLease(b *testing.B) { benchUpdateLease(b, openBoltB(b)) }

// BenchmarkEtcdUpdateLease is the same on a local etcd (one read, one
// guarded Txn).
func BenchmarkEtcdUpdateLease(b *testing.B) { benchUpdateLease(b, openEtcdB(b)) }

// BenchmarkBoltViewLease is one lease lookup plus the identity's leases
// per View.
func BenchmarkBoltViewLease(b *testing.B) { benchViewLease(b, openBoltB(b)) }

func BenchmarkEtcdViewLease(b *testing.B) { benchViewLease(b, openEtcdB(b)) }

func benchUpdateLease(b *testing.B, s *Store) {
	defer s.Close()
	l := sampleLease()
	base := l.Address.As16()
	for i := 0; b.Loop(); i++ {
		a := base
		a[14], a[15] = byte(i>>8), byte(i)
		l.Address = netip.AddrFrom16(a)
		err := s.Update(func(tx *Tx) error {
			if err := tx.PutLease(l, t0); err != nil {
				return err
			}
			return tx.PutPAD(PADEntry{Identity: l.Identity, HomeAddress: l.Address, Temporary: true})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchViewLease(b *testing.B, s *Store) {
	defer s.Close()
	l := sampleLease()
	if err := s.Update(func(tx *Tx) error { return tx.PutLease(l, t0) }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		err := s.View(func(tx *Tx) error {
			if _, ok, err := tx.Lease(l.Address); err != nil || !ok {
				b.Fatal("lease missing", err)
			}
			ls, err := tx.LeasesOf(l.Identity)
			if err != nil || len(ls) != 1 {
				b.Fatal("leases of", err)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
