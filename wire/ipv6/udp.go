package ipv6

import (
	"encoding/binary"
	"net/netip"
)

// UDP is a UDP header (RFC 768).
//
//	 0      7 8     15 16    23 24    31
//	+--------+--------+--------+--------+
//	|     Source      |   Destination   |
//	|      Port       |      Port       |
//	+--------+--------+--------+--------+
//	|                 |                 |
//	|     Length      |    Checksum     |
//	+--------+--------+--------+--------+
type UDP struct {
	SrcPort, DstPort uint16
	Length           uint16
	Checksum         uint16
}

// ParseUDP decodes the UDP header at the start of b and returns the payload
// it delimits. The checksum is not verified here; see VerifyUDP.
func ParseUDP(b []byte) (UDP, []byte, error) {
	if len(b) < UDPHeaderLen {
		return UDP{}, nil, errf("UDP", "length", "%d bytes, need %d", len(b), UDPHeaderLen)
	}
	u := UDP{
		SrcPort:  binary.BigEndian.Uint16(b[0:]),
		DstPort:  binary.BigEndian.Uint16(b[2:]),
		Length:   binary.BigEndian.Uint16(b[4:]),
		Checksum: binary.BigEndian.Uint16(b[6:]),
	}
	if u.Length < UDPHeaderLen || int(u.Length) > len(b) {
		return UDP{}, nil, errf("UDP", "length", "%d outside %d..%d", u.Length, UDPHeaderLen, len(b))
	}
	return u, b[UDPHeaderLen:u.Length], nil
}

// VerifyUDP checks the checksum of the UDP datagram b (header and payload,
// exactly Length bytes). A zero checksum is invalid over IPv6 (RFC 8200 §8.1).
func VerifyUDP(src, dst netip.Addr, b []byte) error {
	if len(b) >= UDPHeaderLen && binary.BigEndian.Uint16(b[6:]) == 0 {
		return errf("UDP", "checksum", "zero checksum not allowed over IPv6")
	}
	if c := Checksum(src, dst, ProtoUDP, b); c != 0 {
		return errf("UDP", "checksum", "mismatch (residue %#04x)", c)
	}
	return nil
}

// AppendUDPDatagram appends a UDP header and payload with the checksum
// computed for the given addresses (no IPv6 header).
func AppendUDPDatagram(b []byte, src, dst netip.AddrPort, payload []byte) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint16(b, uint16(UDPHeaderLen+len(payload)))
	b = append(b, 0, 0)
	b = append(b, payload...)
	c := Checksum(src.Addr(), dst.Addr(), ProtoUDP, b[start:])
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[start+6:], c)
	return b
}

// AppendUDP appends a whole IPv6/UDP packet: IPv6 header, UDP header with a
// correct checksum, payload.
func AppendUDP(b []byte, src, dst netip.AddrPort, payload []byte) []byte {
	h := Header{
		PayloadLength: uint16(UDPHeaderLen + len(payload)),
		NextHeader:    ProtoUDP,
		HopLimit:      DefaultHopLimit,
		Src:           src.Addr(),
		Dst:           dst.Addr(),
	}
	b = h.Append(b)
	return AppendUDPDatagram(b, src, dst, payload)
}
