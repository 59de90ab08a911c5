package node

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv6"
)

// HostConn is a host UDP socket bound to the wildcard address that sends
// from a chosen source address and learns the destination address of what
// it receives (IPV6_PKTINFO). A mobile node needs both: its packets must
// leave from its current care-of address, never from an address the kernel
// picks while interfaces change (the home address on the TUN, say), and its
// sockets must survive moving to another care-of address.
type HostConn struct {
	*net.UDPConn
	pc *ipv6.PacketConn
}

// ListenHost binds UDP port on every address.
func ListenHost(port uint16) (*HostConn, error) {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified, Port: int(port)})
	if err != nil {
		return nil, err
	}
	pc := ipv6.NewPacketConn(c)
	if err := pc.SetControlMessage(ipv6.FlagDst, true); err != nil {
		c.Close()
		return nil, err
	}
	return &HostConn{UDPConn: c, pc: pc}, nil
}

// WriteFrom sends b from src (when valid) to dst.
func (c *HostConn) WriteFrom(b []byte, src netip.Addr, dst netip.AddrPort) (int, error) {
	if !src.IsValid() || src.IsUnspecified() {
		return c.WriteToUDPAddrPort(b, dst)
	}
	cm := &ipv6.ControlMessage{Src: src.AsSlice()}
	return c.pc.WriteTo(b, cm, net.UDPAddrFromAddrPort(dst))
}

// ReadFromTo reads a datagram and says who sent it to which of our
// addresses.
func (c *HostConn) ReadFromTo(b []byte) (int, netip.AddrPort, netip.Addr, error) {
	n, cm, from, err := c.pc.ReadFrom(b)
	if err != nil {
		return 0, netip.AddrPort{}, netip.Addr{}, err
	}
	ua, _ := from.(*net.UDPAddr)
	var dst netip.Addr
	if cm != nil {
		dst, _ = netip.AddrFromSlice(cm.Dst)
	}
	src := ua.AddrPort()
	return n, netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), dst.Unmap(), nil
}

// ReadFromUDPAddrPort reads through the control-message path so that the
// socket's two readers never disagree.
func (c *HostConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, from, _, err := c.ReadFromTo(b)
	return n, from, err
}
