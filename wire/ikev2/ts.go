package ikev2

import (
	"encoding/binary"
	"net/netip"
)

// TS is the Traffic Selector payload, TSi or TSr (RFC 7296 §3.13).
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Number of TSs |                 RESERVED                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                       <Traffic Selectors>                     ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type TS struct {
	Responder bool // TSr rather than TSi
	Selectors []TrafficSelector
}

// TrafficSelector is one traffic selector (RFC 7296 §3.13.1). For
// TS_IPV4_ADDR_RANGE and TS_IPV6_ADDR_RANGE, Protocol (0 = any), the port
// range and the address range are set and Raw is nil. For other TS types,
// Protocol holds the octet after the type and Raw everything after the
// Selector Length field.
//
// For ICMP, ICMPv6 and the Mobility Header the ports carry types and codes
// (RFC 4301 §4.4.1.1): see MHTypePorts, ICMPTypePorts, ICMPTypeCodePorts.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   TS Type     |IP Protocol ID*|       Selector Length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Start Port*         |           End Port*           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                         Starting Address*                     ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                         Ending Address*                       ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type TrafficSelector struct {
	Type      TSType
	Protocol  uint8
	StartPort uint16
	EndPort   uint16
	StartAddr netip.Addr
	EndAddr   netip.Addr
	Raw       []byte
}

// IP protocol numbers that give ports a special meaning in selectors.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
	ProtoMH     = 135 // Mobility Header (RFC 6275)
)

// Selector lengths of the address-range TS types.
const (
	tsIPv4Len = 16
	tsIPv6Len = 40
)

// NewTrafficSelector returns an address-range selector; the TS type follows
// the address family of start and end, which must match.
func NewTrafficSelector(proto uint8, startPort, endPort uint16, start, end netip.Addr) TrafficSelector {
	t := TSIPv6AddrRange
	if start.Is4() {
		t = TSIPv4AddrRange
	}
	return TrafficSelector{Type: t, Protocol: proto, StartPort: startPort, EndPort: endPort, StartAddr: start, EndAddr: end}
}

// PrefixSelector returns a selector covering all addresses of p, all ports.
func PrefixSelector(proto uint8, p netip.Prefix) TrafficSelector {
	p = p.Masked()
	return NewTrafficSelector(proto, 0, 0xffff, p.Addr(), lastAddr(p))
}

// lastAddr returns the highest address in p.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range a {
		switch {
		case bits >= 8:
			bits -= 8
		case bits > 0:
			a[i] |= 0xff >> bits
			bits = 0
		default:
			a[i] = 0xff
		}
	}
	out, _ := netip.AddrFromSlice(a)
	return out
}

// MHTypePorts returns the port range that selects Mobility Header messages
// of type mhType: the type in the high octet, zero in the low octet
// (RFC 7296 §3.13.1, RFC 4301 §4.4.1.1). Binding Update (5) is 1280..1280.
func MHTypePorts(mhType uint8) (start, end uint16) {
	v := uint16(mhType) << 8
	return v, v
}

// ICMPTypePorts returns the port range that selects ICMP or ICMPv6 messages
// of type typ with any code: type in the high octet, code 0..255 in the low.
func ICMPTypePorts(typ uint8) (start, end uint16) {
	v := uint16(typ) << 8
	return v, v | 0xff
}

// ICMPTypeCodePorts returns the port range selecting one ICMP type and code.
func ICMPTypeCodePorts(typ, code uint8) (start, end uint16) {
	v := uint16(typ)<<8 | uint16(code)
	return v, v
}

// MHSelector returns a selector for Mobility Header messages of type mhType
// exchanged with the single address addr (e.g. the home address).
func MHSelector(addr netip.Addr, mhType uint8) TrafficSelector {
	s, e := MHTypePorts(mhType)
	return NewTrafficSelector(ProtoMH, s, e, addr, addr)
}

// MHType returns the Mobility Header type of a selector whose port range
// selects exactly one MH type.
func (s *TrafficSelector) MHType() (uint8, bool) {
	if s.Protocol != ProtoMH || s.StartPort != s.EndPort || s.StartPort&0xff != 0 {
		return 0, false
	}
	return uint8(s.StartPort >> 8), true
}

// ICMPType returns the ICMP/ICMPv6 type range of a selector
// (high octets of the ports).
func (s *TrafficSelector) ICMPType() (start, end uint8, ok bool) {
	if s.Protocol != ProtoICMP && s.Protocol != ProtoICMPv6 {
		return 0, 0, false
	}
	return uint8(s.StartPort >> 8), uint8(s.EndPort >> 8), true
}

