package eap

import (
	"errors"

	wire "mip6/wire/eap"
)

// AKAPrime is the peer side of EAP-AKA' (RFC 9048) over a USIM. The
// network authenticates itself through AUTN and AT_MAC, so success is
// mutual. Identity must be the identity the server uses for the key
// derivation: the EAP identity, or the IKE IDi when IKEv2 carried it.
type AKAPrime struct {
	Identity string
	USIM     USIM
	// NetworkName, if set, must equal the server's AT_KDF_INPUT (the
	// access network name the keys are bound to).
	NetworkName string

	checkcode checkcodeHash
	keys      *akaPrimeKeys
	done      bool
	failErr   *FailureError
}

// NewAKAPrime returns an EAP-AKA' method.
func NewAKAPrime(identity string, usim USIM) *AKAPrime {
	return &AKAPrime{Identity: identity, USIM: usim}
}

func (m *AKAPrime) Type() wire.Type        { return wire.TypeAKAPrime }
func (m *AKAPrime) Done() bool             { return m.done }
func (m *AKAPrime) failure() *FailureError { return m.failErr }

// MSK is the 64-byte MSK after the challenge, else nil.
func (m *AKAPrime) MSK() []byte {
	if !m.done {
		return nil
	}
	return m.keys.msk[:]
}

// AKA client error codes (RFC 4187 §10.20).
const akaUnableToProcess = 0

// Process answers AKA-Identity, AKA-Challenge and AKA-Notification.
func (m *AKAPrime) Process(req *wire.Packet) (wire.Body, error) {
	var in wire.AKA
	if err := wire.ParseAKA(req.Type, req.TypeData, &in); err != nil {
		return m.clientError(), nil
	}
	switch in.Subtype {
	case wire.AKAIdentity:
		return m.identity(req)
	case wire.AKAChallenge:
		return m.challenge(req, &in)
	case wire.AKANotification:
		return m.notification(req, &in)
	}
	return m.clientError(), nil
}

func (m *AKAPrime) clientError() wire.Body {
	return &wire.AKA{Subtype: wire.AKAClientError,
		Attributes: wire.AppendAKAUint16(nil, wire.ATClientErrorCode, akaUnableToProcess)}
}

func (m *AKAPrime) identity(req *wire.Packet) (wire.Body, error) {
	if m.keys != nil {
		return m.clientError(), nil
	}
	pkt, _ := req.Append(nil)
	m.checkcode.add(pkt)
	body := &wire.AKA{Subtype: wire.AKAIdentity,
		Attributes: wire.AppendAKALengthPrefixed(nil, wire.ATIdentity, []byte(m.Identity))}
	resp, _ := wire.Append(nil, wire.CodeResponse, req.Identifier, body)
	m.checkcode.add(resp)
	return body, nil
}

func (m *AKAPrime) challenge(req *wire.Packet, in *wire.AKA) (wire.Body, error) {
	if u := in.UnknownNonSkippable(wire.ATRand, wire.ATAutn, wire.ATMAC, wire.ATKDF, wire.ATKDFInput,
		wire.ATCheckcode, wire.ATResultInd, wire.ATIV, wire.ATEncrData); u != 0 || m.done {
		return m.clientError(), nil
	}
	rand, autn, network, ok := challengeInputs(in)
	if !ok {
		return m.clientError(), nil
	}
	if m.NetworkName != "" && network != m.NetworkName {
		return &wire.AKA{Subtype: wire.AKAAuthenticationReject}, nil
	}
	res, ck, ik, err := m.USIM.Authenticate(rand, autn)
	var sync *SyncFailure
	switch {
	case errors.As(err, &sync):
		var attrs []byte
		attrs = wire.AppendAKAAttr(attrs, wire.ATAuts, sync.AUTS[:])
		attrs = wire.AppendAKAUint16(attrs, wire.ATKDF, 1)
		return &wire.AKA{Subtype: wire.AKASynchronizationFailure, Attributes: attrs}, nil
	case err != nil:
		return &wire.AKA{Subtype: wire.AKAAuthenticationReject}, nil
	}
	ckp, ikp := ckIKPrime(ck, ik, network, autn[:6])
	keys := deriveAKAPrime(m.Identity, ckp, ikp)
	if !verifyAKAMAC(keys.kAut[:], req, in) {
		return nil, &ServerAuthError{Method: m.Type(), Detail: "AT_MAC of AKA-Challenge does not verify"}
	}
	if !checkcodeOK(in, m.checkcode.value()) {
		return nil, &ServerAuthError{Method: m.Type(), Detail: "AT_CHECKCODE does not match the identity exchange"}
	}
	m.keys, m.done = keys, true
	var attrs []byte
	attrs = wire.AppendAKALengthPrefixed(attrs, wire.ATRes, res)
	attrs = appendCheckcode(attrs, m.checkcode.value())
	attrs = wire.AppendAKAFixed(attrs, wire.ATMAC, make([]byte, 16))
	return &signedAKA{AKA: wire.AKA{Subtype: wire.AKAChallenge, Attributes: attrs}, kAut: keys.kAut[:]}, nil
}

// challengeInputs reads AT_RAND, AT_AUTN and the KDF parameters; only KDF 1
// (the one RFC 9048 defines) is accepted.
func challengeInputs(in *wire.AKA) (rand, autn []byte, network string, ok bool) {
	ra, ok1 := in.Attr(wire.ATRand)
	au, ok2 := in.Attr(wire.ATAutn)
	kdf, ok3 := in.Attr(wire.ATKDF)
	ki, ok4 := in.Attr(wire.ATKDFInput)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, nil, "", false
	}
	rand, err1 := wire.AKAFixed(ra, 16)
	autn, err2 := wire.AKAFixed(au, 16)
	k, err3 := wire.AKAUint16(kdf)
	name, err4 := wire.AKALengthPrefixed(ki)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || k != 1 || len(name) == 0 {
		return nil, nil, "", false
	}
	return rand, autn, string(name), true
}

// notification answers AKA-Notification; a failure code ends the method.
func (m *AKAPrime) notification(req *wire.Packet, in *wire.AKA) (wire.Body, error) {
	a, ok := in.Attr(wire.ATNotification)
	code, err := wire.AKAUint16(a)
	if !ok || err != nil {
		return m.clientError(), nil
	}
	if code&0x8000 == 0 { // S bit clear: failure
		m.failErr = &FailureError{Method: m.Type(), Code: int(code), Detail: "AKA-Notification"}
	}
	if code&0x4000 != 0 || m.keys == nil { // P bit: before the challenge, no MAC
		return &wire.AKA{Subtype: wire.AKANotification}, nil
	}
	if !verifyAKAMAC(m.keys.kAut[:], req, in) {
		return nil, &ServerAuthError{Method: m.Type(), Detail: "AT_MAC of AKA-Notification does not verify"}
	}
	attrs := wire.AppendAKAFixed(nil, wire.ATMAC, make([]byte, 16))
	return &signedAKA{AKA: wire.AKA{Subtype: wire.AKANotification, Attributes: attrs}, kAut: m.keys.kAut[:]}, nil
}
