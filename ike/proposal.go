package ike

import (
	"fmt"
	"strings"

	"mip6/ike/crypto"
	"mip6/wire/ikev2"
)

// IKEProposal is one configured IKE SA proposal: each list in order of
// preference, like strongSwan's "aes128gcm16-prfsha256-x25519".
type IKEProposal struct {
	Encr  []crypto.Encr
	Integ []crypto.IntegID // empty with AEAD ciphers
	PRF   []crypto.PRFID
	DH    []crypto.DHGroup
}

// ChildProposal is one configured ESP proposal. DH non-empty asks for PFS
// in CREATE_CHILD_SA (ignored in IKE_AUTH, §1.2).
type ChildProposal struct {
	Encr  []crypto.Encr
	Integ []crypto.IntegID
	DH    []crypto.DHGroup
	// ESN also offers (and accepts) 64-bit Extended Sequence Numbers;
	// without ESN is always offered and preferred.
	ESN bool
}

// ChildSuite is what was negotiated for a CHILD_SA.
type ChildSuite struct {
	Encr  crypto.Encr
	Integ crypto.IntegID
	DH    crypto.DHGroup // 0 without PFS
	ESN   bool           // Extended Sequence Numbers
}

func (s ChildSuite) String() string {
	parts := []string{s.Encr.String()}
	if s.Integ != crypto.AUTH_NONE {
		parts = append(parts, s.Integ.String())
	}
	if s.DH != 0 {
		parts = append(parts, s.DH.String())
	}
	if s.ESN {
		parts = append(parts, "ESN")
	}
	return strings.Join(parts, "/")
}

// DefaultIKEProposals are offered and accepted when a config names none:
// RFC 8247's recommended algorithms, AEAD first.
func DefaultIKEProposals() []IKEProposal {
	return []IKEProposal{
		{
			Encr: []crypto.Encr{{ID: crypto.ENCR_AES_GCM_16, KeyLen: 128}, {ID: crypto.ENCR_AES_GCM_16, KeyLen: 256}, {ID: crypto.ENCR_CHACHA20_POLY1305}},
			PRF:  []crypto.PRFID{crypto.PRF_HMAC_SHA2_256, crypto.PRF_HMAC_SHA2_384, crypto.PRF_HMAC_SHA2_512},
			DH:   []crypto.DHGroup{crypto.Curve25519, crypto.ECP_256, crypto.ECP_384, crypto.MODP_2048},
		},
		{
			Encr:  []crypto.Encr{{ID: crypto.ENCR_AES_CBC, KeyLen: 128}, {ID: crypto.ENCR_AES_CBC, KeyLen: 256}},
			Integ: []crypto.IntegID{crypto.AUTH_HMAC_SHA2_256_128, crypto.AUTH_HMAC_SHA2_512_256, crypto.AUTH_HMAC_SHA2_384_192},
			PRF:   []crypto.PRFID{crypto.PRF_HMAC_SHA2_256, crypto.PRF_HMAC_SHA2_384, crypto.PRF_HMAC_SHA2_512},
			DH:    []crypto.DHGroup{crypto.Curve25519, crypto.ECP_256, crypto.ECP_384, crypto.MODP_2048},
		},
	}
}

// DefaultChildProposals are the ESP proposals used when a config names none.
func DefaultChildProposals() []ChildProposal {
	return []ChildProposal{
		{Encr: []crypto.Encr{{ID: crypto.ENCR_AES_GCM_16, KeyLen: 128}, {ID: crypto.ENCR_AES_GCM_16, KeyLen: 256}, {ID: crypto.ENCR_CHACHA20_POLY1305}}},
		{
			Encr:  []crypto.Encr{{ID: crypto.ENCR_AES_CBC, KeyLen: 128}, {ID: crypto.ENCR_AES_CBC, KeyLen: 256}},
			Integ: []crypto.IntegID{crypto.AUTH_HMAC_SHA2_256_128, crypto.AUTH_HMAC_SHA2_512_256, crypto.AUTH_HMAC_SHA2_384_192},
		},
	}
}

func encrTransform(e crypto.Encr) ikev2.Transform {
	return ikev2.EncrTransform(ikev2.EncrID(e.ID), uint16(e.KeyLen))
}

// ikeSAPayload builds the SA payload offering ps (IKE_SA_INIT when spi is
// nil, IKE SA rekey otherwise).
func ikeSAPayload(ps []IKEProposal, spi []byte) *ikev2.SA {
	sa := &ikev2.SA{}
	for i, p := range ps {
		prop := ikev2.Proposal{Number: uint8(i + 1), Protocol: ikev2.ProtocolIKE, SPI: spi}
		for _, e := range p.Encr {
			prop.Transforms = append(prop.Transforms, encrTransform(e))
		}
		for _, f := range p.PRF {
			prop.Transforms = append(prop.Transforms, ikev2.PRFTransform(ikev2.PRFID(f)))
		}
		for _, x := range p.Integ {
			prop.Transforms = append(prop.Transforms, ikev2.IntegTransform(ikev2.IntegID(x)))
		}
		for _, g := range p.DH {
			prop.Transforms = append(prop.Transforms, ikev2.DHTransform(ikev2.DHGroup(g)))
		}
		sa.Proposals = append(sa.Proposals, prop)
	}
	return sa
}

