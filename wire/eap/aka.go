package eap

import (
	"encoding/binary"
	"strconv"
)

// AKASubtype is the Subtype of EAP-AKA and EAP-AKA' (RFC 4187 §11, RFC 9048).
type AKASubtype uint8

// EAP-AKA subtypes.
const (
	AKAChallenge              AKASubtype = 1
	AKAAuthenticationReject   AKASubtype = 2
	AKASynchronizationFailure AKASubtype = 4
	AKAIdentity               AKASubtype = 5
	AKANotification           AKASubtype = 12
	AKAReauthentication       AKASubtype = 13
	AKAClientError            AKASubtype = 14
)

func (s AKASubtype) String() string {
	switch s {
	case AKAChallenge:
		return "AKA-Challenge"
	case AKAAuthenticationReject:
		return "AKA-Authentication-Reject"
	case AKASynchronizationFailure:
		return "AKA-Synchronization-Failure"
	case AKAIdentity:
		return "AKA-Identity"
	case AKANotification:
		return "AKA-Notification"
	case AKAReauthentication:
		return "AKA-Reauthentication"
	case AKAClientError:
		return "AKA-Client-Error"
	}
	return "Subtype(" + strconv.Itoa(int(s)) + ")"
}

// AKAAttrType is an EAP-AKA attribute type (RFC 4187 §10, RFC 9048 §3).
type AKAAttrType uint8

// EAP-AKA and EAP-AKA' attributes.
const (
	ATRand            AKAAttrType = 1
	ATAutn            AKAAttrType = 2
	ATRes             AKAAttrType = 3
	ATAuts            AKAAttrType = 4
	ATPadding         AKAAttrType = 6
	ATPermanentIDReq  AKAAttrType = 10
	ATMAC             AKAAttrType = 11
	ATNotification    AKAAttrType = 12
	ATAnyIDReq        AKAAttrType = 13
	ATIdentity        AKAAttrType = 14
	ATFullauthIDReq   AKAAttrType = 17
	ATCounter         AKAAttrType = 19
	ATClientErrorCode AKAAttrType = 22
	ATKDFInput        AKAAttrType = 23
	ATKDF             AKAAttrType = 24
	ATIV              AKAAttrType = 129
	ATEncrData        AKAAttrType = 130
	ATNextPseudonym   AKAAttrType = 132
	ATNextReauthID    AKAAttrType = 133
	ATCheckcode       AKAAttrType = 134
	ATResultInd       AKAAttrType = 135
	ATBidding         AKAAttrType = 136
	akaSkippableFrom  AKAAttrType = 128 // RFC 4187 §8.1: 128-255 may be ignored
	akaHeaderLen                  = 3   // Subtype, Reserved
	akaAttrUnit                   = 4
)

// AKA is the Type-Data of EAP-AKA (23) and EAP-AKA' (50); Type says which
// (zero means AKA'). Attributes is the raw, validated attribute list.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Code      |  Identifier   |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |    Subtype    |           Reserved            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Attribute Type|    Length     |  Value...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Attribute Length counts the whole attribute in multiples of 4 bytes.
type AKA struct {
	Type       Type
	Subtype    AKASubtype
	Attributes []byte
}

func (m *AKA) EAPType() Type {
	if m.Type == 0 {
		return TypeAKAPrime
	}
	return m.Type
}

func (m *AKA) AppendTypeData(b []byte) []byte {
	b = append(b, byte(m.Subtype), 0, 0)
	return append(b, m.Attributes...)
}

// AKAAttribute is one attribute: Value is what follows Type and Length.
type AKAAttribute struct {
	Type  AKAAttrType
	Value []byte
}

// ParseAKA decodes EAP-AKA/AKA' Type-Data of method t and checks that the
// attributes tile the rest exactly.
func ParseAKA(t Type, data []byte, m *AKA) error {
	if len(data) < akaHeaderLen {
		return errf(t.String(), "Subtype", ErrTruncated, len(data), akaHeaderLen)
	}
	*m = AKA{Type: t, Subtype: AKASubtype(data[0]), Attributes: data[akaHeaderLen:]}
	for off := 0; off < len(m.Attributes); {
		a := m.Attributes[off:]
		if len(a) < 2 {
			return errf(t.String(), "attribute Length", ErrTruncated, len(a), 2)
		}
		n := int(a[1]) * akaAttrUnit
		if n == 0 {
			return errf(t.String(), "attribute Length", ErrTooShort, 0, 1)
		}
		if n > len(a) {
			return errf(t.String(), "attribute Length", ErrTruncated, len(a), n)
		}
		off += n
	}
	return nil
}

// Attr returns the first attribute of type at.
func (m *AKA) Attr(at AKAAttrType) (AKAAttribute, bool) {
	off, n := m.find(at)
	if off < 0 {
		return AKAAttribute{}, false
	}
	return AKAAttribute{Type: at, Value: m.Attributes[off+2 : off+n : off+n]}, true
}

