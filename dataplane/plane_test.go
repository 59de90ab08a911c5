package dataplane

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"mip6/esp"
	"mip6/ipsec"
	"mip6/wire/ipv6"
)

var (
	outerA = netip.MustParseAddrPort("[2001:db8:1::1]:4500")
	outerB = netip.MustParseAddrPort("[2001:db8:1::2]:4500")
	hoaA   = netip.MustParseAddr("2001:db8:a::1")
	netB   = netip.MustParsePrefix("2001:db8:b::/64")
	hostB  = netip.MustParseAddr("2001:db8:b::7")
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 20) }

type end struct {
	plane *Plane
	tun   *memTUN
	bind  *memBind
	tn    *Tunnel
}

// pair builds two planes joined by an in-memory path with one tunnel
// between hoaA and netB.
func pair(t *testing.T) (a, b end) {
	t.Helper()
	ba, bb := memBindPair(outerA, outerB)
	a = end{tun: newMemTUN(), bind: ba}
	b = end{tun: newMemTUN(), bind: bb}
	for _, e := range []*end{&a, &b} {
		var err error
		e.plane, err = New(Config{TUN: e.tun, Bind: e.bind, SPD: ipsec.NewSPD(), SAD: ipsec.NewSAD(), Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.plane.Close() })
	}
	ta, tb := tunnelPair()
	var err error
	if a.tn, err = a.plane.InstallTunnel(ta); err != nil {
		t.Fatal(err)
	}
	if b.tn, err = b.plane.InstallTunnel(tb); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// tunnelPair is one tunnel (AES-GCM-128, ESN) between hoaA and netB as the
// two ends see it.
func tunnelPair() (a, b TunnelSA) {
	a = TunnelSA{Name: "mn", Transform: esp.AESGCM128, ESN: true, SPIOut: 0x1001, SPIIn: 0x2002,
		KeyOut: key(1), KeyIn: key(2), Local: outerA, Remote: outerB, LocalTS: netip.PrefixFrom(hoaA, 128), RemoteTS: netB}
	b = TunnelSA{Name: "mn", Transform: esp.AESGCM128, ESN: true, SPIOut: 0x2002, SPIIn: 0x1001,
		KeyOut: key(2), KeyIn: key(1), Local: outerB, Remote: outerA, LocalTS: netB, RemoteTS: netip.PrefixFrom(hoaA, 128)}
	return a, b
}

// udpPacket builds an IPv6/UDP packet with a sequence number payload.
func udpPacket(src, dst netip.Addr, seq int) []byte {
	payload := make([]byte, 8+100)
	binary.BigEndian.PutUint16(payload, 5000)
	binary.BigEndian.PutUint16(payload[2:], 6000)
	binary.BigEndian.PutUint16(payload[4:], uint16(len(payload)))
	binary.BigEndian.PutUint32(payload[8:], uint32(seq))
	h := ipv6.Packet{Header: ipv6.Header{Src: src, Dst: dst, HopLimit: 64}, Proto: ipsec.ProtoUDP}
	return h.Append(nil, payload)
}

func recv(t *testing.T, c chan []byte) []byte {
	t.Helper()
	select {
	case p := <-c:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no packet out of the tunnel")
		return nil
	}
}

func TestTunnelBothWaysInOrder(t *testing.T) {
	a, b := pair(t)
	const n = 500
	go func() {
		for i := range n {
			a.tun.in <- udpPacket(hoaA, hostB, i)
		}
	}()
	for i := range n {
		p := recv(t, b.tun.out)
		if got := binary.BigEndian.Uint32(p[ipv6.HeaderLen+8:]); got != uint32(i) {
			t.Fatalf("packet %d arrived as %d: order lost", i, got)
		}
	}
	b.tun.in <- udpPacket(hostB, hoaA, 42)
	if p := recv(t, a.tun.out); !bytes.Equal(p, udpPacket(hostB, hoaA, 42)) {
		t.Fatalf("reverse packet changed: %x", p)
	}
	if s := b.plane.Stats(); s.Opened != n || s.TUNWritten != n {
		t.Errorf("B stats: %v", s)
	}
}

func TestDropsCounted(t *testing.T) {
	a, b := pair(t)
	a.tun.in <- udpPacket(hoaA, hostB, 1)
	recv(t, b.tun.out)
	sent := a.bind.sent()
	if len(sent) != 1 {
		t.Fatalf("%d datagrams sent", len(sent))
	}
	// Replay the datagram, tamper with a copy, use an unknown SPI.
	b.bind.inject(sent[0], outerA)
	bad := append([]byte(nil), sent[0]...)
	bad[7] += 5 // a fresh sequence number, so the ICV check is reached
	b.bind.inject(bad, outerA)
	unknown := append([]byte(nil), sent[0]...)
	binary.BigEndian.PutUint32(unknown, 0x9999)
	b.bind.inject(unknown, outerA)
	b.bind.inject([]byte{0xff}, outerA)
	b.bind.inject([]byte{0, 0, 0, 0, 1, 2, 3}, outerA)
	b.bind.inject([]byte{1, 2, 3}, outerA)
	// Traffic no policy covers, or covered by a tunnel's reverse direction.
	a.tun.in <- udpPacket(hoaA, netip.MustParseAddr("2001:db8:c::1"), 2)
	a.tun.in <- []byte{0x45, 0, 0}
	want := map[Drop]uint64{DropReplay: 1, DropBadICV: 1, DropUnknownSPI: 1, DropMalformed: 1}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := b.plane.Stats()
		ok := s.NATKeepalives == 1 && s.IKE == 1
		for d, n := range want {
			ok = ok && s.Drop(d) == n
		}
		sa := a.plane.Stats()
		ok = ok && sa.Drop(DropNoPolicy) == 1 && sa.Drop(DropMalformed) == 1
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("counters: B %v; A %v", s, sa)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case p := <-b.tun.out:
		t.Fatalf("a dropped packet reached the TUN: %x", p)
	default:
	}
}

