package eap

import (
	"encoding/binary"
	"strconv"
)

// Code is the EAP Code field (RFC 3748 §4).
type Code uint8

// EAP codes.
const (
	CodeRequest  Code = 1
	CodeResponse Code = 2
	CodeSuccess  Code = 3
	CodeFailure  Code = 4
)

func (c Code) String() string {
	switch c {
	case CodeRequest:
		return "Request"
	case CodeResponse:
		return "Response"
	case CodeSuccess:
		return "Success"
	case CodeFailure:
		return "Failure"
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// Type is the EAP method Type (IANA "Method Types" registry).
type Type uint8

// Method types used by mip6.
const (
	TypeIdentity     Type = 1
	TypeNotification Type = 2
	TypeNak          Type = 3
	TypeMD5Challenge Type = 4
	TypeOTP          Type = 5
	TypeGTC          Type = 6
	TypeTLS          Type = 13
	TypeTTLS         Type = 21
	TypePEAP         Type = 25
	TypeMSCHAPv2     Type = 26
	TypeAKA          Type = 23
	TypeAKAPrime     Type = 50
	TypeExpanded     Type = 254
	TypeExperimental Type = 255
)

func (t Type) String() string {
	switch t {
	case TypeIdentity:
		return "Identity"
	case TypeNotification:
		return "Notification"
	case TypeNak:
		return "Nak"
	case TypeMD5Challenge:
		return "MD5-Challenge"
	case TypeOTP:
		return "OTP"
	case TypeGTC:
		return "GTC"
	case TypeTLS:
		return "TLS"
	case TypeTTLS:
		return "TTLS"
	case TypePEAP:
		return "PEAP"
	case TypeMSCHAPv2:
		return "MSCHAPv2"
	case TypeAKA:
		return "AKA"
	case TypeAKAPrime:
		return "AKA'"
	case TypeExpanded:
		return "Expanded"
	case TypeExperimental:
		return "Experimental"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// HeaderLen is the length of Code, Identifier and Length.
const HeaderLen = 4

// MaxLen is the largest Length the 16-bit field can carry.
const MaxLen = 0xffff

// Packet is one EAP packet (RFC 3748 §4). After Parse, TypeData is a view
// into the parsed bytes. Type and TypeData are meaningful for Request and
// Response only; Success and Failure carry neither.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Code      |  Identifier   |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |  Type-Data ...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
type Packet struct {
	Code       Code
	Identifier uint8
	Type       Type
	TypeData   []byte
}

// Len is the packet's encoded length.
func (p *Packet) Len() int {
	if p.Code == CodeSuccess || p.Code == CodeFailure {
		return HeaderLen
	}
	return HeaderLen + 1 + len(p.TypeData)
}

// Parse decodes the EAP packet at the start of b into p. Bytes after
// Length are link-layer padding and ignored (RFC 3748 §4.1); p.Len() says
// how many were used.
func Parse(b []byte, p *Packet) error {
	if len(b) < HeaderLen {
		return errf("EAP", "header", ErrTruncated, len(b), HeaderLen)
	}
	code := Code(b[0])
	length := int(binary.BigEndian.Uint16(b[2:4]))
	if length > len(b) {
		return errf("EAP", "Length", ErrTruncated, len(b), length)
	}
	switch code {
	case CodeSuccess, CodeFailure:
		if length != HeaderLen {
			return errf("EAP "+code.String(), "Length", ErrMismatch, length, HeaderLen)
		}
		*p = Packet{Code: code, Identifier: b[1]}
		return nil
	case CodeRequest, CodeResponse:
	default:
		return errf("EAP", "Code", ErrInvalid, int(code), 0)
	}
	if length < HeaderLen+1 {
		return errf("EAP "+code.String(), "Length", ErrTooShort, length, HeaderLen+1)
	}
	if b[4] == 0 {
		return errf("EAP "+code.String(), "Type", ErrInvalid, 0, 0)
	}
	*p = Packet{Code: code, Identifier: b[1], Type: Type(b[4]), TypeData: b[5:length:length]}
	return nil
}

// Append encodes p after b.
func (p *Packet) Append(b []byte) ([]byte, error) {
	if p.Code == CodeSuccess || p.Code == CodeFailure {
		return Append(b, p.Code, p.Identifier, nil)
	}
	return Append(b, p.Code, p.Identifier, Raw{T: p.Type, Data: p.TypeData})
}

// Body is the Type and Type-Data of a Request or Response.
type Body interface {
	// EAPType is the value of the Type field.
	EAPType() Type
	// AppendTypeData appends the encoded Type-Data. Append calls it with b
	// ending in the packet's Code, Identifier, Length (not yet set) and
	// Type, so that a method can sign the whole packet (EAP-AKA' AT_MAC);
	// Length then counts everything appended.
	AppendTypeData(b []byte) []byte
}

// Append appends an EAP packet to b. For Success and Failure body must be
// nil; for Request and Response it supplies Type and Type-Data.
func Append(b []byte, code Code, id uint8, body Body) ([]byte, error) {
	start := len(b)
	switch code {
	case CodeSuccess, CodeFailure:
		if body != nil {
			return b, errf("EAP "+code.String(), "Type", ErrInvalid, int(body.EAPType()), 0)
		}
		return append(b, byte(code), id, 0, HeaderLen), nil
	case CodeRequest, CodeResponse:
	default:
		return b, errf("EAP", "Code", ErrInvalid, int(code), 0)
	}
	if body == nil || body.EAPType() == 0 {
		return b, errf("EAP "+code.String(), "Type", ErrInvalid, 0, 0)
	}
	b = append(b, byte(code), id, 0, 0, byte(body.EAPType()))
	b = body.AppendTypeData(b)
	n := len(b) - start
	if n > MaxLen {
		return b[:start], errf("EAP "+code.String(), "Length", ErrTooLong, n, MaxLen)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// Raw is Type-Data kept as bytes: any method this package does not model,
// or a method's data passed through unchanged.
type Raw struct {
	T    Type
	Data []byte
}

func (r Raw) EAPType() Type                  { return r.T }
func (r Raw) AppendTypeData(b []byte) []byte { return append(b, r.Data...) }
