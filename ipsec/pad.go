package ipsec

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// AuthMethods is the set of ways a peer may authenticate (RFC 4301 §4.4.3.2).
type AuthMethods uint8

const (
	AuthSharedSecret AuthMethods = 1 << iota
	AuthCertificate
	AuthEAP
)

func (m AuthMethods) String() string {
	var parts []string
	for _, x := range []struct {
		bit  AuthMethods
		name string
	}{{AuthSharedSecret, "shared secret"}, {AuthCertificate, "certificate"}, {AuthEAP, "EAP"}} {
		if m&x.bit != 0 {
			parts = append(parts, x.name)
		}
	}
	return strings.Join(parts, "/")
}

// PADEntry links a peer's IKE identity to how it authenticates and which
// addresses it may claim for child SAs (RFC 4301 §4.4.3, RFC 4877 §7.1).
type PADEntry struct {
	Identity string
	Auth     AuthMethods
	// ChildSAAddrs are the remote addresses (the peer's side of the traffic
	// selectors) the identity may create SAs for: a mobile node's static
	// home address, or a home agent's address on the mobile node.
	ChildSAAddrs []AddrRange
}

type padRecord struct {
	entry PADEntry
	temp  []netip.Addr // dynamically assigned home addresses (RFC 4877 §4.2)
}

// PAD is the peer authorization database. It serves the control plane
// (IKE), so one read-write lock suffices.
type PAD struct {
	mu    sync.RWMutex
	byID  map[string]*padRecord
	order []string
	owner map[netip.Addr]string // temporary home address -> identity
}

// NewPAD returns an empty PAD.
func NewPAD() *PAD {
	return &PAD{byID: map[string]*padRecord{}, owner: map[netip.Addr]string{}}
}

// Set adds or replaces the entry for e.Identity, keeping its temporary
// home addresses.
func (p *PAD) Set(e PADEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.ChildSAAddrs = slices.Clone(e.ChildSAAddrs)
	if r, ok := p.byID[e.Identity]; ok {
		r.entry = e
		return
	}
	p.byID[e.Identity] = &padRecord{entry: e}
	p.order = append(p.order, e.Identity)
}

// Remove deletes an identity and releases its temporary addresses.
func (p *PAD) Remove(identity string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.byID[identity]
	if !ok {
		return
	}
	for _, a := range r.temp {
		delete(p.owner, a)
	}
	delete(p.byID, identity)
	p.order = slices.DeleteFunc(p.order, func(s string) bool { return s == identity })
}

// Lookup returns the entry for an identity, with its temporary home
// addresses appended to ChildSAAddrs.
func (p *PAD) Lookup(identity string) (PADEntry, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r, ok := p.byID[identity]
	if !ok {
		return PADEntry{}, false
	}
	e := r.entry
	e.ChildSAAddrs = slices.Clone(e.ChildSAAddrs)
	for _, a := range r.temp {
		e.ChildSAAddrs = append(e.ChildSAAddrs, Addr(a))
	}
	return e, true
}

// Entries returns every entry in insertion order (as Lookup returns them).
func (p *PAD) Entries() []PADEntry {
	p.mu.RLock()
	ids := slices.Clone(p.order)
	p.mu.RUnlock()
	var out []PADEntry
	for _, id := range ids {
		if e, ok := p.Lookup(id); ok {
			out = append(out, e)
		}
	}
	return out
}

// Authorize reports whether identity may create child SAs whose remote
// traffic selector is r: r must lie within one of its addresses. This is
// how a home agent stops a mobile node from creating SAs for another
// node's home address (RFC 4877 §4.2).
func (p *PAD) Authorize(identity string, r AddrRange) bool {
	e, ok := p.Lookup(identity)
	if !ok || r.IsAny() {
		return false
	}
	for _, a := range e.ChildSAAddrs {
		if a.Contains(r.From) && a.Contains(r.To) {
			return true
		}
	}
	return false
}

// ClaimedError reports a home address already linked to another identity.
type ClaimedError struct {
	Addr     netip.Addr
	Identity string // current owner
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("ipsec: PAD: home address %s is already linked to %q", e.Addr, e.Identity)
}

// UnknownIdentityError reports an identity without a PAD entry.
type UnknownIdentityError struct{ Identity string }

func (e *UnknownIdentityError) Error() string {
	return fmt.Sprintf("ipsec: PAD: no entry for identity %q", e.Identity)
}

// AddTemporary links an authenticated identity to a home address just
// assigned to it (RFC 4877 §4.2, §7.1, §9). An address links to one
// identity at a time.
func (p *PAD) AddTemporary(identity string, hoa netip.Addr) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.byID[identity]
	if !ok {
		return &UnknownIdentityError{Identity: identity}
	}
	if cur, taken := p.owner[hoa]; taken {
		if cur == identity {
			return nil
		}
		return &ClaimedError{Addr: hoa, Identity: cur}
	}
	p.owner[hoa] = identity
	r.temp = append(r.temp, hoa)
	return nil
}

// RemoveTemporary unlinks a released home address.
func (p *PAD) RemoveTemporary(identity string, hoa netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.owner[hoa] != identity {
		return
	}
	delete(p.owner, hoa)
	if r, ok := p.byID[identity]; ok {
		r.temp = slices.DeleteFunc(r.temp, func(a netip.Addr) bool { return a == hoa })
	}
}

// OwnerOf returns the identity a temporary home address is linked to.
func (p *PAD) OwnerOf(hoa netip.Addr) (string, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	id, ok := p.owner[hoa]
	return id, ok
}

// Authorized reports whether identity may use home address hoa: the
// temporary link made when the address was assigned decides, else a static
// entry (RFC 4877 §4.2). With it the PAD is what the home agent core asks
// (ha.PAD).
func (p *PAD) Authorized(identity string, hoa netip.Addr) bool {
	if owner, ok := p.OwnerOf(hoa); ok {
		return owner == identity
	}
	return p.Authorize(identity, AddrRange{From: hoa, To: hoa})
}
