package mh

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"mip6/wire/ipv6"
)

// Mobility Header format (RFC 6275 §6.1.1). Header Len counts 8-octet
// units after the first 8; the whole header is a multiple of 8 octets.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Payload Proto |  Header Len   |   MH Type     |   Reserved    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Checksum            |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
//	|                                                               |
//	.                                                               .
//	.                       Message Data                            .
//	.                                                               .
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// Type is the MH Type field.
type Type uint8

// MH types of RFC 6275 §6.1.2-6.1.9.
const (
	TypeBindingRefreshRequest Type = 0
	TypeHomeTestInit          Type = 1
	TypeCareOfTestInit        Type = 2
	TypeHomeTest              Type = 3
	TypeCareOfTest            Type = 4
	TypeBindingUpdate         Type = 5
	TypeBindingAck            Type = 6
	TypeBindingError          Type = 7
)

var typeNames = [...]string{
	"Binding Refresh Request", "Home Test Init", "Care-of Test Init", "Home Test",
	"Care-of Test", "Binding Update", "Binding Acknowledgement", "Binding Error",
}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("MH type %d", uint8(t))
}

// fixedLen is the length of each message up to its Mobility Options.
var fixedLen = [...]int{8, 16, 16, 24, 24, 12, 12, 24}

// Known reports whether t is a type this package decodes.
func (t Type) Known() bool { return int(t) < len(fixedLen) }

const (
	// MinLen is the smallest Mobility Header.
	MinLen = 8
)

// Error reports malformed input. Offset is the position of the offending
// field from the start of the Mobility Header (for an ICMPv6 Parameter
// Problem pointer), or -1.
type Error struct {
	Msg    string // message or option name, e.g. "Binding Update"
	Field  string
	Offset int
	Detail string
	short  bool // Header Len below the type's minimum
}

func (e *Error) Error() string {
	return fmt.Sprintf("mh: %s: %s: %s", e.Msg, e.Field, e.Detail)
}

// ParameterProblem reports whether RFC 6275 §9.2 asks the receiver to send
// an ICMPv6 Parameter Problem (code 0) for this error, and the pointer to
// use (relative to the Mobility Header; add its offset in the packet). This
// is so for a bad Payload Proto or a Header Len too short for the type.
func (e *Error) ParameterProblem() (pointer int, ok bool) {
	if e.Offset >= 0 && (e.Field == "payload proto" || (e.Field == "header length" && e.short)) {
		return e.Offset, true
	}
	return 0, false
}

func errAt(msg, field string, off int, format string, args ...any) *Error {
	return &Error{Msg: msg, Field: field, Offset: off, Detail: fmt.Sprintf(format, args...)}
}

// UnknownTypeError is returned for an MH Type this package does not know.
// A home agent answers with a Binding Error, status
// BEStatusUnrecognizedMHType (RFC 6275 §9.2).
type UnknownTypeError struct {
	Type Type
}

func (e *UnknownTypeError) Error() string {
	return fmt.Sprintf("mh: unrecognized MH type %d", uint8(e.Type))
}

// Header is the common part of every Mobility Header. Data is the whole
// header, Length bytes, a view into the parsed buffer.
type Header struct {
	PayloadProto uint8
	Type         Type
	Checksum     uint16
	Length       int
	Data         []byte
}

// ParseHeader decodes the common header at the start of b and checks that
// Header Len fits b and, for a known type, covers the message's fixed part
// (RFC 6275 §9.2). Payload Proto is left to the caller here (the typed
// parsers require IPPROTO_NONE).
// Unknown types are not an error here (see UnknownTypeError). Bytes after
// Length are not part of the Mobility Header.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < MinLen {
		return Header{}, errAt("Mobility Header", "length", 0, "%d bytes, need %d", len(b), MinLen)
	}
	h := Header{PayloadProto: b[0], Type: Type(b[2]), Checksum: binary.BigEndian.Uint16(b[4:]), Length: 8 * (int(b[1]) + 1)}
	if h.Length > len(b) {
		return Header{}, errAt(h.Type.String(), "header length", 1, "%d bytes exceed the %d present", h.Length, len(b))
	}
	if h.Type.Known() && h.Length < fixedLen[h.Type] {
		e := errAt(h.Type.String(), "header length", 1, "%d bytes, message needs %d", h.Length, fixedLen[h.Type])
		e.short = true
		return Header{}, e
	}
	h.Data = b[:h.Length]
	return h, nil
}

// Options iterates over the header's Mobility Options (known types only).
func (h Header) Options() OptionIter {
	if !h.Type.Known() {
		return OptionIter{}
	}
	return OptionIter{b: h.Data, off: fixedLen[h.Type]}
}

// parseTyped decodes the header and checks it is of type t.
func parseTyped(b []byte, t Type) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Header{}, err
	}
	if h.Type != t {
		return Header{}, errAt(t.String(), "MH type", 2, "%d (%v), want %d", uint8(h.Type), h.Type, uint8(t))
	}
	if h.PayloadProto != ipv6.ProtoNoNext {
		return Header{}, errAt(t.String(), "payload proto", 0, "%d, want %d (IPPROTO_NONE)", h.PayloadProto, ipv6.ProtoNoNext)
	}
	return h, nil
}

// Checksum computes the checksum of the Mobility Header mh (the field
// itself must be zero) for the pseudo-header addresses src and dst: the
// home address when a Home Address option is present, and the final
// destination (RFC 6275 §6.1.1; ipv6.Packet.PseudoSrc/PseudoDst).
func Checksum(src, dst netip.Addr, mh []byte) uint16 {
	return ipv6.Checksum(src, dst, ipv6.ProtoMobility, mh)
}

// VerifyChecksum checks the checksum of the Mobility Header mh.
func VerifyChecksum(src, dst netip.Addr, mh []byte) error {
	if c := Checksum(src, dst, mh); c != 0 {
		return errAt("Mobility Header", "checksum", 4, "mismatch (residue %#04x)", c)
	}
	return nil
}

// begin starts a message of type t at the end of b.
func begin(b []byte, t Type) []byte {
	return append(b, ipv6.ProtoNoNext, 0, uint8(t), 0, 0, 0)
}

// finish pads the message that starts at start to a multiple of 8, sets
// Header Len and the checksum.
func finish(b []byte, start int, src, dst netip.Addr) []byte {
	b = ipv6.AppendPadding(b, ipv6.PadTo(len(b)-start, 8, 0))
	m := b[start:]
	m[1] = uint8(len(m)/8 - 1)
	binary.BigEndian.PutUint16(m[4:], Checksum(src, dst, m))
	return b
}

// LifetimeDuration converts a Lifetime or Refresh Interval field (units of
// 4 seconds) to a duration.
func LifetimeDuration(units uint16) time.Duration {
	return time.Duration(units) * 4 * time.Second
}

// LifetimeUnits converts d to units of 4 seconds, rounding down and
// saturating at the field's maximum (65535 units, about 72.8 hours).
func LifetimeUnits(d time.Duration) uint16 {
	if d <= 0 {
		return 0
	}
	u := d / (4 * time.Second)
	if u > 0xffff {
		return 0xffff
	}
	return uint16(u)
}
