package ike

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"mip6/ike/crypto"
	"mip6/wire/ikev2"
)

// saState is where an IKE SA is in its life.
type saState uint8

const (
	stateInitSent    saState = iota + 1 // initiator: IKE_SA_INIT request out
	stateAuth                           // keys derived, IKE_AUTH (with EAP) under way
	stateEstablished                    // authenticated
	stateDeleting                       // our Delete of the IKE SA is in flight
	stateDead                           // gone; ignore everything
)

func (s saState) String() string {
	switch s {
	case stateInitSent:
		return "IKE_SA_INIT sent"
	case stateAuth:
		return "authenticating"
	case stateEstablished:
		return "established"
	case stateDeleting:
		return "deleting"
	case stateDead:
		return "dead"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// task is one exchange this side initiates: build makes the request's
// payloads, process consumes the response's.
type task interface {
	exchange() ikev2.ExchangeType
	build(sa *IKESA, now time.Time) (ikev2.Payloads, error)
	process(sa *IKESA, now time.Time, hdr ikev2.Header, ps ikev2.Payloads) error
}

// request is the exchange in flight (window size 1).
type request struct {
	id       uint32
	t        task
	dgrams   [][]byte
	tries    int
	deadline time.Time
}

// IKESA is one IKE SA. All of its methods run on the goroutine that holds
// its lock (the Endpoint takes it); none blocks.
type IKESA struct {
	ep          *Endpoint
	initiator   bool // original initiator
	spiI, spiR  uint64
	local       netip.AddrPort
	remote      netip.AddrPort
	natDetected bool
	state       saState
	created     time.Time
	lastHeard   time.Time
	peer        *PeerConfig
	remoteID    Identity

	suite       crypto.Suite
	suiteName   string // for events
	prf         *crypto.PRF
	keys        *crypto.IKEKeys
	skIn        crypto.SK
	skOut       crypto.SK
	ni, nr      []byte
	dh          crypto.KeyShare
	initReq     []byte // IKE_SA_INIT messages, needed for AUTH
	initResp    []byte
	cookie      []byte
	cookieTries int
	peerHashes  []crypto.HashAlgorithm
	peerFrag    bool
	peerMOBIKE  bool

	nextMsgID uint32
	inflight  *request
	queue     []task
	peerMsgID uint32   // next request id expected from the peer
	lastResp  [][]byte // datagrams answering request peerMsgID-1
	haveResp  bool
	lastReqID uint32
	lastReq   [][32]byte // hashes of that request's datagrams: only true retransmissions get the cache
	frags     reassembly

	children        []*ChildSA
	assigned        netip.Prefix
	eapState        *eapResponder
	eapDone         bool      // initiator: EAP succeeded
	peerIDPayload   *ikev2.ID // the peer's ID payload, for its AUTH
	dns             []netip.Addr
	reqLocal        netip.AddrPort // where the request being answered came in
	reqRemote       netip.AddrPort
	reqHdr          ikev2.Header // of the request being answered
	rekeyDue        time.Time
	dpdDue          time.Time
	expireDue       time.Time
	ikeRekeying     bool      // our IKE SA rekey is in flight
	ikeCollision    *saHandle // the peer's simultaneous rekey of this SA
	ikeCollisionMin []byte
	// orphanDue: responder, after refusing the peer a home address; the
	// IKE SA is deleted then unless it gained a CHILD_SA or an address.
	orphanDue time.Time

	hd      *saHandle // to come back after work done without the lock
	pending bool      // a response is being prepared off the lock
	// abandoned: we gave up the SA before it was established (its failure
	// is reported) and only delete it with the peer; nothing more is said.
	abandoned bool

	out output
}

// output collects what one step produced.
type output struct {
	dgrams []Datagram
	events []Event
}

// Datagram is an IKE message to send from Local to Remote. On the NAT-T
// port the Endpoint prepends the non-ESP marker.
type Datagram struct {
	Local, Remote netip.AddrPort
	Data          []byte
}

// SPIs returns the IKE SA's initiator and responder SPIs.
func (sa *IKESA) SPIs() (uint64, uint64) { return sa.spiI, sa.spiR }

func (sa *IKESA) localSPI() uint64 {
	if sa.initiator {
		return sa.spiI
	}
	return sa.spiR
}

func (sa *IKESA) header(exch ikev2.ExchangeType, id uint32, response bool) ikev2.Header {
	h := ikev2.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: exch, MessageID: id}
	if sa.initiator {
		h.Flags |= ikev2.FlagInitiator
	}
	if response {
		h.Flags |= ikev2.FlagResponse
	}
	return h
}

// encode builds the datagrams of one message: plaintext for IKE_SA_INIT,
// otherwise an SK payload, fragmented (RFC 7383) when too large.
func (sa *IKESA) encode(h ikev2.Header, ps ikev2.Payloads) ([][]byte, error) {
	if h.Exchange == ikev2.ExchangeIKESAInit {
		m := ikev2.Message{Header: h, Payloads: ps}
		b, err := m.Marshal(nil)
		return [][]byte{b}, err
	}
	pt, err := ikev2.AppendPayloads(nil, ps)
	if err != nil {
		return nil, err
	}
	first := ikev2.PayloadNone
	if len(ps) > 0 {
		first = ps[0].PayloadType()
	}
	if sa.peerFrag && ikev2.HeaderLen+4+sa.skOut.BodyLen(len(pt)) > sa.ep.fragmentSize() {
		return sa.fragment(h, first, pt)
	}
	b, err := ikev2.AppendEncryptedHeader(make([]byte, 0, ikev2.HeaderLen+4+sa.skOut.BodyLen(len(pt))), h, first, sa.skOut.BodyLen(len(pt)))
	if err != nil {
		return nil, err
	}
	b, err = sa.skOut.Seal(b, pt)
	return [][]byte{b}, err
}

// fragment splits plaintext into SKF payloads of at most the fragment size.
func (sa *IKESA) fragment(h ikev2.Header, first ikev2.PayloadType, pt []byte) ([][]byte, error) {
	room := sa.ep.fragmentSize() - ikev2.HeaderLen - 8
	per := 1
	for sa.skOut.BodyLen(per+1) <= room {
		per++
	}
	total := (len(pt) + per - 1) / per
	if total > 0xffff || per < 16 {
		return nil, errors.New("ike: message cannot be fragmented")
	}
	var out [][]byte
	for i := 0; i < total; i++ {
		chunk := pt[i*per : min((i+1)*per, len(pt))]
		f := first
		if i > 0 {
			f = ikev2.PayloadNone
		}
		b, err := ikev2.AppendEncryptedFragmentHeader(nil, h, f, uint16(i+1), uint16(total), sa.skOut.BodyLen(len(chunk)))
		if err != nil {
			return nil, err
		}
		if b, err = sa.skOut.Seal(b, chunk); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// decode checks and decrypts a protected message, collecting fragments.
// It returns nil payloads and no error while fragments are missing.
func (sa *IKESA) decode(msg []byte, h ikev2.Header) (ikev2.Payloads, bool, error) {
	parts, err := ikev2.SplitEncrypted(msg, 0, 0)
	if err != nil {
		return nil, false, dropErr(DropMalformed, err)
	}
	bodyOff := len(parts.AAD)
	plain, err := sa.skIn.Open(msg, bodyOff)
	if err != nil {
		return nil, false, dropErr(DropIntegrity, err)
	}
	if parts.Type == ikev2.PayloadSK {
		ps, err := ikev2.ParsePayloads(parts.First, plain)
		if err != nil {
			return nil, false, dropErr(DropMalformed, err)
		}
		return ps, true, nil
	}
	whole, first, done, err := sa.frags.add(h, parts.First, parts.Number, parts.Total, plain)
	if err != nil || !done {
		return nil, false, err
	}
	ps, err := ikev2.ParsePayloads(first, whole)
	if err != nil {
		return nil, false, dropErr(DropMalformed, err)
	}
	return ps, true, nil
}

func (sa *IKESA) send(dgrams [][]byte) {
	for _, d := range dgrams {
		sa.out.dgrams = append(sa.out.dgrams, Datagram{Local: sa.local, Remote: sa.remote, Data: d})
	}
}

func (sa *IKESA) emit(e Event) {
	e.IKESA = sa.info()
	sa.out.events = append(sa.out.events, e)
}

// enqueue adds an exchange to initiate and starts it if none is in flight.
func (sa *IKESA) enqueue(now time.Time, t task) {
	sa.queue = append(sa.queue, t)
	sa.startNext(now)
}

func (sa *IKESA) startNext(now time.Time) {
	for sa.inflight == nil && len(sa.queue) > 0 && sa.state != stateDead {
		t := sa.queue[0]
		sa.queue = sa.queue[1:]
		if err := sa.sendRequest(now, t); err != nil {
			sa.fail(now, err)
			return
		}
	}
}

func (sa *IKESA) sendRequest(now time.Time, t task) error {
	ps, err := t.build(sa, now)
	if err != nil {
		return err
	}
	if ps == nil { // the task decided there is nothing to do
		return nil
	}
	id := sa.nextMsgID
	if t.exchange() == ikev2.ExchangeIKESAInit {
		id = 0
	}
	dgrams, err := sa.encode(sa.header(t.exchange(), id, false), ps)
	if err != nil {
		return err
	}
	if t.exchange() == ikev2.ExchangeIKESAInit {
		sa.initReq = dgrams[0]
	} else {
		sa.nextMsgID++
	}
	sa.inflight = &request{id: id, t: t, dgrams: dgrams, deadline: now.Add(sa.ep.retransmitBase())}
	sa.send(dgrams)
	return nil
}

// handle processes one datagram addressed to this SA.
func (sa *IKESA) handle(now time.Time, local, remote netip.AddrPort, msg []byte, h ikev2.Header) error {
	if sa.state == stateDead {
		return dropErr(DropNoSA, nil)
	}
	if h.IsResponse() {
		return sa.handleResponse(now, remote, msg, h)
	}
	return sa.handleRequest(now, local, remote, msg, h)
}

func (sa *IKESA) handleResponse(now time.Time, remote netip.AddrPort, msg []byte, h ikev2.Header) error {
	if sa.inflight == nil || h.MessageID != sa.inflight.id || h.Exchange != sa.inflight.t.exchange() {
		return dropErr(DropUnexpectedResponse, nil)
	}
	var ps ikev2.Payloads
	if h.Exchange == ikev2.ExchangeIKESAInit {
		msg = append([]byte(nil), msg...) // kept for AUTH; payloads alias it
		m, err := ikev2.ParseMessage(msg)
		if err != nil {
			return dropErr(DropMalformed, err)
		}
		ps = m.Payloads
		sa.initResp = msg
	} else {
		var done bool
		var err error
		if ps, done, err = sa.decode(msg, h); err != nil || !done {
			return err
		}
	}
	sa.lastHeard = now
	t := sa.inflight.t
	sa.inflight = nil
	if err := t.process(sa, now, h, ps); err != nil {
		sa.fail(now, err)
		return nil
	}
	sa.startNext(now)
	return nil
}

func (sa *IKESA) handleRequest(now time.Time, local, remote netip.AddrPort, msg []byte, h ikev2.Header) error {
	if h.IsInitiator() == sa.initiator {
		return dropErr(DropMalformed, errors.New("ike: request with our own I flag"))
	}
	if sa.haveResp && h.MessageID+1 == sa.peerMsgID {
		if !sa.isLastRequest(msg) {
			return dropErr(DropOutOfWindow, errors.New("old message id, not a retransmission"))
		}
		sa.resendResponse(local, remote)
		return dropErr(DropRetransmit, nil)
	}
	if h.MessageID != sa.peerMsgID {
		return dropErr(DropOutOfWindow, nil)
	}
	if sa.pending {
		return dropErr(DropRetransmit, errors.New("request still being answered"))
	}
	sum := sha256.Sum256(msg)
	ps, done, err := sa.decode(msg, h)
	if err != nil {
		return err
	}
	if len(sa.lastReq) > 0 && sa.lastReqID != h.MessageID {
		sa.lastReq = sa.lastReq[:0]
	}
	sa.lastReq, sa.lastReqID = append(sa.lastReq, sum), h.MessageID
	if !done {
		return nil
	}
	sa.lastHeard = now
	sa.reqLocal, sa.reqRemote, sa.reqHdr = local, remote, h
	if remote != sa.remote && !sa.peerMOBIKE {
		// NAT-T port floating or a NAT mapping change (§2.23); with MOBIKE
		// only UPDATE_SA_ADDRESSES moves the SA (RFC 4555 §3.5).
		sa.remote, sa.local = remote, local
	}
	resp := sa.respond(now, h, ps)
	if sa.pending || (sa.state == stateDead && resp == nil) {
		return nil // answered later (deferResponse) or not at all
	}
	dgrams, err := sa.encode(sa.header(h.Exchange, h.MessageID, true), resp)
	if err != nil {
		return err
	}
	sa.peerMsgID++
	sa.lastResp, sa.haveResp = dgrams, true
	sa.resendResponse(local, remote) // responses go where the request came from (§2.11)
	return nil
}

func (sa *IKESA) isLastRequest(msg []byte) bool {
	sum := sha256.Sum256(msg)
	for _, h := range sa.lastReq {
		if h == sum {
			return true
		}
	}
	return false
}

func (sa *IKESA) resendResponse(from, to netip.AddrPort) {
	for _, d := range sa.lastResp {
		sa.out.dgrams = append(sa.out.dgrams, Datagram{Local: from, Remote: to, Data: d})
	}
}

// respond dispatches a request to its exchange's responder logic.
func (sa *IKESA) respond(now time.Time, h ikev2.Header, ps ikev2.Payloads) ikev2.Payloads {
	switch h.Exchange {
	case ikev2.ExchangeIKEAuth:
		if sa.initiator || sa.state != stateAuth {
			return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyInvalidSyntax, nil)}
		}
		return sa.respondAuth(now, ps)
	case ikev2.ExchangeCreateChildSA:
		if sa.state != stateEstablished {
			return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyTemporaryFailure, nil)}
		}
		return sa.respondCreateChild(now, ps)
	case ikev2.ExchangeInformational:
		if sa.state == stateAuth {
			return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyInvalidSyntax, nil)}
		}
		return sa.respondInformational(now, ps)
	}
	return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyInvalidSyntax, nil)}
}

