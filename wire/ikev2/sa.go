package ikev2

import (
	"encoding/binary"
	"strconv"
)

// SA is the Security Association payload (RFC 7296 §3.3): proposals in
// order of preference. A response carries exactly one.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                          <Proposals>                          ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type SA struct {
	Proposals []Proposal
}

// Proposal is a proposal substructure (RFC 7296 §3.3.1). Number is the
// Proposal Num (1, 2, ... in a request; the chosen one's in a response).
// SPI is empty for IKE in IKE_SA_INIT, 8 octets for IKE in CREATE_CHILD_SA,
// 4 octets for AH and ESP.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Last Substruc |   RESERVED    |         Proposal Length       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                        SPI (variable)                         ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                        <Transforms>                           ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Proposal struct {
	Number     uint8
	Protocol   ProtocolID
	SPI        []byte
	Transforms []Transform
}

// Transform is a transform substructure (RFC 7296 §3.3.2). ID is the
// Transform ID, to be read as EncrID, PRFID, IntegID, DHGroup or ESNMode by
// Type. KeyLength is the Key Length attribute (§3.3.5) in bits, 0 if absent.
// Attributes holds any other attributes, which RFC 7296 does not define;
// a responder must not choose a transform whose attributes it does not know.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Last Substruc |   RESERVED    |        Transform Length       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Transform Type |   RESERVED    |          Transform ID         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                      Transform Attributes                     ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Transform struct {
	Type       TransformType
	ID         uint16
	KeyLength  uint16
	Attributes []TransformAttribute
}

// TransformAttribute is a data attribute (RFC 7296 §3.3.5). TV attributes
// (AF=1) carry Value; TLV attributes (AF=0) carry Data.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|A|       Attribute Type        |    AF=0  Attribute Length     |
//	|F|                             |    AF=1  Attribute Value      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                   AF=0  Attribute Value                       |
//	|                   AF=1  Not Transmitted                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type TransformAttribute struct {
	Type  uint16 // 15 bits
	TV    bool
	Value uint16
	Data  []byte
}

// AttributeKeyLength is the Key Length attribute type.
const AttributeKeyLength = 14

// EncrTransform returns an ENCR transform; keyLen in bits, 0 for none.
func EncrTransform(id EncrID, keyLen uint16) Transform {
	return Transform{Type: TransformENCR, ID: uint16(id), KeyLength: keyLen}
}

// PRFTransform returns a PRF transform.
func PRFTransform(id PRFID) Transform { return Transform{Type: TransformPRF, ID: uint16(id)} }

// IntegTransform returns an INTEG transform.
func IntegTransform(id IntegID) Transform { return Transform{Type: TransformINTEG, ID: uint16(id)} }

// DHTransform returns a D-H transform.
func DHTransform(g DHGroup) Transform { return Transform{Type: TransformDH, ID: uint16(g)} }

// ESNTransform returns an ESN transform.
func ESNTransform(m ESNMode) Transform { return Transform{Type: TransformESN, ID: uint16(m)} }

func (t Transform) String() string {
	var s string
	switch t.Type {
	case TransformENCR:
		s = EncrID(t.ID).String()
	case TransformPRF:
		s = PRFID(t.ID).String()
	case TransformINTEG:
		s = IntegID(t.ID).String()
	case TransformDH:
		s = DHGroup(t.ID).String()
	case TransformESN:
		s = ESNMode(t.ID).String()
	default:
		s = t.Type.String() + ":" + strconv.Itoa(int(t.ID))
	}
	if t.KeyLength != 0 {
		s += "_" + strconv.Itoa(int(t.KeyLength))
	}
	return s
}

// Transforms returns the proposal's transforms of type tt, in order.
func (p *Proposal) TransformsOf(tt TransformType) []Transform {
	var out []Transform
	for _, t := range p.Transforms {
		if t.Type == tt {
			out = append(out, t)
		}
	}
	return out
}

func (*SA) PayloadType() PayloadType { return PayloadSA }

