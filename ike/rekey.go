package ike

import (
	"bytes"
	"encoding/binary"
	"time"

	"net/netip"

	"mip6/ike/crypto"
	"mip6/wire/ikev2"
)

// rekeyRetry is the pause before retrying a refused rekey.
const rekeyRetry = 30 * time.Second

// childTask creates a CHILD_SA with CREATE_CHILD_SA (§1.3.1), or rekeys
// one (§1.3.3) and then deletes the old one.
type childTask struct {
	cfg   *ChildConfig
	rekey *ChildSA
	req   *childRequest
}

func (*childTask) exchange() ikev2.ExchangeType { return ikev2.ExchangeCreateChildSA }

func (t *childTask) build(sa *IKESA, now time.Time) (ikev2.Payloads, error) {
	if t.rekey != nil && !sa.hasChild(t.rekey) {
		return nil, nil // deleted meanwhile
	}
	cr, err := sa.newChildRequest(t.cfg, true)
	if err != nil {
		return nil, err
	}
	if t.rekey != nil {
		cr.rekey = t.rekey
		cr.tsi, cr.tsr = t.rekey.LocalTS, t.rekey.RemoteTS
	}
	t.req = cr
	return cr.payloads(sa), nil
}

func (sa *IKESA) hasChild(c *ChildSA) bool {
	for _, x := range sa.children {
		if x == c {
			return true
		}
	}
	return false
}

func (t *childTask) process(sa *IKESA, now time.Time, h ikev2.Header, ps ikev2.Payloads) error {
	nr, _ := ps.Get(ikev2.PayloadNonce).(*ikev2.Nonce)
	if nr == nil && errorNotify(ps) == nil {
		return failure(ReasonProtocol, "CREATE_CHILD_SA response without Nonce")
	}
	var nrData []byte
	if nr != nil {
		nrData = nr.Data
	}
	c, err := sa.completeChild(now, t.req, ps, t.req.ni, nrData)
	if err != nil {
		if t.rekey != nil {
			// Try again later (TEMPORARY_FAILURE during the peer's own
			// rekey, §2.25); the hard lifetime bounds the attempts.
			t.rekey.rekeying = false
			t.rekey.rekeyDue = now.Add(rekeyRetry)
		}
		sa.emit(Event{Kind: EventFailed, Err: err, Child: t.rekey, IKEAlive: true})
		return nil // a failed CHILD_SA does not end the IKE SA
	}
	sa.children = append(sa.children, c)
	if t.rekey == nil {
		sa.emit(Event{Kind: EventChildEstablished, Child: c})
		return nil
	}
	sa.emit(Event{Kind: EventChildRekeyed, Child: c, OldChild: t.rekey})
	victim := t.rekey
	if t.rekey.collision != nil && sa.hasChild(t.rekey.collision) {
		// Simultaneous rekey (§2.8.1): the SA from the exchange with the
		// lowest nonce is redundant; its initiator deletes it, and the
		// initiator of the survivor deletes the old SA.
		if bytes.Compare(minNonce(t.req.ni, nrData), t.rekey.collisionMin) < 0 {
			victim = c
		}
	}
	if victim == c || sa.hasChild(t.rekey) {
		sa.queue = append([]task{&infoTask{del: ikev2.DeleteESP(victim.InboundSPI)}}, sa.queue...)
	}
	return nil
}

func minNonce(a, b []byte) []byte {
	if bytes.Compare(a, b) < 0 {
		return a
	}
	return b
}

// respondCreateChild answers CREATE_CHILD_SA: a new CHILD_SA, a CHILD_SA
// rekey or an IKE SA rekey.
func (sa *IKESA) respondCreateChild(now time.Time, ps ikev2.Payloads) ikev2.Payloads {
	saP, _ := ps.Get(ikev2.PayloadSA).(*ikev2.SA)
	if saP != nil && len(saP.Proposals) > 0 && saP.Proposals[0].Protocol == ikev2.ProtocolIKE {
		return sa.respondIKERekey(now, ps, saP)
	}
	o, err := readOffer(ps)
	if err != nil || o.nonce == nil {
		return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyInvalidSyntax, nil)}
	}
	var old *ChildSA
	if n := ps.Notify(ikev2.NotifyRekeySA); n != nil && len(n.SPI) == 4 {
		spi := binary.BigEndian.Uint32(n.SPI)
		for _, c := range sa.children {
			if c.OutboundSPI == spi {
				old = c
			}
		}
		if old == nil {
			return ikev2.Payloads{&ikev2.Notify{Protocol: ikev2.ProtocolESP, SPI: n.SPI, Type: ikev2.NotifyChildSANotFound}}
		}
	}
	nr := sa.ep.nonce()
	resp, c := sa.acceptChild(now, o, o.nonce, nr, true)
	if c == nil {
		return resp
	}
	sa.children = append(sa.children, c)
	if old != nil && old.rekeying {
		old.collision, old.collisionMin = c, append([]byte(nil), minNonce(o.nonce, nr)...)
	}
	if old != nil {
		sa.emit(Event{Kind: EventChildRekeyed, Child: c, OldChild: old})
	} else {
		sa.emit(Event{Kind: EventChildEstablished, Child: c})
	}
	return resp
}

