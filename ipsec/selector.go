package ipsec

import (
	"net/netip"
)

// IP protocol numbers the selectors name. ProtoAny (0) selects every
// protocol, as in IKEv2 traffic selectors (RFC 7296 §3.13.1); 0 is never
// an upper-layer protocol (it is the Hop-by-Hop Options header).
const (
	ProtoAny    uint8 = 0
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
	ProtoMH     uint8 = 135 // Mobility Header (RFC 6275)
)

// Mobility Header message types (RFC 6275 §6.1.2), spelled as RFC 4877 does.
const (
	MHBindingRefreshRequest uint8 = 0 // BRR
	MHHomeTestInit          uint8 = 1 // HoTi
	MHCareOfTestInit        uint8 = 2 // CoTi
	MHHomeTest              uint8 = 3 // HoT
	MHCareOfTest            uint8 = 4 // CoT
	MHBindingUpdate         uint8 = 5 // BU
	MHBindingAck            uint8 = 6 // BAck
	MHBindingError          uint8 = 7 // BE
)

// ICMPv6 types of Mobile IPv6 (RFC 6275 §6.5-6.8).
const (
	ICMPv6HAADRequest               uint8 = 144
	ICMPv6HAADReply                 uint8 = 145
	ICMPv6MobilePrefixSolicitation  uint8 = 146 // MPS
	ICMPv6MobilePrefixAdvertisement uint8 = 147 // MPA
)

// AddrRange is an inclusive range of IPv6 addresses. The zero value means
// any address.
type AddrRange struct {
	From, To netip.Addr
}

// AnyAddr matches every address.
var AnyAddr = AddrRange{}

// Addr is the range holding exactly a.
func Addr(a netip.Addr) AddrRange { return AddrRange{From: a, To: a} }

// Prefix is the range a prefix covers.
func Prefix(p netip.Prefix) AddrRange {
	p = p.Masked()
	b := p.Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return AddrRange{From: p.Addr(), To: netip.AddrFrom16(b)}
}

// IsAny reports whether r matches every address.
func (r AddrRange) IsAny() bool { return !r.From.IsValid() }

// Single returns the one address r holds, if it holds exactly one.
func (r AddrRange) Single() (netip.Addr, bool) {
	return r.From, r.From.IsValid() && r.From == r.To
}

// Contains reports whether a lies in r.
func (r AddrRange) Contains(a netip.Addr) bool {
	if r.IsAny() {
		return true
	}
	return r.From.Compare(a) <= 0 && a.Compare(r.To) <= 0
}

// PortRange is an inclusive range of 16-bit "port" selector values. For
// TCP/UDP it holds ports; for ICMPv6 the type sits in the high octet and
// the code in the low one, for the Mobility Header the MH type sits in the
// high octet (RFC 4301 §4.4.1.1), as IKEv2 traffic selectors carry them.
type PortRange struct {
	From, To uint16
}

// AnyPort matches every value.
var AnyPort = PortRange{0, 0xffff}

// Port is the range holding exactly p.
func Port(p uint16) PortRange { return PortRange{p, p} }

// MHType selects one Mobility Header message type.
func MHType(t uint8) PortRange { return PortRange{uint16(t) << 8, uint16(t)<<8 | 0xff} }

// ICMPv6Type selects one ICMPv6 type, any code.
func ICMPv6Type(t uint8) PortRange { return PortRange{uint16(t) << 8, uint16(t)<<8 | 0xff} }

// ICMPv6TypeCode selects one ICMPv6 type and code.
func ICMPv6TypeCode(t, code uint8) PortRange { return Port(uint16(t)<<8 | uint16(code)) }

// IsAny reports whether r matches every value.
func (r PortRange) IsAny() bool { return r == AnyPort || r == PortRange{} }

// Contains reports whether v lies in r. The zero range counts as any.
func (r PortRange) Contains(v uint16) bool {
	return r.IsAny() || (r.From <= v && v <= r.To)
}

// typeOnly reports whether r selects exactly one type in the high octet.
func (r PortRange) typeOnly() (uint8, bool) {
	return uint8(r.From >> 8), r.From&0xff == 0 && r.To == r.From|0xff
}

// Selectors are the traffic selectors of an SPD entry or SA (RFC 4301
// §4.4.1.1), seen from the local node: Local is this node's side. The zero
// value selects everything. For an
// SA's own selectors (SAEntry.Selectors) Local is the SA's sending side.
//
// For the Mobility Header and ICMPv6 the local "port" range holds the
// message types this node sends and the remote range those it receives,
// the way RFC 4877 writes local_mh_type = BU & remote_mh_type = BAck.
type Selectors struct {
	Local, Remote         AddrRange
	Proto                 uint8 // ProtoAny: every protocol
	LocalPort, RemotePort PortRange
}

// typed reports whether the protocol carries a message type in the port
// selector instead of ports.
func typed(proto uint8) bool { return proto == ProtoMH || proto == ProtoICMPv6 }

// Packet is what the SPD matches: the addresses, protocol and ports of a
// packet as seen from this node (RFC 4301 §4.4.1.1). Build it with
// OutboundPacket or InboundPacket.
type Packet struct {
	Local, Remote netip.Addr
	Proto         uint8
	// LocalPort, RemotePort are TCP/UDP ports. For ICMPv6 and MH, the
	// packet's type<<8|code sits in the port of the sending side: LocalPort
	// for outbound packets, RemotePort for inbound ones.
	LocalPort, RemotePort uint16
}

// OutboundPacket describes a packet this node sends. srcPort/dstPort are
// the TCP/UDP ports, or for ICMPv6/MH the type<<8|code as srcPort.
func OutboundPacket(src, dst netip.Addr, proto uint8, srcPort, dstPort uint16) Packet {
	return Packet{Local: src, Remote: dst, Proto: proto, LocalPort: srcPort, RemotePort: dstPort}
}

// InboundPacket describes a packet this node receives; for ICMPv6/MH pass
// the type<<8|code as srcPort.
func InboundPacket(src, dst netip.Addr, proto uint8, srcPort, dstPort uint16) Packet {
	return Packet{Local: dst, Remote: src, Proto: proto, LocalPort: dstPort, RemotePort: srcPort}
}

// Matches reports whether the packet falls under the selectors. For MH
// and ICMPv6 only the sender's side carries a type: outbound packets
// check LocalPort, inbound ones RemotePort.
func (s *Selectors) Matches(dir Direction, p *Packet) bool {
	if s.Proto != ProtoAny && s.Proto != p.Proto {
		return false
	}
	if !s.Local.Contains(p.Local) || !s.Remote.Contains(p.Remote) {
		return false
	}
	if typed(p.Proto) {
		if dir == Outbound {
			return s.LocalPort.Contains(p.LocalPort)
		}
		return s.RemotePort.Contains(p.RemotePort)
	}
	return s.LocalPort.Contains(p.LocalPort) && s.RemotePort.Contains(p.RemotePort)
}
