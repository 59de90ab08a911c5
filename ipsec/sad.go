package ipsec

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"mip6/esp"
)

// SAEntry is one SAD entry: the ESP SA with what the policy needs to know
// about it.
type SAEntry struct {
	SA   *esp.SA
	Mode Mode
	// Dst is the SA's destination as RFC 4877 §6 writes it: the outer
	// destination in tunnel mode, the packet's destination in transport mode.
	Dst   netip.Addr
	Class Class
	// Selectors of the SA from its sender's view: Local is the sending side,
	// LocalPort carries the MH or ICMPv6 type the SA protects.
	Selectors Selectors
	// Identity is the IKE identity the SA was negotiated with and
	// HomeAddress the home address it was created for (RFC 4877 §4.2):
	// the home agent accepts a Binding Update for a home address only on
	// an SA created for it.
	Identity    string
	HomeAddress netip.Addr
	// PolicyID is the SPD entry an outbound SA serves.
	PolicyID uint64
}

// SPI returns the SA's SPI.
func (e *SAEntry) SPI() uint32 { return e.SA.SPI() }

// Dir returns the SA's direction.
func (e *SAEntry) Dir() Direction { return e.SA.Direction() }

// Allows reports whether a packet carried by this SA lies within its
// selectors (RFC 4301 §5.2 step 4 for inbound SAs: the decrypted packet
// must be one the SA was negotiated for).
func (e *SAEntry) Allows(p *Packet) bool {
	if e.Dir() == Outbound {
		return e.Selectors.Matches(Outbound, p)
	}
	// Seen from the sender, the inbound packet is outbound.
	s := Packet{Local: p.Remote, Remote: p.Local, Proto: p.Proto, LocalPort: p.RemotePort, RemotePort: p.LocalPort}
	return e.Selectors.Matches(Outbound, &s)
}

// CreatedFor reports whether the SA was created for home address hoa: the
// check a home agent makes before accepting a Binding Update (RFC 4877
// §4.2, second bullet).
func (e *SAEntry) CreatedFor(hoa netip.Addr) bool {
	return e.HomeAddress.IsValid() && e.HomeAddress == hoa
}

const sadShards = 64

// SAD holds the SAs: inbound ones by SPI, outbound ones by the SPD entry
// they serve. Lookups take a sharded read lock and do not allocate.
type SAD struct {
	in         [sadShards]sadShard[uint32]
	out        [sadShards]sadShard[uint64]
	unknownSPI atomic.Uint64
}

type sadShard[K comparable] struct {
	mu sync.RWMutex
	m  map[K]*SAEntry
}

func (s *sadShard[K]) get(k K) *SAEntry {
	s.mu.RLock()
	e := s.m[k]
	s.mu.RUnlock()
	return e
}

func (s *sadShard[K]) put(k K, e *SAEntry) {
	s.mu.Lock()
	if s.m == nil {
		s.m = map[K]*SAEntry{}
	}
	s.m[k] = e
	s.mu.Unlock()
}

func (s *sadShard[K]) del(k K, e *SAEntry) {
	s.mu.Lock()
	if s.m[k] == e {
		delete(s.m, k)
	}
	s.mu.Unlock()
}

// NewSAD returns an empty SAD.
func NewSAD() *SAD { return &SAD{} }

// DuplicateSPIError reports an inbound SPI already in use.
type DuplicateSPIError struct{ SPI uint32 }

func (e *DuplicateSPIError) Error() string {
	return fmt.Sprintf("ipsec: SAD: inbound SPI 0x%08x already in use", e.SPI)
}

// Add installs an SA. Inbound SPIs must be unique; an outbound SA replaces
// the previous one of its policy (rekeying), which stays reachable to the
// caller for deletion.
func (d *SAD) Add(e *SAEntry) error {
	if e.Dir() == Inbound {
		sh := &d.in[e.SPI()%sadShards]
		sh.mu.Lock()
		defer sh.mu.Unlock()
		if sh.m == nil {
			sh.m = map[uint32]*SAEntry{}
		}
		if _, dup := sh.m[e.SPI()]; dup {
			return &DuplicateSPIError{SPI: e.SPI()}
		}
		sh.m[e.SPI()] = e
		return nil
	}
	d.out[e.PolicyID%sadShards].put(e.PolicyID, e)
	return nil
}

// Remove deletes an SA.
func (d *SAD) Remove(e *SAEntry) {
	if e.Dir() == Inbound {
		d.in[e.SPI()%sadShards].del(e.SPI(), e)
		return
	}
	d.out[e.PolicyID%sadShards].del(e.PolicyID, e)
}

// Inbound returns the SA for an arriving packet's SPI, or nil, counting
// unknown SPIs.
func (d *SAD) Inbound(spi uint32) *SAEntry {
	e := d.in[spi%sadShards].get(spi)
	if e == nil {
		d.unknownSPI.Add(1)
	}
	return e
}

// Outbound returns the SA that protects traffic of an SPD entry, or nil
// when it must be negotiated first.
func (d *SAD) Outbound(policyID uint64) *SAEntry {
	return d.out[policyID%sadShards].get(policyID)
}

// UnknownSPI is the number of inbound packets whose SPI matched no SA.
func (d *SAD) UnknownSPI() uint64 { return d.unknownSPI.Load() }

// All returns every SA, outbound ones first, each group ordered by SPI.
func (d *SAD) All() []*SAEntry {
	var out, in []*SAEntry
	for i := range d.out {
		out = d.out[i].appendTo(out)
		in = d.in[i].appendTo(in)
	}
	bySPI := func(a, b *SAEntry) int { return int(int64(a.SPI()) - int64(b.SPI())) }
	slices.SortFunc(out, bySPI)
	slices.SortFunc(in, bySPI)
	return append(out, in...)
}

// ByIdentity returns the SAs negotiated with one identity.
func (d *SAD) ByIdentity(id string) []*SAEntry {
	return slices.DeleteFunc(d.All(), func(e *SAEntry) bool { return e.Identity != id })
}

func (s *sadShard[K]) appendTo(list []*SAEntry) []*SAEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.m {
		list = append(list, e)
	}
	return list
}
