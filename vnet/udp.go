package vnet

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"mip6/wire/ipv6"
)

// UDPConn is a UDP socket on a node with the method set of *net.UDPConn that
// the IKE engine and ESP-in-UDP use, so either can be handed to them.
type UDPConn struct {
	node  *Node
	laddr netip.AddrPort // address may be unspecified (::)
	q     chan datagram

	dl     deadline
	closed chan struct{}
	once   sync.Once

	Drops uint64 // datagrams lost to a full receive queue (under node lock)
}

type datagram struct {
	from netip.AddrPort
	data []byte
}

// ListenUDP opens a socket. An unspecified address receives on every address
// of the node and sends from the address routing chooses; port 0 picks a free
// ephemeral port.
func (nd *Node) ListenUDP(laddr netip.AddrPort) (*UDPConn, error) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	select {
	case <-nd.done:
		return nil, ErrClosed
	default:
	}
	port := laddr.Port()
	if port == 0 {
		for i := 0; i < 16384 && len(nd.udp[nd.nextPort]) > 0; i++ {
			nd.nextPort = 49152 + (nd.nextPort-49152+1)%16384
		}
		port = nd.nextPort
		nd.nextPort = 49152 + (nd.nextPort-49152+1)%16384
	}
	addr := laddr.Addr()
	if !addr.IsValid() {
		addr = netip.IPv6Unspecified()
	}
	for _, c := range nd.udp[port] {
		if c.laddr.Addr() == addr || c.laddr.Addr().IsUnspecified() || addr.IsUnspecified() {
			return nil, ErrAddrInUse
		}
	}
	c := &UDPConn{node: nd, laddr: netip.AddrPortFrom(addr, port), q: make(chan datagram, 256), closed: make(chan struct{}), dl: newDeadline()}
	nd.udp[port] = append(nd.udp[port], c)
	return c, nil
}

func (nd *Node) deliverUDP(h header, pkt []byte) bool {
	if ipv6.VerifyUDP(h.src, h.dst, h.payload) != nil {
		return false
	}
	u, payload, err := ipv6.ParseUDP(h.payload)
	if err != nil {
		return false
	}
	nd.mu.Lock()
	defer nd.mu.Unlock()
	for _, c := range nd.udp[u.DstPort] {
		if c.laddr.Addr() == h.dst || c.laddr.Addr().IsUnspecified() {
			select {
			case c.q <- datagram{from: netip.AddrPortFrom(h.src, u.SrcPort), data: append([]byte(nil), payload...)}:
			default:
				c.Drops++
				nd.Stats.NoListener.Add(1)
			}
			return true
		}
	}
	nd.Stats.NoListener.Add(1)
	return true
}

// ReadFromUDPAddrPort reads one datagram. It returns os.ErrDeadlineExceeded
// once the read deadline passes (also for a read already blocked when the
// deadline is set) and net.ErrClosed after Close.
func (c *UDPConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		timeout, changed, stop := c.dl.wait()
		select {
		case d := <-c.q:
			stop()
			return copy(b, d.data), d.from, nil
		case <-c.closed:
			stop()
			return 0, netip.AddrPort{}, net.ErrClosed
		case <-timeout:
			return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
		case <-changed:
			stop() // deadline moved: wait again with the new one
		}
	}
}

// WriteToUDPAddrPort sends b to addr.
func (c *UDPConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	src := c.laddr.Addr()
	if src.IsUnspecified() {
		var err error
		if src, err = c.node.SourceFor(addr.Addr()); err != nil {
			return 0, err
		}
	}
	pkt := ipv6.AppendUDP(nil, netip.AddrPortFrom(src, c.laddr.Port()), addr, b)
	if err := c.node.Send(pkt); err != nil {
		return 0, err
	}
	return len(b), nil
}

// SetReadDeadline sets the deadline for ReadFromUDPAddrPort (zero: none),
// also for a read in progress, as net.UDPConn does.
func (c *UDPConn) SetReadDeadline(t time.Time) error {
	c.dl.set(t)
	return nil
}

// LocalAddr returns the bound address as a *net.UDPAddr.
func (c *UDPConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.laddr) }

// LocalAddrPort returns the bound address.
func (c *UDPConn) LocalAddrPort() netip.AddrPort { return c.laddr }

// Close unbinds the socket; blocked reads return net.ErrClosed.
func (c *UDPConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		nd := c.node
		nd.mu.Lock()
		cs := nd.udp[c.laddr.Port()]
		for i, x := range cs {
			if x == c {
				nd.udp[c.laddr.Port()] = append(cs[:i:i], cs[i+1:]...)
				break
			}
		}
		nd.mu.Unlock()
	})
	return nil
}

// deadline is a read deadline that blocked readers notice when it moves.
type deadline struct {
	mu      sync.Mutex
	t       time.Time
	changed chan struct{}
}

func newDeadline() deadline { return deadline{changed: make(chan struct{})} }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	d.t = t
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()
}

// wait returns a channel that fires at the deadline (nil: none, closed
// already if it passed), one that closes when the deadline moves, and a
// function releasing the timer.
func (d *deadline) wait() (<-chan time.Time, <-chan struct{}, func()) {
	d.mu.Lock()
	t, changed := d.t, d.changed
	d.mu.Unlock()
	if t.IsZero() {
		return nil, changed, func() {}
	}
	timer := time.NewTimer(time.Until(t))
	return timer.C, changed, func() { timer.Stop() }
}
