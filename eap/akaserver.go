package eap

import (
	"crypto/rand"
	"crypto/subtle"
	"sync"

	wire "mip6/wire/eap"
)

// AKASubscriber is a USIM's record at the authentication centre: its
// Milenage keys and the last sequence number issued. Safe for concurrent use.
type AKASubscriber struct {
	Milenage
	AMF [2]byte

	mu  sync.Mutex
	sqn uint64
}

// NewAKASubscriber returns a record whose next SQN is sqn+1.
func NewAKASubscriber(m Milenage, sqn uint64) *AKASubscriber {
	return &AKASubscriber{Milenage: m, AMF: [2]byte{0x80, 0}, sqn: sqn}
}

// next issues a fresh sequence number.
func (s *AKASubscriber) next() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sqn++
	return s.sqn
}

// resync sets the sequence number from the USIM's (AUTS).
func (s *AKASubscriber) resync(sqn uint64) {
	s.mu.Lock()
	if sqn > s.sqn {
		s.sqn = sqn
	}
	s.mu.Unlock()
}

// akaServerState is one EAP-AKA' challenge in a LocalAuthenticator conversation.
type akaServerState struct {
	sub      *AKASubscriber
	rand     [16]byte
	xres     [8]byte
	keys     *akaPrimeKeys
	resynced bool
}

func (c *localConversation) network() string {
	if c.a.NetworkName != "" {
		return c.a.NetworkName
	}
	return "WLAN"
}

// akaChallenge sends AKA-Challenge with a fresh authentication vector.
func (c *localConversation) akaChallenge() (Outcome, error) {
	st := c.aka
	if st == nil {
		st = &akaServerState{sub: c.a.AKA[c.identity]}
		c.aka = st
	}
	if _, err := rand.Read(st.rand[:]); err != nil {
		return Outcome{}, err
	}
	sqn := st.sub.next()
	v := st.sub.Compute(st.rand, sqn, st.sub.AMF)
	autn := AUTN(v, sqn, st.sub.AMF)
	st.xres = v.RES
	ckp, ikp := ckIKPrime(v.CK[:], v.IK[:], c.network(), autn[:6])
	st.keys = deriveAKAPrime(c.identity, ckp, ikp)
	var attrs []byte
	attrs = wire.AppendAKAFixed(attrs, wire.ATRand, st.rand[:])
	attrs = wire.AppendAKAFixed(attrs, wire.ATAutn, autn[:])
	attrs = wire.AppendAKAUint16(attrs, wire.ATKDF, 1)
	attrs = wire.AppendAKALengthPrefixed(attrs, wire.ATKDFInput, []byte(c.network()))
	attrs = wire.AppendAKAFixed(attrs, wire.ATMAC, make([]byte, 16))
	return c.request(&signedAKA{AKA: wire.AKA{Subtype: wire.AKAChallenge, Attributes: attrs}, kAut: st.keys.kAut[:]})
}

// akaResponse checks the peer's answer to AKA-Challenge.
func (c *localConversation) akaResponse(p *wire.Packet) (Outcome, error) {
	st := c.aka
	var m wire.AKA
	if err := wire.ParseAKA(p.Type, p.TypeData, &m); err != nil {
		return Outcome{}, &ProtocolError{Method: wire.TypeAKAPrime, Detail: "malformed response", Err: err}
	}
	switch m.Subtype {
	case wire.AKAChallenge:
		resA, ok := m.Attr(wire.ATRes)
		res, err := wire.AKALengthPrefixed(resA)
		if !ok || err != nil || !verifyAKAMAC(st.keys.kAut[:], p, &m) || !checkcodeOK(&m, nil) ||
			subtle.ConstantTimeCompare(res, st.xres[:]) != 1 {
			return c.finish(false)
		}
		c.userName = c.identity
		c.msk = st.keys.msk[:]
		return c.finish(true)
	case wire.AKASynchronizationFailure:
		a, ok := m.Attr(wire.ATAuts)
		auts, err := wire.AKAFixed(a, 14)
		if !ok || err != nil || st.resynced {
			return c.finish(false)
		}
		sqn, valid := st.sub.ResyncSQN(st.rand, auts)
		if !valid {
			return c.finish(false)
		}
		st.sub.resync(sqn)
		st.resynced = true
		return c.akaChallenge()
	}
	return c.finish(false) // Authentication-Reject, Client-Error
}
