package ipsec

import (
	"encoding/binary"

	"mip6/wire/ipv6"
)

// FromIPv6 builds the selector view of a parsed IPv6 packet (RFC 4301
// §4.4.1.1) as RFC 4877 §4.2 asks: the address of a Home Address option
// counts as the source and the home address of a Type 2 Routing header as
// the destination, so that transport-mode BUs and BAcks match the entries
// written for the home address. Ports come from TCP/UDP; ICMPv6 and MH put
// type<<8|code (MH: type<<8) in the sender's port. ok is false when the
// upper-layer header is too short or is a non-first fragment, whose ports
// are unknown (RFC 4301 §7 OPAQUE): callers treat such packets by policy.
func FromIPv6(dir Direction, p *ipv6.Packet) (pkt Packet, ok bool) {
	src, dst := p.Header.Src, p.Header.Dst
	if p.HomeAddress.IsValid() {
		src = p.HomeAddress
	}
	if p.RoutingHomeAddress.IsValid() {
		dst = p.RoutingHomeAddress
	}
	var sp, dp uint16
	ok = !p.Fragmented || p.Fragment.Offset == 0
	b := p.Payload
	switch p.Proto {
	case ProtoTCP, ProtoUDP:
		if ok = ok && len(b) >= 4; ok {
			sp, dp = binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
		}
	case ProtoICMPv6:
		if ok = ok && len(b) >= 2; ok {
			sp = uint16(b[0])<<8 | uint16(b[1])
		}
	case ProtoMH:
		if ok = ok && len(b) >= 3; ok {
			sp = uint16(b[2]) << 8 // MH Type is the third octet (RFC 6275 §6.1.1)
		}
	}
	if dir == Outbound {
		return OutboundPacket(src, dst, p.Proto, sp, dp), ok
	}
	return InboundPacket(src, dst, p.Proto, sp, dp), ok
}
