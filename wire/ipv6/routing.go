package ipv6

import (
	"encoding/binary"
	"net/netip"
)

// RoutingType2 is the Mobile IPv6 routing type (RFC 6275 §6.4).
const (
	RoutingType2 uint8 = 2
	// Type2RoutingLen is the size of a Type 2 Routing header.
	Type2RoutingLen = 24
)

// RoutingHeader is the generic part of a Routing header (RFC 8200 §4.4):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |  Hdr Ext Len  |  Routing Type | Segments Left |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                       type-specific data                      .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type RoutingHeader struct {
	NextHeader   uint8
	RoutingType  uint8
	SegmentsLeft uint8
	Data         []byte // whole header, a view into the input
}

// ParseRoutingHeader decodes the routing header at the start of b.
func ParseRoutingHeader(b []byte) (RoutingHeader, error) {
	n, err := extLen(ProtoRouting, b, 0)
	if err != nil {
		return RoutingHeader{}, err
	}
	return RoutingHeader{NextHeader: b[0], RoutingType: b[2], SegmentsLeft: b[3], Data: b[:n]}, nil
}

// Type2Routing is the Type 2 Routing header (RFC 6275 §6.4): it carries
// the mobile node's home address to a packet sent to its care-of address.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  | Hdr Ext Len=2 | Routing Type=2|Segments Left=1|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                            Reserved                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+                         Home Address                          +
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Type2Routing struct {
	NextHeader   uint8
	SegmentsLeft uint8 // 1 when sent; 0 once the mobile node processed it
	HomeAddress  netip.Addr
}

const msgType2 = "Type 2 Routing header"

// Type2 interprets r as a Type 2 Routing header, checking its type, length
// (Hdr Ext Len 2) and Segments Left (0 or 1).
func (r RoutingHeader) Type2() (Type2Routing, error) {
	switch {
	case r.RoutingType != RoutingType2:
		return Type2Routing{}, errAt(msgType2, "routing type", 2, "%d, want 2", r.RoutingType)
	case len(r.Data) != Type2RoutingLen:
		return Type2Routing{}, errAt(msgType2, "header length", 1, "%d bytes, want %d", len(r.Data), Type2RoutingLen)
	case r.SegmentsLeft > 1:
		return Type2Routing{}, errAt(msgType2, "segments left", 3, "%d, want 0 or 1", r.SegmentsLeft)
	}
	return Type2Routing{
		NextHeader:   r.NextHeader,
		SegmentsLeft: r.SegmentsLeft,
		HomeAddress:  netip.AddrFrom16([16]byte(r.Data[8:24])),
	}, nil
}

// ParseType2Routing decodes a Type 2 Routing header at the start of b.
func ParseType2Routing(b []byte) (Type2Routing, error) {
	r, err := ParseRoutingHeader(b)
	if err != nil {
		return Type2Routing{}, err
	}
	return r.Type2()
}

// Append appends the 24-byte header.
func (r *Type2Routing) Append(b []byte) []byte {
	b = append(b, r.NextHeader, Type2RoutingLen/8-1, RoutingType2, r.SegmentsLeft)
	b = binary.BigEndian.AppendUint32(b, 0)
	a := r.HomeAddress.As16()
	return append(b, a[:]...)
}
