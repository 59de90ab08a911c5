package ipv6

import (
	"encoding/binary"
	"strconv"
)

// Extension headers other than Fragment and AH share this layout
// (RFC 8200 §4.3-4.6); Hdr Ext Len counts 8-octet units after the first 8:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |  Hdr Ext Len  |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	.                     header-specific data                      .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The Fragment header is always 8 octets:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Identification                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// AH (RFC 4302) gives its length in 4-octet units minus 2.

// ExtHeader is one extension header found while walking a chain. Data is
// the whole header (a view into the walked buffer), Offset its position.
type ExtHeader struct {
	Proto      uint8 // this header's protocol number, e.g. ProtoDstOpts
	NextHeader uint8
	Offset     int
	Data       []byte
}

// FragmentLen is the size of the Fragment header.
const FragmentLen = 8

// maxChainHeaders bounds a walk; real packets carry a handful.
const maxChainHeaders = 32

// IsExtension reports whether proto is an extension header the walker
// steps over: Hop-by-Hop, Routing, Fragment, Destination Options, AH.
func IsExtension(proto uint8) bool {
	switch proto {
	case ProtoHopByHop, ProtoRouting, ProtoFragment, ProtoDstOpts, ProtoAH:
		return true
	}
	return false
}

// Chain walks an extension-header chain without allocating:
//
//	c := ipv6.NewChain(h.NextHeader, payload)
//	for c.Next() { eh := c.Header(); ... }
//	if c.Err() != nil { ... }
//	proto, upper := c.Upper()
type Chain struct {
	b     []byte
	proto uint8
	off   int
	cur   ExtHeader
	n     int
	err   error
	done  bool
}

// NewChain starts a walk over b, whose first header is first.
func NewChain(first uint8, b []byte) Chain {
	return Chain{b: b, proto: first}
}

// Next advances to the next extension header; it returns false at the
// upper layer or on error.
func (c *Chain) Next() bool {
	if c.done || c.err != nil {
		return false
	}
	if !IsExtension(c.proto) {
		c.done = true
		return false
	}
	if c.n++; c.n > maxChainHeaders {
		c.err = errAt("extension headers", "count", c.off, "more than %d headers", maxChainHeaders)
		return false
	}
	if c.proto == ProtoHopByHop && c.n > 1 {
		// RFC 8200 §4.1: only right after the IPv6 header.
		c.err = errAt(protoName(c.proto), "position", c.off, "not the first extension header")
		return false
	}
	rest := c.b[c.off:]
	n, err := extLen(c.proto, rest, c.off)
	if err != nil {
		c.err = err
		return false
	}
	c.cur = ExtHeader{Proto: c.proto, NextHeader: rest[0], Offset: c.off, Data: rest[:n]}
	c.proto, c.off = rest[0], c.off+n
	if c.cur.Proto == ProtoFragment && binary.BigEndian.Uint16(c.cur.Data[2:])&^7 != 0 {
		// A later fragment: what follows is data, not headers.
		c.done = true
	}
	return true
}

// extLen returns the length of the header of type proto at the start of b.
func extLen(proto uint8, b []byte, off int) (int, error) {
	name := protoName(proto)
	if len(b) < 8 {
		return 0, errAt(name, "length", off, "%d bytes, need 8", len(b))
	}
	n := 8
	switch proto {
	case ProtoFragment:
	case ProtoAH:
		n = (int(b[1]) + 2) * 4
	default:
		n = (int(b[1]) + 1) * 8
	}
	if n > len(b) {
		return 0, errAt(name, "header length", off+1, "%d bytes exceed the %d present", n, len(b))
	}
	return n, nil
}

// Header returns the header Next moved to.
func (c *Chain) Header() ExtHeader { return c.cur }

// Err returns the error that stopped the walk, if any.
func (c *Chain) Err() error { return c.err }

// Upper returns the protocol after the last extension header and the
// bytes from there on; valid once Next has returned false without error.
// After a non-first fragment, proto is the fragment's Next Header and the
// bytes are fragment data.
func (c *Chain) Upper() (proto uint8, b []byte) { return c.proto, c.b[c.off:] }

// UpperOffset is the offset of Upper's bytes within the walked buffer.
func (c *Chain) UpperOffset() int { return c.off }

// UpperLayer walks the whole chain and returns the upper-layer protocol and
// its offset in b.
func UpperLayer(first uint8, b []byte) (proto uint8, offset int, err error) {
	c := NewChain(first, b)
	for c.Next() {
	}
	if c.err != nil {
		return 0, 0, c.err
	}
	return c.proto, c.off, nil
}

// Fragment is a decoded Fragment header.
type Fragment struct {
	NextHeader     uint8
	Offset         uint16 // in 8-octet units
	More           bool
	Identification uint32
}

// ParseFragment decodes a Fragment header.
func ParseFragment(b []byte) (Fragment, error) {
	if len(b) < FragmentLen {
		return Fragment{}, errf("Fragment header", "length", "%d bytes, need %d", len(b), FragmentLen)
	}
	v := binary.BigEndian.Uint16(b[2:])
	return Fragment{NextHeader: b[0], Offset: v >> 3, More: v&1 != 0, Identification: binary.BigEndian.Uint32(b[4:])}, nil
}

// Append appends the 8-byte Fragment header.
func (f *Fragment) Append(b []byte) []byte {
	v := f.Offset<<3 | boolBit(f.More)
	b = append(b, f.NextHeader, 0)
	b = binary.BigEndian.AppendUint16(b, v)
	return binary.BigEndian.AppendUint32(b, f.Identification)
}

func boolBit(v bool) uint16 {
	if v {
		return 1
	}
	return 0
}

func protoName(p uint8) string {
	switch p {
	case ProtoHopByHop:
		return "Hop-by-Hop Options header"
	case ProtoRouting:
		return "Routing header"
	case ProtoFragment:
		return "Fragment header"
	case ProtoDstOpts:
		return "Destination Options header"
	case ProtoAH:
		return "Authentication Header"
	}
	return "header " + strconv.Itoa(int(p))
}