func (sa *SA) AppendBody(b []byte) ([]byte, error) {
	for i := range sa.Proposals {
		var err error
		if b, err = sa.Proposals[i].appendTo(b, i == len(sa.Proposals)-1, i+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

// saPath names proposal pi, transform ti and attribute ai (0 = none).
func saPath(pi, ti, ai int) string {
	s := joinPath("", "proposal", pi)
	if ti > 0 {
		s = joinPath(s, "transform", ti)
	}
	if ai > 0 {
		s = joinPath(s, "attribute", ai)
	}
	return s
}

func (p *Proposal) appendTo(b []byte, last bool, idx int) ([]byte, error) {
	if len(p.SPI) > 255 {
		return b, encErr("SA", saPath(idx, 0, 0), "SPI size", ProblemLong, len(p.SPI), 255)
	}
	if len(p.Transforms) > 255 {
		return b, encErr("SA", saPath(idx, 0, 0), "transforms", ProblemLong, len(p.Transforms), 255)
	}
	start := len(b)
	ls := byte(2)
	if last {
		ls = 0
	}
	b = append(b, ls, 0, 0, 0, p.Number, byte(p.Protocol), byte(len(p.SPI)), byte(len(p.Transforms)))
	b = append(b, p.SPI...)
	for j := range p.Transforms {
		var err error
		if b, err = p.Transforms[j].appendTo(b, j == len(p.Transforms)-1, idx, j+1); err != nil {
			return b, err
		}
	}
	if n := len(b) - start; n > maxPayloadLen {
		return b, encErr("SA", saPath(idx, 0, 0), "length", ProblemLong, n, maxPayloadLen)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b, nil
}

func (t *Transform) appendTo(b []byte, last bool, pi, idx int) ([]byte, error) {
	start := len(b)
	ls := byte(3)
	if last {
		ls = 0
	}
	b = append(b, ls, 0, 0, 0, byte(t.Type), 0)
	b = binary.BigEndian.AppendUint16(b, t.ID)
	if t.KeyLength != 0 {
		b = append(b, 0x80|AttributeKeyLength>>8, AttributeKeyLength&0xff)
		b = binary.BigEndian.AppendUint16(b, t.KeyLength)
	}
	for k, a := range t.Attributes {
		if a.Type > 0x7fff || a.Type == AttributeKeyLength {
			return b, encErr("SA", saPath(pi, idx, k+1), "type", ProblemInvalid, int(a.Type), 0)
		}
		if a.TV {
			b = binary.BigEndian.AppendUint16(b, 0x8000|a.Type)
			b = binary.BigEndian.AppendUint16(b, a.Value)
			continue
		}
		if len(a.Data) > maxPayloadLen {
			return b, encErr("SA", saPath(pi, idx, k+1), "length", ProblemLong, len(a.Data), maxPayloadLen)
		}
		b = binary.BigEndian.AppendUint16(b, a.Type)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.Data)))
		b = append(b, a.Data...)
	}
	if n := len(b) - start; n > maxPayloadLen {
		return b, encErr("SA", saPath(pi, idx, 0), "length", ProblemLong, n, maxPayloadLen)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b, nil
}

func parseSA(b []byte) (*SA, error) {
	sa := &SA{}
	for i := 1; len(b) > 0; i++ {
		p, n, last, err := parseProposal(b, i)
		if err != nil {
			return nil, err
		}
		if len(sa.Proposals) > 0 {
			prev := sa.Proposals[len(sa.Proposals)-1].Number
			if p.Number != prev+1 {
				return nil, errf("SA", saPath(i, 0, 0), "proposal number", ProblemMismatch, int(p.Number), int(prev)+1)
			}
		}
		sa.Proposals = append(sa.Proposals, p)
		b = b[n:]
		if last != (len(b) == 0) {
			return nil, errf("SA", saPath(i, 0, 0), "last substructure", ProblemInvalid, boolInt(!last)*2, 0)
		}
	}
	if len(sa.Proposals) == 0 {
		return nil, errf("SA", "", "proposals", ProblemShort, 0, 1)
	}
	if len(sa.Proposals) > 1 && sa.Proposals[0].Number != 1 {
		return nil, errf("SA", "proposal 1", "proposal number", ProblemMismatch, int(sa.Proposals[0].Number), 1)
	}
	return sa, nil
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

// parseProposal decodes the proposal at the start of b; it returns its
// length and whether its Last Substruc says it is the last one.
func parseProposal(b []byte, idx int) (Proposal, int, bool, error) {
	path := lazyPath{idx, 0, 0}
	if len(b) < 8 {
		return Proposal{}, 0, false, errf("SA", path.String(), "header", ProblemOverrun, 8, len(b))
	}
	plen := int(binary.BigEndian.Uint16(b[2:4]))
	if plen < 8 {
		return Proposal{}, 0, false, errf("SA", path.String(), "length", ProblemShort, plen, 8)
	}
	if plen > len(b) {
		return Proposal{}, 0, false, errf("SA", path.String(), "length", ProblemOverrun, plen, len(b))
	}
	if b[0] != 0 && b[0] != 2 {
		return Proposal{}, 0, false, errf("SA", path.String(), "last substructure", ProblemInvalid, int(b[0]), 0)
	}
	p := Proposal{Number: b[4], Protocol: ProtocolID(b[5])}
	if p.Number == 0 {
		return p, 0, false, errf("SA", path.String(), "proposal number", ProblemInvalid, 0, 0)
	}
	spiSize, nt := int(b[6]), int(b[7])
	if err := checkSPISize("SA", path.String(), p.Protocol, spiSize, true); err != nil {
		return p, 0, false, err
	}
	if 8+spiSize > plen {
		return p, 0, false, errf("SA", path.String(), "SPI size", ProblemOverrun, spiSize, plen-8)
	}
	p.SPI = orNil(b[8 : 8+spiSize])
	rest := b[8+spiSize : plen]
	if nt == 0 {
		return p, 0, false, errf("SA", path.String(), "transforms", ProblemShort, 0, 1)
	}
	if nt*8 > len(rest) {
		return p, 0, false, errf("SA", path.String(), "transforms", ProblemOverrun, nt, len(rest))
	}
	p.Transforms = make([]Transform, 0, nt)
	for j := 1; j <= nt; j++ {
		t, n, last, err := parseTransform(rest, idx, j)
		if err != nil {
			return p, 0, false, err
		}
		p.Transforms = append(p.Transforms, t)
		rest = rest[n:]
		if last != (j == nt) {
			return p, 0, false, errf("SA", saPath(idx, j, 0), "last substructure", ProblemInvalid, boolInt(!last)*3, 0)
		}
	}
	if len(rest) != 0 {
		return p, 0, false, errf("SA", path.String(), "transforms", ProblemTrailing, len(rest), 0)
	}
	return p, plen, b[0] == 0, nil
}

// checkSPISize enforces RFC 7296 §3.3.1 (proposals) and §3.10/§3.11
// (notify, delete): IKE 0 or 8 octets, AH and ESP 4.
func checkSPISize(where, path string, proto ProtocolID, size int, allowZeroIKE bool) error {
	switch proto {
	case ProtocolIKE:
		if size == 8 || (size == 0 && allowZeroIKE) {
			return nil
		}
		return errf(where, path, "SPI size", ProblemMismatch, size, 8)
	case ProtocolAH, ProtocolESP:
		if size != 4 {
			return errf(where, path, "SPI size", ProblemMismatch, size, 4)
		}
	}
	return nil
}

func parseTransform(b []byte, pi, idx int) (Transform, int, bool, error) {
	path := lazyPath{pi, idx, 0}
	if len(b) < 8 {
		return Transform{}, 0, false, errf("SA", path.String(), "header", ProblemOverrun, 8, len(b))
	}
	tlen := int(binary.BigEndian.Uint16(b[2:4]))
	if tlen < 8 {
		return Transform{}, 0, false, errf("SA", path.String(), "length", ProblemShort, tlen, 8)
	}
	if tlen > len(b) {
		return Transform{}, 0, false, errf("SA", path.String(), "length", ProblemOverrun, tlen, len(b))
	}
	if b[0] != 0 && b[0] != 3 {
		return Transform{}, 0, false, errf("SA", path.String(), "last substructure", ProblemInvalid, int(b[0]), 0)
	}
	t := Transform{Type: TransformType(b[4]), ID: binary.BigEndian.Uint16(b[6:8])}
	if err := t.parseAttributes(b[8:tlen], pi, idx); err != nil {
		return t, 0, false, err
	}
	return t, tlen, b[0] == 0, nil
}

func (t *Transform) parseAttributes(b []byte, pi, ti int) error {
	for k := 1; len(b) > 0; k++ {
		apath := lazyPath{pi, ti, k}
		if len(b) < 4 {
			return errf("SA", apath.String(), "header", ProblemOverrun, 4, len(b))
		}
		v := binary.BigEndian.Uint16(b[0:2])
		a := TransformAttribute{Type: v & 0x7fff, TV: v&0x8000 != 0}
		n := 4
		if a.TV {
			a.Value = binary.BigEndian.Uint16(b[2:4])
		} else {
			l := int(binary.BigEndian.Uint16(b[2:4]))
			if 4+l > len(b) {
				return errf("SA", apath.String(), "length", ProblemOverrun, l, len(b)-4)
			}
			a.Data = orNil(b[4 : 4+l])
			n += l
		}
		b = b[n:]
		if a.Type != AttributeKeyLength {
			t.Attributes = append(t.Attributes, a)
			continue
		}
		if !a.TV {
			return errf("SA", apath.String(), "Key Length format", ProblemInvalid, 0, 0)
		}
		if t.KeyLength != 0 || a.Value == 0 {
			return errf("SA", apath.String(), "Key Length", ProblemInvalid, int(a.Value), 0)
		}
		t.KeyLength = a.Value
	}
	return nil
}

// lazyPath is an SA position whose text is built only for an error.
type lazyPath struct{ p, t, a int }

func (l lazyPath) String() string { return saPath(l.p, l.t, l.a) }
