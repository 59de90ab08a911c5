package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"mip6/ike"
)

// anyConn has one UDP socket per port that sends from and receives on any
// address of a prefix routed to the host as local (ip route add local P
// dev lo): the source is set per datagram with IPV6_PKTINFO, which
// IPV6_FREEBIND allows for addresses not configured on an interface.
// Thousands of initiators with distinct addresses share two sockets (500,
// and 4500 once an IKE SA floats there: charon with kernel-libipsec fakes a
// NAT to force UDP encapsulation).
type anyConn struct {
	pcs map[uint16]*ipv6.PacketConn
}

func listenAny(ports ...uint16) (*anyConn, error) {
	c := &anyConn{pcs: map[uint16]*ipv6.PacketConn{}}
	for _, port := range ports {
		pc, err := listenFreebind(port)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.pcs[port] = pc
	}
	return c, nil
}

func listenFreebind(port uint16) (*ipv6.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_FREEBIND, 1)
			if serr == nil {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
			}
		})
		return errors.Join(err, serr)
	}}
	c, err := lc.ListenPacket(context.Background(), "udp6", netip.AddrPortFrom(netip.IPv6Unspecified(), port).String())
	if err != nil {
		return nil, err
	}
	pc := ipv6.NewPacketConn(c)
	if err := pc.SetControlMessage(ipv6.FlagDst, true); err != nil {
		c.Close()
		return nil, err
	}
	return pc, nil
}

func (c *anyConn) WriteTo(b []byte, local, remote netip.AddrPort) error {
	pc := c.pcs[local.Port()]
	if pc == nil {
		return fmt.Errorf("ikebench: no socket on port %d", local.Port())
	}
	src := local.Addr().As16()
	_, err := pc.WriteTo(b, &ipv6.ControlMessage{Src: src[:]}, net.UDPAddrFromAddrPort(remote))
	return err
}

// serve hands datagrams to ep from n reader goroutines per socket until
// the sockets are closed.
func (c *anyConn) serve(ep *ike.Endpoint, n int) {
	for port, pc := range c.pcs {
		for range n {
			go read(pc, port, ep)
		}
	}
}

func read(pc *ipv6.PacketConn, port uint16, ep *ike.Endpoint) {
	buf := make([]byte, 65536)
	for {
		m, cm, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok || cm == nil {
			continue
		}
		dst, ok := netip.AddrFromSlice(cm.Dst)
		if !ok {
			continue
		}
		remote := netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port())
		ep.Receive(netip.AddrPortFrom(dst.Unmap(), port), remote, buf[:m])
	}
}

func (c *anyConn) Close() error {
	var errs []error
	for _, pc := range c.pcs {
		errs = append(errs, pc.Close())
	}
	return errors.Join(errs...)
}
