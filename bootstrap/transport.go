package bootstrap

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Transport carries the mobile node's IKE datagrams: real UDP sockets
// (ListenUDP) or a simulated network in tests and the demo.
type Transport interface {
	// WriteTo sends b from local to remote.
	WriteTo(b []byte, local, remote netip.AddrPort) error
	// Serve hands every datagram that arrives to recv until Close; it
	// returns at once. recv does not keep b. A later Serve replaces recv
	// (each Run serves the same transport anew).
	Serve(recv func(local, remote netip.AddrPort, b []byte))
	Close() error
}

// UDP is a Transport over one UDP socket.
type UDP struct {
	local netip.AddrPort
	conn  *net.UDPConn
	wg    sync.WaitGroup
	once  sync.Once
	recv  atomic.Pointer[func(local, remote netip.AddrPort, b []byte)]
}

// ListenUDP binds a UDP socket on local (the care-of address and the IKE
// port, 500 or 4500).
func ListenUDP(local netip.AddrPort) (*UDP, error) {
	c, err := net.ListenUDP("udp6", net.UDPAddrFromAddrPort(local))
	if err != nil {
		return nil, fmt.Errorf("bootstrap: listen %s: %w", local, err)
	}
	if local.Port() == 0 {
		local = netip.AddrPortFrom(local.Addr(), uint16(c.LocalAddr().(*net.UDPAddr).Port))
	}
	return &UDP{local: local, conn: c}, nil
}

// Local is the bound address and port.
func (u *UDP) Local() netip.AddrPort { return u.local }

// WriteTo sends b to remote; local must be the bound address.
func (u *UDP) WriteTo(b []byte, local, remote netip.AddrPort) error {
	if local != u.local {
		return fmt.Errorf("bootstrap: no socket on %s", local)
	}
	_, err := u.conn.WriteToUDPAddrPort(b, remote)
	return err
}

// Serve reads the socket in one goroutine, started by the first call.
func (u *UDP) Serve(recv func(local, remote netip.AddrPort, b []byte)) {
	u.recv.Store(&recv)
	u.once.Do(u.start)
}

func (u *UDP) start() {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, from, err := u.conn.ReadFromUDPAddrPort(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				continue // transient (ICMP errors surfacing as read errors)
			}
			(*u.recv.Load())(u.local, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), buf[:n])
		}
	}()
}

// Close closes the socket and waits for the reader.
func (u *UDP) Close() error {
	err := u.conn.Close()
	u.wg.Wait()
	return err
}
