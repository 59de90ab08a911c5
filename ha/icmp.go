package ha

import (
	"net/netip"

	"mip6/wire/ipv6"
)

// HomeAgentsAnycast returns the Mobile IPv6 Home-Agents anycast address of
// a /64 home prefix: interface identifier FDFF:FFFF:FFFF:FFFE (RFC 2526 §2,
// anycast ID 0x7e), the destination of DHAAD requests.
func HomeAgentsAnycast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As16()
	copy(a[8:], []byte{0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe})
	return netip.AddrFrom16(a)
}

// HandleDHAADRequest answers a Home Agent Address Discovery Request (RFC
// 6275 §10.5): msg is the ICMPv6 message received from src to dst (the
// Home-Agents anycast address of a home prefix). It returns the whole reply
// packet, from the home agent's address to src, listing Config.HomeAgents,
// or false when the request is malformed or not for a home prefix (counted
// as a drop).
func (h *HomeAgent) HandleDHAADRequest(b []byte, src, dst netip.Addr, msg []byte) ([]byte, bool) {
	if ipv6.VerifyICMPv6(src, dst, msg) != nil {
		h.CountDrop(DropBadChecksum)
		return b, false
	}
	req, err := ipv6.ParseDHAADRequest(msg)
	if err != nil {
		h.CountDrop(DropMalformed)
		return b, false
	}
	if !h.isAnycast(dst) || !globalUnicast(src) {
		h.CountDrop(DropBadHomeAddress)
		return b, false
	}
	reply := ipv6.DHAADReply{Identifier: req.Identifier, HomeAgentAddresses: ipv6.MakeAddrList(h.cfg.HomeAgents...)}
	body := reply.Append(nil, h.cfg.Address, src)
	return ipv6.AppendPacket(b, h.cfg.Address, src, ipv6.ProtoICMPv6, body), true
}

func (h *HomeAgent) isAnycast(a netip.Addr) bool {
	for _, p := range h.cfg.HomePrefixes {
		if a == HomeAgentsAnycast(p) {
			return true
		}
	}
	return false
}

// HandlePrefixSolicitation answers a Mobile Prefix Solicitation that left
// the tunnel (RFC 6275 §10.6.1): inner source the home address, protected
// by an SA for it, with a binding. It returns the inner reply packet (home
// agent -> home address) to send back through the tunnel.
func (h *HomeAgent) HandlePrefixSolicitation(b []byte, sec SecurityContext, src, dst netip.Addr, msg []byte) ([]byte, bool) {
	if ipv6.VerifyICMPv6(src, dst, msg) != nil {
		h.CountDrop(DropBadChecksum)
		return b, false
	}
	req, err := ipv6.ParseMobilePrefixSolicitation(msg)
	if err != nil {
		h.CountDrop(DropMalformed)
		return b, false
	}
	if !h.TunnelSourceAllowed(sec, src) {
		h.CountDrop(DropNoBinding)
		return b, false
	}
	return h.PrefixAdvertisement(b, req.Identifier, src), true
}

// PrefixAdvertisement builds a Mobile Prefix Advertisement packet for hoa
// (solicited: the solicitation's identifier; unsolicited, after a prefix
// change: any identifier) with a Prefix Information option per home prefix.
func (h *HomeAgent) PrefixAdvertisement(b []byte, id uint16, hoa netip.Addr) []byte {
	var opts []byte
	for _, p := range h.cfg.HomePrefixes {
		opts = ipv6.AppendPrefixInformation(opts, ipv6.PrefixInformation{
			PrefixLength: uint8(p.Bits()), OnLink: true, Autonomous: true,
			ValidLifetime:     uint32(h.cfg.PrefixValidLifetime.Seconds()),
			PreferredLifetime: uint32(h.cfg.PrefixPreferredLifetime.Seconds()),
			Prefix:            p.Masked().Addr(),
		})
	}
	mpa := ipv6.MobilePrefixAdvertisement{Identifier: id, Options: opts}
	body := mpa.Append(nil, h.cfg.Address, hoa)
	return ipv6.AppendPacket(b, h.cfg.Address, hoa, ipv6.ProtoICMPv6, body)
}
