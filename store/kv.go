package store

import (
	"bytes"
	"errors"

	bolt "go.etcd.io/bbolt"
)

// bucket names one record family; both backends key records the same way
// inside it (see tx.go: addrKey, idKey).
type bucket uint8

const (
	bLeases   bucket = iota // address(16) -> lease
	bLeaseIDs               // identity 0x00 address(16) -> nil
	bBindings               // home address(16) -> binding
	bPAD                    // identity 0x00 address(16) -> PAD entry
	bMeta                   // "schema" -> 1; "u:"+key for users
	numBuckets
)

var bucketNames = [numBuckets]string{"leases", "lease-ids", "bindings", "pad", "meta"}

func (b bucket) String() string { return bucketNames[b] }

// kv is what a Tx needs from a backend's transaction. Values handed to
// scan's fn and returned by get are valid until the transaction ends.
type kv interface {
	get(b bucket, key []byte) ([]byte, error)
	put(b bucket, key, value []byte) error
	del(b bucket, key []byte) error
	// scan calls fn for every key starting with prefix (nil: every key),
	// in key order.
	scan(b bucket, prefix []byte, fn func(k, v []byte) error) error
}

// backend is one kind of storage under a Store.
type backend interface {
	update(fn func(*Tx) error) error
	view(fn func(*Tx) error) error
	close() error
}

// boltKV is a bbolt transaction; every bucket exists (Open creates them).
type boltKV struct{ tx *bolt.Tx }

var errReadOnly = errors.New("store: write in a read-only transaction (View)")

func (k boltKV) bucket(b bucket) *bolt.Bucket { return k.tx.Bucket(boltBuckets[b]) }

func (k boltKV) get(b bucket, key []byte) ([]byte, error) { return k.bucket(b).Get(key), nil }

func (k boltKV) put(b bucket, key, value []byte) error {
	return k.bucket(b).Put(key, value)
}

func (k boltKV) del(b bucket, key []byte) error { return k.bucket(b).Delete(key) }

func (k boltKV) scan(b bucket, prefix []byte, fn func(k, v []byte) error) error {
	c := k.bucket(b).Cursor()
	for key, v := c.Seek(prefix); key != nil && bytes.HasPrefix(key, prefix); key, v = c.Next() {
		if err := fn(key, v); err != nil {
			return err
		}
	}
	return nil
}

type boltBackend struct{ db *bolt.DB }

func (s boltBackend) update(fn func(*Tx) error) error {
	return s.db.Update(func(btx *bolt.Tx) error { return runTx(boltKV{btx}, fn) })
}

func (s boltBackend) view(fn func(*Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error { return runTx(boltKV{btx}, fn) })
}

func (s boltBackend) close() error { return s.db.Close() }

// runTx runs fn on a Tx over k; an error a Tx method could not return
// (Meta's read) fails the transaction.
func runTx(k kv, fn func(*Tx) error) error {
	tx := Tx{kv: k}
	err := fn(&tx)
	if tx.err != nil {
		return tx.err
	}
	return err
}
