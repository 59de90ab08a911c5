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

// ESPBind is a dataplane.Bind for raw ESP (IP protocol 50) on a lab
// node. The node's handler hands it the ESP packets addressed to the node
// that belong to the plane (Put); it sends from the SA's local address.
type ESPBind struct {
	node *vnet.Node
	q    chan []byte
	done chan struct{}
	once sync.Once
}

// NewESPBind makes a raw ESP bind for node n.
func NewESPBind(n *vnet.Node) *ESPBind {
	return &ESPBind{node: n, q: make(chan []byte, queueLen), done: make(chan struct{})}
}

// Put queues a copy of pkt, a whole IPv6 packet whose Next Header is ESP;
// it reports false when it is not one or the queue is full.
func (b *ESPBind) Put(pkt []byte) bool {
	if len(pkt) < ipv6.HeaderLen || pkt[6] != ipv6.ProtoESP {
		return false
	}
	select {
	case <-b.done:
		return false
	case b.q <- append([]byte(nil), pkt...):
		return true
	default:
		return false
	}
}

// ReadBatch reads one ESP packet, from its SPI on; its address is the
// sender's, port 0.
func (b *ESPBind) ReadBatch(ds []dataplane.Datagram) (int, error) {
	var p []byte
	select {
	case p = <-b.q:
	case <-b.done:
		return 0, os.ErrClosed
	}
	n := copy(ds[0].Buf, p[ipv6.HeaderLen:])
	ds[0].Buf, ds[0].Addr = ds[0].Buf[:n], netip.AddrPortFrom(netip.AddrFrom16([16]byte(p[8:24])), 0)
	return 1, nil
}

// WriteBatch sends each ESP packet in an IPv6 header of its own.
func (b *ESPBind) WriteBatch(ds []dataplane.Datagram) (int, error) {
	for i, d := range ds {
		src := d.Src
		if !src.IsValid() || src.IsUnspecified() {
			var err error
			if src, err = b.node.SourceFor(d.Addr.Addr()); err != nil {
				return i, err
			}
		}
		if err := b.node.SendDirect(ipv6.AppendPacket(nil, src, d.Addr.Addr(), ipv6.ProtoESP, d.Buf)); err != nil {
			return i, err
		}
	}
	return len(ds), nil
}

// BatchSize is one: see ReadBatch.
func (b *ESPBind) BatchSize() int { return 1 }

// Close ends ReadBatch.
func (b *ESPBind) Close() error {
	b.once.Do(func() { close(b.done) })
	return nil
}
