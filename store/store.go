package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"golang.org/x/sys/unix"
)

var (
	boltBuckets = func() (n [numBuckets][]byte) {
		for i, s := range bucketNames {
			n[i] = []byte(s)
		}
		return n
	}()
	keySchema      = []byte("schema")
	schemaVersion1 = []byte{1}
)

// Options tune Open.
type Options struct {
	// Timeout bounds the wait for the file lock another process holds
	// (default 1 s).
	Timeout time.Duration
	// Mode is the file's permission when created (default 0600).
	Mode fs.FileMode
}

// OpenCause classifies why Open failed.
type OpenCause int

const (
	CauseOther       OpenCause = iota
	CauseNotWritable           // directory or file not writable, or path not a file
	CauseLocked                // another process holds the lock
	CauseNotAStore             // the file is not a bbolt store of ours, or is damaged
)

// OpenError tells the operator what to fix.
type OpenError struct {
	Path    string
	Cause   OpenCause
	Timeout time.Duration // for CauseLocked
	Err     error
}

func (e *OpenError) Error() string {
	switch e.Cause {
	case CauseNotWritable:
		return fmt.Sprintf("store: open %s: not writable (check the directory exists and its permissions): %v", e.Path, e.Err)
	case CauseLocked:
		return fmt.Sprintf("store: open %s: locked by another process (waited %v); stop the other home agent or give this one its own store file", e.Path, e.Timeout)
	case CauseNotAStore:
		return fmt.Sprintf("store: open %s: not a mip6 store or damaged (move it away to start empty): %v", e.Path, e.Err)
	}
	return fmt.Sprintf("store: open %s: %v", e.Path, e.Err)
}

func (e *OpenError) Unwrap() error { return e.Err }

// Store is an open store: a bbolt file (Open) or a prefix in an etcd
// cluster shared by several home agents (OpenEtcd). It is safe for
// concurrent use.
type Store struct {
	b    backend
	path string
}

// Open opens or creates the store at path.
func Open(path string, o Options) (*Store, error) {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.Mode == 0 {
		o.Mode = 0o600
	}
	if err := checkWritable(path); err != nil {
		return nil, &OpenError{Path: path, Cause: CauseNotWritable, Err: err}
	}
	db, err := bolt.Open(path, o.Mode, &bolt.Options{Timeout: o.Timeout})
	if err != nil {
		return nil, classifyOpen(path, o.Timeout, err)
	}
	if err := db.Update(initBuckets); err != nil {
		db.Close()
		return nil, &OpenError{Path: path, Cause: CauseNotAStore, Err: err}
	}
	return &Store{b: boltBackend{db}, path: path}, nil
}

// checkWritable catches what the process cannot fix itself before bbolt
// reports it less clearly; root passes permission bits anyway.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	case err == nil:
		if unix.Access(path, unix.R_OK|unix.W_OK) != nil {
			return fmt.Errorf("%s is not readable and writable by this user (uid %d)", path, os.Geteuid())
		}
	case unix.Access(dir, unix.W_OK|unix.X_OK) != nil:
		return fmt.Errorf("cannot create files in %s as this user (uid %d)", dir, os.Geteuid())
	}
	return nil
}

func classifyOpen(path string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return &OpenError{Path: path, Cause: CauseLocked, Timeout: timeout, Err: err}
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EISDIR):
		return &OpenError{Path: path, Cause: CauseNotWritable, Err: err}
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return &OpenError{Path: path, Cause: CauseNotAStore, Err: err}
	}
	return &OpenError{Path: path, Cause: CauseOther, Err: err}
}

func initBuckets(tx *bolt.Tx) error {
	for _, name := range boltBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(boltBuckets[bMeta])
	switch v := meta.Get(keySchema); {
	case v == nil:
		return meta.Put(keySchema, schemaVersion1)
	case len(v) != 1 || v[0] != schemaVersion1[0]:
		return fmt.Errorf("schema version %x not supported", v)
	}
	return nil
}

// Path is the file the store lives in; for an etcd store,
// "etcd:" + the endpoints + the key prefix.
func (s *Store) Path() string { return s.path }

// Close releases the file and its lock, or the etcd connection.
func (s *Store) Close() error { return s.b.close() }

// Update runs fn in a read-write transaction: everything fn writes is
// committed if it returns nil and discarded otherwise. On etcd fn may run
// more than once (the transaction is retried when another home agent
// changed what fn read), so fn must not have effects outside the Tx
// except setting results that each run overwrites.
func (s *Store) Update(fn func(*Tx) error) error { return s.b.update(fn) }

// View runs fn in a read-only transaction; it sees one consistent state.
func (s *Store) View(fn func(*Tx) error) error { return s.b.view(fn) }
