package ipsec

import (
	"cmp"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"mip6/esp"
)

// Direction of a packet or SA relative to this node.
type Direction = esp.Direction

// Directions.
const (
	Outbound = esp.Outbound
	Inbound  = esp.Inbound
)

// Action is what an SPD entry does with the packets it matches.
type Action uint8

const (
	Protect Action = iota + 1 // through an SA (SPD-S)
	Bypass                    // in the clear
	Discard
)

func (a Action) String() string {
	switch a {
	case Protect:
		return "PROTECT"
	case Bypass:
		return "BYPASS"
	case Discard:
		return "DISCARD"
	}
	return "?"
}

// Mode is the IPsec mode of a protected entry or an SA.
type Mode uint8

const (
	Transport Mode = iota + 1
	Tunnel
)

func (m Mode) String() string {
	switch m {
	case Transport:
		return "TRANSPORT"
	case Tunnel:
		return "TUNNEL"
	}
	return "?"
}

// Priorities order the SPD: lower first, then insertion order. Signalling
// comes before payload (RFC 4877 §7.2.4), per-MN entries before the
// generic per-HA entries that catch what no MN's entry allowed (§7.2.1).
const (
	PrioritySignalling = 100
	PriorityPayload    = 200
	PriorityGeneric    = 1000
)

// Class says which part of RFC 4877's policy an entry implements.
type Class uint8

const (
	ClassOther           Class = iota
	ClassBinding               // BU / BAck (§6.1, §7.2.1)
	ClassReturnRouting         // HoTi / HoT (§6.2, §7.2.2)
	ClassPrefixDiscovery       // MPS / MPA (§6.3, §7.2.3)
	ClassPayload               // tunnelled payload (§6.4, §7.2.4)
	ClassKeyExchange           // IKE itself, always bypassed
)

// SARef names a manually keyed SA an entry uses (RFC 4877 §6).
type SARef struct {
	SPI uint32
	Dir Direction
}

// Initiate says how a mobile node's entry starts IKE when it has no SA:
// "Initiate using IDi = user_1 to address home_agent_1" (RFC 4877 §7.2).
type Initiate struct {
	IDi  string
	Peer netip.Addr
}

// Entry is one SPD entry.
type Entry struct {
	ID       uint64 // assigned by the SPD
	Name     string // the "Name" selector: the mobile node's identity (RFC 4301 §4.4.1.1)
	Priority int
	Class    Class
	Selectors
	Action Action
	Mode   Mode
	// TunnelTo, for payload entries, names the IPv6 tunnel interface the
	// entry applies to: the home agent on the MN, the home address on the HA.
	TunnelTo netip.Addr
	SAs      []SARef   // manual keying: the SAs to use
	Initiate *Initiate // dynamic keying: how to create them
}

// SPD is an ordered security policy database: entries match in order of
// Priority, then insertion. Entries naming one address (per-MN entries name
// the home address) live in per-address buckets, the rest in one short
// list, so a lookup reads a handful of entries however many mobile nodes
// the home agent serves. Lookups take only sharded read locks and do not
// allocate; writes (from the control plane) replace the affected lists.
type SPD struct {
	mu     sync.Mutex // serialises writers and guards byID
	nextID uint64
	byID   map[uint64]*Entry
	wild   atomic.Pointer[[]*Entry]
	shards [spdShards]spdShard
	drops  policyCounters
}

const spdShards = 64

type spdShard struct {
	mu sync.RWMutex
	m  map[netip.Addr][]*Entry // each slice immutable, in match order
}

// NewSPD returns an empty SPD.
func NewSPD() *SPD {
	s := &SPD{byID: map[uint64]*Entry{}}
	s.wild.Store(&[]*Entry{})
	return s
}

// before reports whether a matches ahead of b.
func before(a, b *Entry) bool {
	return a.Priority < b.Priority || (a.Priority == b.Priority && a.ID < b.ID)
}

