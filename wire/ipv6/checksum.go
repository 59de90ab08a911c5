package ipv6

import (
	"encoding/binary"
	"net/netip"
)

// Checksum returns the Internet checksum (RFC 1071) of the upper-layer
// payload together with the IPv6 pseudo-header (RFC 8200 §8.1):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Source Address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      Destination Address                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                   Upper-Layer Packet Length                   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      zero                     |  Next Header  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// To fill in a checksum, zero the field, compute, and store the result.
// To verify, compute over the payload as received: the result is 0 when
// the checksum is correct. With a Home Address option the source is the
// home address; with a routing header the destination is the final one.
func Checksum(src, dst netip.Addr, nextHeader uint8, payload []byte) uint16 {
	s, d := src.As16(), dst.As16()
	var sum uint64
	sum = sumWords(sum, s[:])
	sum = sumWords(sum, d[:])
	sum += uint64(len(payload)) + uint64(nextHeader)
	sum = sumWords(sum, payload)
	return ^fold(sum)
}

// sumWords adds b to sum as big-endian 16-bit words, 4 bytes at a time.
// A final odd byte is padded with zero (RFC 1071).
func sumWords(sum uint64, b []byte) uint64 {
	for len(b) >= 4 {
		sum += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	return sum
}

func fold(sum uint64) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}
