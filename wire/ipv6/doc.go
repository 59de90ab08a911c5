// Package ipv6 encodes and decodes the IPv6 pieces Mobile IPv6 needs: the
// fixed header, upper-layer checksums over the pseudo-header, UDP, the
// extension-header chain, the Destination Options header with the Home
// Address option, the Type 2 Routing header and the ICMPv6 mobility
// messages (DHAAD Request/Reply, Mobile Prefix Solicitation/Advertisement).
//
// Building packets for other layers (IKE, ESP-in-UDP, MH):
//
//	pkt := ipv6.AppendUDP(buf[:0], src, dst, ikeMessage)            // IPv6 + UDP with checksum
//	pkt  = ipv6.AppendPacket(buf[:0], src, dst, ipv6.ProtoESP, esp) // IPv6 + any payload
//	sum := ipv6.Checksum(src, dst, ipv6.ProtoMobility, mh)          // fill in (field zeroed) or verify (== 0)
//
// Mobile IPv6 packets (RFC 3776 transport form): describe the packet, fill
// the upper layer's checksum with the pseudo-header addresses, append:
//
//	p := ipv6.Packet{Header: ipv6.Header{HopLimit: 64, Src: coa, Dst: ha},
//		HomeAddress: hoa, Proto: ipv6.ProtoMobility} // adds Dest Opts + HAO
//	mhBytes := bu.Append(nil, p.PseudoSrc(), p.PseudoDst())
//	pkt := p.Append(buf[:0], mhBytes)
//
// RoutingHomeAddress (with SegmentsLeft 1) adds a Type 2 Routing header.
// ParsePacket fills a caller's Packet without allocating and walks every
// extension header (Chain does the walk for callers that need each header).
// ICMPv6 messages (DHAADRequest, DHAADReply, MobilePrefixSolicitation,
// MobilePrefixAdvertisement with PrefixInformation options, ParameterProblem):
// m.Append(b, src, dst) fills the checksum; ParseXxx(b) decodes;
// VerifyICMPv6(src, dst, b) checks the checksum.
//
// Errors are *ipv6.Error naming message and field; Offset locates the field
// in the parsed buffer (from the IPv6 header for ParsePacket), for ICMPv6
// Parameter Problem pointers.
package ipv6
