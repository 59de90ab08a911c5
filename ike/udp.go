package ike

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// UDPTransport is a Conn over UDP sockets bound to explicit local
// addresses and ports (typically 500 and 4500 on each address).
type UDPTransport struct {
	mu    sync.Mutex
	conns map[netip.AddrPort]*net.UDPConn
	wg    sync.WaitGroup
}

// ListenUDP binds one socket per local address and port.
func ListenUDP(locals ...netip.AddrPort) (*UDPTransport, error) {
	u := &UDPTransport{conns: map[netip.AddrPort]*net.UDPConn{}}
	for _, l := range locals {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(l))
		if err != nil {
			u.Close()
			return nil, fmt.Errorf("ike: listen %s: %w", l, err)
		}
		u.conns[l] = c
	}
	return u, nil
}

// WriteTo sends from the socket bound to local.
func (u *UDPTransport) WriteTo(b []byte, local, remote netip.AddrPort) error {
	u.mu.Lock()
	c := u.conns[local]
	u.mu.Unlock()
	if c == nil {
		return fmt.Errorf("ike: no socket on %s", local)
	}
	_, err := c.WriteToUDPAddrPort(b, remote)
	return err
}

// Serve reads every socket and hands datagrams to ep; those that are not
// IKE (ESP on the NAT-T port) go to other, if set. It returns at once.
func (u *UDPTransport) Serve(ep *Endpoint, other func(local, remote netip.AddrPort, b []byte)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for l, c := range u.conns {
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			buf := make([]byte, 65536)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					continue
				}
				from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
				if !ep.Receive(l, from, buf[:n]) && other != nil {
					other(l, from, buf[:n])
				}
			}
		}()
	}
}

// Close closes the sockets and waits for Serve's readers.
func (u *UDPTransport) Close() {
	u.mu.Lock()
	for _, c := range u.conns {
		c.Close()
	}
	u.mu.Unlock()
	u.wg.Wait()
}
