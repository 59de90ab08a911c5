package ike

import (
	"errors"
	"net/netip"
	"time"

	"mip6/wire/ikev2"
)

// respondAuth is the responder's IKE_AUTH: identify the peer in the PAD,
// check its AUTH (or run EAP), assign an address, create the CHILD_SA.
func (sa *IKESA) respondAuth(now time.Time, ps ikev2.Payloads) ikev2.Payloads {
	if sa.eapState != nil {
		return sa.respondEAP(now, ps)
	}
	idi, _ := ps.Get(ikev2.PayloadIDi).(*ikev2.ID)
	if idi == nil {
		return sa.authFailed(now, failure(ReasonProtocol, "IKE_AUTH without IDi"))
	}
	id := Identity{Type: idi.Type, Data: append([]byte(nil), idi.Data...)}
	var want *Identity
	if idr, ok := ps.Get(ikev2.PayloadIDr).(*ikev2.ID); ok {
		w := Identity{Type: idr.Type, Data: append([]byte(nil), idr.Data...)}
		want = &w
	}
	if sa.ep.cfg.LookupPeer == nil {
		return sa.authFailed(now, failure(ReasonAuthentication, "no peer configuration (initiator-only endpoint)"))
	}
	peer, err := sa.ep.cfg.LookupPeer(id, want)
	if err != nil || peer == nil {
		return sa.authFailed(now, failure(ReasonAuthentication, "no PAD entry for %s: %v", id, err))
	}
	sa.peer, sa.remoteID = peer, id
	sa.peerIDPayload = &ikev2.ID{Type: idi.Type, Data: id.Data}
	if ps.Get(ikev2.PayloadAUTH) == nil {
		return sa.startEAP(now, ps)
	}
	if err := sa.verifyAuth(now, ps, sa.peerIDPayload, nil); err != nil {
		return sa.authFailed(now, err)
	}
	return sa.authReply(now, ps, nil)
}

// authFailed answers AUTHENTICATION_FAILED and drops the SA (§2.21.2).
func (sa *IKESA) authFailed(now time.Time, err error) ikev2.Payloads {
	sa.fail(now, err)
	return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyAuthenticationFailed, nil)}
}

// authReply builds the final IKE_AUTH response from the request that
// carried SA, TS and CP (the first one, with EAP). With
// Config.AsyncAssign the home address is obtained off the SA's lock.
func (sa *IKESA) authReply(now time.Time, req ikev2.Payloads, msk []byte) ikev2.Payloads {
	cp, _ := req.Get(ikev2.PayloadCP).(*ikev2.CP)
	suggested, want := addressRequest(cp)
	assign := sa.ep.cfg.AssignAddress
	if !want || assign == nil || !sa.ep.cfg.AsyncAssign {
		return sa.authReplyWith(now, req, msk, sa.assignNow(want, suggested))
	}
	req, err := clonePayloads(req)
	if err != nil {
		return sa.authFailed(now, &Failure{Reason: ReasonProtocol, Err: err})
	}
	id := sa.remoteID
	sa.deferResponse(sa.reqHdr, func() any {
		p, err := assign(id, suggested)
		return assignment{asked: true, prefix: p, err: err}
	}, func(sa *IKESA, now time.Time, r any) ikev2.Payloads {
		return sa.authReplyWith(now, req, msk, r.(assignment))
	})
	return nil
}

// assignment is the outcome of asking for a home address.
type assignment struct {
	asked  bool
	prefix netip.Prefix
	err    error
}

var errNoAssigner = errors.New("ike: no address assignment configured")

func (sa *IKESA) assignNow(want bool, suggested netip.Addr) assignment {
	switch {
	case !want:
		return assignment{}
	case sa.ep.cfg.AssignAddress == nil:
		return assignment{asked: true, err: errNoAssigner}
	}
	p, err := sa.ep.cfg.AssignAddress(sa.remoteID, suggested)
	return assignment{asked: true, prefix: p, err: err}
}

