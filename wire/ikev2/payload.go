package ikev2

import "encoding/binary"

// Payload is one IKE payload. The concrete types are *SA, *KE, *ID, *Cert,
// *CertReq, *Auth, *Nonce, *Notify, *Delete, *VendorID, *TS, *Encrypted,
// *EncryptedFragment, *CP, *EAP and *UnknownPayload.
//
// Every payload starts with the generic payload header (RFC 7296 §3.2),
// written by Message.Marshal and AppendPayloads, not by AppendBody:
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Payload interface {
	// PayloadType is the type announced in the previous Next Payload field.
	PayloadType() PayloadType
	// AppendBody appends the payload body (everything after the generic
	// payload header) to b. It fails if a field cannot be encoded.
	AppendBody(b []byte) ([]byte, error)
}

// genericHeaderLen is the length of the generic payload header.
const genericHeaderLen = 4

// maxPayloadLen is the largest Payload Length.
const maxPayloadLen = 0xffff

// Payloads is an ordered payload chain.
type Payloads []Payload

// Get returns the first payload of type t, or nil.
func (ps Payloads) Get(t PayloadType) Payload {
	for _, p := range ps {
		if p.PayloadType() == t {
			return p
		}
	}
	return nil
}

// Notify returns the first Notify payload of type t, or nil.
func (ps Payloads) Notify(t NotifyType) *Notify {
	for _, p := range ps {
		if n, ok := p.(*Notify); ok && n.Type == t {
			return n
		}
	}
	return nil
}

// Message is an IKE message: header and payload chain. Parsed byte fields
// alias the input buffer; keep it unchanged while the Message is in use.
type Message struct {
	Header   Header
	Payloads Payloads
}

// ParseMessage decodes one IKE message, which must fill b exactly (strip the
// non-ESP marker first on port 4500). An Encrypted (SK) or EncryptedFragment
// (SKF) payload, which must be last, is returned still encrypted; see
// SplitEncrypted and ParsePayloads. Unknown payloads without the critical
// bit appear as *UnknownPayload (skip them); with it, the error is an
// *UnsupportedCriticalPayloadError.
func ParseMessage(b []byte) (*Message, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	if int64(h.Length) != int64(len(b)) {
		return nil, errf("header", "", "length", ProblemMismatch, int(h.Length), len(b))
	}
	ps, err := parseChain(h.NextPayload, b[HeaderLen:], true)
	if err != nil {
		return nil, err
	}
	return &Message{Header: h, Payloads: ps}, nil
}

// ParsePayloads decodes a payload chain that starts with a payload of type
// first, such as the decrypted content of an SK payload (padding and Pad
// Length removed, see TrimPadding) with first = the SK's Next Payload. The
// chain must fill b exactly. SK and SKF are not allowed inside it.
func ParsePayloads(first PayloadType, b []byte) (Payloads, error) {
	return parseChain(first, b, false)
}

// Marshal appends the encoded message to b. It sets m.Header.NextPayload to
// the first payload's type and m.Header.Length to the encoded length, so
// that parsing the result yields m again.
func (m *Message) Marshal(b []byte) ([]byte, error) {
	start := len(b)
	m.Header.NextPayload = PayloadNone
	if len(m.Payloads) > 0 && m.Payloads[0] != nil {
		m.Header.NextPayload = m.Payloads[0].PayloadType()
	}
	b = AppendHeader(b, m.Header)
	b, err := appendChain(b, m.Payloads, true)
	if err != nil {
		return b[:start], err
	}
	n := len(b) - start
	if int64(n) > 0xffffffff {
		return b[:start], encErr("header", "", "length", ProblemLong, n, 0xffffffff)
	}
	m.Header.Length = uint32(n)
	binary.BigEndian.PutUint32(b[start+24:], uint32(n))
	return b, nil
}

// AppendPayloads appends a payload chain (generic headers and bodies, Next
// Payload fields linked, the last one zero) to b: the plaintext of an SK
// payload before padding. The chain's first type is ps[0].PayloadType().
func AppendPayloads(b []byte, ps []Payload) ([]byte, error) {
	return appendChain(b, ps, false)
}

