package ike

import (
	"errors"
	"net/netip"
	"time"

	"mip6/ike/crypto"
	"mip6/wire/ikev2"
)

// idBody is RestOfInitIDPayload / RestOfRespIDPayload (§2.15).
func idBody(id *ikev2.ID) []byte {
	b, _ := id.AppendBody(nil)
	return b
}

// signedOctets returns what this side's (mine) or the peer's AUTH covers.
func (sa *IKESA) signedOctets(mine bool, id *ikev2.ID) []byte {
	fromInitiator := sa.initiator == mine
	if fromInitiator {
		return crypto.SignedOctets(sa.prf, sa.initReq, sa.nr, sa.keys.SKpi, idBody(id))
	}
	return crypto.SignedOctets(sa.prf, sa.initResp, sa.ni, sa.keys.SKpr, idBody(id))
}

// authPayloads builds our ID (+CERT) and AUTH payloads. msk, when set,
// replaces the PSK (EAP, §2.16).
func (sa *IKESA) authPayloads(msk []byte) (ikev2.Payloads, error) {
	p := sa.peer
	id := p.LocalID.payload(!sa.initiator)
	ps := ikev2.Payloads{id}
	signed := sa.signedOctets(true, id)
	switch {
	case msk != nil:
		ps = append(ps, &ikev2.Auth{Method: ikev2.AuthSharedKeyMIC, Data: crypto.SharedKeyAuth(sa.prf, sa.eapSecret(msk, true), signed)})
	case p.LocalAuth == AuthPSK || p.LocalAuth == 0:
		if len(p.PSK) == 0 {
			return nil, errors.New("ike: PSK authentication without a key")
		}
		ps = append(ps, &ikev2.Auth{Method: ikev2.AuthSharedKeyMIC, Data: crypto.SharedKeyAuth(sa.prf, p.PSK, signed)})
	case p.LocalAuth == AuthCert:
		if p.PrivateKey == nil {
			return nil, errors.New("ike: certificate authentication without a private key")
		}
		ps = append(ps, certPayloads(p)...)
		m, data, err := crypto.Sign(p.PrivateKey, p.SignatureScheme, sa.peerHashes, signed, sa.ep.rand())
		if err != nil {
			return nil, err
		}
		ps = append(ps, &ikev2.Auth{Method: ikev2.AuthMethod(m), Data: data})
	default:
		return nil, errors.New("ike: no way to authenticate ourselves")
	}
	return ps, nil
}

// verifyAuth checks the peer's AUTH payload for identity id; msk, when
// set, is the EAP key.
func (sa *IKESA) verifyAuth(now time.Time, ps ikev2.Payloads, id *ikev2.ID, msk []byte) error {
	auth, _ := ps.Get(ikev2.PayloadAUTH).(*ikev2.Auth)
	if auth == nil {
		return failure(ReasonAuthentication, "no AUTH payload")
	}
	signed := sa.signedOctets(false, id)
	kind := sa.peer.RemoteAuth
	if msk != nil {
		kind = AuthEAP
	}
	switch kind {
	case AuthPSK, 0:
		if auth.Method != ikev2.AuthSharedKeyMIC || len(sa.peer.PSK) == 0 || !crypto.VerifySharedKeyAuth(sa.prf, sa.peer.PSK, signed, auth.Data) {
			return failure(ReasonAuthentication, "pre-shared key AUTH does not verify")
		}
	case AuthEAP:
		if auth.Method != ikev2.AuthSharedKeyMIC || !crypto.VerifySharedKeyAuth(sa.prf, sa.eapSecret(msk, false), signed, auth.Data) {
			return failure(ReasonAuthentication, "EAP MSK AUTH does not verify")
		}
	case AuthCert:
		pub, err := peerPublicKey(sa.peer, ps, Identity{Type: id.Type, Data: id.Data}, now)
		if err != nil {
			return &Failure{Reason: ReasonAuthentication, Err: err}
		}
		if err := crypto.VerifySignature(pub, crypto.AuthMethod(auth.Method), auth.Data, signed); err != nil {
			return &Failure{Reason: ReasonAuthentication, Err: err}
		}
	}
	return nil
}

