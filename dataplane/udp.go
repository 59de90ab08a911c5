package dataplane

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// UDP offload limits: the kernel segments at most udpMaxSegments datagrams
// per send (UDP_SEGMENT), and a UDP payload over IPv6 is at most
// 65535 - 8 bytes.
const (
	udpMaxSegments = 64
	udpMaxPayload  = 65535 - 8
	groReads       = 4 // coalesced messages per recvmmsg when GRO is on
	groBufSize     = 65536
)

// UDPBind is a Bind on a UDP socket: recvmmsg/sendmmsg, and where the
// kernel has them UDP GSO (one send carries many equal-sized datagrams to
// one destination, from scatter-gather buffers, no copy) and UDP GRO (one
// receive returns many datagrams of one sender, split here).
type UDPBind struct {
	conn  *net.UDPConn
	pc    *ipv6.PacketConn
	batch int
	gso   bool
	gro   bool

	rmu     sync.Mutex
	rmsgs   []ipv6.Message
	groBufs [][]byte
	pend    []groPending // coalesced datagrams not yet handed out, oldest first

	wmu   sync.Mutex
	wmsgs []ipv6.Message
	wsegs []int // datagrams per message
	waddr []net.UDPAddr
	wip   [][16]byte
	woob  [][]byte
}

// groPending is the rest of a coalesced receive that did not fit the
// caller's batch.
type groPending struct {
	buf  []byte
	seg  int
	from netip.AddrPort
}

// socketBuffer is the send/receive buffer asked for: bursts of a batch
// per core must fit.
const socketBuffer = 8 << 20

// ListenUDP opens a Bind on addr (e.g. "[::]:4500"); call it in the right
// namespace. batch is the recvmmsg/sendmmsg size (0: 128). Offloads are
// used when the kernel accepts them.
func ListenUDP(addr netip.AddrPort, batch int) (*UDPBind, error) {
	if batch <= 0 {
		batch = 128
	}
	c, err := net.ListenUDP("udp6", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, fmt.Errorf("dataplane: listen %v: %w", addr, err)
	}
	b := &UDPBind{conn: c, pc: ipv6.NewPacketConn(c), batch: batch}
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { b.setOptions(int(fd)) })
	}
	b.alloc()
	return b, nil
}

// alloc sets up the per-batch message state.
func (b *UDPBind) alloc() {
	batch := b.batch
	b.rmsgs = make([]ipv6.Message, batch)
	for i := range b.rmsgs {
		b.rmsgs[i].Buffers = make([][]byte, 1)
		b.rmsgs[i].OOB = make([]byte, unix.CmsgSpace(4))
	}
	if b.gro {
		b.groBufs = make([][]byte, groReads)
		for i := range b.groBufs {
			b.groBufs[i] = make([]byte, groBufSize)
		}
	}
	b.wmsgs, b.wsegs = make([]ipv6.Message, batch), make([]int, batch)
	b.waddr, b.wip, b.woob = make([]net.UDPAddr, batch), make([][16]byte, batch), make([][]byte, batch)
	for i := range b.wmsgs {
		b.wmsgs[i].Buffers = make([][]byte, 0, udpMaxSegments)
		b.woob[i] = make([]byte, 0, oobSpace)
	}
}

// forceBuffers asks for socketBuffer both ways: the FORCE variants pass
// rmem_max/wmem_max when we are privileged, the plain ones up to them.
func forceBuffers(fd int) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, socketBuffer) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, socketBuffer)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, socketBuffer) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, socketBuffer)
	}
}

func (b *UDPBind) setOptions(fd int) {
	forceBuffers(fd)
	if _, err := unix.GetsockoptInt(fd, unix.IPPROTO_UDP, unix.UDP_SEGMENT); err == nil {
		b.gso = true
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_UDP, unix.UDP_GRO, 1); err == nil {
		b.gro = true
	}
}

// Offloads reports whether UDP GSO and GRO are in use.
func (b *UDPBind) Offloads() (gso, gro bool) { return b.gso, b.gro }

