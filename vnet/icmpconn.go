package vnet

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"mip6/wire/ipv6"
)

// ICMPConn is a raw ICMPv6 socket on a node, shaped like a Linux raw
// ICMPv6 socket with a type filter: it receives whole ICMPv6 messages (no
// IPv6 header) of the chosen types addressed to the node, and sends
// messages whose checksum it computes, as the kernel does.
type ICMPConn struct {
	node   *Node
	local  netip.Addr // unspecified: any address, source chosen by routing
	types  [256]bool
	q      chan icmpMsg
	dl     deadline
	closed chan struct{}
	once   sync.Once
}

type icmpMsg struct {
	from netip.Addr
	data []byte
}

// ListenICMP opens an ICMPv6 socket receiving the given message types
// (e.g. 145 for DHAAD replies) on local (unspecified: every address).
// Echo requests stay with the node's built-in responder.
func (nd *Node) ListenICMP(local netip.Addr, types ...uint8) (*ICMPConn, error) {
	if !local.IsValid() {
		local = netip.IPv6Unspecified()
	}
	c := &ICMPConn{node: nd, local: local, q: make(chan icmpMsg, 64), closed: make(chan struct{}), dl: newDeadline()}
	for _, t := range types {
		c.types[t] = true
	}
	nd.mu.Lock()
	defer nd.mu.Unlock()
	select {
	case <-nd.done:
		return nil, ErrClosed
	default:
	}
	nd.icmp = append(nd.icmp, c)
	return c, nil
}

// deliverICMPConn hands a checked ICMPv6 message to matching sockets.
func (nd *Node) deliverICMPConn(h header) bool {
	nd.mu.RLock()
	defer nd.mu.RUnlock()
	taken := false
	for _, c := range nd.icmp {
		if !c.types[h.payload[0]] || (!c.local.IsUnspecified() && c.local != h.dst) {
			continue
		}
		select {
		case c.q <- icmpMsg{from: h.src, data: append([]byte(nil), h.payload...)}:
		default:
		}
		taken = true
	}
	return taken
}

// ReadFrom reads one ICMPv6 message and its source address.
func (c *ICMPConn) ReadFrom(b []byte) (int, netip.Addr, error) {
	for {
		timeout, changed, stop := c.dl.wait()
		select {
		case m := <-c.q:
			stop()
			return copy(b, m.data), m.from, nil
		case <-c.closed:
			stop()
			return 0, netip.Addr{}, net.ErrClosed
		case <-timeout:
			return 0, netip.Addr{}, os.ErrDeadlineExceeded
		case <-changed:
			stop()
		}
	}
}

// WriteTo sends the ICMPv6 message msg (type, code, checksum, body) to dst,
// filling in the checksum.
func (c *ICMPConn) WriteTo(msg []byte, dst netip.Addr) error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
	}
	if len(msg) < 4 {
		return &ipv6.Error{Msg: "ICMPv6", Field: "length", Detail: "message shorter than 4 bytes"}
	}
	src := c.local
	if src.IsUnspecified() {
		var err error
		if src, err = c.node.SourceFor(dst); err != nil {
			return err
		}
	}
	m := append([]byte(nil), msg...)
	m[2], m[3] = 0, 0
	sum := ipv6.Checksum(src, dst, ipv6.ProtoICMPv6, m)
	m[2], m[3] = byte(sum>>8), byte(sum)
	return c.node.Send(ipv6.AppendPacket(nil, src, dst, ipv6.ProtoICMPv6, m))
}

// SetReadDeadline sets the read deadline (zero: none), also for a read in
// progress.
func (c *ICMPConn) SetReadDeadline(t time.Time) error {
	c.dl.set(t)
	return nil
}

// LocalAddr returns the bound address (unspecified when bound to all).
func (c *ICMPConn) LocalAddr() netip.Addr { return c.local }

// Close unbinds the socket.
func (c *ICMPConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		nd := c.node
		nd.mu.Lock()
		for i, x := range nd.icmp {
			if x == c {
				nd.icmp = append(nd.icmp[:i:i], nd.icmp[i+1:]...)
				break
			}
		}
		nd.mu.Unlock()
	})
	return nil
}
