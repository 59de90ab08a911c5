package lease

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"mip6/store"
)

// Assigner hands out home addresses to authenticated identities; the IKE
// engine calls it from its CP (CFG_REQUEST INTERNAL_IP6_ADDRESS) handler.
type Assigner interface {
	// Assign returns the home address (with the home prefix length) for
	// identity; suggested may be the zero Addr.
	Assign(identity string, suggested netip.Addr) (netip.Prefix, error)
	// Renew extends identity's lease of addr, on an IKE SA rekey.
	Renew(identity string, addr netip.Addr) error
	// Release ends identity's lease of addr, when its IKE SA is deleted.
	Release(identity string, addr netip.Addr) error
}

// SAReleaser is an Assigner that ends a lease only while it is still bound
// to the IKE SA that ends (lease.BindSA): home agents sharing a store hand
// a mobile node's lease to its new IKE SA when it moves to another one, and
// the old SA's end must then leave it alone. It reports whether it
// released the lease.
type SAReleaser interface {
	ReleaseSA(identity string, addr netip.Addr, sa store.SARef) (bool, error)
}

// releaseHeld deletes identity's lease of addr. With sa, a lease bound to
// another IKE SA is kept. An address nobody holds is not an error.
func releaseHeld(tx *store.Tx, identity string, addr netip.Addr, sa *store.SARef) (store.Lease, bool, error) {
	l, err := heldBy(tx, identity, addr)
	var nh *NotHeldError
	if errors.As(err, &nh) && nh.Holder == "" {
		return l, false, nil
	}
	if err != nil {
		return l, false, err
	}
	if sa != nil && l.IKESA != (store.SARef{}) && l.IKESA != *sa {
		return l, false, nil
	}
	return l, true, tx.DeleteLease(addr)
}

// Policy is what both assigners share.
type Policy struct {
	Store *store.Store
	// HomePrefix is the home link's prefix; every home address is in it.
	HomePrefix netip.Prefix
	// LeaseTime is how long a lease lasts without a Renew: the IKE SA's
	// lifetime (RFC 4877 §9). Default 24 h.
	LeaseTime time.Duration
	// Authorize, when set, is asked whether identity may use an address it
	// suggested (for example from a static PAD). Nil accepts any free
	// address in the home prefix (first come, first served: RFC 4640 §9.1).
	Authorize func(identity string, addr netip.Addr) bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (p *Policy) check() error {
	if p.Store == nil {
		return errors.New("lease: no store")
	}
	if !p.HomePrefix.IsValid() || !p.HomePrefix.Addr().Is6() || p.HomePrefix.Addr().Is4In6() {
		return fmt.Errorf("lease: home prefix %v is not an IPv6 prefix", p.HomePrefix)
	}
	p.HomePrefix = p.HomePrefix.Masked()
	if p.LeaseTime <= 0 {
		p.LeaseTime = 24 * time.Hour
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return nil
}

// suggestionUsable says whether a suggested address may be considered at
// all (whether it is free is decided in the store transaction).
func (p *Policy) suggestionUsable(identity string, a netip.Addr) bool {
	return a.IsValid() && p.HomePrefix.Contains(a) && !Reserved(p.HomePrefix, a) &&
		(p.Authorize == nil || p.Authorize(identity, a))
}

// ExhaustedError: no free address is left in the pool.
type ExhaustedError struct {
	Pool     string // "2001:db8:1::10-2001:db8:1::13"
	Size     uint64
	Identity string
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("lease: pool %s (%d addresses) exhausted: no free home address for %q", e.Pool, e.Size, e.Identity)
}

// NotHeldError: Renew or Release of an address the identity does not hold.
type NotHeldError struct {
	Identity string
	Address  netip.Addr
	Holder   string // "" when nobody holds it
}

func (e *NotHeldError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("lease: %q holds no lease of %v", e.Identity, e.Address)
	}
	return fmt.Sprintf("lease: %v is leased to %q, not to %q", e.Address, e.Holder, e.Identity)
}

// putLease writes a lease and its temporary PAD entry in one transaction
// step (the caller's Update commits both or neither).
func putLease(tx *store.Tx, l store.Lease, now time.Time) error {
	if err := tx.PutLease(l, now); err != nil {
		return err
	}
	return tx.PutPAD(store.PADEntry{Identity: l.Identity, HomeAddress: l.Address, Temporary: true, Expiry: l.Expiry})
}

// liveLeaseOf returns identity's live lease inside the home prefix.
func liveLeaseOf(tx *store.Tx, p *Policy, identity string, now time.Time) (store.Lease, bool, error) {
	ls, err := tx.LeasesOf(identity)
	if err != nil {
		return store.Lease{}, false, err
	}
	for _, l := range ls {
		if l.Live(now) && p.HomePrefix.Contains(l.Address) {
			return l, true, nil
		}
	}
	return store.Lease{}, false, nil
}

// free reports whether a is leased to nobody live at now.
func free(tx *store.Tx, a netip.Addr, now time.Time) (bool, error) {
	l, ok, err := tx.Lease(a)
	if err != nil {
		return false, err
	}
	return !ok || !l.Live(now), nil
}

// heldBy loads identity's lease of a, or a *NotHeldError.
func heldBy(tx *store.Tx, identity string, a netip.Addr) (store.Lease, error) {
	l, ok, err := tx.Lease(a)
	if err != nil {
		return l, err
	}
	if !ok {
		return l, &NotHeldError{Identity: identity, Address: a}
	}
	if l.Identity != identity {
		return l, &NotHeldError{Identity: identity, Address: a, Holder: l.Identity}
	}
	return l, nil
}

// Expired lists leases of the home prefix that expired before now.
func expired(st *store.Store, prefix netip.Prefix, now time.Time) ([]store.Lease, error) {
	var out []store.Lease
	err := st.View(func(tx *store.Tx) error {
		return tx.ForEachLease(func(l store.Lease) error {
			if !l.Live(now) && prefix.Contains(l.Address) {
				out = append(out, l)
			}
			return nil
		})
	})
	return out, err
}

// deleteIfUnchanged removes l unless it was renewed or reassigned since,
// and reports whether it did.
func deleteIfUnchanged(st *store.Store, l store.Lease, now time.Time) (bool, error) {
	gone := false
	err := st.Update(func(tx *store.Tx) error {
		gone = false // a shared (etcd) store may run this more than once
		cur, ok, err := tx.Lease(l.Address)
		if err != nil || !ok || cur.Identity != l.Identity || cur.Live(now) {
			return err
		}
		gone = true
		return tx.DeleteLease(l.Address)
	})
	return gone, err
}

// BindSA records in identity's lease of addr the IKE SA it now belongs to
// (after IKE_AUTH, and again after each IKE SA rekey), so a restarted home
// agent knows which SA each lease depends on.
func BindSA(st *store.Store, identity string, addr netip.Addr, sa store.SARef) error {
	return st.Update(func(tx *store.Tx) error {
		l, err := heldBy(tx, identity, addr)
		if err != nil {
			return err
		}
		l.IKESA = sa
		return tx.PutLease(l, time.Time{})
	})
}
