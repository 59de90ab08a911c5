package ha

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Binding is a binding cache entry (RFC 6275 §9.1), marked as a home
// registration, with the security context it was registered through.
type Binding struct {
	HomeAddress netip.Addr
	CareOf      netip.Addr
	CareOfPort  uint16 // UDP source port of ESP-in-UDP, 0 for raw ESP
	Sequence    uint16 // last accepted sequence number
	KeyMgmt     bool   // K negotiated: the IKE SA follows the care-of address
	LinkLocal   bool   // L: defend the link-local address derived from the HoA too
	Lifetime    time.Duration
	Registered  time.Time // first registration of this binding
	Updated     time.Time // last accepted Binding Update
	Expires     time.Time
	Identity    string // peer identity of the SA it was registered through
	SA          SAID   // that SA
	IKESA       uint64 // the IKE SA that created SA
}

// cacheShards is a power of two; the shard is picked by a hash of the home
// address so that registrations for different MNs rarely contend.
const cacheShards = 256

type shard struct {
	mu sync.RWMutex
	m  map[netip.Addr]*Binding
	// minExpires is at most the earliest expiry in the shard (zero: empty),
	// so that Expire skips shards with nothing due.
	minExpires time.Time
	_          [16]byte // keep neighbouring shard locks on separate cache lines
}

// noteExpiry keeps minExpires a lower bound; called with s.mu held.
func (s *shard) noteExpiry(t time.Time) {
	if s.minExpires.IsZero() || t.Before(s.minExpires) {
		s.minExpires = t
	}
}

// Cache is the binding cache, sharded by home address. Safe for concurrent
// use.
type Cache struct {
	shards [cacheShards]shard
	n      atomic.Int64
}

func newCache() *Cache {
	c := &Cache{}
	for i := range c.shards {
		c.shards[i].m = make(map[netip.Addr]*Binding)
	}
	return c
}

func (c *Cache) shardFor(a netip.Addr) *shard {
	b := a.As16()
	x := binary.LittleEndian.Uint64(b[:8]) ^ binary.LittleEndian.Uint64(b[8:])*0x9e3779b97f4a7c15
	x ^= x >> 29
	x *= 0xbf58476d1ce4e5b9
	return &c.shards[x>>56&(cacheShards-1)]
}

// Lookup returns a copy of the binding for a home address.
func (c *Cache) Lookup(hoa netip.Addr) (Binding, bool) {
	s := c.shardFor(hoa)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if b := s.m[hoa]; b != nil {
		return *b, true
	}
	return Binding{}, false
}

// Len returns the number of bindings.
func (c *Cache) Len() int { return int(c.n.Load()) }

// Range calls f with a copy of every binding until f returns false. Each
// shard is locked only while it is visited.
func (c *Cache) Range(f func(Binding) bool) {
	var buf []Binding
	for i := range c.shards {
		s := &c.shards[i]
		buf = buf[:0]
		s.mu.RLock()
		for _, b := range s.m {
			buf = append(buf, *b)
		}
		s.mu.RUnlock()
		for _, b := range buf {
			if !f(b) {
				return
			}
		}
	}
}

// expire removes bindings whose lifetime ended at or before now, appending
// them to out, and returns the earliest remaining expiry (zero if none).
func (c *Cache) expire(now time.Time, out []Binding) ([]Binding, time.Time) {
	var next time.Time
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		if s.minExpires.IsZero() || s.minExpires.After(now) {
			if !s.minExpires.IsZero() && (next.IsZero() || s.minExpires.Before(next)) {
				next = s.minExpires
			}
			s.mu.Unlock()
			continue
		}
		s.minExpires = time.Time{}
		for hoa, b := range s.m {
			if !b.Expires.After(now) {
				out = append(out, *b)
				delete(s.m, hoa)
				c.n.Add(-1)
				continue
			}
			s.noteExpiry(b.Expires)
		}
		if !s.minExpires.IsZero() && (next.IsZero() || s.minExpires.Before(next)) {
			next = s.minExpires
		}
		s.mu.Unlock()
	}
	return out, next
}
