package ike

import (
	"fmt"
	"net/netip"
	"time"

	"mip6/wire/ikev2"
)

// EventKind says what happened.
type EventKind uint8

const (
	EventIKEEstablished   EventKind = iota + 1 // IKE SA authenticated
	EventChildEstablished                      // CHILD_SA ready: install Child in the SAD
	EventChildRekeyed                          // Child replaces OldChild (remove OldChild after a grace period)
	EventChildDeleted                          // remove Child from the SAD
	EventIKERekeyed                            // the IKE SA's keys and SPIs changed
	EventIKEDeleted                            // IKE SA closed normally
	EventFailed                                // Err is a *Failure; the IKE SA is gone unless IKEAlive
	EventAddressesUpdated                      // IKE SA and its CHILD_SAs moved (MOBIKE or MoveEndpoints)
)

func (k EventKind) String() string {
	switch k {
	case EventIKEEstablished:
		return "ike-established"
	case EventChildEstablished:
		return "child-established"
	case EventChildRekeyed:
		return "child-rekeyed"
	case EventChildDeleted:
		return "child-deleted"
	case EventIKERekeyed:
		return "ike-rekeyed"
	case EventIKEDeleted:
		return "ike-deleted"
	case EventFailed:
		return "failed"
	case EventAddressesUpdated:
		return "addresses-updated"
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// SAInfo describes an IKE SA at the time of an event.
type SAInfo struct {
	InitiatorSPI, ResponderSPI uint64
	Initiator                  bool // we are the original initiator
	Local, Remote              netip.AddrPort
	LocalID, RemoteID          Identity
	Suite                      string
	// AssignedAddress is the home address given through CP (responder: to
	// the peer; initiator: to us).
	AssignedAddress netip.Prefix
	DNS             []netip.Addr
	Peer            *PeerConfig
	// NATDetected: the NAT_DETECTION notifies (RFC 7296 §2.23) showed a
	// NAT between the peers, so ESP must travel in UDP.
	NATDetected bool
}

// Event is reported to Config.OnEvent / Endpoint.Events.
type Event struct {
	Kind     EventKind
	IKESA    SAInfo
	Child    *ChildSA
	OldChild *ChildSA
	// PreviousIKESA is the IKE SA an EventIKERekeyed replaces; its
	// EventIKEDeleted follows (without CHILD_SA deletions: they moved).
	PreviousIKESA SAInfo
	Err           error
	// IKEAlive marks an EventFailed after which the IKE SA lives on: a
	// CHILD_SA was refused (in IKE_AUTH or CREATE_CHILD_SA) or a rekey
	// failed and will be retried.
	IKEAlive bool
}

// FailureReason classifies why an IKE SA failed.
type FailureReason uint8

const (
	ReasonTimeout        FailureReason = iota + 1 // peer stopped answering
	ReasonNoProposal                              // NO_PROPOSAL_CHOSEN
	ReasonAuthentication                          // AUTHENTICATION_FAILED, bad AUTH, unknown identity
	ReasonNotify                                  // peer sent an error notify
	ReasonProtocol                                // malformed or unexpected content
	ReasonAddress                                 // INTERNAL_ADDRESS_FAILURE
	ReasonTS                                      // TS_UNACCEPTABLE
	ReasonLocal                                   // local error (crypto, config)
)

func (r FailureReason) String() string {
	switch r {
	case ReasonTimeout:
		return "timeout"
	case ReasonNoProposal:
		return "no proposal chosen"
	case ReasonAuthentication:
		return "authentication failed"
	case ReasonNotify:
		return "error notify"
	case ReasonProtocol:
		return "protocol error"
	case ReasonAddress:
		return "internal address failure"
	case ReasonTS:
		return "traffic selectors unacceptable"
	case ReasonLocal:
		return "local error"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Failure is the error of an EventFailed.
type Failure struct {
	Reason FailureReason
	Notify ikev2.NotifyType // the error notify involved, if any
	Err    error
}

func (f *Failure) Error() string {
	s := "ike: " + f.Reason.String()
	if f.Notify != 0 {
		s += " (" + f.Notify.String() + ")"
	}
	if f.Err != nil {
		s += ": " + f.Err.Error()
	}
	return s
}

func (f *Failure) Unwrap() error { return f.Err }

func failure(r FailureReason, format string, args ...any) *Failure {
	return &Failure{Reason: r, Err: fmt.Errorf(format, args...)}
}

// notifyFailure maps an error notify from the peer to a Failure.
func notifyFailure(n ikev2.NotifyType) *Failure {
	r := ReasonNotify
	switch n {
	case ikev2.NotifyNoProposalChosen:
		r = ReasonNoProposal
	case ikev2.NotifyAuthenticationFailed:
		r = ReasonAuthentication
	case ikev2.NotifyInternalAddressFailure:
		r = ReasonAddress
	case ikev2.NotifyTSUnacceptable:
		r = ReasonTS
	}
	return &Failure{Reason: r, Notify: n}
}

// DropReason counts why an incoming datagram was discarded.
type DropReason uint8

const (
	DropMalformed          DropReason = iota // does not parse
	DropIntegrity                            // ICV or decryption failed
	DropNoSA                                 // unknown SPI
	DropUnexpectedResponse                   // response to nothing in flight
	DropOutOfWindow                          // request id neither next nor last
	DropRetransmit                           // duplicate request, answered from cache
	DropCookieRequired                       // IKE_SA_INIT without a valid cookie under load
	DropNotIKE                               // on the NAT-T port without the non-ESP marker
	DropFragment                             // bad or excess fragment
	numDropReasons
)

var dropNames = [...]string{"malformed", "integrity", "no-sa", "unexpected-response", "out-of-window", "retransmit", "cookie-required", "not-ike", "fragment"}

func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return fmt.Sprintf("drop(%d)", uint8(r))
}

// DropError says a datagram was dropped and why.
type DropError struct {
	Reason DropReason
	Err    error
}

func (e *DropError) Error() string {
	if e.Err == nil {
		return "ike: dropped: " + e.Reason.String()
	}
	return "ike: dropped: " + e.Reason.String() + ": " + e.Err.Error()
}

func (e *DropError) Unwrap() error { return e.Err }

func dropErr(r DropReason, err error) error { return &DropError{Reason: r, Err: err} }

// ChildSA is one negotiated pair of ESP SAs, with what the SAD needs.
type ChildSA struct {
	Name        string
	InboundSPI  uint32 // chosen by us: the peer sends with it
	OutboundSPI uint32
	Suite       ChildSuite
	// Keys per direction (encryption key with salt for AEADs, then the
	// integrity key, empty with AEADs).
	InEncr, InInteg, OutEncr, OutInteg []byte
	LocalTS, RemoteTS                  []Selector
	Transport                          bool
	// Encap: ESP in UDP on the NAT-T port (RFC 3948) between Local and Remote.
	Encap         bool
	Local, Remote netip.AddrPort
	Established   time.Time

	cfg       *ChildConfig
	rekeyDue  time.Time
	expireDue time.Time
	rekeying  bool
	// A peer's rekey of this CHILD_SA while ours was in flight (§2.8.1):
	// the SA it created and the lower nonce of its exchange.
	collision    *ChildSA
	collisionMin []byte
}

func (c *ChildSA) String() string {
	return fmt.Sprintf("%s %08x_i %08x_o %s %v === %v", c.Name, c.InboundSPI, c.OutboundSPI, c.Suite, c.LocalTS, c.RemoteTS)
}
