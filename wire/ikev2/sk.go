package ikev2

import "encoding/binary"

// Encrypted is the Encrypted and Authenticated payload, SK (RFC 7296 §3.14).
// It must be the last payload. First is its Next Payload field: the type of
// the first payload inside. Body is IV, ciphertext and ICV as sent; their
// lengths depend on the negotiated transforms, so the engine splits them
// (SplitEncrypted) and builds them (AppendEncryptedHeader).
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                     Initialization Vector                     |
//	|         (length is block size for encryption algorithm)       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                    Encrypted IKE Payloads                     ~
//	+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|               |             Padding (0-255 octets)            |
//	+-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
//	|                                               |  Pad Length   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                    Integrity Checksum Data                    ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Encrypted struct {
	First PayloadType
	Body  []byte
}

func (*Encrypted) PayloadType() PayloadType { return PayloadSK }

func (p *Encrypted) AppendBody(b []byte) ([]byte, error) { return append(b, p.Body...), nil }

// EncryptedFragment is the Encrypted Fragment payload, SKF (RFC 7383 §2.5).
// Number counts from 1 to Total. First is the type of the first inner
// payload in fragment 1 and PayloadNone in the others.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        Fragment Number        |        Total Fragments        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                     Initialization Vector                     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                      Encrypted content                        ~
//	+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|               |             Padding (0-255 octets)            |
//	+-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
//	|                                               |  Pad Length   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                    Integrity Checksum Data                    ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type EncryptedFragment struct {
	First  PayloadType
	Number uint16
	Total  uint16
	Body   []byte
}

func (*EncryptedFragment) PayloadType() PayloadType { return PayloadSKF }

func (p *EncryptedFragment) AppendBody(b []byte) ([]byte, error) {
	if err := checkFragment(p.First, p.Number, p.Total, encErr); err != nil {
		return b, err
	}
	b = binary.BigEndian.AppendUint16(b, p.Number)
	b = binary.BigEndian.AppendUint16(b, p.Total)
	return append(b, p.Body...), nil
}

func checkFragment(first PayloadType, num, total uint16, mk func(string, string, string, Problem, int, int) error) error {
	if num == 0 {
		return mk("SKF", "", "fragment number", ProblemInvalid, 0, 0)
	}
	if total == 0 {
		return mk("SKF", "", "total fragments", ProblemInvalid, 0, 0)
	}
	if num > total {
		return mk("SKF", "", "fragment number", ProblemLong, int(num), int(total))
	}
	if num != 1 && first != PayloadNone {
		return mk("SKF", "", "next payload", ProblemMismatch, int(first), 0)
	}
	return nil
}

func parseSKF(first PayloadType, b []byte) (*EncryptedFragment, error) {
	if len(b) < 4 {
		return nil, errf("SKF", "", "length", ProblemShort, len(b)+4, 8)
	}
	p := &EncryptedFragment{
		First:  first,
		Number: binary.BigEndian.Uint16(b[0:2]),
		Total:  binary.BigEndian.Uint16(b[2:4]),
		Body:   orNil(b[4:]),
	}
	if err := checkFragment(p.First, p.Number, p.Total, errf); err != nil {
		return nil, err
	}
	return p, nil
}

// EncryptedParts locates the pieces of a message protected by an SK or SKF
// payload. All slices alias the message.
type EncryptedParts struct {
	Header Header
	Type   PayloadType // PayloadSK or PayloadSKF
	First  PayloadType // the SK/SKF Next Payload: first inner payload type
	Number uint16      // SKF only: Fragment Number
	Total  uint16      // SKF only: Total Fragments
	// AAD is the associated data of a combined-mode cipher (RFC 5282 §5.1,
	// RFC 7383 §2.5): the IKE header through the end of the SK (SKF) payload
	// header, fragment fields included.
	AAD        []byte
	IV         []byte
	Ciphertext []byte // encrypted payloads, padding and Pad Length
	ICV        []byte
	// Authenticated is what a separate integrity transform covers: the whole
	// message except the ICV (RFC 7296 §3.14).
	Authenticated []byte
}

// SplitEncrypted checks the framing of a message whose last payload is SK
// or SKF and splits it, without allocating. ivLen and icvLen come from the
// negotiated transforms. Payloads before SK are only checked for framing.
func SplitEncrypted(msg []byte, ivLen, icvLen int) (EncryptedParts, error) {
	h, err := ParseHeader(msg)
	if err != nil {
		return EncryptedParts{}, err
	}
	if int64(h.Length) != int64(len(msg)) {
		return EncryptedParts{}, errf("header", "", "length", ProblemMismatch, int(h.Length), len(msg))
	}
	next, off := h.NextPayload, HeaderLen
	for next != PayloadSK && next != PayloadSKF {
		if next == PayloadNone {
			return EncryptedParts{}, errf("message", "", "encrypted payload", ProblemMissing, 0, 0)
		}
		rest := msg[off:]
		if len(rest) < genericHeaderLen {
			return EncryptedParts{}, errf(next.String(), "", "payload header", ProblemOverrun, genericHeaderLen, len(rest))
		}
		plen := int(binary.BigEndian.Uint16(rest[2:4]))
		if plen < genericHeaderLen || plen > len(rest) {
			return EncryptedParts{}, errf(next.String(), "", "length", ProblemOverrun, plen, len(rest))
		}
		next, off = PayloadType(rest[0]), off+plen
	}
	return splitAt(h, next, msg, off, ivLen, icvLen)
}

