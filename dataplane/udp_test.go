package dataplane

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"mip6/internal/netns"
)

func TestPackCoalesces(t *testing.T) {
	b := &UDPBind{batch: 8, gso: true}
	b.alloc()
	x := netip.MustParseAddrPort("[2001:db8::1]:4500")
	y := netip.MustParseAddrPort("[2001:db8::2]:4500")
	sizes := []int{1400, 1400, 1400, 500, 1400, 1400, 1400}
	to := []netip.AddrPort{x, x, x, x, x, y, y}
	ds := make([]Datagram, len(sizes))
	for i := range ds {
		ds[i] = Datagram{Buf: make([]byte, sizes[i]), Addr: to[i]}
	}
	m := b.pack(ds)
	if m != 3 || b.wsegs[0] != 4 || b.wsegs[1] != 1 || b.wsegs[2] != 2 {
		t.Fatalf("messages %d, segments %v", m, b.wsegs[:m])
	}
	if len(b.wmsgs[0].OOB) == 0 || len(b.wmsgs[1].OOB) != 0 || b.waddr[2].Port != 4500 {
		t.Fatalf("control messages / addresses wrong: %+v", b.wmsgs[:m])
	}
	b.gso = false
	if m := b.pack(ds); m != len(ds) {
		t.Fatalf("without GSO %d messages", m)
	}
}

func TestSegmentCmsgRoundTrip(t *testing.T) {
	oob := appendPktinfo(appendSegmentCmsg(make([]byte, 0, oobSpace), 1400), netip.MustParseAddr("2001:db8::7"))
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 2 || msgs[0].Header.Type != unix.UDP_SEGMENT ||
		binary.NativeEndian.Uint16(msgs[0].Data) != 1400 || msgs[1].Header.Type != unix.IPV6_PKTINFO ||
		netip.AddrFrom16([16]byte(msgs[1].Data[:16])).String() != "2001:db8::7" {
		t.Fatalf("%+v %v", msgs, err)
	}
	if n := testing.AllocsPerRun(100, func() { appendPktinfo(appendSegmentCmsg(oob[:0], 1400), netip.MustParseAddr("2001:db8::7")) }); n != 0 {
		t.Fatalf("%v allocations building control messages", n)
	}
	gro := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&gro[0]))
	h.Level, h.Type = unix.IPPROTO_UDP, unix.UDP_GRO
	h.SetLen(unix.CmsgLen(4))
	binary.NativeEndian.PutUint32(gro[unix.SizeofCmsghdr:], 1400)
	if got := groSize(gro); got != 1400 {
		t.Fatalf("groSize = %d", got)
	}
	if got := groSize(gro[:10]); got != 0 {
		t.Fatalf("truncated control message gave %d", got)
	}
}

