package store

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// maxCompares bounds the per-key conditions of one commit (etcd refuses
// more than --max-txn-ops, 128 by default); an Update that read more
// keys is checked per bucket instead.
const maxCompares = 96

// prefetchAfter: after this many point reads of one bucket in one
// transaction (a pool scanning for a free address) the whole bucket is
// read at once, so a scan costs one round trip, not one per address.
const prefetchAfter = 16

type etcdCached struct {
	value []byte
	rev   int64
}

type etcdWrite struct {
	value []byte
	del   bool
}

// etcdTx is one attempt of an Update, or a View. Every read is at the
// revision of the first one, so fn sees one consistent state.
type etcdTx struct {
	e        *etcdBackend
	readOnly bool
	rev      int64            // snapshot revision; 0 before the first read
	reads    map[string]int64 // key -> its mod revision at rev (0: absent)
	ranges   []string         // prefixes read whole
	readB    [numBuckets]bool // buckets read
	writes   map[string]etcdWrite
	delB     [numBuckets]bool // buckets with a delete
	gets     [numBuckets]int
	loaded   [numBuckets]map[string]etcdCached // whole buckets read at rev
	// failed is the first failed read: the attempt neither commits nor
	// returns anything else, even if fn dropped the error.
	failed error
}

// fetch reads key (or every key under it) at the snapshot revision, the
// first read fixing it.
func (t *etcdTx) fetch(key string, prefix bool) (*clientv3.GetResponse, error) {
	if t.failed != nil {
		return nil, t.failed
	}
	opts := make([]clientv3.OpOption, 0, 2)
	if prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	if t.rev != 0 {
		opts = append(opts, clientv3.WithRev(t.rev))
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.e.o.RequestTimeout)
	defer cancel()
	r, err := t.e.cli.Get(ctx, key, opts...)
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		t.failed = errStale
	case err != nil:
		t.failed = t.e.fail("read", err)
	}
	if t.failed != nil {
		return nil, t.failed
	}
	if t.rev == 0 {
		t.rev = r.Header.Revision
	}
	return r, nil
}

func (t *etcdTx) get(b bucket, raw []byte) ([]byte, error) {
	k := t.e.key(b, raw)
	if w, ok := t.writes[k]; ok {
		if w.del {
			return nil, nil
		}
		return nonNil(w.value), nil
	}
	if t.gets[b]++; t.gets[b] > prefetchAfter && t.loaded[b] == nil {
		if err := t.load(b); err != nil {
			return nil, err
		}
	}
	var c etcdCached
	if t.loaded[b] != nil {
		c = t.loaded[b][k]
	} else {
		r, err := t.fetch(k, false)
		if err != nil {
			return nil, err
		}
		if len(r.Kvs) == 1 {
			c = etcdCached{nonNil(r.Kvs[0].Value), r.Kvs[0].ModRevision}
		}
	}
	t.readB[b] = true
	if t.reads != nil {
		t.reads[k] = c.rev
	}
	return c.value, nil
}

// load reads bucket b whole at the snapshot. The range is guarded like a
// scan (nothing may appear or change in it); the keys fn then reads are
// guarded one by one as usual.
func (t *etcdTx) load(b bucket) error {
	p := t.e.bucketPrefix(b)
	r, err := t.fetch(p, true)
	if err != nil {
		return err
	}
	m := make(map[string]etcdCached, len(r.Kvs))
	for _, kv := range r.Kvs {
		m[string(kv.Key)] = etcdCached{nonNil(kv.Value), kv.ModRevision}
	}
	t.loaded[b] = m
	if t.reads != nil {
		t.ranges = append(t.ranges, p)
	}
	return nil
}

// nonNil: a present key with an empty value must not read as absent.
func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

func (t *etcdTx) put(b bucket, raw, value []byte) error {
	if t.readOnly {
		return errReadOnly
	}
	t.writes[t.e.key(b, raw)] = etcdWrite{value: value}
	return nil
}

func (t *etcdTx) del(b bucket, raw []byte) error {
	if t.readOnly {
		return errReadOnly
	}
	t.writes[t.e.key(b, raw)] = etcdWrite{del: true}
	t.delB[b] = true
	return nil
}

type etcdKV struct {
	k string
	v []byte
}

// scan reads the whole range at the snapshot, overlays this attempt's own
// writes, and calls fn in key order.
func (t *etcdTx) scan(b bucket, rawPrefix []byte, fn func(k, v []byte) error) error {
	p := t.e.key(b, rawPrefix)
	r, err := t.fetch(p, true)
	if err != nil {
		return err
	}
	t.readB[b] = true
	var kvs []etcdKV
	if t.reads != nil {
		t.ranges = append(t.ranges, p)
	}
	for _, kv := range r.Kvs {
		k := string(kv.Key)
		if t.reads != nil {
			t.reads[k] = kv.ModRevision
		}
		if _, mine := t.writes[k]; !mine {
			kvs = append(kvs, etcdKV{k, nonNil(kv.Value)})
		}
	}
	for k, w := range t.writes {
		if !w.del && strings.HasPrefix(k, p) {
			kvs = append(kvs, etcdKV{k, nonNil(w.value)})
		}
	}
	slices.SortFunc(kvs, func(a, b etcdKV) int { return strings.Compare(a.k, b.k) })
	for _, kv := range kvs {
		raw, err := t.e.rawKey(b, kv.k)
		if err != nil {
			return err
		}
		if err := fn(raw, kv.v); err != nil {
			return err
		}
	}
	return nil
}

// commit sends the buffered writes in one Txn guarded by what was read;
// false means another writer changed it since.
func (t *etcdTx) commit() (bool, error) {
	if len(t.writes) == 0 {
		return true, nil
	}
	ops := make([]clientv3.Op, 0, len(t.writes)+int(numBuckets))
	for _, k := range slices.Sorted(maps.Keys(t.writes)) {
		if w := t.writes[k]; w.del {
			ops = append(ops, clientv3.OpDelete(k))
		} else {
			ops = append(ops, clientv3.OpPut(k, string(w.value)))
		}
	}
	for b, d := range t.delB {
		if d {
			ops = append(ops, clientv3.OpPut(t.e.stampKey(bucket(b)), ""))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.e.o.RequestTimeout)
	defer cancel()
	r, err := t.e.cli.Txn(ctx).If(t.guards()...).Then(ops...).Commit()
	if err != nil {
		return false, t.e.fail("commit", err)
	}
	return r.Succeeded, nil
}

// guards: every key read still has the mod revision it had (0: still
// absent) and no key appeared in a range read; when that is too many
// conditions, no key of a bucket read changed or was deleted after the
// snapshot (coarser: may retry needlessly, never misses a change).
func (t *etcdTx) guards() []clientv3.Cmp {
	if t.rev == 0 {
		return nil
	}
	var cmps []clientv3.Cmp
	if len(t.reads)+len(t.ranges) <= maxCompares {
		for k, rev := range t.reads {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", rev))
		}
		for _, p := range t.ranges {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(p).WithPrefix(), "<", t.rev+1))
		}
		return cmps
	}
	for b, read := range t.readB {
		if read {
			cmps = append(cmps,
				clientv3.Compare(clientv3.ModRevision(t.e.bucketPrefix(bucket(b))).WithPrefix(), "<", t.rev+1),
				clientv3.Compare(clientv3.ModRevision(t.e.stampKey(bucket(b))), "<", t.rev+1))
		}
	}
	return cmps
}

func (t *etcdTx) readBucketNames() []string {
	var out []string
	for b, read := range t.readB {
		if read {
			out = append(out, bucketNames[b])
		}
	}
	return out
}
