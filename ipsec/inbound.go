package ipsec

import (
	"fmt"
	"sync/atomic"
)

// PolicyDrop classifies packets the SPD refused (RFC 4301 §5.2).
type PolicyDrop uint8

const (
	DropUnprotected      PolicyDrop = iota + 1 // arrived in the clear, the SPD says PROTECT
	DropDiscardPolicy                          // matched a DISCARD entry
	DropNoPolicy                               // matched nothing, and the default is DISCARD
	DropSelectorMismatch                       // decrypted packet outside its SA's selectors
	numPolicyDrops
)

var policyDropNames = [...]string{
	DropUnprotected: "unprotected", DropDiscardPolicy: "discard policy",
	DropNoPolicy: "no policy", DropSelectorMismatch: "selector mismatch",
}

func (d PolicyDrop) String() string {
	if d > 0 && d < numPolicyDrops {
		return policyDropNames[d]
	}
	return fmt.Sprintf("policy-drop(%d)", uint8(d))
}

// policyCounters live in the SPD, updated atomically on the packet path.
type policyCounters [numPolicyDrops]atomic.Uint64

// Drops returns how many packets the SPD refused for reason d.
func (s *SPD) Drops(d PolicyDrop) uint64 {
	if d > 0 && d < numPolicyDrops {
		return s.drops[d].Load()
	}
	return 0
}

// AdmitClear decides on an inbound packet that carried no ESP: only a
// BYPASS entry (or, when no entry matches, a BYPASS default) lets it in.
// Refusals are counted by reason.
func (s *SPD) AdmitClear(p *Packet, def Action) bool {
	e := s.Lookup(Inbound, p)
	action := def
	if e != nil {
		action = e.Action
	}
	switch {
	case action == Bypass:
		return true
	case action == Protect:
		s.drops[DropUnprotected].Add(1)
	case e == nil:
		s.drops[DropNoPolicy].Add(1)
	default:
		s.drops[DropDiscardPolicy].Add(1)
	}
	return false
}

// AdmitProtected decides on an inbound packet that its SA decrypted: the
// packet must lie within the SA's selectors (RFC 4301 §5.2 step 4; this is
// what keeps one mobile node's SA from carrying another's home address).
func (s *SPD) AdmitProtected(sa *SAEntry, p *Packet) bool {
	if sa.Allows(p) {
		return true
	}
	s.drops[DropSelectorMismatch].Add(1)
	return false
}