// TestUDPBindOffloads sends batches that GSO coalesces and GRO may
// coalesce again over a namespace's loopback; every datagram must come
// out once, in order, intact.
func TestUDPBindOffloads(t *testing.T) {
	netns.Require(t)
	ns := netns.New(t, "udp")
	ns.AddAddr(t, "lo", "2001:db8:5::1/128")
	var tx, rx *UDPBind
	if err := ns.Do(func() (err error) {
		if rx, err = ListenUDP(netip.MustParseAddrPort("[2001:db8:5::1]:4500"), 0); err != nil {
			return err
		}
		tx, err = ListenUDP(netip.MustParseAddrPort("[2001:db8:5::1]:0"), 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	defer tx.Close()
	gso, gro := rx.Offloads()
	t.Logf("GSO %v GRO %v", gso, gro)
	const n = 300
	ds := make([]Datagram, n)
	for i := range ds {
		size := 1000
		if i%50 == 49 {
			size = 333 // ends a GSO run
		}
		ds[i] = Datagram{Buf: bytes.Repeat([]byte{byte(i)}, size), Addr: rx.LocalAddr()}
		binary.BigEndian.PutUint16(ds[i].Buf, uint16(i))
	}
	if sent, err := tx.WriteBatch(ds); err != nil || sent != n {
		t.Fatalf("sent %d: %v", sent, err)
	}
	got := make([]Datagram, 16)
	rx.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for next := 0; next < n; {
		for i := range got {
			got[i].Buf = make([]byte, 2048)
		}
		k, err := rx.ReadBatch(got)
		if err != nil {
			out, _ := ns.Exec("nstat", "-az")
			t.Fatalf("after %d datagrams: %v\n%s", next, err, out)
		}
		for _, d := range got[:k] {
			if !bytes.Equal(d.Buf, ds[next].Buf) || d.Addr != tx.LocalAddr() {
				t.Fatalf("datagram %d: %d bytes from %v, starts %x", next, len(d.Buf), d.Addr, d.Buf[:2])
			}
			next++
		}
	}
}

// TestUDPBindSource: datagrams leave from the source address they name
// (a mobile node's current care-of address), and runs with different
// sources are not coalesced together.
func TestUDPBindSource(t *testing.T) {
	netns.Require(t)
	ns := netns.New(t, "src")
	ns.AddAddr(t, "lo", "2001:db8:5::1/128")
	ns.AddAddr(t, "lo", "2001:db8:5::2/128")
	var tx, rx *UDPBind
	if err := ns.Do(func() (err error) {
		if rx, err = ListenUDP(netip.MustParseAddrPort("[2001:db8:5::1]:4500"), 0); err != nil {
			return err
		}
		tx, err = ListenUDP(netip.MustParseAddrPort("[::]:0"), 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	defer tx.Close()
	srcs := []string{"2001:db8:5::2", "2001:db8:5::2", "2001:db8:5::1", "2001:db8:5::1", "2001:db8:5::2"}
	ds := make([]Datagram, len(srcs))
	for i, s := range srcs {
		ds[i] = Datagram{Buf: bytes.Repeat([]byte{byte(i)}, 100), Addr: rx.LocalAddr(), Src: netip.MustParseAddr(s)}
	}
	if sent, err := tx.WriteBatch(ds); err != nil || sent != len(ds) {
		t.Fatalf("sent %d: %v", sent, err)
	}
	rx.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for next := 0; next < len(ds); {
		got := make([]Datagram, 8)
		for i := range got {
			got[i].Buf = make([]byte, 2048)
		}
		k, err := rx.ReadBatch(got)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range got[:k] {
			if d.Addr.Addr().String() != srcs[next] || d.Buf[0] != byte(next) {
				t.Fatalf("datagram %d from %v (first byte %d), want from %s", next, d.Addr, d.Buf[0], srcs[next])
			}
			next++
		}
	}
}

// TestUDPBindAllocations: batched I/O allocates per call at most a few
// objects (inside x/net), never per datagram.
func TestUDPBindAllocations(t *testing.T) {
	netns.Require(t)
	ns := netns.New(t, "alloc")
	ns.AddAddr(t, "lo", "2001:db8:5::1/128")
	var tx, rx *UDPBind
	if err := ns.Do(func() (err error) {
		if rx, err = ListenUDP(netip.MustParseAddrPort("[2001:db8:5::1]:4500"), 0); err != nil {
			return err
		}
		tx, err = ListenUDP(netip.MustParseAddrPort("[2001:db8:5::1]:0"), 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	defer tx.Close()
	const batch = 64
	ds := make([]Datagram, batch)
	for i := range ds {
		ds[i] = Datagram{Buf: make([]byte, 1400), Addr: rx.LocalAddr(), Src: netip.MustParseAddr("2001:db8:5::1")}
	}
	got, bufs := make([]Datagram, 128), make([][]byte, 128)
	for i := range bufs {
		bufs[i] = make([]byte, 2048)
	}
	rx.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := tx.WriteBatch(ds); err != nil {
			t.Fatal(err)
		}
		for n := 0; n < batch; {
			for i := range got {
				got[i].Buf = bufs[i]
			}
			k, err := rx.ReadBatch(got)
			if err != nil {
				t.Fatal(err)
			}
			n += k
		}
	})
	t.Logf("%v allocations per %d datagrams written and read", allocs, batch)
	if allocs >= batch/4 {
		t.Fatalf("%v allocations per batch of %d: allocating per datagram", allocs, batch)
	}
}
