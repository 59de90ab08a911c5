package discovery

import (
	"fmt"
	"net/netip"

	"mip6/wire/ipv6"
)

// maxDHAADAddrs keeps a reply within the IPv6 minimum MTU (RFC 6275
// §10.5: the list is cut to fit): (1280 - 40 IPv6 - 8 ICMPv6) / 16.
const maxDHAADAddrs = (1280 - 40 - 8) / 16

// AppendDHAADReply is the home agent's side of DHAAD (RFC 6275 §10.5):
// req is a Home Agent Address Discovery Request received from src (the
// MN's care-of address) at dst (the Home-Agents anycast address); self is
// the answering home agent's unicast address on the home link, the reply's
// source; homeAgents is the home agents list in preference order (self
// included). The reply, to be sent from self to src, is appended to b.
func AppendDHAADReply(b, req []byte, src, dst, self netip.Addr, homeAgents []netip.Addr) ([]byte, error) {
	if err := ipv6.VerifyICMPv6(src, dst, req); err != nil {
		return b, err
	}
	r, err := ipv6.ParseDHAADRequest(req)
	if err != nil {
		return b, err
	}
	if len(homeAgents) == 0 {
		return b, fmt.Errorf("discovery: DHAAD reply: empty home agents list")
	}
	rep := ipv6.DHAADReply{Identifier: r.Identifier, HomeAgentAddresses: ipv6.MakeAddrList(homeAgents[:min(len(homeAgents), maxDHAADAddrs)]...)}
	return rep.Append(b, self, src), nil
}