func (p *TS) PayloadType() PayloadType {
	if p.Responder {
		return PayloadTSr
	}
	return PayloadTSi
}

func (p *TS) AppendBody(b []byte) ([]byte, error) {
	where := p.PayloadType().String()
	if len(p.Selectors) > 255 {
		return b, encErr(where, "", "number of TSs", ProblemLong, len(p.Selectors), 255)
	}
	b = append(b, byte(len(p.Selectors)), 0, 0, 0)
	for i := range p.Selectors {
		var err error
		if b, err = p.Selectors[i].appendTo(b, where, i+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (s *TrafficSelector) appendTo(b []byte, where string, idx int) ([]byte, error) {
	path := joinPath("", "selector", idx)
	switch s.Type {
	case TSIPv4AddrRange, TSIPv6AddrRange:
		want, n := 4, tsIPv4Len
		if s.Type == TSIPv6AddrRange {
			want, n = 16, tsIPv6Len
		}
		if !s.StartAddr.IsValid() || s.StartAddr.BitLen() != want*8 {
			return b, encErr(where, path, "starting address length", ProblemMismatch, s.StartAddr.BitLen()/8, want)
		}
		if !s.EndAddr.IsValid() || s.EndAddr.BitLen() != want*8 {
			return b, encErr(where, path, "ending address length", ProblemMismatch, s.EndAddr.BitLen()/8, want)
		}
		b = append(b, byte(s.Type), s.Protocol)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
		b = binary.BigEndian.AppendUint16(b, s.StartPort)
		b = binary.BigEndian.AppendUint16(b, s.EndPort)
		b = append(b, s.StartAddr.AsSlice()...)
		return append(b, s.EndAddr.AsSlice()...), nil
	}
	if n := 4 + len(s.Raw); n > 0xffff {
		return b, encErr(where, path, "length", ProblemLong, n, 0xffff)
	}
	b = append(b, byte(s.Type), s.Protocol)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(s.Raw)))
	return append(b, s.Raw...), nil
}

func parseTS(t PayloadType, b []byte) (*TS, error) {
	where := t.String()
	if len(b) < 4 {
		return nil, errf(where, "", "length", ProblemShort, len(b)+4, 8)
	}
	n := int(b[0])
	rest := b[4:]
	// Every selector takes at least 4 octets: reject counts the bytes cannot hold.
	if n*4 > len(rest) {
		return nil, errf(where, "", "number of TSs", ProblemOverrun, n, len(rest))
	}
	p := &TS{Responder: t == PayloadTSr}
	if n > 0 {
		p.Selectors = make([]TrafficSelector, 0, n)
	}
	for i := 1; i <= n; i++ {
		s, used, err := parseSelector(rest, where, i)
		if err != nil {
			return nil, err
		}
		p.Selectors = append(p.Selectors, s)
		rest = rest[used:]
	}
	if len(rest) != 0 {
		return nil, errf(where, "", "selectors", ProblemTrailing, len(rest), 0)
	}
	return p, nil
}

func parseSelector(b []byte, where string, idx int) (TrafficSelector, int, error) {
	path := joinPath("", "selector", idx)
	if len(b) < 4 {
		return TrafficSelector{}, 0, errf(where, path, "header", ProblemOverrun, 4, len(b))
	}
	s := TrafficSelector{Type: TSType(b[0]), Protocol: b[1]}
	l := int(binary.BigEndian.Uint16(b[2:4]))
	min, max := 4, 0xffff
	switch s.Type {
	case TSIPv4AddrRange:
		min, max = tsIPv4Len, tsIPv4Len
	case TSIPv6AddrRange:
		min, max = tsIPv6Len, tsIPv6Len
	}
	if l < min {
		return s, 0, errf(where, path, "length", ProblemShort, l, min)
	}
	if l > max {
		return s, 0, errf(where, path, "length", ProblemLong, l, max)
	}
	if l > len(b) {
		return s, 0, errf(where, path, "length", ProblemOverrun, l, len(b))
	}
	if s.Type != TSIPv4AddrRange && s.Type != TSIPv6AddrRange {
		s.Raw = orNil(b[4:l])
		return s, l, nil
	}
	s.StartPort = binary.BigEndian.Uint16(b[4:6])
	s.EndPort = binary.BigEndian.Uint16(b[6:8])
	alen := (l - 8) / 2
	s.StartAddr, _ = netip.AddrFromSlice(b[8 : 8+alen])
	s.EndAddr, _ = netip.AddrFromSlice(b[8+alen : l])
	return s, l, nil
}
