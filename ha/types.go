package ha

import (
	"net/netip"
	"time"
)

// Binding Acknowledgement status values (RFC 6275 §6.1.8).
const (
	StatusAccepted                     uint8 = 0
	StatusAcceptedPrefixDiscovery      uint8 = 1
	StatusReasonUnspecified            uint8 = 128
	StatusAdministrativelyProhibited   uint8 = 129
	StatusInsufficientResources        uint8 = 130
	StatusHomeRegistrationNotSupported uint8 = 131
	StatusNotHomeSubnet                uint8 = 132
	StatusNotHomeAgentForThisMN        uint8 = 133
	StatusDADFailed                    uint8 = 134
	StatusSequenceOutOfWindow          uint8 = 135
	StatusRegistrationTypeChange       uint8 = 139
)

// Binding Error status values (RFC 6275 §6.1.9).
const (
	ErrorUnknownBinding uint8 = 1 // no binding for a Home Address option
	ErrorUnknownMHType  uint8 = 2 // unrecognised MH Type value
)

// LifetimeUnit is the unit of the Lifetime and Refresh Interval fields.
const LifetimeUnit = 4 * time.Second

// SAID names an IPsec SA to the mobility layer (e.g. the inbound SPI, or an
// index into the SAD). Zero means none.
type SAID uint64

// SecurityContext says how a Binding Update reached the home agent: which
// SA protected it and for whom that SA was created. The IPsec layer fills it
// in; the home agent trusts only what the SAD remembers about the SA, never
// addresses from the packet, except OuterSource which it checks against the
// protected Alternate Care-of Address.
type SecurityContext struct {
	// SA is the inbound SA that protected the packet; zero when the packet
	// arrived unprotected.
	SA SAID
	// IKESA names the IKE SA that created SA (zero for manual keying); it
	// is what moves when the K flag is negotiated.
	IKESA uint64
	// Identity is the peer identity (IKE IDi, as in the PAD) the SA was
	// created for.
	Identity string
	// HomeAddress is the home address the SA was created for: the address
	// its selectors are bound to (RFC 4877 §4.2).
	HomeAddress netip.Addr
	// OuterSource is the source address of the IPv6 header that carried the
	// ESP packet: the care-of address as seen on the wire.
	OuterSource netip.Addr
	// OuterSourcePort is the UDP source port for ESP-in-UDP (0 for raw ESP).
	OuterSourcePort uint16
}

// BindingUpdate is a decoded Binding Update (RFC 6275 §6.1.7) with the
// addresses the home agent takes from its packet.
type BindingUpdate struct {
	Sequence    uint16
	Acknowledge bool   // A
	Home        bool   // H
	LinkLocal   bool   // L
	KeyMgmt     bool   // K
	Lifetime    uint16 // units of 4 s
	// HomeAddress is the inner source address (tunnelled form) or the Home
	// Address option (transport form).
	HomeAddress netip.Addr
	// AltCoA is the Alternate Care-of Address option; invalid when absent.
	AltCoA netip.Addr
}

// BindingAck is a Binding Acknowledgement to send (RFC 6275 §6.1.8), with
// where to send it.
type BindingAck struct {
	Status   uint8
	KeyMgmt  bool // K
	Sequence uint16
	Lifetime uint16 // units of 4 s
	// Refresh is the Binding Refresh Advice option's interval in units of
	// 4 s; zero means no option.
	Refresh uint16
	// HomeAgent and HomeAddress are the inner source and destination.
	HomeAgent, HomeAddress netip.Addr
	// CareOf is the outer destination (the BU's outer source); SA is the
	// inbound SA the BU came through, whose outbound peer carries the ack.
	CareOf netip.Addr
	SA     SAID
}

// BindingError is a Binding Error to send (RFC 6275 §6.1.9).
type BindingError struct {
	Status      uint8
	HomeAddress netip.Addr // the home address concerned
	To          netip.Addr // destination of the error
}

// Effect is a bit set of what the data plane and IPsec layer must do after a
// Binding Update or an expiry.
type Effect uint16

const (
	// EffectMoveTunnel: move the outer remote endpoint of the ESP tunnel
	// SAs bound to Binding.HomeAddress to Binding.CareOf (RFC 4877 §4.3).
	EffectMoveTunnel Effect = 1 << iota
	// EffectMoveIKE: move the IKE SA (Binding.IKESA) endpoint too (K flag):
	// to the binding's care-of address, or on de-registration to the home
	// address (Ack.CareOf).
	EffectMoveIKE
	// EffectClaimHomeAddress: start proxy ND for the home address on the
	// home link and intercept its traffic (RFC 6275 §10.4.1).
	EffectClaimHomeAddress
	// EffectReleaseHomeAddress: stop proxy ND for the home address.
	EffectReleaseHomeAddress
	// EffectTunnelActive: activate the SPD entries that tunnel the home
	// address's traffic to the care-of address.
	EffectTunnelActive
	// EffectTunnelInactive: make those SPD entries inactive; the SAs for
	// BU/BA and prefix discovery are kept (RFC 4877 §4.2).
	EffectTunnelInactive
)

// Has reports whether all bits of f are set.
func (e Effect) Has(f Effect) bool { return e&f == f }

// Verdict is the outcome of processing a message.
type Verdict uint8

const (
	Accepted Verdict = iota + 1 // binding created, refreshed, moved or deleted
	Rejected                    // refused with a status in the ack (or a Binding Error)
	Dropped                     // silently discarded and counted (Result.Drop)
)

// DropReason says why a message was discarded without an answer.
type DropReason uint8

const (
	DropNone             DropReason = iota
	DropUnprotected                 // no SA protected the message
	DropWrongSA                     // the SA was created for another home address
	DropNoIdentity                  // the SA carries no peer identity
	DropIdentityMismatch            // the binding belongs to another identity
	DropAltCoAMismatch              // Alternate CoA differs from the outer source
	DropMissingAltCoA               // registration away from home without Alternate CoA
	DropBadHomeAddress              // home address not a global unicast address
	DropBadCareOf                   // care-of address not a global unicast address
	DropMalformed                   // truncated message or option, bad length
	DropBadChecksum                 // MH checksum mismatch
	DropBadPayloadProto             // MH Payload Proto not 59
	DropNoBinding                   // solicitation from a home address with no binding
	DropUnexpectedType              // a known MH type the home agent does not take (BA, HoT, ...)
	numDropReasons
)

var dropNames = [...]string{"none", "unprotected", "wrong-sa", "no-identity", "identity-mismatch",
	"alt-coa-mismatch", "missing-alt-coa", "bad-home-address", "bad-care-of", "malformed",
	"bad-checksum", "bad-payload-proto", "no-binding", "unexpected-type"}

func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return "unknown"
}

// Result is what processing a Binding Update produced.
type Result struct {
	Verdict Verdict
	Drop    DropReason
	// Ack is valid when SendAck is set.
	Ack     BindingAck
	SendAck bool
	// Error is valid when SendError is set.
	Error     BindingError
	SendError bool
	// Effects to apply, with Binding (the entry after processing, or the
	// deleted one) and PrevCareOf (the care-of address before).
	Effects    Effect
	Binding    Binding
	PrevCareOf netip.Addr
}