// addressRequest reads CP(CFG_REQUEST) for INTERNAL_IP6_ADDRESS and the
// address the peer suggests, if any (RFC 4877 §9).
func addressRequest(cp *ikev2.CP) (suggested netip.Addr, want bool) {
	if cp == nil || cp.Type != ikev2.CFGRequest {
		return netip.Addr{}, false
	}
	a, ok := cp.Get(ikev2.CPInternalIP6Address)
	if !ok {
		return netip.Addr{}, false
	}
	if p, err := a.Prefix(); err == nil && !p.Addr().IsUnspecified() {
		suggested = p.Addr()
	}
	return suggested, true
}

// clonePayloads copies payloads out of a receive buffer that is reused.
func clonePayloads(ps ikev2.Payloads) (ikev2.Payloads, error) {
	if len(ps) == 0 {
		return ps, nil
	}
	raw, err := ikev2.AppendPayloads(nil, ps)
	if err != nil {
		return nil, err
	}
	return ikev2.ParsePayloads(ps[0].PayloadType(), raw)
}

func (sa *IKESA) authReplyWith(now time.Time, req ikev2.Payloads, msk []byte, as assignment) ikev2.Payloads {
	sa.peerMOBIKE = req.Notify(ikev2.NotifyMOBIKESupported) != nil
	auth, err := sa.authPayloads(msk)
	if err != nil {
		return sa.authFailed(now, &Failure{Reason: ReasonLocal, Err: err})
	}
	resp := auth
	if msk != nil {
		resp = auth[len(auth)-1:] // AUTH alone after EAP
	}
	if sa.peerMOBIKE {
		resp = append(resp, ikev2.NewNotify(ikev2.NotifyMOBIKESupported, nil))
	}
	if req.Notify(ikev2.NotifyInitialContact) != nil {
		// The peer restarted: its older IKE SAs are stale (§2.4). Other
		// SAs are locked separately, so this runs after this step.
		id, spi := sa.remoteID, sa.localSPI()
		go sa.ep.dropStale(id, sa.peer, spi)
	}
	cpResp, addrFailed := sa.answerCP(req, as)
	if cpResp != nil {
		resp = append(resp, cpResp)
	}
	sa.setEstablished(now)
	if addrFailed {
		// The peer should delete the IKE SA; if it does not, we do.
		sa.orphanDue = now.Add(sa.ep.halfOpenTimeout())
		return append(resp, ikev2.NewNotify(ikev2.NotifyInternalAddressFailure, nil))
	}
	offer, err := readOffer(req)
	if err != nil {
		return resp // childless (RFC 6023) or broken: the IKE SA stands alone
	}
	cps, c := sa.acceptChild(now, offer, sa.ni, sa.nr, false)
	resp = append(resp, cps...)
	if c != nil {
		sa.children = append(sa.children, c)
		sa.emit(Event{Kind: EventChildEstablished, Child: c})
	}
	return resp
}

// answerCP builds CP(CFG_REPLY) (RFC 4877 §9). addrFailed reports that an
// address was asked for and none could be given.
func (sa *IKESA) answerCP(req ikev2.Payloads, as assignment) (*ikev2.CP, bool) {
	cp, ok := req.Get(ikev2.PayloadCP).(*ikev2.CP)
	if !ok || cp.Type != ikev2.CFGRequest {
		return nil, false
	}
	reply := &ikev2.CP{Type: ikev2.CFGReply}
	if as.asked {
		if as.err != nil || !as.prefix.Addr().Is6() {
			sa.ep.logger().Info("ike: no address for peer", "peer", sa.remoteID, "err", as.err)
			return nil, true
		}
		sa.assigned = as.prefix
		reply.Attributes = append(reply.Attributes, ikev2.CPPrefix(ikev2.CPInternalIP6Address, as.prefix))
	}
	if _, ok := cp.Get(ikev2.CPInternalIP6DNS); ok {
		for _, d := range sa.ep.cfg.DNS {
			if d.Is6() {
				reply.Attributes = append(reply.Attributes, ikev2.CPAddr(ikev2.CPInternalIP6DNS, d))
			}
		}
	}
	if len(reply.Attributes) == 0 {
		return nil, false
	}
	return reply, false
}