// LocalAddr is the socket's address.
func (b *UDPBind) LocalAddr() netip.AddrPort {
	return b.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// BatchSize is the largest batch.
func (b *UDPBind) BatchSize() int { return b.batch }

// ReadBatch reads datagrams into ds (their Bufs are the buffers to fill).
// It blocks until at least one datagram is there.
func (b *UDPBind) ReadBatch(ds []Datagram) (int, error) {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	if !b.gro {
		return b.readPlain(ds)
	}
	n := b.drain(ds)
	if n > 0 {
		return n, nil
	}
	k := min(groReads, len(b.groBufs))
	for i := 0; i < k; i++ {
		b.rmsgs[i].Buffers[0] = b.groBufs[i]
		b.rmsgs[i].OOB = b.rmsgs[i].OOB[:cap(b.rmsgs[i].OOB)]
	}
	got, err := b.pc.ReadBatch(b.rmsgs[:k], 0)
	if err != nil {
		return 0, err
	}
	for i := 0; i < got; i++ {
		m := &b.rmsgs[i]
		seg := groSize(m.OOB[:m.NN])
		if seg <= 0 || seg > m.N {
			seg = m.N
		}
		b.pend = append(b.pend, groPending{buf: b.groBufs[i][:m.N], seg: seg, from: addrOf(m.Addr)})
	}
	return b.drain(ds), nil
}

// drain copies pending coalesced datagrams into ds. The GRO buffers are
// reused only once every pending datagram has been handed out.
func (b *UDPBind) drain(ds []Datagram) int {
	n := 0
	for n < len(ds) && len(b.pend) > 0 {
		p := &b.pend[0]
		l := min(p.seg, len(p.buf))
		ds[n].Buf = ds[n].Buf[:copy(ds[n].Buf[:cap(ds[n].Buf)], p.buf[:l])]
		ds[n].Addr = p.from
		p.buf = p.buf[l:]
		n++
		if len(p.buf) == 0 {
			b.pend = b.pend[:copy(b.pend, b.pend[1:])]
		}
	}
	return n
}

func (b *UDPBind) readPlain(ds []Datagram) (int, error) {
	n := min(len(ds), b.batch)
	for i := 0; i < n; i++ {
		b.rmsgs[i].Buffers[0] = ds[i].Buf
		b.rmsgs[i].OOB = b.rmsgs[i].OOB[:0]
	}
	got, err := b.pc.ReadBatch(b.rmsgs[:n], 0)
	if err != nil {
		return 0, err
	}
	for i := 0; i < got; i++ {
		ds[i].Buf = ds[i].Buf[:b.rmsgs[i].N]
		ds[i].Addr = addrOf(b.rmsgs[i].Addr)
	}
	return got, nil
}

func addrOf(a net.Addr) netip.AddrPort {
	if ua, ok := a.(*net.UDPAddr); ok {
		return ua.AddrPort()
	}
	return netip.AddrPort{}
}

// groSize returns the segment size of a UDP_GRO control message, 0 if none.
func groSize(oob []byte) int {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return 0
		}
		if h.Level == unix.IPPROTO_UDP && h.Type == unix.UDP_GRO && l >= unix.CmsgLen(4) {
			return int(int32(binary.NativeEndian.Uint32(oob[unix.SizeofCmsghdr:])))
		}
		oob = oob[min(unix.CmsgSpace(l-unix.SizeofCmsghdr), len(oob)):]
	}
	return 0
}

// WriteBatch sends the datagrams in order; it returns how many were sent.
func (b *UDPBind) WriteBatch(ds []Datagram) (int, error) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	sent := 0
	for sent < len(ds) {
		m := b.pack(ds[sent:])
		w, err := b.pc.WriteBatch(b.wmsgs[:m], 0)
		if err != nil && b.gso && errors.Is(err, unix.EIO) {
			b.gso = false // the path cannot segment: send datagram by datagram
			continue
		}
		for i := 0; i < w; i++ {
			sent += b.wsegs[i]
		}
		if err != nil {
			return sent, err
		}
		if w == 0 {
			return sent, errors.New("dataplane: sendmmsg sent nothing")
		}
	}
	return sent, nil
}

