package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/ipv6"
)

// ESPBind is a Bind on a raw IPv6 socket for IP protocol 50: ESP without
// UDP encapsulation (RFC 4303 directly over IPv6), the optional carrier.
// Datagram addresses carry port 0. There are no NAT keepalives or IKE
// messages on this carrier; IKE keeps its own socket.
type ESPBind struct {
	conn  *net.IPConn
	pc    *ipv6.PacketConn
	batch int
	rmu   sync.Mutex
	rmsgs []ipv6.Message
	wmu   sync.Mutex
	wmsgs []ipv6.Message
	waddr []net.IPAddr
	wip   [][16]byte
	woob  [][]byte
}

// ProtoESP is ESP's IP protocol number.
const ProtoESP = 50

// ListenESP opens a raw ESP socket bound to local (the unspecified address
// for any); call it in the right namespace.
func ListenESP(local netip.Addr, batch int) (*ESPBind, error) {
	if batch <= 0 {
		batch = 128
	}
	c, err := net.ListenIP(fmt.Sprintf("ip6:%d", ProtoESP), &net.IPAddr{IP: local.AsSlice()})
	if err != nil {
		return nil, fmt.Errorf("dataplane: raw ESP socket on %v: %w", local, err)
	}
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { forceBuffers(int(fd)) })
	}
	b := &ESPBind{conn: c, pc: ipv6.NewPacketConn(c), batch: batch, rmsgs: make([]ipv6.Message, batch),
		wmsgs: make([]ipv6.Message, batch), waddr: make([]net.IPAddr, batch), wip: make([][16]byte, batch),
		woob: make([][]byte, batch)}
	for i := range b.rmsgs {
		b.rmsgs[i].Buffers = make([][]byte, 1)
		b.wmsgs[i].Buffers = make([][]byte, 1)
		b.woob[i] = make([]byte, 0, oobSpace)
	}
	return b, nil
}

// BatchSize is the largest batch.
func (b *ESPBind) BatchSize() int { return b.batch }

// ReadBatch reads ESP packets (without their IPv6 header) into ds.
func (b *ESPBind) ReadBatch(ds []Datagram) (int, error) {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	n := min(len(ds), b.batch)
	for i := 0; i < n; i++ {
		b.rmsgs[i].Buffers[0] = ds[i].Buf
	}
	got, err := b.pc.ReadBatch(b.rmsgs[:n], 0)
	if err != nil {
		return 0, err
	}
	for i := 0; i < got; i++ {
		ds[i].Buf = ds[i].Buf[:b.rmsgs[i].N]
		ds[i].Addr = netip.AddrPort{}
		if ia, ok := b.rmsgs[i].Addr.(*net.IPAddr); ok {
			a, _ := netip.AddrFromSlice(ia.IP)
			ds[i].Addr = netip.AddrPortFrom(a, 0)
		}
	}
	return got, nil
}

// WriteBatch sends ESP packets to their addresses.
func (b *ESPBind) WriteBatch(ds []Datagram) (int, error) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	sent := 0
	for sent < len(ds) {
		n := min(len(ds)-sent, b.batch)
		for i := 0; i < n; i++ {
			d := &ds[sent+i]
			b.wip[i] = d.Addr.Addr().As16()
			b.waddr[i] = net.IPAddr{IP: b.wip[i][:]}
			b.wmsgs[i].Buffers[0] = d.Buf
			b.wmsgs[i].Addr = &b.waddr[i]
			b.wmsgs[i].OOB = appendPktinfo(b.woob[i][:0], d.Src)
		}
		w, err := b.pc.WriteBatch(b.wmsgs[:n], 0)
		sent += w
		if err != nil {
			return sent, err
		}
		if w == 0 {
			return sent, errors.New("dataplane: sendmmsg sent nothing")
		}
	}
	return sent, nil
}

// Close closes the socket.
func (b *ESPBind) Close() error { return b.conn.Close() }