func TestMoveRemote(t *testing.T) {
	a, b := pair(t)
	a.tun.in <- udpPacket(hoaA, hostB, 1)
	recv(t, b.tun.out)
	moved := netip.MustParseAddrPort("[2001:db8:2::9]:4500")
	a.tn.MoveRemote(outerA, moved)
	a.tun.in <- udpPacket(hoaA, hostB, 2)
	// The memBind delivers to B whatever the address; check the addresses used.
	recv(t, b.tun.out)
	if got := a.bind.sentTo(); len(got) != 2 || got[0] != outerB || got[1] != moved {
		t.Fatalf("datagrams went to %v, want %v then %v", got, outerB, moved)
	}
}

// TestSelectorEnforced: an authentic packet whose inner source the SA was
// not negotiated for is dropped (RFC 4301 §5.2).
func TestSelectorEnforced(t *testing.T) {
	a, b := pair(t)
	// Widen A's policy so that A seals a packet B's SA does not allow.
	a.plane.spd.Add(ipsec.Entry{Priority: 1, Selectors: ipsec.Selectors{Local: ipsec.Prefix(netip.MustParsePrefix("2001:db8:66::/64")), Remote: ipsec.Prefix(netB)},
		Action: ipsec.Protect, Mode: ipsec.Tunnel})
	a.plane.sad.Add(&ipsec.SAEntry{SA: a.tn.Out.SA, Mode: ipsec.Tunnel, PolicyID: a.plane.spd.Entries()[0].ID})
	a.tun.in <- udpPacket(netip.MustParseAddr("2001:db8:66::1"), hostB, 1)
	deadline := time.Now().Add(5 * time.Second)
	for b.plane.Stats().Drop(DropSelector) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("B: %v", b.plane.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAcquire: traffic for a PROTECT entry without an SA is dropped,
// counted, and asks for an SA once (not once per packet).
func TestAcquire(t *testing.T) {
	ba, _ := memBindPair(outerA, outerB)
	tun := newMemTUN()
	acq := make(chan *ipsec.Entry, 10)
	spd := ipsec.NewSPD()
	ids := spd.Add(ipsec.Entry{Name: "mn", Priority: ipsec.PriorityPayload, Action: ipsec.Protect, Mode: ipsec.Tunnel,
		Selectors: ipsec.Selectors{Local: ipsec.Addr(hoaA), Remote: ipsec.Prefix(netB)}})
	p, err := New(Config{TUN: tun, Bind: ba, SPD: spd, SAD: ipsec.NewSAD(), Acquire: func(e *ipsec.Entry) { acq <- e }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 5 {
		tun.in <- udpPacket(hoaA, hostB, i)
	}
	select {
	case e := <-acq:
		if e.ID != ids[0] || e.Name != "mn" {
			t.Fatalf("acquire for %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no acquire")
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Stats().Drop(DropNoSA) != 5 {
		if time.Now().After(deadline) {
			t.Fatalf("%v", p.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(acq) != 0 {
		t.Fatalf("%d more acquires for one entry within a second", len(acq))
	}
}

// failingTUN fails reads a few times before behaving: the plane must carry
// on, counting the failures.
type failingTUN struct {
	*memTUN
	mu    sync.Mutex
	fails int
}

func (f *failingTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return 0, errors.New("transient")
	}
	f.mu.Unlock()
	return f.memTUN.Read(bufs, sizes, offset)
}

func TestReadErrorsAreSurvived(t *testing.T) {
	ba, bb := memBindPair(outerA, outerB)
	ft := &failingTUN{memTUN: newMemTUN(), fails: 3}
	a, err := New(Config{TUN: ft, Bind: ba, SPD: ipsec.NewSPD(), SAD: ipsec.NewSAD()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer bb.Close()
	ta, _ := tunnelPair()
	if _, err := a.InstallTunnel(ta); err != nil {
		t.Fatal(err)
	}
	ft.in <- udpPacket(hoaA, hostB, 1)
	select {
	case <-bb.in:
	case <-time.After(5 * time.Second):
		t.Fatalf("nothing sent after read errors: %v (%v)", a.Stats(), a.Err())
	}
	if s := a.Stats(); s.ReadErrors != 3 || a.Err() == nil {
		t.Fatalf("%v, err %v", s, a.Err())
	}
}

// A transport-mode SA (the RFC 3776 BU/BA, the mobility layer's) is never
// opened by the plane: a copy of its packet arriving here must not spend
// its replay window.
func TestTransportSANotOpened(t *testing.T) {
	_, b := pair(t)
	sa, err := esp.New(esp.Config{SPI: 0x3003, Direction: esp.Inbound, Transform: esp.AESGCM128, Key: key(3),
		Endpoints: esp.Endpoints{Local: outerB, Remote: outerA, Carrier: esp.CarrierUDP}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.plane.sad.Add(&ipsec.SAEntry{SA: sa, Mode: ipsec.Transport}); err != nil {
		t.Fatal(err)
	}
	out, err := esp.New(esp.Config{SPI: 0x3003, Direction: esp.Outbound, Transform: esp.AESGCM128, Key: key(3),
		Endpoints: esp.Endpoints{Local: outerA, Remote: outerB, Carrier: esp.CarrierUDP}})
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := out.Seal(nil, []byte("a Binding Update"), 135)
	if err != nil {
		t.Fatal(err)
	}
	b.bind.inject(pkt, outerA)
	deadline := time.Now().Add(5 * time.Second)
	for b.plane.Stats().Drop(DropNotTunnel) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("counters: %v", b.plane.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The mobility layer still opens it: the window was not touched.
	if _, nh, err := sa.Open(pkt); err != nil || nh != 135 {
		t.Fatalf("Open after the plane saw it: next header %d, %v", nh, err)
	}
}