// childSAPayload offers ps for ESP with our inbound SPI; withDH adds the
// PFS groups (CREATE_CHILD_SA only).
func childSAPayload(ps []ChildProposal, spi uint32, withDH bool) *ikev2.SA {
	sa := &ikev2.SA{}
	spiB := []byte{byte(spi >> 24), byte(spi >> 16), byte(spi >> 8), byte(spi)}
	for i, p := range ps {
		prop := ikev2.Proposal{Number: uint8(i + 1), Protocol: ikev2.ProtocolESP, SPI: spiB}
		for _, e := range p.Encr {
			prop.Transforms = append(prop.Transforms, encrTransform(e))
		}
		for _, x := range p.Integ {
			prop.Transforms = append(prop.Transforms, ikev2.IntegTransform(ikev2.IntegID(x)))
		}
		if withDH {
			for _, g := range p.DH {
				prop.Transforms = append(prop.Transforms, ikev2.DHTransform(ikev2.DHGroup(g)))
			}
		}
		prop.Transforms = append(prop.Transforms, ikev2.ESNTransform(ikev2.ESNNo))
		if p.ESN {
			prop.Transforms = append(prop.Transforms, ikev2.ESNTransform(ikev2.ESNYes))
		}
		sa.Proposals = append(sa.Proposals, prop)
	}
	return sa
}

// transformOffered reports whether the peer's proposal carries the
// transform (type, ID and key length equal, no unknown attributes).
func transformOffered(p *ikev2.Proposal, want ikev2.Transform) bool {
	for _, t := range p.Transforms {
		if t.Type == want.Type && t.ID == want.ID && t.KeyLength == want.KeyLength && len(t.Attributes) == 0 {
			return true
		}
	}
	return false
}

// hasType reports whether the proposal has transforms of type tt.
func hasType(p *ikev2.Proposal, tt ikev2.TransformType) bool {
	for _, t := range p.Transforms {
		if t.Type == tt {
			return true
		}
	}
	return false
}

// pick returns the first of ours the peer offers; found is false when the
// peer offers some of type tt but none of ours, or (need) none at all.
func pick[T any](p *ikev2.Proposal, ours []T, mk func(T) ikev2.Transform, tt ikev2.TransformType, need bool) (T, bool) {
	var zero T
	for _, o := range ours {
		if transformOffered(p, mk(o)) {
			return o, true
		}
	}
	return zero, !need && !hasType(p, tt)
}

// selectIKE chooses by our preference among the peer's IKE proposals.
// It returns the chosen suite and the proposal to echo.
func selectIKE(ours []IKEProposal, peer *ikev2.SA) (crypto.Suite, ikev2.Proposal, bool) {
	for _, o := range ours {
		for i := range peer.Proposals {
			pp := &peer.Proposals[i]
			if pp.Protocol != ikev2.ProtocolIKE {
				continue
			}
			s, ok := matchIKE(o, pp)
			if !ok {
				continue
			}
			resp := ikev2.Proposal{Number: pp.Number, Protocol: ikev2.ProtocolIKE, SPI: pp.SPI}
			resp.Transforms = append(resp.Transforms, encrTransform(s.Encr), ikev2.PRFTransform(ikev2.PRFID(s.PRF)))
			if s.Integ != crypto.AUTH_NONE {
				resp.Transforms = append(resp.Transforms, ikev2.IntegTransform(ikev2.IntegID(s.Integ)))
			}
			resp.Transforms = append(resp.Transforms, ikev2.DHTransform(ikev2.DHGroup(s.DH)))
			return s, resp, true
		}
	}
	return crypto.Suite{}, ikev2.Proposal{}, false
}

func matchIKE(o IKEProposal, pp *ikev2.Proposal) (crypto.Suite, bool) {
	var s crypto.Suite
	var ok bool
	if s.Encr, ok = pick(pp, o.Encr, encrTransform, ikev2.TransformENCR, true); !ok {
		return s, false
	}
	if s.PRF, ok = pick(pp, o.PRF, func(x crypto.PRFID) ikev2.Transform { return ikev2.PRFTransform(ikev2.PRFID(x)) }, ikev2.TransformPRF, true); !ok {
		return s, false
	}
	if s.DH, ok = pick(pp, o.DH, func(x crypto.DHGroup) ikev2.Transform { return ikev2.DHTransform(ikev2.DHGroup(x)) }, ikev2.TransformDH, true); !ok {
		return s, false
	}
	if !s.Encr.ID.IsAEAD() {
		if s.Integ, ok = pick(pp, o.Integ, integTransform, ikev2.TransformINTEG, true); !ok {
			return s, false
		}
	} else if hasNonNoneInteg(pp) && !transformOffered(pp, ikev2.IntegTransform(ikev2.IntegNone)) {
		return s, false
	}
	return s, true
}

