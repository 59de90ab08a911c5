package ike

import (
	"time"

	"mip6/wire/ikev2"
)

// eapResponder tracks an EAP conversation in IKE_AUTH (§2.16).
type eapResponder struct {
	auth   EAPAuthenticator
	req    ikev2.Payloads // the first IKE_AUTH request: SA, TS, CP
	result *EAPResult
}

// startEAP answers an IKE_AUTH without AUTH: our IDr, CERT, AUTH and the
// first EAP request, once the authenticator (maybe a RADIUS server) gave it.
func (sa *IKESA) startEAP(now time.Time, ps ikev2.Payloads) ikev2.Payloads {
	if sa.peer.RemoteAuth != AuthEAP || sa.peer.EAPServer == nil {
		return sa.authFailed(now, failure(ReasonAuthentication, "peer %s sent no AUTH and EAP is not configured", sa.remoteID))
	}
	// Keep the request: payloads alias a buffer that is reused.
	raw, err := ikev2.AppendPayloads(nil, ps)
	if err != nil {
		return sa.authFailed(now, &Failure{Reason: ReasonProtocol, Err: err})
	}
	req, err := ikev2.ParsePayloads(ps[0].PayloadType(), raw)
	if err != nil {
		return sa.authFailed(now, &Failure{Reason: ReasonProtocol, Err: err})
	}
	a, id := sa.peer.EAPServer(), sa.remoteID
	sa.eapState = &eapResponder{auth: a, req: req}
	type started struct {
		msg []byte
		err error
	}
	sa.deferResponse(sa.reqHdr, func() any {
		m, err := a.Start(id)
		return started{m, err}
	}, func(sa *IKESA, now time.Time, r any) ikev2.Payloads {
		st := r.(started)
		if st.err != nil {
			return sa.authFailed(now, &Failure{Reason: ReasonAuthentication, Err: st.err})
		}
		auth, err := sa.authPayloads(nil)
		if err != nil {
			return sa.authFailed(now, &Failure{Reason: ReasonLocal, Err: err})
		}
		return append(auth, &ikev2.EAP{Data: st.msg})
	})
	return nil
}

// respondEAP handles the later IKE_AUTH requests: EAP responses, then the
// AUTH computed with the MSK.
func (sa *IKESA) respondEAP(now time.Time, ps ikev2.Payloads) ikev2.Payloads {
	st := sa.eapState
	if st.result != nil {
		if !st.result.Success {
			return sa.authFailed(now, failure(ReasonAuthentication, "EAP failed"))
		}
		if err := sa.verifyAuth(now, ps, sa.peerIDPayload, eapKey(st.result.MSK)); err != nil {
			return sa.authFailed(now, err)
		}
		if !st.result.Identity.IsZero() {
			sa.remoteID = st.result.Identity
		}
		resp := sa.authReply(now, st.req, eapKey(st.result.MSK))
		sa.eapState = nil
		return resp
	}
	e, ok := ps.Get(ikev2.PayloadEAP).(*ikev2.EAP)
	if !ok {
		return sa.authFailed(now, failure(ReasonProtocol, "IKE_AUTH without EAP during EAP"))
	}
	type stepped struct {
		msg []byte
		res *EAPResult
		err error
	}
	data := append([]byte(nil), e.Data...)
	sa.deferResponse(sa.reqHdr, func() any {
		m, r, err := st.auth.Next(data)
		return stepped{m, r, err}
	}, func(sa *IKESA, now time.Time, r any) ikev2.Payloads {
		s := r.(stepped)
		if s.err != nil {
			return sa.authFailed(now, &Failure{Reason: ReasonAuthentication, Err: s.err})
		}
		st.result = s.res
		if s.res != nil && !s.res.Success {
			// The EAP-Failure ends IKE_AUTH (§2.16): the peer sends nothing
			// more, so the SA goes now rather than at the half-open timeout.
			sa.fail(now, failure(ReasonAuthentication, "EAP failed"))
		}
		return ikev2.Payloads{&ikev2.EAP{Data: s.msg}}
	})
	return nil
}

// continueEAP is the initiator's side: answer EAP requests until success.
func (sa *IKESA) continueEAP(now time.Time, t *authTask, e *ikev2.EAP) error {
	p := sa.peer.EAP
	if p == nil {
		return failure(ReasonAuthentication, "responder started EAP; none configured")
	}
	if len(e.Data) > 0 && e.Data[0] == 3 { // EAP-Success (RFC 3748 §4.2)
		sa.eapDone = true
		next := &authTask{child: t.child, final: true}
		sa.queue = append([]task{next}, sa.queue...)
		return nil
	}
	if len(e.Data) > 0 && e.Data[0] == 4 {
		return failure(ReasonAuthentication, "EAP-Failure")
	}
	resp, err := p.Respond(e.Data)
	if err != nil {
		return &Failure{Reason: ReasonAuthentication, Err: err}
	}
	sa.queue = append([]task{&authTask{child: t.child, eap: resp}}, sa.queue...)
	return nil
}

func (sa *IKESA) eapMSK() []byte {
	if m := sa.peer.EAP.MSK(); len(m) > 0 {
		return m
	}
	return []byte{}
}