func splitAt(h Header, t PayloadType, msg []byte, off, ivLen, icvLen int) (EncryptedParts, error) {
	where := t.String()
	rest := msg[off:]
	hl := genericHeaderLen
	if t == PayloadSKF {
		hl += 4
	}
	if len(rest) < hl {
		return EncryptedParts{}, errf(where, "", "payload header", ProblemOverrun, hl, len(rest))
	}
	if plen := int(binary.BigEndian.Uint16(rest[2:4])); plen != len(rest) {
		return EncryptedParts{}, errf(where, "", "length", ProblemMismatch, plen, len(rest))
	}
	p := EncryptedParts{Header: h, Type: t, First: PayloadType(rest[0])}
	if t == PayloadSKF {
		p.Number = binary.BigEndian.Uint16(rest[4:6])
		p.Total = binary.BigEndian.Uint16(rest[6:8])
		if err := checkFragment(p.First, p.Number, p.Total, errf); err != nil {
			return EncryptedParts{}, err
		}
	}
	body := rest[hl:]
	if ivLen < 0 || icvLen < 0 || len(body) < ivLen+icvLen+1 {
		return EncryptedParts{}, errf(where, "", "encrypted data length", ProblemShort, len(body), ivLen+icvLen+1)
	}
	p.AAD = msg[:off+hl]
	p.IV = body[:ivLen]
	p.Ciphertext = body[ivLen : len(body)-icvLen]
	p.ICV = body[len(body)-icvLen:]
	p.Authenticated = msg[:len(msg)-icvLen]
	return p, nil
}

// AppendEncryptedHeader appends an IKE header and an SK payload header for a
// message whose only payload is SK with bodyLen octets of IV, ciphertext
// and ICV. It sets h.NextPayload and h.Length. The appended octets are the
// AAD for a combined-mode cipher; append IV, ciphertext and ICV after them.
func AppendEncryptedHeader(b []byte, h Header, first PayloadType, bodyLen int) ([]byte, error) {
	if bodyLen < 0 || bodyLen+genericHeaderLen > maxPayloadLen {
		return b, encErr("SK", "", "length", ProblemLong, bodyLen+genericHeaderLen, maxPayloadLen)
	}
	h.NextPayload = PayloadSK
	h.Length = uint32(HeaderLen + genericHeaderLen + bodyLen)
	b = AppendHeader(b, h)
	b = append(b, byte(first), 0)
	return binary.BigEndian.AppendUint16(b, uint16(genericHeaderLen+bodyLen)), nil
}

// AppendEncryptedFragmentHeader is AppendEncryptedHeader for one SKF
// fragment (RFC 7383 §2.5); first must be PayloadNone unless number is 1.
func AppendEncryptedFragmentHeader(b []byte, h Header, first PayloadType, number, total uint16, bodyLen int) ([]byte, error) {
	if err := checkFragment(first, number, total, encErr); err != nil {
		return b, err
	}
	if bodyLen < 0 || bodyLen+genericHeaderLen+4 > maxPayloadLen {
		return b, encErr("SKF", "", "length", ProblemLong, bodyLen+genericHeaderLen+4, maxPayloadLen)
	}
	h.NextPayload = PayloadSKF
	h.Length = uint32(HeaderLen + genericHeaderLen + 4 + bodyLen)
	b = AppendHeader(b, h)
	b = append(b, byte(first), 0)
	b = binary.BigEndian.AppendUint16(b, uint16(genericHeaderLen+4+bodyLen))
	b = binary.BigEndian.AppendUint16(b, number)
	return binary.BigEndian.AppendUint16(b, total), nil
}

// AppendPadding pads the plaintext b[start:] for a cipher with the given
// block size: zero octets, then the Pad Length octet, so that the padded
// length is a multiple of blockSize (RFC 7296 §3.14). blockSize 1 or less
// adds only the Pad Length octet.
func AppendPadding(b []byte, start, blockSize int) []byte {
	n := len(b) - start + 1
	pad := 0
	if blockSize > 1 {
		pad = (blockSize - n%blockSize) % blockSize
	}
	for range pad {
		b = append(b, 0)
	}
	return append(b, byte(pad))
}

// TrimPadding removes padding and Pad Length from decrypted SK content,
// returning the payload chain for ParsePayloads. It aliases plain.
func TrimPadding(plain []byte) ([]byte, error) {
	if len(plain) == 0 {
		return nil, errf("SK", "", "pad length", ProblemMissing, 0, 0)
	}
	pad := int(plain[len(plain)-1])
	if pad+1 > len(plain) {
		return nil, errf("SK", "", "pad length", ProblemOverrun, pad, len(plain)-1)
	}
	return plain[:len(plain)-1-pad], nil
}