// timeout runs the SA's timers: retransmission, half-open expiry,
// liveness, rekeying.
func (sa *IKESA) timeout(now time.Time) {
	if sa.state == stateDead {
		return
	}
	if r := sa.inflight; r != nil && !now.Before(r.deadline) {
		if r.tries >= sa.ep.retransmitTries() {
			sa.fail(now, &Failure{Reason: ReasonTimeout, Err: fmt.Errorf("no response to %s request %d", r.t.exchange(), r.id)})
			return
		}
		r.tries++
		r.deadline = now.Add(sa.ep.retransmitBase() << r.tries)
		sa.send(r.dgrams)
	}
	if !sa.initiator && sa.state != stateEstablished && sa.state != stateDeleting && now.Sub(sa.created) >= sa.ep.halfOpenTimeout() {
		sa.fail(now, &Failure{Reason: ReasonTimeout, Err: errors.New("IKE SA not established in time")})
		return
	}
	sa.lifetimeTimers(now)
}

// nextDeadline is when timeout must run next (zero: no timer).
func (sa *IKESA) nextDeadline() time.Time {
	if sa.state == stateDead {
		return time.Time{}
	}
	var t time.Time
	earliest := func(x time.Time) {
		if !x.IsZero() && (t.IsZero() || x.Before(t)) {
			t = x
		}
	}
	if sa.inflight != nil {
		earliest(sa.inflight.deadline)
	}
	if !sa.initiator && sa.state != stateEstablished && sa.state != stateDeleting {
		earliest(sa.created.Add(sa.ep.halfOpenTimeout()))
	}
	earliest(sa.rekeyDue)
	earliest(sa.dpdDue)
	earliest(sa.expireDue)
	earliest(sa.orphanDue)
	for _, c := range sa.children {
		earliest(c.rekeyDue)
		earliest(c.expireDue)
	}
	return t
}