// find returns the offset and length of the first attribute of type at, or -1.
func (m *AKA) find(at AKAAttrType) (int, int) {
	for off := 0; off+2 <= len(m.Attributes); {
		n := int(m.Attributes[off+1]) * akaAttrUnit
		if n == 0 || off+n > len(m.Attributes) {
			break
		}
		if AKAAttrType(m.Attributes[off]) == at {
			return off, n
		}
		off += n
	}
	return -1, 0
}

// UnknownNonSkippable returns the first attribute type below 128 that is
// not in known (RFC 4187 §8.1: such a message must be rejected), or 0.
func (m *AKA) UnknownNonSkippable(known ...AKAAttrType) AKAAttrType {
	for off := 0; off+2 <= len(m.Attributes); {
		n := int(m.Attributes[off+1]) * akaAttrUnit
		if n == 0 || off+n > len(m.Attributes) {
			break
		}
		at := AKAAttrType(m.Attributes[off])
		found := at >= akaSkippableFrom
		for _, k := range known {
			found = found || k == at
		}
		if !found {
			return at
		}
		off += n
	}
	return 0
}

// MACOffset is the offset in Attributes of the AT_MAC value's 16 bytes, or -1.
func (m *AKA) MACOffset() int {
	off, n := m.find(ATMAC)
	if off < 0 || n != 20 {
		return -1
	}
	return off + 4
}

// AKAFixed returns the n data bytes after the two reserved bytes of an
// attribute such as AT_RAND, AT_AUTN, AT_MAC (n = 16) or AT_AUTS (n = 14).
func AKAFixed(a AKAAttribute, n int) ([]byte, error) {
	if a.Type == ATAuts { // AT_AUTS has no reserved bytes (RFC 4187 §10.9)
		if len(a.Value) != n {
			return nil, errf("AT_AUTS", "Length", ErrMismatch, len(a.Value)+2, n+2)
		}
		return a.Value[:n:n], nil
	}
	if len(a.Value) != 2+n {
		return nil, errf("AKA attribute "+strconv.Itoa(int(a.Type)), "Length", ErrMismatch, len(a.Value)+2, n+4)
	}
	return a.Value[2 : 2+n : 2+n], nil
}

// AKALengthPrefixed returns the data of an attribute that starts with its
// actual length in bytes (AT_IDENTITY, AT_KDF_INPUT) or, for AT_RES, in bits.
func AKALengthPrefixed(a AKAAttribute) ([]byte, error) {
	if len(a.Value) < 2 {
		return nil, errf("AKA attribute "+strconv.Itoa(int(a.Type)), "actual length", ErrTruncated, len(a.Value), 2)
	}
	n := int(binary.BigEndian.Uint16(a.Value))
	if a.Type == ATRes {
		if n%8 != 0 {
			return nil, errf("AT_RES", "RES Length", ErrInvalid, n, 0)
		}
		n /= 8
	}
	if 2+n > len(a.Value) {
		return nil, errf("AKA attribute "+strconv.Itoa(int(a.Type)), "actual length", ErrTruncated, len(a.Value)-2, n)
	}
	return a.Value[2 : 2+n : 2+n], nil
}

// AKAUint16 returns the 2-byte value of AT_KDF, AT_NOTIFICATION,
// AT_CLIENT_ERROR_CODE or AT_COUNTER.
func AKAUint16(a AKAAttribute) (uint16, error) {
	if len(a.Value) != 2 {
		return 0, errf("AKA attribute "+strconv.Itoa(int(a.Type)), "Length", ErrMismatch, len(a.Value)+2, 4)
	}
	return binary.BigEndian.Uint16(a.Value), nil
}

// AppendAKAAttr appends an attribute with the given value bytes, padded
// with zeros to a multiple of 4.
func AppendAKAAttr(b []byte, at AKAAttrType, value ...[]byte) []byte {
	n := 2
	for _, v := range value {
		n += len(v)
	}
	padded := (n + akaAttrUnit - 1) / akaAttrUnit * akaAttrUnit
	b = append(b, byte(at), byte(padded/akaAttrUnit))
	for _, v := range value {
		b = append(b, v...)
	}
	for i := n; i < padded; i++ {
		b = append(b, 0)
	}
	return b
}

// AppendAKAFixed appends an attribute with two reserved bytes then data.
func AppendAKAFixed(b []byte, at AKAAttrType, data []byte) []byte {
	return AppendAKAAttr(b, at, []byte{0, 0}, data)
}

// AppendAKALengthPrefixed appends AT_IDENTITY or AT_KDF_INPUT (length in
// bytes) or AT_RES (length in bits).
func AppendAKALengthPrefixed(b []byte, at AKAAttrType, data []byte) []byte {
	n := len(data)
	if at == ATRes {
		n *= 8
	}
	return AppendAKAAttr(b, at, []byte{byte(n >> 8), byte(n)}, data)
}

// AppendAKAUint16 appends a 2-byte-valued attribute (AT_KDF, AT_NOTIFICATION, ...).
func AppendAKAUint16(b []byte, at AKAAttrType, v uint16) []byte {
	return AppendAKAAttr(b, at, []byte{byte(v >> 8), byte(v)})
}