// respondIKERekey creates the IKE SA that replaces this one (§1.3.2,
// §2.18); the peer then deletes the old one.
func (sa *IKESA) respondIKERekey(now time.Time, ps ikev2.Payloads, saP *ikev2.SA) ikev2.Payloads {
	ni, _ := ps.Get(ikev2.PayloadNonce).(*ikev2.Nonce)
	ke, _ := ps.Get(ikev2.PayloadKE).(*ikev2.KE)
	if ni == nil || ke == nil {
		return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyInvalidSyntax, nil)}
	}
	suite, prop, ok := selectIKE(sa.peer.ikeProposals(), saP)
	if !ok || len(prop.SPI) != 8 {
		return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyNoProposalChosen, nil)}
	}
	if crypto.DHGroup(ke.Group) != suite.DH {
		return ikev2.Payloads{ikev2.InvalidKEPayload(ikev2.DHGroup(suite.DH))}
	}
	ks, err := crypto.GenerateKeyShare(suite.DH, sa.ep.rand())
	if err != nil {
		return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyTemporaryFailure, nil)}
	}
	gir, err := ks.Shared(ke.Data)
	if err != nil {
		return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyInvalidSyntax, nil)}
	}
	nr := sa.ep.nonce()
	hd, err := sa.successor(now, false, binary.BigEndian.Uint64(prop.SPI), 0, suite, gir, append([]byte(nil), ni.Data...), nr)
	if err != nil {
		return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyTemporaryFailure, nil)}
	}
	if sa.ikeRekeying { // both sides rekey at once (§2.8.2)
		sa.ikeCollision, sa.ikeCollisionMin = hd, append([]byte(nil), minNonce(ni.Data, nr)...)
	}
	prop.SPI = binary.BigEndian.AppendUint64(nil, hd.sa.spiR)
	return ikev2.Payloads{&ikev2.SA{Proposals: []ikev2.Proposal{prop}}, &ikev2.Nonce{Data: nr}, &ikev2.KE{Group: ikev2.DHGroup(suite.DH), Data: ks.Public()}}
}

// successor builds and registers the new IKE SA of a rekey; the CHILD_SAs
// move to it. initiator says whether we initiated the rekey (and so are
// the new SA's original initiator). spiR is 0 when we are its responder
// (a fresh SPI is chosen).
func (sa *IKESA) successor(now time.Time, initiator bool, spiI, spiR uint64, suite crypto.Suite, gir, ni, nr []byte) (*saHandle, error) {
	prf, err := crypto.LookupPRF(suite.PRF)
	if err != nil {
		return nil, err
	}
	n := &IKESA{ep: sa.ep, initiator: initiator, local: sa.local, remote: sa.remote, natDetected: sa.natDetected,
		state: stateEstablished, created: now, lastHeard: now, peer: sa.peer, remoteID: sa.remoteID, ni: ni, nr: nr,
		peerHashes: sa.peerHashes, peerFrag: sa.peerFrag, peerMOBIKE: sa.peerMOBIKE, assigned: sa.assigned, dns: sa.dns, spiI: spiI, spiR: spiR}
	sa.ep.mu.Lock()
	if !initiator {
		n.spiR = sa.ep.newSPI()
	}
	keys, err := crypto.DeriveIKEKeys(suite, crypto.RekeySKEYSEED(sa.prf, sa.keys.SKd, gir, ni, nr), ni, nr, n.spiI, n.spiR)
	if err == nil {
		err = n.installKeys(suite, prf, keys)
	}
	if err != nil {
		sa.ep.mu.Unlock()
		return nil, err
	}
	hd := sa.ep.register(n)
	if initiator {
		sa.ep.up[n.peer]++ // the old one is counted down when it ends
	}
	sa.ep.mu.Unlock()
	n.children, sa.children = sa.children, nil
	sa.assigned = netip.Prefix{} // moved with the SA: not released when the old one ends
	if sa.peer.IKERekeyTime > 0 {
		n.rekeyDue = now.Add(sa.peer.IKERekeyTime)
	}
	if sa.peer.DPDInterval > 0 {
		n.dpdDue = now.Add(sa.peer.DPDInterval)
	}
	if sa.peer.IKELifeTime > 0 {
		n.expireDue = now.Add(sa.peer.IKELifeTime)
	}
	n.out.events = append(n.out.events, Event{Kind: EventIKERekeyed, IKESA: n.info(), PreviousIKESA: sa.info()})
	sa.ep.kick(hd)
	return hd, nil
}

