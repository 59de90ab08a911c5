package ipv6

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers") used as
// Next Header values.
const (
	ProtoHopByHop   uint8 = 0
	ProtoTCP        uint8 = 6
	ProtoUDP        uint8 = 17
	ProtoIPv6       uint8 = 41 // IPv6-in-IPv6 encapsulation
	ProtoRouting    uint8 = 43
	ProtoFragment   uint8 = 44
	ProtoESP        uint8 = 50
	ProtoAH         uint8 = 51
	ProtoICMPv6     uint8 = 58
	ProtoNoNext     uint8 = 59
	ProtoDstOpts    uint8 = 60
	ProtoMobility   uint8 = 135 // Mobility Header, RFC 6275 §6.1
	HeaderLen             = 40
	UDPHeaderLen          = 8
	DefaultHopLimit uint8 = 64
	// MinMTU is the IPv6 minimum link MTU (RFC 8200 §5).
	MinMTU = 1280
)

// Error is returned for malformed input. Msg names the message or header,
// Field the offending field.
// Offset is the position of the offending field in the buffer given to the
// parser (for ICMPv6 Parameter Problem pointers); -1 when not meaningful.
type Error struct {
	Msg    string
	Field  string
	Offset int
	Detail string
}

func (e *Error) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("ipv6: %s: %s: %s", e.Msg, e.Field, e.Detail)
	}
	return fmt.Sprintf("ipv6: %s: %s: %s (offset %d)", e.Msg, e.Field, e.Detail, e.Offset)
}

func errf(msg, field, format string, args ...any) *Error {
	return &Error{Msg: msg, Field: field, Offset: -1, Detail: fmt.Sprintf(format, args...)}
}

func errAt(msg, field string, off int, format string, args ...any) *Error {
	return &Error{Msg: msg, Field: field, Offset: off, Detail: fmt.Sprintf(format, args...)}
}

// Header is the fixed IPv6 header (RFC 8200 §3).
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                         Source Address                        +
//	|                          (128 bits)                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                      Destination Address                      +
//	|                          (128 bits)                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Header struct {
	TrafficClass  uint8
	FlowLabel     uint32 // 20 bits
	PayloadLength uint16
	NextHeader    uint8
	HopLimit      uint8
	Src, Dst      netip.Addr
}

// ParseHeader decodes the fixed header at the start of b. It checks the
// version and that Payload Length does not exceed the bytes present; b may
// be longer (link-layer padding), callers use b[HeaderLen:HeaderLen+PayloadLength].
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, errf("header", "length", "%d bytes, need %d", len(b), HeaderLen)
	}
	if v := b[0] >> 4; v != 6 {
		return Header{}, errf("header", "version", "%d, want 6", v)
	}
	vtf := binary.BigEndian.Uint32(b[0:4])
	h := Header{
		TrafficClass:  uint8(vtf >> 20),
		FlowLabel:     vtf & 0xfffff,
		PayloadLength: binary.BigEndian.Uint16(b[4:6]),
		NextHeader:    b[6],
		HopLimit:      b[7],
		Src:           netip.AddrFrom16([16]byte(b[8:24])),
		Dst:           netip.AddrFrom16([16]byte(b[24:40])),
	}
	if int(h.PayloadLength) > len(b)-HeaderLen {
		// A zero Payload Length with a Jumbo Payload option (RFC 2675) is
		// not supported: mobility signalling never needs jumbograms.
		return Header{}, errf("header", "payload length", "%d exceeds the %d bytes present", h.PayloadLength, len(b)-HeaderLen)
	}
	return h, nil
}

// Append appends the 40-byte encoding of h to b. Src and Dst must be IPv6
// addresses (IPv4-mapped addresses are written as such).
func (h *Header) Append(b []byte) []byte {
	vtf := 6<<28 | uint32(h.TrafficClass)<<20 | h.FlowLabel&0xfffff
	b = binary.BigEndian.AppendUint32(b, vtf)
	b = binary.BigEndian.AppendUint16(b, h.PayloadLength)
	b = append(b, h.NextHeader, h.HopLimit)
	s, d := h.Src.As16(), h.Dst.As16()
	b = append(b, s[:]...)
	return append(b, d[:]...)
}

// AppendPacket appends an IPv6 header (hop limit 64) followed by payload,
// whose first header is nextHeader. payload is copied as is: callers fill in
// upper-layer checksums first (see Checksum, AppendUDP). Payloads must fit
// the 16-bit Payload Length (no jumbograms); callers bound them by the MTU.
func AppendPacket(b []byte, src, dst netip.Addr, nextHeader uint8, payload []byte) []byte {
	h := Header{PayloadLength: uint16(len(payload)), NextHeader: nextHeader, HopLimit: DefaultHopLimit, Src: src, Dst: dst}
	b = h.Append(b)
	return append(b, payload...)
}
