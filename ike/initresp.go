package ike

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/netip"
	"time"

	"mip6/ike/crypto"
	"mip6/wire/ikev2"
)

// handleInitRequest is the responder's IKE_SA_INIT (§1.2). Until a request
// passes the cookie check no state is kept and no DH is computed.
func (ep *Endpoint) handleInitRequest(now time.Time, local, remote netip.AddrPort, b []byte, h ikev2.Header) error {
	if h.MessageID != 0 || h.IsResponse() || !h.IsInitiator() {
		return dropErr(DropMalformed, errors.New("IKE_SA_INIT request with bad flags or message id"))
	}
	key := halfOpenKey{h.InitiatorSPI, remote}
	ep.mu.Lock()
	hd := ep.halfOpen[key]
	half, closed := ep.nHalf, ep.closed
	ep.mu.Unlock()
	if closed {
		return dropErr(DropNoSA, nil)
	}
	if hd != nil { // retransmission of a request we answered
		var err error
		ep.run(hd, func(sa *IKESA) {
			if sa.state == stateAuth && bytesEqual(sa.initReq, b) {
				sa.resendResponse(local, remote)
				err = dropErr(DropRetransmit, nil)
				return
			}
			err = dropErr(DropOutOfWindow, errors.New("IKE_SA_INIT for an SA that exists"))
		})
		return err
	}
	msg := append([]byte(nil), b...)
	m, err := ikev2.ParseMessage(msg)
	if err != nil {
		return dropErr(DropMalformed, err)
	}
	nonce, _ := m.Payloads.Get(ikev2.PayloadNonce).(*ikev2.Nonce)
	if nonce == nil {
		return dropErr(DropMalformed, errors.New("IKE_SA_INIT without Nonce"))
	}
	if half >= ep.cookieThreshold() && !ep.cookieValid(now, m.Payloads, nonce.Data, remote, h.InitiatorSPI) {
		ep.stateless(local, remote, h, ikev2.NewNotify(ikev2.NotifyCookie, ep.cookieFor(now, -1, nonce.Data, remote, h.InitiatorSPI)))
		return dropErr(DropCookieRequired, nil)
	}
	return ep.acceptInit(now, local, remote, h, m, msg, nonce.Data)
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func (ep *Endpoint) cookieValid(now time.Time, ps ikev2.Payloads, ni []byte, remote netip.AddrPort, spiI uint64) bool {
	if len(ps) == 0 {
		return false
	}
	n, ok := ps[0].(*ikev2.Notify)
	if !ok || n.Type != ikev2.NotifyCookie {
		return false
	}
	if len(n.Data) != 17 {
		return false
	}
	want := ep.cookieFor(now, int(n.Data[0]), ni, remote, spiI)
	return want != nil && hmac.Equal(n.Data, want)
}

// chooseIKE selects a suite, preferring the group of the initiator's KE
// when policy allows it so that no INVALID_KE_PAYLOAD round trip is needed.
func (ep *Endpoint) chooseIKE(saP *ikev2.SA, keGroup crypto.DHGroup) (crypto.Suite, ikev2.Proposal, bool) {
	var withKE []IKEProposal
	for _, p := range ep.ikeProposals() {
		for _, g := range p.DH {
			if g == keGroup {
				q := p
				q.DH = []crypto.DHGroup{g}
				withKE = append(withKE, q)
			}
		}
	}
	if s, p, ok := selectIKE(withKE, saP); ok {
		return s, p, true
	}
	return selectIKE(ep.ikeProposals(), saP)
}

func (ep *Endpoint) acceptInit(now time.Time, local, remote netip.AddrPort, h ikev2.Header, m *ikev2.Message, msg, ni []byte) error {
	saP, _ := m.Payloads.Get(ikev2.PayloadSA).(*ikev2.SA)
	ke, _ := m.Payloads.Get(ikev2.PayloadKE).(*ikev2.KE)
	if saP == nil || ke == nil {
		return dropErr(DropMalformed, errors.New("IKE_SA_INIT without SA or KE"))
	}
	suite, chosen, ok := ep.chooseIKE(saP, crypto.DHGroup(ke.Group))
	if !ok {
		ep.stateless(local, remote, h, ikev2.NewNotify(ikev2.NotifyNoProposalChosen, nil))
		return nil
	}
	if suite.DH != crypto.DHGroup(ke.Group) {
		ep.stateless(local, remote, h, ikev2.InvalidKEPayload(ikev2.DHGroup(suite.DH)))
		return nil
	}
	if len(ke.Data) != suite.DH.PublicLen() {
		ep.stateless(local, remote, h, ikev2.NewNotify(ikev2.NotifyInvalidSyntax, nil))
		return dropErr(DropMalformed, errors.New("KE length does not fit the group"))
	}
	ep.mu.Lock()
	sa := &IKESA{ep: ep, local: local, remote: remote, created: now, lastHeard: now, state: stateAuth,
		spiI: h.InitiatorSPI, initReq: msg, ni: append([]byte(nil), ni...), nr: ep.nonce()}
	sa.spiR = ep.newSPI()
	hd := ep.register(sa)
	hd.key, hd.half = halfOpenKey{h.InitiatorSPI, remote}, true
	ep.halfOpen[hd.key] = hd
	ep.nHalf++
	ep.mu.Unlock()
	ep.run(hd, func(sa *IKESA) {
		if err := sa.respondInit(now, suite, chosen, m.Payloads, ke.Data); err != nil {
			sa.terminate(now, Event{Kind: EventFailed, Err: err})
		}
	})
	return nil
}

func (sa *IKESA) respondInit(now time.Time, suite crypto.Suite, chosen ikev2.Proposal, req ikev2.Payloads, peerKE []byte) error {
	ks, err := sa.ep.responderKeyShare(now, suite.DH)
	if err != nil {
		return &Failure{Reason: ReasonLocal, Err: err}
	}
	sa.dh = ks
	sa.readCapabilities(req)
	sa.checkNAT(req, 0)
	pub := ks.Public()
	if err := sa.deriveKeys(suite, peerKE); err != nil {
		return err
	}
	ps := ikev2.Payloads{&ikev2.SA{Proposals: []ikev2.Proposal{chosen}},
		&ikev2.KE{Group: ikev2.DHGroup(suite.DH), Data: pub}, &ikev2.Nonce{Data: sa.nr}}
	ps = append(ps, natNotifies(sa.spiI, sa.spiR, sa.local, sa.remote)...)
	if cr := sa.ep.certReq(); cr != nil {
		ps = append(ps, cr)
	}
	ps = append(ps, ikev2.NewNotify(ikev2.NotifyIKEv2FragmentationSupported, nil), sigHashNotify())
	dgrams, err := sa.encode(sa.header(ikev2.ExchangeIKESAInit, 0, true), ps)
	if err != nil {
		return &Failure{Reason: ReasonLocal, Err: err}
	}
	sa.initResp = dgrams[0]
	sa.lastResp, sa.haveResp, sa.peerMsgID = dgrams, true, 1
	sa.lastReq, sa.lastReqID = [][32]byte{sha256.Sum256(sa.initReq)}, 0
	sa.send(dgrams)
	return nil
}
