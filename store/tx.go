package store

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"
)

// Tx is a transaction handed to Update or View. It is valid only inside
// that callback.
type Tx struct {
	kv  kv
	err error // a failed read of a method that returns no error (Meta)
	// lookup is the key of a point read; bbolt keeps the keys of writes
	// for the transaction's life, so those get their own.
	lookup [16]byte
}

// lookupKey is a's key for a read, without allocating.
func (t *Tx) lookupKey(a netip.Addr) []byte {
	t.lookup = a.As16()
	return t.lookup[:]
}

// ConflictError is returned when a lease would give an address that is
// live-leased to one identity to another.
type ConflictError struct {
	Address netip.Addr
	Holder  string // identity holding the live lease
	Wanted  string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("store: home address %v is leased to %q, refusing it to %q", e.Address, e.Holder, e.Wanted)
}

// InvalidError reports a record that cannot be stored.
type InvalidError struct {
	Record string
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("store: %s: %s", e.Record, e.Reason)
}

func addrKey(a netip.Addr) []byte {
	v := a.As16()
	return v[:]
}

func idKey(identity string, a netip.Addr) []byte {
	v := a.As16()
	k := make([]byte, 0, len(identity)+17)
	k = append(k, identity...)
	k = append(k, 0)
	return append(k, v[:]...)
}

func idPrefix(identity string) []byte {
	return append([]byte(identity), 0)
}

func checkAddr(rec string, a netip.Addr) error {
	if !a.Is6() || a.Is4In6() || a.IsUnspecified() {
		return &InvalidError{rec, fmt.Sprintf("address %v is not a usable IPv6 address", a)}
	}
	return nil
}

func checkID(rec, id string) error {
	if id == "" {
		return &InvalidError{rec, "empty identity"}
	}
	if len(id) > MaxIdentityLen {
		return &InvalidError{rec, fmt.Sprintf("identity length %d exceeds %d", len(id), MaxIdentityLen)}
	}
	if bytes.IndexByte([]byte(id), 0) >= 0 {
		return &InvalidError{rec, "identity contains a NUL octet"}
	}
	return nil
}

// Lease returns the lease of address a, live or not.
func (t *Tx) Lease(a netip.Addr) (Lease, bool, error) {
	var l Lease
	v, err := t.kv.get(bLeases, t.lookupKey(a))
	if v == nil || err != nil {
		return l, false, err
	}
	return l, true, DecodeLease(v, &l)
}

