package dataplane

import (
	"net/netip"
	"os"
	"sync"
)

// memTUN is an in-memory TUN: the test injects packets the "kernel" sends
// into the tunnel and collects those the plane writes.
type memTUN struct {
	in     chan []byte
	out    chan []byte
	closed chan struct{}
	once   sync.Once
}

func newMemTUN() *memTUN {
	return &memTUN{in: make(chan []byte, 256), out: make(chan []byte, 256), closed: make(chan struct{})}
}

func (t *memTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	var p []byte
	select {
	case p = <-t.in:
	case <-t.closed:
		return 0, os.ErrClosed
	}
	n := 0
	for {
		sizes[n] = copy(bufs[n][offset:], p)
		n++
		if n == len(bufs) {
			return n, nil
		}
		select {
		case p = <-t.in:
		default:
			return n, nil
		}
	}
}

func (t *memTUN) Write(bufs [][]byte, offset int) (int, error) {
	for _, b := range bufs {
		select {
		case t.out <- append([]byte(nil), b[offset:]...):
		case <-t.closed:
			return 0, os.ErrClosed
		}
	}
	return len(bufs), nil
}

func (t *memTUN) BatchSize() int { return 16 }
func (t *memTUN) Close() error   { t.once.Do(func() { close(t.closed) }); return nil }

// memBind is one end of an in-memory UDP path; sent datagrams can be
// recorded (for replay tests) through tap.
type memBind struct {
	addr   netip.AddrPort
	in     chan Datagram
	peer   *memBind
	closed chan struct{}
	once   sync.Once
	mu     sync.Mutex
	tap    [][]byte
	tapTo  []netip.AddrPort
}

func memBindPair(a, b netip.AddrPort) (*memBind, *memBind) {
	x := &memBind{addr: a, in: make(chan Datagram, 256), closed: make(chan struct{})}
	y := &memBind{addr: b, in: make(chan Datagram, 256), closed: make(chan struct{})}
	x.peer, y.peer = y, x
	return x, y
}

func (m *memBind) ReadBatch(ds []Datagram) (int, error) {
	var d Datagram
	select {
	case d = <-m.in:
	case <-m.closed:
		return 0, os.ErrClosed
	}
	n := 0
	for {
		ds[n].Buf = ds[n].Buf[:copy(ds[n].Buf, d.Buf)]
		ds[n].Addr = d.Addr
		n++
		if n == len(ds) {
			return n, nil
		}
		select {
		case d = <-m.in:
		default:
			return n, nil
		}
	}
}

func (m *memBind) WriteBatch(ds []Datagram) (int, error) {
	for _, d := range ds {
		c := append([]byte(nil), d.Buf...)
		m.mu.Lock()
		m.tap = append(m.tap, c)
		m.tapTo = append(m.tapTo, d.Addr)
		m.mu.Unlock()
		m.peer.inject(c, m.addr)
	}
	return len(ds), nil
}

func (m *memBind) inject(p []byte, from netip.AddrPort) {
	select {
	case m.in <- Datagram{Buf: p, Addr: from}:
	case <-m.closed:
	}
}

func (m *memBind) sentTo() []netip.AddrPort {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]netip.AddrPort(nil), m.tapTo...)
}

func (m *memBind) sent() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([][]byte(nil), m.tap...)
}

func (m *memBind) BatchSize() int { return 16 }
func (m *memBind) Close() error   { m.once.Do(func() { close(m.closed) }); return nil }
