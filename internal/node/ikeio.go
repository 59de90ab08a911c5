package node

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"mip6/ike"
)

// DatagramWriter sends one UDP datagram: a PacketConn, or a data plane's
// dataplane.UDPBind.
type DatagramWriter interface {
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// IKEConn sends the IKE engine's datagrams from the socket bound to their
// local port (500, or 4500 shared with ESP).
type IKEConn map[uint16]DatagramWriter

// PlaneIKEHandler hands the IKE messages a data plane found on port 4500
// (it strips the non-ESP marker) to ep, marker restored.
func PlaneIKEHandler(ep *ike.Endpoint, local netip.AddrPort) func([]byte, netip.AddrPort) {
	return func(msg []byte, from netip.AddrPort) {
		ep.Receive(local, from, append([]byte{0, 0, 0, 0}, msg...))
	}
}

func (c IKEConn) WriteTo(b []byte, local, remote netip.AddrPort) error {
	conn := c[local.Port()]
	if conn == nil {
		return fmt.Errorf("node: no IKE socket on port %d", local.Port())
	}
	_, err := conn.WriteToUDPAddrPort(b, remote)
	return err
}

// ServeIKE feeds an IKE endpoint from a socket that carries only IKE (port
// 500) until the socket closes.
func ServeIKE(conn PacketConn, local netip.AddrPort, ep *ike.Endpoint) error {
	buf := make([]byte, maxPacket)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return err
		}
		ep.Receive(local, from, append([]byte(nil), buf[:n]...))
	}
}

// ConnTransport carries IKE over one PacketConn (a lab socket): it is a
// bootstrap.Transport. Local says which of our addresses datagrams arrive
// on: the current care-of address. On port 4500 (IKE there puts the
// tunnel in UDP, RFC 7296 §2.23) a data plane takes the socket over once
// IKE is done: HandOver.
type ConnTransport struct {
	Conn  PacketConn
	Local func() netip.AddrPort

	recv    atomic.Pointer[func(local, remote netip.AddrPort, b []byte)]
	start   sync.Once
	stopped atomic.Bool
	done    chan struct{}
}

func (t *ConnTransport) WriteTo(b []byte, _, remote netip.AddrPort) error {
	_, err := t.Conn.WriteToUDPAddrPort(b, remote)
	return err
}

// Serve reads in one goroutine until Close or HandOver; a later Serve
// replaces recv.
func (t *ConnTransport) Serve(recv func(local, remote netip.AddrPort, b []byte)) {
	t.recv.Store(&recv)
	t.start.Do(func() {
		t.done = make(chan struct{})
		go t.read()
	})
}

func (t *ConnTransport) read() {
	defer close(t.done)
	buf := make([]byte, maxPacket)
	for !t.stopped.Load() {
		n, from, err := t.Conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err == nil && !t.stopped.Load() {
			(*t.recv.Load())(t.Local(), from, buf[:n])
		}
	}
}

// HandOver stops reading and leaves the socket open to its next reader (a
// data plane, which hands IKE messages on to the endpoint).
func (t *ConnTransport) HandOver() {
	t.stopped.Store(true)
	t.Conn.SetReadDeadline(time.Unix(1, 0)) // ends a read under way
	if t.done != nil {
		<-t.done
	}
	t.Conn.SetReadDeadline(time.Time{})
}

func (t *ConnTransport) Close() error { return t.Conn.Close() }
