package eap

import (
	"bytes"

	wire "mip6/wire/eap"
)

// Method is the peer side of one EAP method.
type Method interface {
	// Type is the EAP Type this method answers.
	Type() wire.Type
	// Process answers one Request of this method (req.Type == Type()).
	Process(req *wire.Packet) (wire.Body, error)
	// Done reports that the method finished and, where it authenticates
	// the server, that the server proved itself: only then may an
	// EAP-Success be accepted.
	Done() bool
	// MSK is the Master Session Key once Done, nil for methods without one.
	MSK() []byte
}

// failureDetailer lets a method explain a following EAP-Failure.
type failureDetailer interface {
	failure() *FailureError
}

// peerState is where a Peer's conversation stands.
type peerState uint8

const (
	peerRunning peerState = iota
	peerSucceeded
	peerFailed
)

// Peer is the EAP peer of a mobile node: the IKE initiator hands it each
// EAP message from the responder and sends back what Handle returns.
// A Peer is not safe for concurrent use; it serves one conversation.
type Peer struct {
	identity string
	methods  []Method
	current  Method
	state    peerState
	lastID   int // identifier of the last answered Request, -1 before any
	lastResp []byte
	msk      []byte
}

// NewPeer returns a peer that answers Identity requests with identity and
// accepts the given methods, in order of preference (the first is offered
// in a Nak).
func NewPeer(identity string, methods ...Method) *Peer {
	return &Peer{identity: identity, methods: methods, lastID: -1}
}

// Identity is the identity the peer presents (also suitable as IKE IDi).
func (p *Peer) Identity() string { return p.identity }

// Succeeded reports that an EAP-Success was accepted.
func (p *Peer) Succeeded() bool { return p.state == peerSucceeded }

// MSK is the Master Session Key once the method completed (for
// MSCHAPv2 and TLS that includes the server's proof) and no failure
// followed; nil before, or when the method derives none (EAP-MD5). IKEv2
// uses it as the AUTH shared key. It is available before the EAP-Success
// arrives because an IKE initiator may consume the Success itself.
func (p *Peer) MSK() []byte {
	switch {
	case p.state == peerSucceeded:
		return p.msk
	case p.state == peerRunning && p.current != nil && p.current.Done():
		return p.current.MSK()
	}
	return nil
}

// Respond is Handle under the name mip6/ike's EAPPeer interface uses.
func (p *Peer) Respond(req []byte) ([]byte, error) { return p.Handle(req) }

// Close releases what the methods hold (the EAP-TLS handshake goroutine);
// call it when a conversation is abandoned.
func (p *Peer) Close() {
	for _, m := range p.methods {
		if c, ok := m.(interface{ Close() }); ok {
			c.Close()
		}
	}
}

// Method is the Type of the method in use, 0 before one started.
func (p *Peer) Method() wire.Type {
	if p.current == nil {
		return 0
	}
	return p.current.Type()
}

// Handle consumes one EAP packet from the authenticator. For a Request it
// returns the Response to send. For an accepted Success it returns
// (nil, nil) and the MSK becomes available. A Failure returns a
// *FailureError; a Success the peer cannot accept a *ServerAuthError.
// A retransmitted Request (same Identifier) gets the same Response.
func (p *Peer) Handle(msg []byte) ([]byte, error) {
	if p.state != peerRunning {
		return nil, &ProtocolError{Detail: "conversation already finished"}
	}
	var pkt wire.Packet
	if err := wire.Parse(msg, &pkt); err != nil {
		return nil, &ProtocolError{Detail: "malformed packet", Err: err}
	}
	switch pkt.Code {
	case wire.CodeSuccess:
		return nil, p.success()
	case wire.CodeFailure:
		p.state = peerFailed
		return nil, p.failure()
	case wire.CodeResponse:
		return nil, &ProtocolError{Detail: "peer received a Response"}
	}
	if int(pkt.Identifier) == p.lastID && p.lastResp != nil && pkt.Type != wire.TypeIdentity {
		return bytes.Clone(p.lastResp), nil
	}
	body, err := p.answer(&pkt)
	if err != nil {
		p.state = peerFailed
		return nil, err
	}
	resp, err := wire.Append(nil, wire.CodeResponse, pkt.Identifier, body)
	if err != nil {
		p.state = peerFailed
		return nil, &ProtocolError{Method: pkt.Type, Detail: "encoding response", Err: err}
	}
	p.lastID, p.lastResp = int(pkt.Identifier), resp
	return bytes.Clone(resp), nil
}

func (p *Peer) answer(req *wire.Packet) (wire.Body, error) {
	switch req.Type {
	case wire.TypeIdentity:
		return wire.Identity(p.identity), nil
	case wire.TypeNotification:
		return wire.Notification(nil), nil
	case wire.TypeNak, wire.TypeExpanded:
		return nil, &ProtocolError{Method: req.Type, Detail: "not valid in a Request"}
	}
	if p.current == nil {
		for _, m := range p.methods {
			if m.Type() == req.Type {
				p.current = m
				break
			}
		}
		if p.current == nil {
			return p.nak(), nil
		}
	}
	if p.current.Type() != req.Type {
		// RFC 3748 §5.3: no Nak once a method has started.
		return nil, &ProtocolError{Method: req.Type, Detail: "request for another method after " + p.current.Type().String() + " started"}
	}
	return p.current.Process(req)
}

func (p *Peer) nak() wire.Nak {
	n := make(wire.Nak, 0, len(p.methods))
	for _, m := range p.methods {
		n = append(n, byte(m.Type()))
	}
	if len(n) == 0 {
		n = append(n, 0)
	}
	return n
}

func (p *Peer) success() error {
	if p.current == nil || !p.current.Done() {
		p.state = peerFailed
		method := wire.Type(0)
		if p.current != nil {
			method = p.current.Type()
		}
		return &ServerAuthError{Method: method, Detail: "EAP-Success before the method completed"}
	}
	p.state = peerSucceeded
	p.msk = p.current.MSK()
	return nil
}

func (p *Peer) failure() error {
	if f, ok := p.current.(failureDetailer); ok {
		if e := f.failure(); e != nil {
			return e
		}
	}
	return &FailureError{Method: p.Method(), Detail: "EAP-Failure"}
}
