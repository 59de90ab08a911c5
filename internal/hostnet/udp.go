package hostnet

import (
	"fmt"
	"net"
	"net/netip"

	"mip6/internal/node"
)

// ESPPort is the UDP port of IKE and ESP-in-UDP (RFC 3948).
const ESPPort = 4500

var _ node.PacketConn = (*net.UDPConn)(nil)

// ListenESP opens the role's UDP socket on port 4500 of addr (the
// unspecified address: every address, as a mobile node whose care-of
// address changes needs) in the calling thread's namespace.
func ListenESP(addr netip.Addr) (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, ESPPort)))
	if err != nil {
		return nil, fmt.Errorf("hostnet: listen on UDP %s: %w", netip.AddrPortFrom(addr, ESPPort), err)
	}
	return c, nil
}
