package ike

import (
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
// carried SA, TS and CP (the first one, with EAP).
func (sa *IKESA) authReply(now time.Time, req ikev2.Payloads, msk []byte) ikev2.Payloads {
	sa.peerMOBIKE = req.Notify(ikev2.NotifyMOBIKESupported) != nil
	var resp ikev2.Payloads
	if msk == nil {
		auth, err := sa.authPayloads(nil)
		if err != nil {
			return sa.authFailed(now, &Failure{Reason: ReasonLocal, Err: err})
		}
		resp = auth
	} else {
		auth, err := sa.authPayloads(msk)
		if err != nil {
			return sa.authFailed(now, &Failure{Reason: ReasonLocal, Err: err})
		}
		resp = auth[len(auth)-1:]
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
	cpResp, addrFailed := sa.answerCP(req)
	if cpResp != nil {
		resp = append(resp, cpResp)
	}
	sa.setEstablished(now)
	if addrFailed {
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

// answerCP handles CP(CFG_REQUEST) (RFC 4877 §9). addrFailed reports that
// an address was asked for and none could be given.
func (sa *IKESA) answerCP(req ikev2.Payloads) (*ikev2.CP, bool) {
	cp, ok := req.Get(ikev2.PayloadCP).(*ikev2.CP)
	if !ok || cp.Type != ikev2.CFGRequest {
		return nil, false
	}
	reply := &ikev2.CP{Type: ikev2.CFGReply}
	if a, ok := cp.Get(ikev2.CPInternalIP6Address); ok {
		var suggested netip.Addr
		if p, err := a.Prefix(); err == nil && !p.Addr().IsUnspecified() {
			suggested = p.Addr()
		}
		if sa.ep.cfg.AssignAddress == nil {
			return nil, true
		}
		p, err := sa.ep.cfg.AssignAddress(sa.remoteID, suggested)
		if err != nil || !p.Addr().Is6() {
			sa.ep.logger().Info("ike: no address for peer", "peer", sa.remoteID, "err", err)
			return nil, true
		}
		sa.assigned = p
		reply.Attributes = append(reply.Attributes, ikev2.CPPrefix(ikev2.CPInternalIP6Address, p))
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