func integTransform(x crypto.IntegID) ikev2.Transform { return ikev2.IntegTransform(ikev2.IntegID(x)) }

func hasNonNoneInteg(p *ikev2.Proposal) bool {
	for _, t := range p.Transforms {
		if t.Type == ikev2.TransformINTEG && t.ID != 0 {
			return true
		}
	}
	return false
}

// selectChild chooses an ESP proposal. With wantDH (CREATE_CHILD_SA) a
// D-H transform is negotiated when either side asks for PFS.
func selectChild(ours []ChildProposal, peer *ikev2.SA, wantDH bool) (ChildSuite, ikev2.Proposal, bool) {
	for _, o := range ours {
		for i := range peer.Proposals {
			pp := &peer.Proposals[i]
			if pp.Protocol != ikev2.ProtocolESP || len(pp.SPI) != 4 {
				continue
			}
			s, ok := matchChild(o, pp, wantDH)
			if !ok {
				continue
			}
			resp := ikev2.Proposal{Number: pp.Number, Protocol: ikev2.ProtocolESP}
			resp.Transforms = append(resp.Transforms, encrTransform(s.Encr))
			if s.Integ != crypto.AUTH_NONE {
				resp.Transforms = append(resp.Transforms, integTransform(s.Integ))
			}
			if s.DH != 0 {
				resp.Transforms = append(resp.Transforms, ikev2.DHTransform(ikev2.DHGroup(s.DH)))
			}
			esn := ikev2.ESNNo
			if s.ESN {
				esn = ikev2.ESNYes
			}
			resp.Transforms = append(resp.Transforms, ikev2.ESNTransform(esn))
			return s, resp, true
		}
	}
	return ChildSuite{}, ikev2.Proposal{}, false
}

func matchChild(o ChildProposal, pp *ikev2.Proposal, wantDH bool) (ChildSuite, bool) {
	var s ChildSuite
	var ok bool
	if s.Encr, ok = pick(pp, o.Encr, encrTransform, ikev2.TransformENCR, true); !ok {
		return s, false
	}
	if !s.Encr.ID.IsAEAD() {
		if s.Integ, ok = pick(pp, o.Integ, integTransform, ikev2.TransformINTEG, true); !ok {
			return s, false
		}
	} else if hasNonNoneInteg(pp) && !transformOffered(pp, ikev2.IntegTransform(ikev2.IntegNone)) {
		return s, false
	}
	switch {
	case !hasType(pp, ikev2.TransformESN) || transformOffered(pp, ikev2.ESNTransform(ikev2.ESNNo)):
	case o.ESN && transformOffered(pp, ikev2.ESNTransform(ikev2.ESNYes)):
		s.ESN = true
	default:
		return s, false
	}
	if wantDH && (len(o.DH) > 0 || hasDH(pp)) {
		if s.DH, ok = pick(pp, o.DH, func(x crypto.DHGroup) ikev2.Transform { return ikev2.DHTransform(ikev2.DHGroup(x)) }, ikev2.TransformDH, len(o.DH) > 0); !ok {
			return s, false
		}
	}
	return s, true
}

func hasDH(p *ikev2.Proposal) bool {
	for _, t := range p.Transforms {
		if t.Type == ikev2.TransformDH && t.ID != 0 {
			return true
		}
	}
	return false
}

// suiteFromResponse reads the single proposal a responder chose and checks
// it is one we offered.
func suiteFromResponse(ours []IKEProposal, sa *ikev2.SA) (crypto.Suite, error) {
	if sa == nil || len(sa.Proposals) != 1 {
		return crypto.Suite{}, fmt.Errorf("ike: response SA must carry exactly one proposal")
	}
	p := sa.Proposals[0]
	for _, o := range ours {
		if s, ok := matchIKE(o, &p); ok && len(p.Transforms) == countIKE(s) {
			return s, nil
		}
	}
	return crypto.Suite{}, fmt.Errorf("ike: responder chose a proposal we did not offer")
}

func countIKE(s crypto.Suite) int {
	if s.Integ != crypto.AUTH_NONE {
		return 4
	}
	return 3
}

// childFromResponse does the same for an ESP proposal and returns the
// responder's SPI.
func childFromResponse(ours []ChildProposal, sa *ikev2.SA, wantDH bool) (ChildSuite, uint32, error) {
	if sa == nil || len(sa.Proposals) != 1 || len(sa.Proposals[0].SPI) != 4 {
		return ChildSuite{}, 0, fmt.Errorf("ike: response SA must carry exactly one ESP proposal with a 4-octet SPI")
	}
	p := sa.Proposals[0]
	spi := uint32(p.SPI[0])<<24 | uint32(p.SPI[1])<<16 | uint32(p.SPI[2])<<8 | uint32(p.SPI[3])
	for _, o := range ours {
		if s, ok := matchChild(o, &p, wantDH); ok {
			return s, spi, nil
		}
	}
	return ChildSuite{}, 0, fmt.Errorf("ike: responder chose an ESP proposal we did not offer")
}