// authTask is the initiator's IKE_AUTH (§1.2), with CP (RFC 4877 §9) and
// the first CHILD_SA.
type authTask struct {
	child *childRequest
	eap   []byte // EAP response to carry; nil on the first round
	final bool   // the AUTH after EAP success
}

func (*authTask) exchange() ikev2.ExchangeType { return ikev2.ExchangeIKEAuth }

func (t *authTask) build(sa *IKESA, now time.Time) (ikev2.Payloads, error) {
	if t.eap != nil {
		return ikev2.Payloads{&ikev2.EAP{Data: t.eap}}, nil
	}
	if t.final {
		auth, err := sa.authPayloads(sa.eapMSK())
		if err != nil {
			return nil, err
		}
		return auth[len(auth)-1:], nil // AUTH alone (§2.16)
	}
	p := sa.peer
	var auth ikev2.Payloads
	if p.LocalAuth == AuthEAP {
		auth = ikev2.Payloads{p.LocalID.payload(false)}
	} else {
		var err error
		if auth, err = sa.authPayloads(nil); err != nil {
			return nil, err
		}
	}
	// IDi, [CERT], [CERTREQ], [IDr], [AUTH] in the order of §1.2.
	ps := append(ikev2.Payloads{}, auth[0])
	for _, q := range auth[1:] {
		if q.PayloadType() == ikev2.PayloadCERT {
			ps = append(ps, q)
		}
	}
	if cr := certReqPayload(p.CACertificates); cr != nil {
		ps = append(ps, cr)
	}
	if !p.RemoteID.IsZero() {
		ps = append(ps, p.RemoteID.payload(true))
	}
	if last := auth[len(auth)-1]; last.PayloadType() == ikev2.PayloadAUTH {
		ps = append(ps, last)
	}
	if sa.ep.countUp(p, 0) == 0 {
		ps = append(ps, ikev2.NewNotify(ikev2.NotifyInitialContact, nil))
	}
	if p.MOBIKE {
		ps = append(ps, ikev2.NewNotify(ikev2.NotifyMOBIKESupported, nil))
	}
	return t.appendRest(sa, ps)
}

// appendRest adds CP and the CHILD_SA request after the AUTH payload.
func (t *authTask) appendRest(sa *IKESA, ps ikev2.Payloads) (ikev2.Payloads, error) {
	var tail ikev2.Payloads
	p := sa.peer
	if p.RequestAddress {
		cp := &ikev2.CP{Type: ikev2.CFGRequest}
		if p.SuggestAddress.IsValid() {
			cp.Attributes = append(cp.Attributes, ikev2.CPPrefix(ikev2.CPInternalIP6Address, netip.PrefixFrom(p.SuggestAddress, 128)))
		} else {
			cp.Attributes = append(cp.Attributes, ikev2.CPRequest(ikev2.CPInternalIP6Address))
		}
		if p.RequestDNS {
			cp.Attributes = append(cp.Attributes, ikev2.CPRequest(ikev2.CPInternalIP6DNS))
		}
		tail = append(tail, cp)
	}
	if len(p.Children) > 0 {
		cr, err := sa.newChildRequest(&p.Children[0], false)
		if err != nil {
			return nil, err
		}
		t.child = cr
		tail = append(tail, cr.payloads(sa)...)
	}
	return append(ps, tail...), nil
}

// eapSecret is the AUTH key after EAP (§2.16): the MSK, or, for methods
// without one, SK_pi for the initiator's AUTH and SK_pr for the responder's.
func (sa *IKESA) eapSecret(msk []byte, mine bool) []byte {
	if len(msk) > 0 {
		return msk
	}
	if sa.initiator == mine {
		return sa.keys.SKpi
	}
	return sa.keys.SKpr
}

// eapKey marks an EAP result's key as EAP (non-nil even when empty).
func eapKey(msk []byte) []byte {
	if msk == nil {
		return []byte{}
	}
	return msk
}