func compareEntries(a, b *Entry) int {
	if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

func (s *SPD) shard(a netip.Addr) *spdShard {
	b := a.As16()
	return &s.shards[(b[15]^b[13]^b[11]^b[7])%spdShards]
}

// keys returns the addresses an entry is indexed under: the single
// addresses of its selectors, none for wildcard entries.
func (e *Entry) keys() []netip.Addr {
	var k []netip.Addr
	for _, r := range [2]AddrRange{e.Local, e.Remote} {
		if a, ok := r.Single(); ok && !slices.Contains(k, a) {
			k = append(k, a)
		}
	}
	return k
}

// Add inserts entries (copied) and returns their IDs.
func (s *SPD) Add(entries ...Entry) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]uint64, len(entries))
	for i := range entries {
		s.nextID++
		e := entries[i]
		e.ID = s.nextID
		e.SAs = slices.Clone(e.SAs)
		ids[i] = e.ID
		s.byID[e.ID] = &e
		s.update(&e, func(l []*Entry) []*Entry {
			l = slices.Clone(l)
			at, _ := slices.BinarySearchFunc(l, &e, compareEntries)
			return slices.Insert(l, at, &e)
		})
	}
	return ids
}

// update replaces every list e belongs to by f(list).
func (s *SPD) update(e *Entry, f func([]*Entry) []*Entry) {
	keys := e.keys()
	if len(keys) == 0 {
		next := f(*s.wild.Load())
		s.wild.Store(&next)
		return
	}
	for _, a := range keys {
		sh := s.shard(a)
		sh.mu.Lock()
		if sh.m == nil {
			sh.m = map[netip.Addr][]*Entry{}
		}
		if l := f(sh.m[a]); len(l) > 0 {
			sh.m[a] = l
		} else {
			delete(sh.m, a)
		}
		sh.mu.Unlock()
	}
}

// Remove deletes the entries with the given IDs.
func (s *SPD) Remove(ids ...uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.removeLocked(id)
	}
}

func (s *SPD) removeLocked(id uint64) {
	e, ok := s.byID[id]
	if !ok {
		return
	}
	delete(s.byID, id)
	s.update(e, func(l []*Entry) []*Entry {
		return slices.DeleteFunc(slices.Clone(l), func(x *Entry) bool { return x == e })
	})
}

// RemoveName deletes every entry created for one mobile node identity, e.g.
// when its IKE SA goes away or its temporary home address is released.
func (s *SPD) RemoveName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range s.byID {
		if e.Name == name {
			s.removeLocked(id)
		}
	}
}

// Entries returns all entries in match order. They are shared: callers
// must not modify them.
func (s *SPD) Entries() []*Entry {
	s.mu.Lock()
	out := make([]*Entry, 0, len(s.byID))
	for _, e := range s.byID {
		out = append(out, e)
	}
	s.mu.Unlock()
	slices.SortFunc(out, compareEntries)
	return out
}

// ByName returns the entries of one identity, in match order.
func (s *SPD) ByName(name string) []*Entry {
	return slices.DeleteFunc(s.Entries(), func(e *Entry) bool { return e.Name != name })
}

// Get returns the entry with the given ID.
func (s *SPD) Get(id uint64) (*Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	return e, ok
}

// Lookup returns the first entry matching the packet, or nil when none
// does (the caller applies its default, normally DISCARD).
func (s *SPD) Lookup(dir Direction, p *Packet) *Entry {
	best := firstMatch(s.bucket(p.Local), nil, dir, p)
	if p.Remote != p.Local {
		best = firstMatch(s.bucket(p.Remote), best, dir, p)
	}
	return firstMatch(*s.wild.Load(), best, dir, p)
}

func (s *SPD) bucket(a netip.Addr) []*Entry {
	sh := s.shard(a)
	sh.mu.RLock()
	l := sh.m[a]
	sh.mu.RUnlock()
	return l
}

// firstMatch returns the first entry of list (in match order) that matches
// and comes before best, or best.
func firstMatch(list []*Entry, best *Entry, dir Direction, p *Packet) *Entry {
	for _, e := range list {
		if best != nil && !before(e, best) {
			break
		}
		if e.Matches(dir, p) {
			return e
		}
	}
	return best
}