// fail ends the SA with an error event.
func (sa *IKESA) fail(now time.Time, err error) {
	if sa.state == stateDead {
		return
	}
	var f *Failure
	if !errors.As(err, &f) {
		f = &Failure{Reason: ReasonProtocol, Err: err}
	}
	sa.ep.logger().Info("ike: IKE SA failed", "spi_i", fmt.Sprintf("%016x", sa.spiI), "spi_r", fmt.Sprintf("%016x", sa.spiR), "peer", sa.remote, "reason", f)
	sa.terminate(now, Event{Kind: EventFailed, Err: f})
}

// terminate drops the SA and its CHILD_SAs, reporting ev last.
func (sa *IKESA) terminate(now time.Time, ev Event) {
	for _, c := range sa.children {
		sa.emit(Event{Kind: EventChildDeleted, Child: c})
	}
	sa.children = nil
	if sa.assigned.IsValid() && sa.ep.cfg.ReleaseAddress != nil {
		sa.ep.cfg.ReleaseAddress(sa.info())
	}
	if !sa.abandoned {
		sa.emit(ev)
	}
	if sa.initiator && !sa.abandoned && (sa.state == stateEstablished || sa.state == stateDeleting) {
		sa.ep.countUp(sa.peer, -1)
	}
	sa.state = stateDead
	sa.inflight, sa.queue = nil, nil
	sa.ep.forget(sa)
}

func spiBytes32(spi uint32) []byte { return binary.BigEndian.AppendUint32(nil, spi) }

// deferResponse answers the request h later: work runs without the SA's
// lock (an EAP step that waits for a RADIUS server), then finish builds the
// response under it. Until then retransmissions of h are ignored and the
// SA keeps handling everything else.
func (sa *IKESA) deferResponse(h ikev2.Header, work func() any, finish func(sa *IKESA, now time.Time, r any) ikev2.Payloads) {
	sa.pending = true
	ep, hd, from, to := sa.ep, sa.hd, sa.reqLocal, sa.reqRemote
	go func() {
		r := work()
		ep.run(hd, func(sa *IKESA) {
			if !sa.pending || sa.state == stateDead {
				return
			}
			sa.pending = false
			resp := finish(sa, time.Now(), r)
			dgrams, err := sa.encode(sa.header(h.Exchange, h.MessageID, true), resp)
			if err != nil {
				sa.fail(time.Now(), &Failure{Reason: ReasonLocal, Err: err})
				return
			}
			sa.peerMsgID++
			sa.lastResp, sa.haveResp = dgrams, true
			sa.resendResponse(from, to)
		})
	}()
}