func appendChain(b []byte, ps []Payload, allowSK bool) ([]byte, error) {
	for i, p := range ps {
		if p == nil {
			return b, encErr("message", joinPath("", "payload", i+1), "payload", ProblemInvalid, 0, 0)
		}
		next := PayloadNone
		if i+1 < len(ps) && ps[i+1] != nil {
			next = ps[i+1].PayloadType()
		}
		t := p.PayloadType()
		flags := byte(0)
		switch q := p.(type) {
		case *Encrypted:
			next = q.First
		case *EncryptedFragment:
			next = q.First
		case *UnknownPayload:
			if q.Type.known() || q.Type == PayloadNone {
				return b, encErr("message", joinPath("", "payload", i+1), "unknown payload type", ProblemInvalid, int(q.Type), 0)
			}
			if q.Critical {
				flags = 0x80
			}
		}
		if t == PayloadSK || t == PayloadSKF {
			if !allowSK || i != len(ps)-1 {
				return b, encErr(t.String(), "", "position", ProblemInvalid, i+1, 0)
			}
		}
		start := len(b)
		b = append(b, byte(next), flags, 0, 0)
		var err error
		if b, err = p.AppendBody(b); err != nil {
			return b[:start], err
		}
		n := len(b) - start
		if n > maxPayloadLen {
			return b[:start], encErr(t.String(), "", "length", ProblemLong, n, maxPayloadLen)
		}
		binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	}
	return b, nil
}

func parseChain(first PayloadType, b []byte, allowSK bool) (Payloads, error) {
	var out Payloads
	next := first
	off := 0
	for next != PayloadNone {
		rest := b[off:]
		where := next.String()
		if len(rest) < genericHeaderLen {
			return nil, errf(where, "", "payload header", ProblemOverrun, genericHeaderLen, len(rest))
		}
		plen := int(binary.BigEndian.Uint16(rest[2:4]))
		if plen < genericHeaderLen {
			return nil, errf(where, "", "length", ProblemShort, plen, genericHeaderLen)
		}
		if plen > len(rest) {
			return nil, errf(where, "", "length", ProblemOverrun, plen, len(rest))
		}
		body := rest[genericHeaderLen:plen]
		p, err := decodePayload(next, rest[0], rest[1]&0x80 != 0, body)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		off += plen
		next = PayloadType(rest[0])
		if t := p.PayloadType(); t == PayloadSK || t == PayloadSKF {
			if !allowSK {
				return nil, errf(where, "", "position", ProblemInvalid, len(out), 0)
			}
			// SK is last; its Next Payload names the first inner payload.
			next = PayloadNone
		}
	}
	if off != len(b) {
		return nil, errf("message", "", "payloads", ProblemTrailing, len(b)-off, 0)
	}
	return out, nil
}

// decodePayload decodes one payload body; nextField is the raw Next Payload
// octet of its generic header (the first inner type for SK and SKF).
func decodePayload(t PayloadType, nextField byte, critical bool, body []byte) (Payload, error) {
	switch t {
	case PayloadSA:
		return parseSA(body)
	case PayloadKE:
		return parseKE(body)
	case PayloadIDi, PayloadIDr:
		return parseID(t, body)
	case PayloadCERT:
		return parseCert(body)
	case PayloadCERTREQ:
		return parseCertReq(body)
	case PayloadAUTH:
		return parseAuth(body)
	case PayloadNonce:
		return parseNonce(body)
	case PayloadNotify:
		return parseNotify(body)
	case PayloadDelete:
		return parseDelete(body)
	case PayloadVendorID:
		return &VendorID{Data: orNil(body)}, nil
	case PayloadTSi, PayloadTSr:
		return parseTS(t, body)
	case PayloadSK:
		return &Encrypted{First: PayloadType(nextField), Body: orNil(body)}, nil
	case PayloadCP:
		return parseCP(body)
	case PayloadEAP:
		return parseEAP(body)
	case PayloadSKF:
		return parseSKF(PayloadType(nextField), body)
	}
	if critical {
		return nil, &UnsupportedCriticalPayloadError{Type: t}
	}
	return &UnknownPayload{Type: t, Body: orNil(body)}, nil
}

// UnknownPayload is a payload of a type this package does not decode. A
// receiver ignores it (its critical bit was clear). It can be sent, e.g. to
// test a peer, with the critical bit set or clear.
type UnknownPayload struct {
	Type     PayloadType
	Critical bool
	Body     []byte
}

func (p *UnknownPayload) PayloadType() PayloadType { return p.Type }

func (p *UnknownPayload) AppendBody(b []byte) ([]byte, error) { return append(b, p.Body...), nil }

// orNil returns nil for an empty slice, so that parsed zero-length fields
// compare equal to unset ones.
func orNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
