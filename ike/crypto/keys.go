package crypto

import "fmt"

// Suite is the set of transforms negotiated for an IKE SA.
type Suite struct {
	Encr  Encr
	Integ IntegID // AUTH_NONE with an AEAD
	PRF   PRFID
	DH    DHGroup
}

func (s Suite) String() string {
	if s.Encr.ID.IsAEAD() {
		return fmt.Sprintf("%s/%s/%s", s.Encr, s.PRF, s.DH)
	}
	return fmt.Sprintf("%s/%s/%s/%s", s.Encr, s.Integ, s.PRF, s.DH)
}

// IKEKeys are the seven secrets of an IKE SA (RFC 7296 §2.14).
type IKEKeys struct {
	SKd, SKai, SKar, SKei, SKer, SKpi, SKpr []byte
}

// SKEYSEED computes prf(Ni | Nr, g^ir) for a new IKE SA (§2.14).
func SKEYSEED(p *PRF, ni, nr, gir []byte) []byte {
	key := make([]byte, 0, len(ni)+len(nr))
	key = append(append(key, ni...), nr...)
	return p.Sum(key, gir)
}

// RekeySKEYSEED computes prf(SK_d (old), g^ir (new) | Ni | Nr) for an IKE
// SA that replaces one whose SK_d and PRF are given (§2.18).
func RekeySKEYSEED(oldPRF *PRF, oldSKd, gir, ni, nr []byte) []byte {
	return oldPRF.Sum(oldSKd, gir, ni, nr)
}

// DeriveIKEKeys expands SKEYSEED into the IKE SA's keys:
//
//	{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
//	    = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
func DeriveIKEKeys(s Suite, skeyseed, ni, nr []byte, spii, spir uint64) (*IKEKeys, error) {
	p, err := LookupPRF(s.PRF)
	if err != nil {
		return nil, err
	}
	seed := make([]byte, 0, len(ni)+len(nr)+16)
	seed = append(append(seed, ni...), nr...)
	seed = appendUint64(appendUint64(seed, spii), spir)
	ps, ik, ek := p.Size(), s.Integ.KeyLen(), s.Encr.KeymatLen()
	km := p.Plus(skeyseed, seed, 3*ps+2*ik+2*ek)
	k := &IKEKeys{}
	for _, f := range []struct {
		dst *[]byte
		n   int
	}{{&k.SKd, ps}, {&k.SKai, ik}, {&k.SKar, ik}, {&k.SKei, ek}, {&k.SKer, ek}, {&k.SKpi, ps}, {&k.SKpr, ps}} {
		*f.dst, km = km[:f.n:f.n], km[f.n:]
	}
	return k, nil
}

func appendUint64(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// ChildKeys are the keys of a CHILD_SA pair. The I keys protect traffic
// from the initiator of the exchange to its responder (the SA whose SPI the
// responder chose), the R keys the other direction (§2.17).
type ChildKeys struct {
	EncrI, IntegI, EncrR, IntegR []byte
}

// DeriveChildKeys computes KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) and
// splits it as §2.17 orders it: initiator-to-responder encryption and
// integrity keys, then responder-to-initiator. gir is nil without PFS.
func DeriveChildKeys(p *PRF, skd, gir, ni, nr []byte, e Encr, integ IntegID) *ChildKeys {
	seed := make([]byte, 0, len(gir)+len(ni)+len(nr))
	seed = append(append(append(seed, gir...), ni...), nr...)
	ek, ik := e.KeymatLen(), integ.KeyLen()
	km := p.Plus(skd, seed, 2*(ek+ik))
	return &ChildKeys{
		EncrI:  km[0:ek:ek],
		IntegI: km[ek : ek+ik : ek+ik],
		EncrR:  km[ek+ik : 2*ek+ik : 2*ek+ik],
		IntegR: km[2*ek+ik : 2*(ek+ik) : 2*(ek+ik)],
	}
}
