// Package ipv6 encodes and decodes the IPv6 pieces Mobile IPv6 needs: the
// fixed header, upper-layer checksums over the pseudo-header, UDP, and
// (see the rest of the package) extension headers, the Home Address
// option, the Type 2 Routing header and the ICMPv6 mobility messages.
//
// Building packets for other layers (IKE, ESP-in-UDP, MH):
//
//	pkt := ipv6.AppendUDP(buf[:0], src, dst, ikeMessage)          // IPv6 + UDP with checksum
//	pkt  = ipv6.AppendPacket(buf[:0], src, dst, ipv6.ProtoESP, esp) // IPv6 + any payload
//	sum := ipv6.Checksum(src, dst, ipv6.ProtoMobility, mh)         // fill in (field zeroed) or verify (== 0)
//
// Parsing never allocates; errors are *ipv6.Error naming message and field.
package ipv6
