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
//
// Several home agents serving one home link share their leases, PAD
// entries and bindings through etcd instead:
//
//	st, err := store.OpenEtcd(store.EtcdOptions{
//		Endpoints: []string{"https://[2001:db8::e1]:2379", "https://[2001:db8::e2]:2379"},
//		Prefix:    "/mip6/homelink1", TLS: tlsCfg, // store.LoadEtcdTLS(ca, cert, key)
//	})
//
// the same Store and
// Tx, the records under a key prefix per cluster (see etcdkey.go). An
// Update there is optimistic: its reads are all at one revision and
// remembered with the revision each key had, its writes are buffered, and
// the commit is one etcd Txn that applies them only if nothing read has
// changed (a key read as absent is still absent, no key appeared in a
// range read). Otherwise the function runs again on fresh data, at most
// EtcdOptions.MaxAttempts times (*ContentionError after that). Two home
// agents therefore never lease one address twice: both read it free, one
// commits, the other's rerun sees the lease. A View reads at one revision.
// Exchanges with etcd that fail report an *EtcdError whose Cause says
// what to check. An attempt lost to a leader election or a dead member
// (no leader, connection gone, one request unanswered) runs again too, a
// bounded number of times: it may or may not have been applied, and the
// new run decides on what is really there. So on etcd an Update's
// function must be safe to run more than once.
package store
