package store

import (
	"net/netip"
	"path/filepath"
	"testing"
)

// BenchmarkBoltUpdateLease is one lease write (lease, identity index and
// PAD entry) per bbolt Update, fsync included.
func BenchmarkBoltUpdateLease(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "s.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l := sampleLease()
	base := l.Address.As16()
	b.ResetTimer()
	for i := range b.N {
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

// BenchmarkBoltViewLease is one lease lookup plus the identity's leases
// per bbolt View.
func BenchmarkBoltViewLease(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "s.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l := sampleLease()
	if err := s.Update(func(tx *Tx) error { return tx.PutLease(l, t0) }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
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
