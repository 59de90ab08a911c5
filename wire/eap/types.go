package eap

import "encoding/binary"

// Identity is the Type-Data of an Identity Request (an optional displayable
// prompt) or Response (the peer's identity, often an NAI), RFC 3748 §5.1.
// It needs no parsing: Identity(p.TypeData) is a view.
type Identity []byte

func (v Identity) EAPType() Type                  { return TypeIdentity }
func (v Identity) AppendTypeData(b []byte) []byte { return append(b, v...) }

// Notification is the Type-Data of a Notification (RFC 3748 §5.2): a
// displayable message in a Request, empty in the Response.
type Notification []byte

func (v Notification) EAPType() Type                  { return TypeNotification }
func (v Notification) AppendTypeData(b []byte) []byte { return append(b, v...) }

// Nak is the Type-Data of a legacy Nak Response (RFC 3748 §5.3.1): one
// octet per desired authentication Type, or a single 0 for none.
type Nak []byte

func (v Nak) EAPType() Type                  { return TypeNak }
func (v Nak) AppendTypeData(b []byte) []byte { return append(b, v...) }

// Desired returns the i-th desired Type.
func (v Nak) Desired(i int) Type { return Type(v[i]) }

// ParseNak checks a Nak's Type-Data and returns it as a view.
func ParseNak(data []byte) (Nak, error) {
	if len(data) == 0 {
		return nil, errf("Nak", "Type-Data", ErrTooShort, 0, 1)
	}
	for _, t := range data {
		if Type(t) == TypeIdentity || Type(t) == TypeNotification || Type(t) == TypeNak {
			return nil, errf("Nak", "desired Type", ErrInvalid, int(t), 0)
		}
	}
	return Nak(data), nil
}

// MD5Challenge is the Type-Data of MD5-Challenge (RFC 3748 §5.4, with the
// format of CHAP, RFC 1994 §4.1).
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Value-Size   |  Value ...  |  Name ...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type MD5Challenge struct {
	Value []byte // the challenge, or the 16-byte MD5 response
	Name  []byte
}

func (m *MD5Challenge) EAPType() Type { return TypeMD5Challenge }

func (m *MD5Challenge) AppendTypeData(b []byte) []byte {
	b = append(b, byte(len(m.Value)))
	b = append(b, m.Value...)
	return append(b, m.Name...)
}

// ParseMD5Challenge decodes MD5-Challenge Type-Data into m (views into data).
func ParseMD5Challenge(data []byte, m *MD5Challenge) error {
	if len(data) < 1 {
		return errf("MD5-Challenge", "Value-Size", ErrTruncated, 0, 1)
	}
	n := int(data[0])
	if n == 0 {
		return errf("MD5-Challenge", "Value-Size", ErrTooShort, 0, 1)
	}
	if 1+n > len(data) {
		return errf("MD5-Challenge", "Value", ErrTruncated, len(data)-1, n)
	}
	m.Value = data[1 : 1+n : 1+n]
	m.Name = data[1+n:]
	return nil
}

// TLSFlags is the Flags octet of EAP-TLS (RFC 5216 §3.1). TTLS and PEAP
// keep the low three bits for their version.
type TLSFlags uint8

// EAP-TLS flags.
const (
	TLSLengthIncluded TLSFlags = 0x80 // L
	TLSMoreFragments  TLSFlags = 0x40 // M
	TLSStart          TLSFlags = 0x20 // S
	tlsVersionMask    TLSFlags = 0x07
)

// Version is the TTLS/PEAP version carried in the low bits.
func (f TLSFlags) Version() uint8 { return uint8(f & tlsVersionMask) }

// TLS is the Type-Data of EAP-TLS and of the TLS-based methods that share
// its framing (TTLS, PEAP): Type says which (zero means TLS).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Code      |   Identifier  |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Flags     |      TLS Message Length
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     TLS Message Length        |       TLS Data...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//	Flags: 0 1 2 3 4 5 6 7
//	      +-+-+-+-+-+-+-+-+
//	      |L M S R R R R R|
//	      +-+-+-+-+-+-+-+-+
//
// TLS Message Length is present exactly when L is set.
type TLS struct {
	Type          Type
	Flags         TLSFlags
	MessageLength uint32 // total length of the TLS message, when L is set
	Data          []byte
}

func (m *TLS) EAPType() Type {
	if m.Type == 0 {
		return TypeTLS
	}
	return m.Type
}

func (m *TLS) AppendTypeData(b []byte) []byte {
	b = append(b, byte(m.Flags))
	if m.Flags&TLSLengthIncluded != 0 {
		b = binary.BigEndian.AppendUint32(b, m.MessageLength)
	}
	return append(b, m.Data...)
}

// ParseTLS decodes TLS-framed Type-Data of method t into m.
func ParseTLS(t Type, data []byte, m *TLS) error {
	msg := t.String()
	if len(data) < 1 {
		return errf(msg, "Flags", ErrTruncated, 0, 1)
	}
	f := TLSFlags(data[0])
	if t == TypeTLS && f&^(TLSLengthIncluded|TLSMoreFragments|TLSStart) != 0 {
		return errf(msg, "Flags", ErrInvalid, int(f), 0)
	}
	*m = TLS{Type: t, Flags: f}
	rest := data[1:]
	if f&TLSLengthIncluded != 0 {
		if len(rest) < 4 {
			return errf(msg, "TLS Message Length", ErrTruncated, len(rest), 4)
		}
		m.MessageLength = binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(len(rest)) > uint64(m.MessageLength) {
			return errf(msg, "TLS Message Length", ErrTooShort, int(m.MessageLength), len(rest))
		}
	}
	m.Data = rest
	return nil
}

// Expanded is the Type-Data of an Expanded Type (RFC 3748 §5.7); the
// vendor data is kept raw.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |               Vendor-Id                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                          Vendor-Type                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|              Vendor data...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Expanded struct {
	VendorID   uint32 // 24 bits
	VendorType uint32
	Data       []byte
}

func (m *Expanded) EAPType() Type { return TypeExpanded }

func (m *Expanded) AppendTypeData(b []byte) []byte {
	b = append(b, byte(m.VendorID>>16), byte(m.VendorID>>8), byte(m.VendorID))
	b = binary.BigEndian.AppendUint32(b, m.VendorType)
	return append(b, m.Data...)
}

// ParseExpanded decodes Expanded Type-Data into m.
func ParseExpanded(data []byte, m *Expanded) error {
	if len(data) < 7 {
		return errf("Expanded", "Vendor-Type", ErrTruncated, len(data), 7)
	}
	m.VendorID = uint32(data[0])<<16 | uint32(data[1])<<8 | uint32(data[2])
	m.VendorType = binary.BigEndian.Uint32(data[3:])
	m.Data = data[7:]
	return nil
}
