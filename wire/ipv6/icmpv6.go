package ipv6

import (
	"encoding/binary"
	"net/netip"
)

// ICMPv6 message types used by Mobile IPv6 (RFC 6275 §6.5-6.8) and the
// Neighbor Discovery option they carry.
const (
	ICMPv6ParameterProblem   uint8 = 4
	ICMPv6DHAADRequest       uint8 = 144
	ICMPv6DHAADReply         uint8 = 145
	ICMPv6MobilePrefixSol    uint8 = 146
	ICMPv6MobilePrefixAdvert uint8 = 147

	NDOptPrefixInformation uint8 = 3
	prefixInfoLen                = 32
	icmpHeaderLen                = 4
)

// ICMPv6 is the common ICMPv6 header (RFC 4443 §2.1); Body is everything
// after the checksum, a view into the input.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Message Body                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type ICMPv6 struct {
	Type, Code uint8
	Checksum   uint16
	Body       []byte
}

// ParseICMPv6 decodes the ICMPv6 header; b is the whole message.
func ParseICMPv6(b []byte) (ICMPv6, error) {
	if len(b) < icmpHeaderLen {
		return ICMPv6{}, errAt("ICMPv6", "length", 0, "%d bytes, need %d", len(b), icmpHeaderLen)
	}
	return ICMPv6{Type: b[0], Code: b[1], Checksum: binary.BigEndian.Uint16(b[2:]), Body: b[4:]}, nil
}

// VerifyICMPv6 checks the checksum of the ICMPv6 message b; src and dst
// are the pseudo-header addresses (see Packet.PseudoSrc/PseudoDst).
func VerifyICMPv6(src, dst netip.Addr, b []byte) error {
	if c := Checksum(src, dst, ProtoICMPv6, b); c != 0 {
		return errAt("ICMPv6", "checksum", 2, "mismatch (residue %#04x)", c)
	}
	return nil
}

// appendICMPv6Header starts a message; finishICMPv6 fills in its checksum.
func appendICMPv6Header(b []byte, typ uint8) []byte {
	return append(b, typ, 0, 0, 0)
}

func finishICMPv6(b []byte, start int, src, dst netip.Addr) []byte {
	binary.BigEndian.PutUint16(b[start+2:], Checksum(src, dst, ProtoICMPv6, b[start:]))
	return b
}

func icmpErr(msg, field string, off int, format string, args ...any) error {
	return errAt(msg, field, off, format, args...)
}

// parseICMPv6Typed checks type, code 0 and a minimum length.
func parseICMPv6Typed(b []byte, msg string, typ uint8, min int) error {
	if len(b) < min {
		return icmpErr(msg, "length", 0, "%d bytes, need %d", len(b), min)
	}
	if b[0] != typ {
		return icmpErr(msg, "type", 0, "%d, want %d", b[0], typ)
	}
	if b[1] != 0 {
		return icmpErr(msg, "code", 1, "%d, want 0", b[1])
	}
	return nil
}

// DHAADRequest is the Home Agent Address Discovery Request (RFC 6275 §6.5).
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |            Checksum           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Identifier          |            Reserved           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type DHAADRequest struct {
	Identifier uint16
}

const msgDHAADRequest = "DHAAD Request"

// ParseDHAADRequest decodes the ICMPv6 message b. The checksum is checked
// separately (VerifyICMPv6).
func ParseDHAADRequest(b []byte) (DHAADRequest, error) {
	if err := parseICMPv6Typed(b, msgDHAADRequest, ICMPv6DHAADRequest, 8); err != nil {
		return DHAADRequest{}, err
	}
	return DHAADRequest{Identifier: binary.BigEndian.Uint16(b[4:])}, nil
}

// Append appends the message with its checksum for src and dst.
func (m *DHAADRequest) Append(b []byte, src, dst netip.Addr) []byte {
	start := len(b)
	b = appendICMPv6Header(b, ICMPv6DHAADRequest)
	b = binary.BigEndian.AppendUint16(b, m.Identifier)
	b = append(b, 0, 0)
	return finishICMPv6(b, start, src, dst)
}

// DHAADReply is the Home Agent Address Discovery Reply (RFC 6275 §6.6).
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |            Checksum           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Identifier          |            Reserved           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	.                     Home Agent Addresses                      .
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type DHAADReply struct {
	Identifier         uint16
	HomeAgentAddresses AddrList
}

const msgDHAADReply = "DHAAD Reply"

// ParseDHAADReply decodes the ICMPv6 message b; the address list is a view
// into b.
func ParseDHAADReply(b []byte) (DHAADReply, error) {
	if err := parseICMPv6Typed(b, msgDHAADReply, ICMPv6DHAADReply, 8); err != nil {
		return DHAADReply{}, err
	}
	if (len(b)-8)%16 != 0 {
		return DHAADReply{}, icmpErr(msgDHAADReply, "home agent addresses", 8, "%d bytes, not a multiple of 16", len(b)-8)
	}
	return DHAADReply{Identifier: binary.BigEndian.Uint16(b[4:]), HomeAgentAddresses: AddrList(b[8:])}, nil
}

// Append appends the message with its checksum for src and dst.
func (m *DHAADReply) Append(b []byte, src, dst netip.Addr) []byte {
	start := len(b)
	b = appendICMPv6Header(b, ICMPv6DHAADReply)
	b = binary.BigEndian.AppendUint16(b, m.Identifier)
	b = append(b, 0, 0)
	b = append(b, m.HomeAgentAddresses...)
	return finishICMPv6(b, start, src, dst)
}

// AddrList is a packed list of IPv6 addresses, 16 bytes each.
type AddrList []byte

// MakeAddrList packs addrs.
func MakeAddrList(addrs ...netip.Addr) AddrList {
	l := make(AddrList, 0, 16*len(addrs))
	for _, a := range addrs {
		s := a.As16()
		l = append(l, s[:]...)
	}
	return l
}

// Len is the number of addresses.
func (l AddrList) Len() int { return len(l) / 16 }

// At returns address i.
func (l AddrList) At(i int) netip.Addr { return netip.AddrFrom16([16]byte(l[16*i:])) }

// MobilePrefixSolicitation is the Mobile Prefix Solicitation (RFC 6275 §6.7).
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |            Checksum           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Identifier          |            Reserved           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type MobilePrefixSolicitation struct {
	Identifier uint16
}

const msgMPS = "Mobile Prefix Solicitation"

// ParseMobilePrefixSolicitation decodes the ICMPv6 message b.
func ParseMobilePrefixSolicitation(b []byte) (MobilePrefixSolicitation, error) {
	if err := parseICMPv6Typed(b, msgMPS, ICMPv6MobilePrefixSol, 8); err != nil {
		return MobilePrefixSolicitation{}, err
	}
	return MobilePrefixSolicitation{Identifier: binary.BigEndian.Uint16(b[4:])}, nil
}

// Append appends the message with its checksum for src and dst.
func (m *MobilePrefixSolicitation) Append(b []byte, src, dst netip.Addr) []byte {
	start := len(b)
	b = appendICMPv6Header(b, ICMPv6MobilePrefixSol)
	b = binary.BigEndian.AppendUint16(b, m.Identifier)
	b = append(b, 0, 0)
	return finishICMPv6(b, start, src, dst)
}
