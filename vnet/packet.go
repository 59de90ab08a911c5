package vnet

import (
	"net/netip"

	"mip6/wire/ipv6"
)

const (
	protoUDP    = ipv6.ProtoUDP
	protoICMPv6 = ipv6.ProtoICMPv6

	icmpDstUnreach   = 1
	icmpTimeExceeded = 3
	icmpEchoRequest  = 128
	icmpEchoReply    = 129
)

// header is what the network needs from a packet: addresses, first Next
// Header and the payload after the fixed header.
type header struct {
	src, dst netip.Addr
	next     uint8
	payload  []byte
}

func parseHeader(pkt []byte) (header, bool) {
	h, err := ipv6.ParseHeader(pkt)
	if err != nil {
		return header{}, false
	}
	return header{src: h.Src, dst: h.Dst, next: h.NextHeader, payload: pkt[ipv6.HeaderLen : ipv6.HeaderLen+int(h.PayloadLength)]}, true
}

// appendICMP appends an IPv6 packet carrying an ICMPv6 message with the
// checksum filled in. body follows the 4-byte type/code/checksum header.
func appendICMP(b []byte, src, dst netip.Addr, typ, code uint8, body []byte) []byte {
	msg := make([]byte, 4, 4+len(body))
	msg[0], msg[1] = typ, code
	msg = append(msg, body...)
	c := ipv6.Checksum(src, dst, ipv6.ProtoICMPv6, msg)
	msg[2], msg[3] = byte(c>>8), byte(c)
	return ipv6.AppendPacket(b, src, dst, ipv6.ProtoICMPv6, msg)
}
