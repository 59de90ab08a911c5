// Package labplane runs a data plane (mip6/dataplane) on the in-process
// lab network (mip6/vnet): a TUN device that is a lab node's own stack and
// a Bind over a lab UDP socket (ESP in UDP, RFC 3948, port 4500). The
// mobility roles then use the same packet path in the lab as on a host.
//
// vnet stays free of the data plane (it is the lab, below every role);
// this package joins the two.
package labplane

import (
	"net/netip"
	"os"
	"sync"
	"sync/atomic"

	"mip6/dataplane"
	"mip6/vnet"
	"mip6/wire/ipv6"
)

// queueLen bounds the packets waiting for the plane to read the TUN; more
// are dropped, as a full device queue would.
const queueLen = 256

// batchSize is the most packets one TUN read returns.
const batchSize = 16

// TUN is a dataplane.TUN on a lab node. The node's hooks hand it the
// packets the plane should protect (Put); what the plane writes goes into
// the node's stack when it is for one of the node's addresses (as if
// received: the inner packet after decapsulation) and is routed from the
// node otherwise (a home agent forwarding a mobile node's payload).
type TUN struct {
	node           *vnet.Node
	q              chan []byte
	done           chan struct{}
	once           sync.Once
	in, out, drops atomic.Uint64
}

// NewTUN makes a TUN for node n.
func NewTUN(n *vnet.Node) *TUN {
	return &TUN{node: n, q: make(chan []byte, queueLen), done: make(chan struct{})}
}

// Put queues a copy of pkt for the plane to read; it reports false when
// the queue is full or the TUN closed (the packet is lost).
func (t *TUN) Put(pkt []byte) bool {
	select {
	case <-t.done:
		return false
	default:
	}
	select {
	case t.q <- append([]byte(nil), pkt...):
		t.in.Add(1)
		return true
	default:
		t.drops.Add(1)
		return false
	}
}

// Stats says how many packets went into the plane (Put), came out of it
// (Write) and were lost to a full queue.
func (t *TUN) Stats() (in, out, drops uint64) { return t.in.Load(), t.out.Load(), t.drops.Load() }

// Read waits for one packet, then takes whatever else is queued, up to
// len(bufs).
func (t *TUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	var p []byte
	select {
	case p = <-t.q:
	case <-t.done:
		return 0, os.ErrClosed
	}
	n := 0
	for {
		if len(p) <= len(bufs[n])-offset {
			sizes[n] = copy(bufs[n][offset:], p)
			n++
		}
		if n == len(bufs) {
			return n, nil
		}
		select {
		case p = <-t.q:
		default:
			return n, nil
		}
	}
}

// Write hands each packet to the node: its own addresses' packets to its
// input, the rest to routing (without the output hook, which would put
// them back into the plane).
// A packet the node cannot route is lost; the first such error is
// returned once all are written.
func (t *TUN) Write(bufs [][]byte, offset int) (int, error) {
	var first error
	for _, b := range bufs {
		pkt := b[offset:]
		if len(pkt) < ipv6.HeaderLen {
			continue
		}
		t.out.Add(1)
		if t.node.IsLocal(netip.AddrFrom16([16]byte(pkt[24:40]))) {
			t.node.Inject(append([]byte(nil), pkt...))
			continue
		}
		if err := t.node.SendDirect(pkt); err != nil && first == nil {
			first = err
		}
	}
	return len(bufs), first
}

// BatchSize is the most packets a Read returns.
func (t *TUN) BatchSize() int { return batchSize }

// Close ends Read; packets still queued are dropped.
func (t *TUN) Close() error {
	t.once.Do(func() { close(t.done) })
	return nil
}

// UDPBind is a dataplane.Bind over a lab UDP socket. The socket may also
// be the IKE endpoint's (port 4500 carries both): only the bind reads it.
type UDPBind struct {
	Conn *vnet.UDPConn
}

// ReadBatch reads one datagram (the lab has no recvmmsg to batch with).
func (b UDPBind) ReadBatch(ds []dataplane.Datagram) (int, error) {
	n, from, err := b.Conn.ReadFromUDPAddrPort(ds[0].Buf)
	if err != nil {
		return 0, err
	}
	ds[0].Buf, ds[0].Addr = ds[0].Buf[:n], from
	return 1, nil
}

// WriteBatch sends each datagram to its address.
func (b UDPBind) WriteBatch(ds []dataplane.Datagram) (int, error) {
	for i, d := range ds {
		if _, err := b.Conn.WriteToUDPAddrPort(d.Buf, d.Addr); err != nil {
			return i, err
		}
	}
	return len(ds), nil
}

// BatchSize is one: see ReadBatch.
func (b UDPBind) BatchSize() int { return 1 }

// Close closes the socket.
func (b UDPBind) Close() error { return b.Conn.Close() }