// ikeRekeyTask rekeys the IKE SA (§1.3.2) and deletes the old one.
type ikeRekeyTask struct {
	dh   crypto.KeyShare
	ni   []byte
	spiI uint64
}

func (*ikeRekeyTask) exchange() ikev2.ExchangeType { return ikev2.ExchangeCreateChildSA }

func (t *ikeRekeyTask) build(sa *IKESA, now time.Time) (ikev2.Payloads, error) {
	ks, err := crypto.GenerateKeyShare(sa.suite.DH, sa.ep.rand())
	if err != nil {
		return nil, err
	}
	sa.ep.mu.Lock()
	t.spiI = sa.ep.newSPI()
	sa.ep.mu.Unlock()
	t.dh, t.ni = ks, sa.ep.nonce()
	sa.ikeRekeying = true
	props := []IKEProposal{{Encr: []crypto.Encr{sa.suite.Encr}, PRF: []crypto.PRFID{sa.suite.PRF}, DH: []crypto.DHGroup{sa.suite.DH}}}
	if sa.suite.Integ != crypto.AUTH_NONE {
		props[0].Integ = []crypto.IntegID{sa.suite.Integ}
	}
	return ikev2.Payloads{ikeSAPayload(props, binary.BigEndian.AppendUint64(nil, t.spiI)), &ikev2.Nonce{Data: t.ni},
		&ikev2.KE{Group: ikev2.DHGroup(ks.Group()), Data: ks.Public()}}, nil
}

func (t *ikeRekeyTask) process(sa *IKESA, now time.Time, h ikev2.Header, ps ikev2.Payloads) error {
	sa.ikeRekeying = false
	if n := errorNotify(ps); n != nil {
		sa.rekeyDue = now.Add(rekeyRetry) // try again later
		sa.emit(Event{Kind: EventFailed, Err: notifyFailure(n.Type), IKEAlive: true})
		return nil
	}
	saP, _ := ps.Get(ikev2.PayloadSA).(*ikev2.SA)
	nr, _ := ps.Get(ikev2.PayloadNonce).(*ikev2.Nonce)
	ke, _ := ps.Get(ikev2.PayloadKE).(*ikev2.KE)
	if saP == nil || nr == nil || ke == nil || len(saP.Proposals) != 1 || len(saP.Proposals[0].SPI) != 8 {
		return failure(ReasonProtocol, "bad IKE SA rekey response")
	}
	gir, err := t.dh.Shared(ke.Data)
	if err != nil {
		return &Failure{Reason: ReasonProtocol, Err: err}
	}
	ours, err := sa.successor(now, true, t.spiI, binary.BigEndian.Uint64(saP.Proposals[0].SPI), sa.suite, gir, t.ni, append([]byte(nil), nr.Data...))
	if err != nil {
		return &Failure{Reason: ReasonLocal, Err: err}
	}
	if theirs := sa.ikeCollision; theirs != nil {
		sa.resolveIKECollision(ours, theirs, minNonce(t.ni, nr.Data))
		if bytes.Compare(minNonce(t.ni, nr.Data), sa.ikeCollisionMin) < 0 {
			return nil // ours is redundant; the peer deletes this old SA
		}
	}
	sa.queue = append([]task{&infoTask{deleteIKE: true}}, sa.queue...)
	return nil
}

// resolveIKECollision settles a simultaneous IKE SA rekey (§2.8.2): the
// new SA from the exchange with the lowest nonce is redundant and its
// initiator deletes it; the CHILD_SAs end up on the survivor. The new SAs
// have their own locks, taken after this one (never the other way).
func (sa *IKESA) resolveIKECollision(ours, theirs *saHandle, oursMin []byte) {
	ep := sa.ep
	if bytes.Compare(oursMin, sa.ikeCollisionMin) < 0 {
		go ep.run(ours, func(n *IKESA) { n.enqueue(time.Now(), &infoTask{deleteIKE: true}) })
		return
	}
	go ep.run(theirs, func(b *IKESA) {
		moved := b.children
		b.children = nil
		ep.run(ours, func(a *IKESA) { a.children = append(a.children, moved...) })
	})
}
