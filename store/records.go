package store

import (
	"net/netip"
	"time"
)

// MaxIdentityLen bounds stored identities (an NAI is at most 253 octets,
// RFC 7542; certificates' subject names may be longer).
const MaxIdentityLen = 1024

// SARef names the IKE SA a lease belongs to by its SPIs (RFC 7296 §3.1).
type SARef struct {
	SPIi, SPIr uint64
}

// LeaseSource says where a home address came from.
type LeaseSource uint8

const (
	SourcePool   LeaseSource = 1 // the home agent's local pool
	SourceDHCPv6 LeaseSource = 2 // a DHCPv6 server on the home link
)

func (s LeaseSource) String() string {
	switch s {
	case SourcePool:
		return "pool"
	case SourceDHCPv6:
		return "dhcpv6"
	}
	return "unknown"
}

// Lease is one home address assigned to one authenticated identity.
type Lease struct {
	Address   netip.Addr
	PrefixLen uint8 // length of the home prefix (CFG_REPLY INTERNAL_IP6_ADDRESS)
	Identity  string
	Expiry    time.Time // zero: no expiry; follows the IKE SA
	// RenewAt is when the address's source must be asked to extend it
	// (DHCPv6 T1); zero when nothing needs renewing.
	RenewAt time.Time
	IKESA   SARef
	Source  LeaseSource
	// DHCPv6 leases: the server that granted it and the IA_NA's IAID, so a
	// restarted home agent can Renew and Release it.
	ServerDUID []byte
	IAID       uint32
}

// Live reports whether the lease still holds at now.
func (l Lease) Live(now time.Time) bool {
	return l.Expiry.IsZero() || now.Before(l.Expiry)
}

// Binding is a binding cache entry (RFC 6275 §9.1).
type Binding struct {
	HomeAddress   netip.Addr
	CareOfAddress netip.Addr
	Identity      string
	Sequence      uint16
	Lifetime      time.Duration
	Expiry        time.Time
}

// PADEntry is a peer authorization database entry linking an IKE identity
// to a home address it may use (RFC 4877 §4.4). Temporary entries exist
// only while the matching lease does.
type PADEntry struct {
	Identity    string
	HomeAddress netip.Addr
	Temporary   bool
	Expiry      time.Time
}
