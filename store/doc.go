// Package store keeps what a home agent must not forget across a restart:
// home-address leases (address -> identity, expiry, IKE SA reference),
// bindings (home address -> care-of address, sequence, lifetime, expiry)
// and PAD entries (identity -> home address), in one embedded bbolt file.
//
// Use:
//
//	st, err := store.Open("/var/lib/mip6/ha.db", store.Options{})
//	err = st.Update(func(tx *store.Tx) error {
//		if err := tx.PutLease(l); err != nil { return err }
//		return tx.PutPAD(store.PADEntry{Identity: l.Identity, HomeAddress: l.Address})
//	})
//
// Everything written in one Update is committed together or not at all, so
// a lease and its PAD entry never exist one without the other. Leases are
// keyed by address, which makes "one address, one identity" a property of
// the file: PutLease refuses an address live-leased to another identity.
//
// Records are encoded compactly: one version byte followed by fixed-width
// and length-prefixed fields (see codec.go). Decoding checks every length
// and reports a *DecodeError naming the record and field.
//
// Open reports an *OpenError whose Cause tells the operator what to fix:
// the path is not writable, another process holds the file's lock (bbolt's
// flock, waited for Options.Timeout), or the file is not a store.
package store