// LeasesOf returns every lease (live or not) held by identity.
func (t *Tx) LeasesOf(identity string) ([]Lease, error) {
	var out []Lease
	p := idPrefix(identity)
	err := t.kv.scan(bLeaseIDs, p, func(k, _ []byte) error {
		if len(k) != len(p)+16 {
			return nil
		}
		l, ok, err := t.Lease(netip.AddrFrom16([16]byte(k[len(p):])))
		if ok {
			out = append(out, l)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutLease writes l. An existing lease of the same address that is live at
// now and held by another identity makes it fail with *ConflictError; an
// expired one of another identity is replaced, with its PAD entry.
func (t *Tx) PutLease(l Lease, now time.Time) error {
	if err := checkAddr("lease", l.Address); err != nil {
		return err
	}
	if err := checkID("lease", l.Identity); err != nil {
		return err
	}
	if len(l.ServerDUID) > 255 || l.PrefixLen > 128 {
		return &InvalidError{"lease", "server DUID longer than 255 octets or prefix length over 128"}
	}
	old, ok, err := t.Lease(l.Address)
	if err != nil {
		return err
	}
	if ok && old.Identity != l.Identity {
		if old.Live(now) {
			return &ConflictError{Address: l.Address, Holder: old.Identity, Wanted: l.Identity}
		}
		if err := t.DeleteLease(l.Address); err != nil {
			return err
		}
	}
	if err := t.kv.put(bLeases, addrKey(l.Address), AppendLease(nil, &l)); err != nil {
		return err
	}
	return t.kv.put(bLeaseIDs, idKey(l.Identity, l.Address), nil)
}

// DeleteLease removes the lease of a, its identity index and the PAD entry
// of that identity for a. Deleting a missing lease is no error.
func (t *Tx) DeleteLease(a netip.Addr) error {
	old, ok, err := t.Lease(a)
	if err != nil || !ok {
		return err
	}
	if err := t.kv.del(bLeases, addrKey(a)); err != nil {
		return err
	}
	if err := t.kv.del(bLeaseIDs, idKey(old.Identity, a)); err != nil {
		return err
	}
	return t.DeletePAD(old.Identity, a)
}

// ForEachLease calls fn for every lease in address order; fn must not
// modify the store.
func (t *Tx) ForEachLease(fn func(Lease) error) error {
	return t.kv.scan(bLeases, nil, func(_, v []byte) error {
		var l Lease
		if err := DecodeLease(v, &l); err != nil {
			return err
		}
		return fn(l)
	})
}

// PutBinding writes the binding cache entry of b.HomeAddress.
func (t *Tx) PutBinding(b Binding) error {
	if err := checkAddr("binding", b.HomeAddress); err != nil {
		return err
	}
	if len(b.Identity) > MaxIdentityLen {
		return &InvalidError{"binding", "identity too long"}
	}
	return t.kv.put(bBindings, addrKey(b.HomeAddress), AppendBinding(nil, &b))
}

// Binding returns the binding of home address hoa.
func (t *Tx) Binding(hoa netip.Addr) (Binding, bool, error) {
	var b Binding
	v, err := t.kv.get(bBindings, t.lookupKey(hoa))
	if v == nil || err != nil {
		return b, false, err
	}
	return b, true, DecodeBinding(v, &b)
}

// DeleteBinding removes the binding of hoa.
func (t *Tx) DeleteBinding(hoa netip.Addr) error {
	return t.kv.del(bBindings, addrKey(hoa))
}

// ForEachBinding calls fn for every binding.
func (t *Tx) ForEachBinding(fn func(Binding) error) error {
	return t.kv.scan(bBindings, nil, func(_, v []byte) error {
		var b Binding
		if err := DecodeBinding(v, &b); err != nil {
			return err
		}
		return fn(b)
	})
}

// PutPAD writes a PAD entry.
func (t *Tx) PutPAD(p PADEntry) error {
	if err := checkAddr("pad", p.HomeAddress); err != nil {
		return err
	}
	if err := checkID("pad", p.Identity); err != nil {
		return err
	}
	return t.kv.put(bPAD, idKey(p.Identity, p.HomeAddress), AppendPAD(nil, &p))
}

// PAD returns the PAD entries of identity.
func (t *Tx) PAD(identity string) ([]PADEntry, error) {
	var out []PADEntry
	p := idPrefix(identity)
	err := t.kv.scan(bPAD, p, func(k, v []byte) error {
		if len(k) != len(p)+16 {
			return nil
		}
		var e PADEntry
		if err := DecodePAD(v, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeletePAD removes identity's PAD entry for hoa.
func (t *Tx) DeletePAD(identity string, hoa netip.Addr) error {
	return t.kv.del(bPAD, idKey(identity, hoa))
}

// ForEachPAD calls fn for every PAD entry.
func (t *Tx) ForEachPAD(fn func(PADEntry) error) error {
	return t.kv.scan(bPAD, nil, func(_, v []byte) error {
		var e PADEntry
		if err := DecodePAD(v, &e); err != nil {
			return err
		}
		return fn(e)
	})
}

// Meta returns a copy of the value stored under key in the meta bucket
// (for users' small bookkeeping, such as an allocation cursor). A failed
// read (etcd unreachable) returns nil and fails the whole transaction.
func (t *Tx) Meta(key string) []byte {
	v, err := t.kv.get(bMeta, []byte("u:"+key))
	if err != nil && t.err == nil {
		t.err = err
	}
	return bytes.Clone(v)
}

// SetMeta stores value under key in the meta bucket.
func (t *Tx) SetMeta(key string, value []byte) error {
	return t.kv.put(bMeta, []byte("u:"+key), value)
}
