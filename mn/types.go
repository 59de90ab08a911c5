package mn

import (
	"net/netip"
	"time"
)

// LifetimeUnit is the unit of the Lifetime and Refresh Interval fields.
const LifetimeUnit = 4 * time.Second

// Binding Acknowledgement status values the mobile node acts on (RFC 6275
// §6.1.8).
const (
	StatusAccepted                   uint8 = 0
	StatusAcceptedPrefixDiscovery    uint8 = 1
	StatusReasonUnspecified          uint8 = 128
	StatusAdministrativelyProhibited uint8 = 129
	StatusInsufficientResources      uint8 = 130
	StatusNotHomeAgentForThisMN      uint8 = 133
	StatusSequenceOutOfWindow        uint8 = 135
)

// Action is something the caller must do; the concrete types below are the
// only implementations.
type Action interface{ action() }

// SendBindingUpdate: send a Binding Update to the home agent through the SA
// bound to the home address, outer source CareOf (RFC 4877 §3: outer
// CareOf->HomeAgent | ESP | inner HomeAddress->HomeAgent | MH BU [+ Alt-CoA]).
type SendBindingUpdate struct {
	Sequence       uint16
	Acknowledge    bool // A: always set for home registrations
	Home           bool // H: always set
	KeyMgmt        bool // K
	Lifetime       uint16
	HomeAddress    netip.Addr
	HomeAgent      netip.Addr
	CareOf         netip.Addr // outer source
	AltCoA         netip.Addr // Alternate Care-of Address option; invalid when none (de-registration at home)
	Retransmission bool
}

// MoveEndpoints: set the local outer address of our ESP tunnel SAs (and of
// the IKE SA when IKE is true) to CareOf. Sent before the BU of a move so
// that the BU and all later traffic leave from the new care-of address.
type MoveEndpoints struct {
	CareOf netip.Addr
	IKE    bool
	// ReestablishIKE: the home agent did not grant K, so the IKE SA cannot
	// follow; make a new one from CareOf (RFC 6275 §11.7.1).
	ReestablishIKE bool
}

// Registered: the home agent accepted the binding.
type Registered struct {
	CareOf   netip.Addr
	Lifetime time.Duration // granted
	Refresh  time.Time     // when the binding will be refreshed
	KeyMgmt  bool          // K granted: the IKE SA follows the care-of address
	Status   uint8         // 0, or 1 (prefix discovery necessary)
}

// TunnelActive: reverse-tunnel the home address's traffic to the home agent
// (true) or stop (false, back home and de-registered).
type TunnelActive struct{ Active bool }

// Deregistered: the home agent removed the binding (back home).
type Deregistered struct{}

// SendPrefixSolicitation: send an ICMPv6 Mobile Prefix Solicitation with
// this identifier through the tunnel (inner source the home address).
type SendPrefixSolicitation struct {
	Identifier             uint16
	HomeAddress, HomeAgent netip.Addr
}

// Rebootstrap: the home agent refused the registration or stopped
// answering; the caller runs the bootstrap again (discover a home agent, new
// IKE SA, maybe a new home address).
type Rebootstrap struct {
	Reason string
	Status uint8 // the refusing status, or 0 when the home agent vanished
}

func (SendBindingUpdate) action()      {}
func (MoveEndpoints) action()          {}
func (Registered) action()             {}
func (TunnelActive) action()           {}
func (Deregistered) action()           {}
func (SendPrefixSolicitation) action() {}
func (Rebootstrap) action()            {}

// BindingAck is a received Binding Acknowledgement, already checked to have
// arrived through the SA for our home address.
type BindingAck struct {
	Status   uint8
	KeyMgmt  bool
	Sequence uint16
	Lifetime uint16 // units of 4 s
	Refresh  uint16 // Binding Refresh Advice, units of 4 s; 0 when absent
}

// PrefixInfo is one prefix from a Mobile Prefix Advertisement.
type PrefixInfo struct {
	Prefix            netip.Prefix
	ValidLifetime     time.Duration
	PreferredLifetime time.Duration
}
