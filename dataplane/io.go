package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/tun"
)

// TUN is the tunnel device. golang.zx2c4.com/wireguard/tun.Device satisfies
// it: Read may split one offloaded TCP super-packet into many packets and
// Write may coalesce many into one (GSO/GRO), which is most of the speed.
type TUN interface {
	// Read fills bufs[i][offset:offset+sizes[i]] and returns the count.
	Read(bufs [][]byte, sizes []int, offset int) (int, error)
	// Write writes bufs[i][offset:]; offset leaves room for a virtio-net
	// header, and spare capacity behind a packet lets GRO coalesce into it.
	Write(bufs [][]byte, offset int) (int, error)
	BatchSize() int
	Close() error
}

// CreateTUN creates a TUN device with offloads where the kernel has them
// (call it inside the right namespace, e.g. from netns.NS.Do).
func CreateTUN(name string, mtu int) (TUN, error) {
	d, err := tun.CreateTUN(name, mtu)
	if err != nil {
		return nil, fmt.Errorf("dataplane: create TUN %s: %w", name, err)
	}
	return d, nil
}

// Datagram is one UDP datagram of a batch: on read the bind trims Buf to
// the datagram and sets Addr to its source; on write Buf is sent to Addr.
type Datagram struct {
	Buf  []byte
	Addr netip.AddrPort
}

// Bind is the UDP (RFC 3948) side.
type Bind interface {
	ReadBatch(ds []Datagram) (int, error)
	WriteBatch(ds []Datagram) (int, error)
	BatchSize() int
	Close() error
}

// UDPBind is a Bind on a UDP socket using recvmmsg/sendmmsg.
type UDPBind struct {
	conn  *net.UDPConn
	pc    *ipv6.PacketConn
	batch int

	rmsgs []ipv6.Message
	wmu   sync.Mutex
	wmsgs []ipv6.Message
	waddr []net.UDPAddr
	wip   [][16]byte
}

// socketBuffer is the send/receive buffer asked for: bursts of a batch
// per core must fit.
const socketBuffer = 8 << 20

// ListenUDP opens a Bind on addr (e.g. "[::]:4500"); call it in the right
// namespace. batch is the recvmmsg/sendmmsg size (0: 64).
func ListenUDP(addr netip.AddrPort, batch int) (*UDPBind, error) {
	if batch <= 0 {
		batch = 64
	}
	c, err := net.ListenUDP("udp6", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, fmt.Errorf("dataplane: listen %v: %w", addr, err)
	}
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			// FORCE variants pass rmem_max when we are privileged.
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, socketBuffer)
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, socketBuffer)
		})
	}
	b := &UDPBind{conn: c, pc: ipv6.NewPacketConn(c), batch: batch,
		rmsgs: make([]ipv6.Message, batch), wmsgs: make([]ipv6.Message, batch),
		waddr: make([]net.UDPAddr, batch), wip: make([][16]byte, batch)}
	for i := range b.rmsgs {
		b.rmsgs[i].Buffers = make([][]byte, 1)
		b.wmsgs[i].Buffers = make([][]byte, 1)
	}
	return b, nil
}

// LocalAddr is the socket's address.
func (b *UDPBind) LocalAddr() netip.AddrPort {
	return b.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// BatchSize is the largest batch.
func (b *UDPBind) BatchSize() int { return b.batch }

// ReadBatch reads up to len(ds) datagrams (one reader at a time).
func (b *UDPBind) ReadBatch(ds []Datagram) (int, error) {
	n := min(len(ds), b.batch)
	for i := 0; i < n; i++ {
		b.rmsgs[i].Buffers[0] = ds[i].Buf
		b.rmsgs[i].N = 0
	}
	got, err := b.pc.ReadBatch(b.rmsgs[:n], 0)
	if err != nil {
		return 0, err
	}
	for i := 0; i < got; i++ {
		m := &b.rmsgs[i]
		ds[i].Buf = ds[i].Buf[:m.N]
		if ua, ok := m.Addr.(*net.UDPAddr); ok {
			ds[i].Addr = ua.AddrPort()
		} else {
			ds[i].Addr = netip.AddrPort{}
		}
	}
	return got, nil
}

// WriteBatch sends the datagrams; it returns how many were sent.
func (b *UDPBind) WriteBatch(ds []Datagram) (int, error) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	sent := 0
	for sent < len(ds) {
		n := min(len(ds)-sent, b.batch)
		for i := 0; i < n; i++ {
			d := &ds[sent+i]
			b.wip[i] = d.Addr.Addr().As16()
			b.waddr[i] = net.UDPAddr{IP: b.wip[i][:], Port: int(d.Addr.Port())}
			b.wmsgs[i].Buffers[0] = d.Buf
			b.wmsgs[i].Addr = &b.waddr[i]
		}
		w, err := b.pc.WriteBatch(b.wmsgs[:n], 0)
		if err != nil {
			return sent, err
		}
		if w == 0 {
			return sent, errors.New("dataplane: sendmmsg sent nothing")
		}
		sent += w
	}
	return sent, nil
}

// WriteTo sends one datagram, e.g. an IKE message with its non-ESP marker.
func (b *UDPBind) WriteTo(p []byte, to netip.AddrPort) error {
	_, err := b.conn.WriteToUDPAddrPort(p, to)
	return err
}

// Close closes the socket.
func (b *UDPBind) Close() error { return b.conn.Close() }
