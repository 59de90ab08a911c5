package ike

import (
	"fmt"
	"time"

	"mip6/wire/ikev2"
)

func (t *authTask) process(sa *IKESA, now time.Time, h ikev2.Header, ps ikev2.Payloads) error {
	// The responder may refuse in any round, also after EAP started or in
	// answer to the final AUTH (a RADIUS server down, §2.21.2).
	if n := ps.Notify(ikev2.NotifyAuthenticationFailed); n != nil {
		return notifyFailure(n.Type)
	}
	if sa.peer.MOBIKE && ps.Notify(ikev2.NotifyMOBIKESupported) != nil {
		sa.peerMOBIKE = true // RFC 4555 §3.1
	}
	if !t.final && t.eap == nil {
		if err := sa.checkResponderAuth(now, ps); err != nil {
			return err
		}
	}
	if eap, ok := ps.Get(ikev2.PayloadEAP).(*ikev2.EAP); ok {
		return sa.continueEAP(now, t, eap)
	}
	if t.eap != nil || (t.final && ps.Get(ikev2.PayloadAUTH) == nil) {
		// Neither EAP nor AUTH: an error notify ends the exchange.
		if n := errorNotify(ps); n != nil {
			return notifyFailure(n.Type)
		}
		return failure(ReasonProtocol, "IKE_AUTH response without EAP or AUTH")
	}
	if t.final {
		if err := sa.verifyAuth(now, ps, sa.peerIDPayload, sa.eapMSK()); err != nil {
			return err
		}
	}
	return sa.authComplete(now, t, ps)
}

// checkResponderAuth verifies IDr and AUTH of the first IKE_AUTH response.
func (sa *IKESA) checkResponderAuth(now time.Time, ps ikev2.Payloads) error {
	if n := ps.Notify(ikev2.NotifyAuthenticationFailed); n != nil {
		return notifyFailure(n.Type)
	}
	idr, _ := ps.Get(ikev2.PayloadIDr).(*ikev2.ID)
	if idr == nil {
		if n := errorNotify(ps); n != nil {
			return notifyFailure(n.Type)
		}
		return failure(ReasonProtocol, "IKE_AUTH response without IDr")
	}
	got := Identity{Type: idr.Type, Data: append([]byte(nil), idr.Data...)}
	if !sa.peer.RemoteID.IsZero() && !sa.peer.RemoteID.Equal(got) {
		return failure(ReasonAuthentication, "responder identity %s, want %s", got, sa.peer.RemoteID)
	}
	sa.remoteID = got
	sa.peerIDPayload = &ikev2.ID{Responder: true, Type: idr.Type, Data: got.Data}
	if sa.peer.LocalAuth == AuthEAP && ps.Get(ikev2.PayloadAUTH) == nil {
		return failure(ReasonAuthentication, "responder sent no AUTH")
	}
	return sa.verifyAuth(now, ps, sa.peerIDPayload, nil)
}

// authComplete installs the IKE SA and the first CHILD_SA.
func (sa *IKESA) authComplete(now time.Time, t *authTask, ps ikev2.Payloads) error {
	if cp, ok := ps.Get(ikev2.PayloadCP).(*ikev2.CP); ok && cp.Type == ikev2.CFGReply {
		sa.readCPReply(cp)
	}
	if sa.peer.RequestAddress && ps.Notify(ikev2.NotifyInternalAddressFailure) != nil {
		// RFC 4877 §9: the MN SHOULD terminate the IKE_AUTH exchange.
		sa.abandon(now, notifyFailure(ikev2.NotifyInternalAddressFailure))
		return nil
	}
	sa.setEstablished(now)
	if t.child == nil {
		return nil
	}
	c, err := sa.completeChild(now, t.child, ps, sa.ni, sa.nr)
	if err != nil {
		sa.ep.logger().Info("ike: CHILD_SA not created", "child", t.child.cfg.Name, "err", err)
		sa.emit(Event{Kind: EventFailed, Err: err, IKEAlive: true})
		return nil
	}
	sa.children = append(sa.children, c)
	sa.emit(Event{Kind: EventChildEstablished, Child: c})
	return nil
}

func (sa *IKESA) readCPReply(cp *ikev2.CP) {
	for _, a := range cp.Attributes {
		switch a.Type {
		case ikev2.CPInternalIP6Address:
			if p, err := a.Prefix(); err == nil && !sa.assigned.IsValid() {
				sa.assigned = p
			}
		case ikev2.CPInternalIP6DNS:
			if ad, err := a.Addr(); err == nil {
				sa.dns = append(sa.dns, ad)
			}
		}
	}
}

// abandon gives up an IKE SA that the responder authenticated and holds
// as established, although it refused what we needed (a home address):
// the failure is reported now, and the SA deleted with an INFORMATIONAL
// exchange (§1.4.1) so the responder frees it at once, not after DPD.
func (sa *IKESA) abandon(now time.Time, f *Failure) {
	sa.ep.logger().Info("ike: giving up IKE SA", "spi_i", fmt.Sprintf("%016x", sa.spiI), "spi_r", fmt.Sprintf("%016x", sa.spiR), "peer", sa.remote, "reason", f)
	sa.emit(Event{Kind: EventFailed, Err: f})
	sa.abandoned = true
	sa.queue = nil
	sa.enqueue(now, &infoTask{deleteIKE: true})
}

// setEstablished marks the IKE SA authenticated and reports it.
func (sa *IKESA) setEstablished(now time.Time) {
	sa.state = stateEstablished
	if sa.initiator {
		sa.ep.countUp(sa.peer, 1)
	}
	sa.initReq, sa.initResp = nil, nil
	sa.ep.established(sa)
	if sa.peer.IKERekeyTime > 0 {
		sa.rekeyDue = now.Add(sa.peer.IKERekeyTime)
	}
	if sa.peer.DPDInterval > 0 {
		sa.dpdDue = now.Add(sa.peer.DPDInterval)
	}
	if sa.peer.IKELifeTime > 0 {
		sa.expireDue = now.Add(sa.peer.IKELifeTime)
	}
	sa.emit(Event{Kind: EventIKEEstablished})
}

// info describes the SA for events.
func (sa *IKESA) info() SAInfo {
	i := SAInfo{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Initiator: sa.initiator, Local: sa.local, Remote: sa.remote,
		RemoteID: sa.remoteID, Suite: sa.suiteName, AssignedAddress: sa.assigned, DNS: sa.dns, Peer: sa.peer, NATDetected: sa.natDetected}
	if sa.peer != nil {
		i.LocalID = sa.peer.LocalID
	}
	return i
}
