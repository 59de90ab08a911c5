package ike

import (
	"fmt"
	"net/netip"
)

// IP protocol numbers used in selectors.
const (
	ProtoAny    uint8 = 0
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
	ProtoMH     uint8 = 135 // Mobility Header (RFC 6275)
)

// Selector is one IPv6 traffic selector (RFC 7296 §3.13.1): an address
// range, an IP protocol (0 = any) and a port range. For ICMPv6 and the
// Mobility Header the "port" carries the message type in its high octet
// (and the ICMPv6 code in the low one), RFC 4301 §4.4.1.1.
type Selector struct {
	Start, End         netip.Addr
	Proto              uint8
	StartPort, EndPort uint16
}

// PrefixSelector covers a prefix with any protocol and port.
func PrefixSelector(p netip.Prefix) Selector {
	p = p.Masked()
	return Selector{Start: p.Addr(), End: lastAddr(p), EndPort: 0xffff}
}

// AddrSelector covers one address with any protocol and port.
func AddrSelector(a netip.Addr) Selector {
	return Selector{Start: a, End: a, EndPort: 0xffff}
}

// MHSelector covers MH messages of types first..last to or from addr, as
// RFC 4877 §7.2.1 uses for Binding Updates (5) and Acknowledgements (6).
// The type sits in the high octet, the low one is zero (MH has no code),
// as strongSwan's "[135/1280]" for type 5.
func MHSelector(addr netip.Addr, first, last uint8) Selector {
	return Selector{Start: addr, End: addr, Proto: ProtoMH, StartPort: uint16(first) << 8, EndPort: uint16(last) << 8}
}

// ICMPv6Selector covers ICMPv6 messages of one type (any code), as RFC
// 4877 §7.2.3 uses for Mobile Prefix Solicitation (146) and Advertisement (147).
func ICMPv6Selector(addr netip.Addr, typ uint8) Selector {
	return Selector{Start: addr, End: addr, Proto: ProtoICMPv6, StartPort: uint16(typ) << 8, EndPort: uint16(typ)<<8 | 0xff}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom16(b)
}

func (s Selector) String() string {
	r := fmt.Sprintf("%s-%s", s.Start, s.End)
	if s.Start == s.End {
		r = s.Start.String()
	}
	if s.Proto == ProtoAny && s.StartPort == 0 && s.EndPort == 0xffff {
		return r
	}
	return fmt.Sprintf("%s[%d/%d-%d]", r, s.Proto, s.StartPort, s.EndPort)
}

// Valid reports a non-empty IPv6 range with ordered bounds.
func (s Selector) Valid() bool {
	return s.Start.Is6() && s.End.Is6() && !s.End.Less(s.Start) && s.StartPort <= s.EndPort
}

// Intersect returns the selector both s and o cover, and false if they
// share nothing (the narrowing of RFC 7296 §2.9).
func (s Selector) Intersect(o Selector) (Selector, bool) {
	r := s
	if o.Start.Compare(r.Start) > 0 {
		r.Start = o.Start
	}
	if o.End.Compare(r.End) < 0 {
		r.End = o.End
	}
	switch {
	case s.Proto == ProtoAny:
		r.Proto = o.Proto
	case o.Proto != ProtoAny && o.Proto != s.Proto:
		return Selector{}, false
	}
	r.StartPort = max(s.StartPort, o.StartPort)
	r.EndPort = min(s.EndPort, o.EndPort)
	if r.End.Less(r.Start) || r.EndPort < r.StartPort {
		return Selector{}, false
	}
	return r, true
}

// Contains reports whether s covers all of o.
func (s Selector) Contains(o Selector) bool {
	r, ok := s.Intersect(o)
	return ok && r == o
}

// Narrow intersects what the peer proposed with what policy allows,
// keeping the peer's order (§2.9). An empty result means TS_UNACCEPTABLE.
func Narrow(proposed, allowed []Selector) []Selector {
	var out []Selector
	for _, p := range proposed {
		for _, a := range allowed {
			if r, ok := p.Intersect(a); ok && !containsSelector(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// Covered reports whether every selector of got lies within some selector
// of offered: an initiator's check of the responder's narrowing.
func Covered(got, offered []Selector) bool {
	for _, g := range got {
		ok := false
		for _, o := range offered {
			if o.Contains(g) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func containsSelector(list []Selector, s Selector) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
