package ipv6

import "net/netip"

// Packet is an IPv6 packet taken apart, or a description of one to build:
// the fixed header, the Mobile IPv6 extension headers, and the upper layer.
//
// Building writes, in RFC 8200 §4.1 / RFC 6275 §6.3 order: IPv6 header,
// Type 2 Routing header (if RoutingHomeAddress is valid), Destination
// Options header with a Home Address option (if HomeAddress is valid),
// then the payload as protocol Proto.
type Packet struct {
	Header Header
	// HomeAddress is the address in a Home Address option; the zero Addr
	// if the packet has none.
	HomeAddress netip.Addr
	// RoutingHomeAddress is the address in a Type 2 Routing header, the
	// zero Addr if none; SegmentsLeft is that header's field.
	RoutingHomeAddress netip.Addr
	SegmentsLeft       uint8
	// Fragmented is set if a Fragment header was present; a non-zero
	// Fragment.Offset means Payload is fragment data, not a header.
	Fragmented bool
	Fragment   Fragment
	// Proto is the upper-layer protocol (e.g. ProtoMobility, ProtoICMPv6,
	// ProtoUDP, ProtoESP, ProtoNoNext).
	Proto         uint8
	PayloadOffset int    // from the start of the packet
	Payload       []byte // a view into the parsed packet
}

// ParsePacket takes the packet in b apart into p without allocating. It
// walks every extension header; unknown options whose type asks the
// receiver to discard the packet, routing types other than 2 with Segments
// Left > 0, and repeated Home Address options or Type 2 headers are errors.
// Bytes after Payload Length (link padding) are ignored.
func ParsePacket(b []byte, p *Packet) error {
	h, err := ParseHeader(b)
	if err != nil {
		return err
	}
	*p = Packet{Header: h}
	body := b[HeaderLen : HeaderLen+int(h.PayloadLength)]
	c := NewChain(h.NextHeader, body)
	for c.Next() {
		if err := p.take(c.Header()); err != nil {
			return err
		}
	}
	if err := c.Err(); err != nil {
		return shift(err, HeaderLen)
	}
	proto, payload := c.Upper()
	p.Proto, p.Payload, p.PayloadOffset = proto, payload, HeaderLen+c.UpperOffset()
	return nil
}

// take records what one extension header contributes to p.
func (p *Packet) take(eh ExtHeader) error {
	off := HeaderLen + eh.Offset
	switch eh.Proto {
	case ProtoHopByHop, ProtoDstOpts:
		return shift(p.takeOptions(eh), off)
	case ProtoRouting:
		r, err := ParseRoutingHeader(eh.Data)
		if err != nil {
			return shift(err, off)
		}
		if r.RoutingType != RoutingType2 {
			if r.SegmentsLeft > 0 {
				return errAt("Routing header", "routing type", off+2, "unsupported type %d with %d segments left", r.RoutingType, r.SegmentsLeft)
			}
			return nil // RFC 8200 §4.4: ignore it and go on
		}
		if p.RoutingHomeAddress.IsValid() {
			return errAt(msgType2, "count", off, "more than one Type 2 Routing header")
		}
		t2, err := r.Type2()
		if err != nil {
			return shift(err, off)
		}
		p.RoutingHomeAddress, p.SegmentsLeft = t2.HomeAddress, t2.SegmentsLeft
	case ProtoFragment:
		f, err := ParseFragment(eh.Data)
		if err != nil {
			return shift(err, off)
		}
		p.Fragmented, p.Fragment = true, f
	}
	return nil
}

func (p *Packet) takeOptions(eh ExtHeader) error {
	oh, err := ParseOptionsHeader(eh.Data, eh.Proto)
	if err != nil {
		return err
	}
	it := oh.Options()
	for it.Next() {
		o := it.Option()
		switch {
		case o.Type == OptPad1 || o.Type == OptPadN:
		case o.Type == OptHomeAddress && eh.Proto == ProtoDstOpts:
			if p.HomeAddress.IsValid() {
				return errAt("Home Address option", "count", o.Offset, "more than one Home Address option")
			}
			p.HomeAddress = netip.AddrFrom16([16]byte(o.Data))
		case o.Action() != 0:
			return errAt(protoName(eh.Proto), "option type", o.Offset, "unrecognised option %d requires discarding the packet", o.Type)
		}
	}
	return it.Err()
}

// shift makes an *Error's offset relative to an enclosing buffer.
func shift(err error, by int) error {
	if e, ok := err.(*Error); ok && e.Offset >= 0 {
		c := *e
		c.Offset += by
		return &c
	}
	return err
}

// PseudoSrc is the source address for upper-layer checksums: the home
// address if a Home Address option is present (RFC 6275 §6.3).
func (p *Packet) PseudoSrc() netip.Addr {
	if p.HomeAddress.IsValid() {
		return p.HomeAddress
	}
	return p.Header.Src
}

// PseudoDst is the destination address for upper-layer checksums: the
// final destination, i.e. the Type 2 Routing header's address while it has
// a segment left (RFC 8200 §8.1).
func (p *Packet) PseudoDst() netip.Addr {
	if p.RoutingHomeAddress.IsValid() && p.SegmentsLeft > 0 {
		return p.RoutingHomeAddress
	}
	return p.Header.Dst
}

// Append appends the packet described by p with payload as its upper
// layer; Header.PayloadLength and Header.NextHeader are computed. Fill in
// upper-layer checksums first, using PseudoSrc and PseudoDst.
func (p *Packet) Append(b []byte, payload []byte) []byte {
	h := p.Header
	n := len(payload)
	next := p.Proto
	if p.HomeAddress.IsValid() {
		n += DestOptsHAOLen
		next = ProtoDstOpts
	}
	if p.RoutingHomeAddress.IsValid() {
		n += Type2RoutingLen
	}
	h.PayloadLength = uint16(n)
	if p.RoutingHomeAddress.IsValid() {
		h.NextHeader = ProtoRouting
		b = h.Append(b)
		rh := Type2Routing{NextHeader: next, SegmentsLeft: p.SegmentsLeft, HomeAddress: p.RoutingHomeAddress}
		b = rh.Append(b)
	} else {
		h.NextHeader = next
		b = h.Append(b)
	}
	if p.HomeAddress.IsValid() {
		b = AppendDestOptsHAO(b, p.Proto, p.HomeAddress)
	}
	return append(b, payload...)
}