// pack fills wmsgs from ds, coalescing runs of datagrams to one address
// whose sizes are equal (the last may be shorter) when GSO is on. It
// returns the message count.
func (b *UDPBind) pack(ds []Datagram) int {
	m, i := 0, 0
	for i < len(ds) && m < len(b.wmsgs) {
		d := &ds[i]
		msg := &b.wmsgs[m]
		msg.Buffers = append(msg.Buffers[:0], d.Buf)
		b.wip[m] = d.Addr.Addr().As16()
		b.waddr[m] = net.UDPAddr{IP: b.wip[m][:], Port: int(d.Addr.Port())}
		msg.Addr = &b.waddr[m]
		seg, total := len(d.Buf), len(d.Buf)
		i++
		for b.gso && i < len(ds) && len(msg.Buffers) < udpMaxSegments {
			n := &ds[i]
			if n.Addr != d.Addr || n.Src != d.Src || len(n.Buf) > seg || total+len(n.Buf) > udpMaxPayload {
				break
			}
			msg.Buffers = append(msg.Buffers, n.Buf)
			total += len(n.Buf)
			i++
			if len(n.Buf) < seg {
				break // a shorter datagram ends the run
			}
		}
		oob := b.woob[m][:0]
		if len(msg.Buffers) > 1 {
			oob = appendSegmentCmsg(oob, seg)
		}
		msg.OOB = appendPktinfo(oob, d.Src)
		b.wsegs[m] = len(msg.Buffers)
		m++
	}
	return m
}

// oobSpace holds a UDP_SEGMENT and an IPV6_PKTINFO control message.
var oobSpace = unix.CmsgSpace(2) + unix.CmsgSpace(unix.SizeofInet6Pktinfo)

// appendCmsg appends an empty control message and returns it with its data.
func appendCmsg(oob []byte, level, typ int32, n int) ([]byte, []byte) {
	at := len(oob)
	oob = append(oob, make([]byte, unix.CmsgSpace(n))...) // within oobSpace: no allocation
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[at]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(n))
	return oob, oob[at+unix.SizeofCmsghdr : at+unix.CmsgLen(n)]
}

func appendSegmentCmsg(oob []byte, seg int) []byte {
	oob, data := appendCmsg(oob, unix.IPPROTO_UDP, unix.UDP_SEGMENT, 2)
	binary.NativeEndian.PutUint16(data, uint16(seg))
	return oob
}

// appendPktinfo asks for source address src (RFC 3542 §6.1), if valid.
func appendPktinfo(oob []byte, src netip.Addr) []byte {
	if !src.IsValid() || src.IsUnspecified() {
		return oob
	}
	oob, data := appendCmsg(oob, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo)
	a := src.As16()
	copy(data, a[:]) // ifindex stays 0
	return oob
}

// WriteTo sends one datagram, e.g. an IKE message with its non-ESP marker.
func (b *UDPBind) WriteTo(p []byte, to netip.AddrPort) error {
	_, err := b.conn.WriteToUDPAddrPort(p, to)
	return err
}

// WriteToUDPAddrPort is WriteTo in net.UDPConn's form, so that the bind
// can be an IKE engine's socket on port 4500.
func (b *UDPBind) WriteToUDPAddrPort(p []byte, to netip.AddrPort) (int, error) {
	return b.conn.WriteToUDPAddrPort(p, to)
}

// Close closes the socket.
func (b *UDPBind) Close() error { return b.conn.Close() }

// SetReadDeadline sets the socket's read deadline: a reader other than a
// plane (a mobile node's IKE before its plane starts) stops with it.
func (b *UDPBind) SetReadDeadline(t time.Time) error { return b.conn.SetReadDeadline(t) }
