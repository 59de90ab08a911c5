package lease

import (
	"errors"
	"fmt"
	"net/netip"

	"mip6/store"
)

// Fallback assigns from a DHCPv6 server and, when the server does not
// answer (or, with OnRefusal, refuses), from a local pool. The two must
// hand out disjoint ranges of the home prefix. Renew and Release go to
// whichever source granted the lease (store.Lease.Source).
type Fallback struct {
	DHCPv6 *DHCPv6
	Pool   *Pool
	// OnRefusal also falls back when the server refuses (NoAddrsAvail...).
	OnRefusal bool
}

// Assign implements Assigner. An identity's live lease is kept by the
// source that granted it.
func (f *Fallback) Assign(identity string, suggested netip.Addr) (netip.Prefix, error) {
	var cur store.Lease
	var have bool
	err := f.Pool.cfg.Store.View(func(tx *store.Tx) error {
		var err error
		cur, have, err = liveLeaseOf(tx, &f.Pool.cfg.Policy, identity, f.Pool.cfg.Now())
		return err
	})
	if err != nil {
		return netip.Prefix{}, err
	}
	if have && cur.Source == store.SourcePool {
		return f.Pool.Assign(identity, suggested)
	}
	p, err := f.DHCPv6.Assign(identity, suggested)
	var de *DHCPv6Error
	if err == nil || !errors.As(err, &de) || (de.HasStatus && !f.OnRefusal) {
		return p, err
	}
	p, perr := f.Pool.Assign(identity, suggested)
	if perr != nil {
		return p, fmt.Errorf("%w; local pool fallback: %w", err, perr)
	}
	return p, nil
}

func (f *Fallback) source(identity string, addr netip.Addr) (Assigner, error) {
	var l store.Lease
	err := f.Pool.cfg.Store.View(func(tx *store.Tx) error {
		var err error
		l, err = heldBy(tx, identity, addr)
		return err
	})
	if err != nil {
		return nil, err
	}
	if l.Source == store.SourceDHCPv6 {
		return f.DHCPv6, nil
	}
	return f.Pool, nil
}

// Renew implements Assigner.
func (f *Fallback) Renew(identity string, addr netip.Addr) error {
	a, err := f.source(identity, addr)
	if err != nil {
		return err
	}
	return a.Renew(identity, addr)
}

// Release implements Assigner.
func (f *Fallback) Release(identity string, addr netip.Addr) error {
	a, err := f.source(identity, addr)
	var nh *NotHeldError
	if errors.As(err, &nh) && nh.Holder == "" {
		return nil
	}
	if err != nil {
		return err
	}
	return a.Release(identity, addr)
}
