package dataplane

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"mip6/esp"
	"mip6/ipsec"
)

var (
	rawB = netip.MustParseAddrPort("[2001:db8:1::2]:0")
	rawC = netip.MustParseAddrPort("[2001:db8:1::3]:0")
	hoaC = netip.MustParseAddr("2001:db8:a::3")
)

// hub is a home agent's plane with both carriers: a UDP bind to mobile
// node a (ESP in UDP) and a raw ESP bind to mobile node c (raw ESP).
type hub struct {
	h, a, c       end
	hRaw, cRaw    *memBind
	transport     chan []byte
	transportFrom chan netip.Addr
	tunA, tunC    *Tunnel
}

func newHub(t *testing.T) *hub {
	t.Helper()
	x := &hub{transport: make(chan []byte, 4), transportFrom: make(chan netip.Addr, 4)}
	ua, uh := memBindPair(outerA, outerB)
	x.hRaw, x.cRaw = memBindPair(rawB, rawC)
	x.a = end{tun: newMemTUN(), bind: ua}
	x.h = end{tun: newMemTUN(), bind: uh}
	x.c = end{tun: newMemTUN(), bind: x.cRaw}
	mk := func(e *end, c Config) {
		c.TUN, c.SPD, c.SAD, c.Workers = e.tun, ipsec.NewSPD(), ipsec.NewSAD(), 2
		var err error
		if e.plane, err = New(c); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.plane.Close() })
	}
	mk(&x.a, Config{Bind: ua})
	mk(&x.c, Config{Bind: x.cRaw, Carrier: esp.CarrierESP})
	mk(&x.h, Config{Bind: uh, RawESP: x.hRaw, Transport: func(p []byte, from netip.Addr) {
		x.transport <- append([]byte(nil), p...)
		x.transportFrom <- from
	}})
	ta, th := tunnelPair()
	install := func(e *end, s TunnelSA) *Tunnel {
		tn, err := e.plane.InstallTunnel(s)
		if err != nil {
			t.Fatal(err)
		}
		return tn
	}
	x.a.tn, x.tunA = install(&x.a, ta), install(&x.h, th)
	x.c.tn = install(&x.c, TunnelSA{Name: "c", Transform: esp.AESGCM128, SPIOut: 0x3003, SPIIn: 0x4004, KeyOut: key(3), KeyIn: key(4),
		Local: rawC, Remote: rawB, Carrier: esp.CarrierESP, LocalTS: netip.PrefixFrom(hoaC, 128), RemoteTS: netB})
	x.tunC = install(&x.h, TunnelSA{Name: "c", Transform: esp.AESGCM128, SPIOut: 0x4004, SPIIn: 0x3003, KeyOut: key(4), KeyIn: key(3),
		Local: rawB, Remote: rawC, Carrier: esp.CarrierESP, LocalTS: netB, RemoteTS: netip.PrefixFrom(hoaC, 128)})
	return x
}

// One plane carries both carriers at once, both ways; each SA's packets
// leave on the bind of its carrier.
func TestPlaneBothCarriers(t *testing.T) {
	x := newHub(t)
	const n = 50
	for i := range n {
		x.h.tun.in <- udpPacket(hostB, hoaA, i)
		x.h.tun.in <- udpPacket(hostB, hoaC, i)
	}
	for i := range n {
		if p := recv(t, x.a.tun.out); !bytes.Equal(p, udpPacket(hostB, hoaA, i)) {
			t.Fatalf("UDP mobile node: packet %d: %x", i, p)
		}
		if p := recv(t, x.c.tun.out); !bytes.Equal(p, udpPacket(hostB, hoaC, i)) {
			t.Fatalf("raw mobile node: packet %d: %x", i, p)
		}
	}
	x.a.tun.in <- udpPacket(hoaA, hostB, 1)
	x.c.tun.in <- udpPacket(hoaC, hostB, 2)
	got := map[string]bool{}
	for range 2 {
		got[string(recv(t, x.h.tun.out))] = true
	}
	if !got[string(udpPacket(hoaA, hostB, 1))] || !got[string(udpPacket(hoaC, hostB, 2))] {
		t.Fatal("the hub did not get both mobile nodes' packets")
	}
	s := x.h.plane.Stats()
	if s.UDPWritten != n || s.ESPWritten != n || s.UDPRead != 1 || s.ESPRead != 1 || s.TUNWritten != 2 {
		t.Fatalf("hub counters: %v", s)
	}
	for _, to := range x.hRaw.sentTo() {
		if to != rawC {
			t.Fatalf("raw ESP sent to %v", to)
		}
	}
	for _, to := range x.h.bind.sentTo() {
		if to != outerA {
			t.Fatalf("ESP in UDP sent to %v", to)
		}
	}
	// Send picks the bind by the SA's carrier too.
	if err := x.h.plane.Send(x.tunC.Out, udpPacket(hostB, hoaC, 99)); err != nil {
		t.Fatal(err)
	}
	if p := recv(t, x.c.tun.out); !bytes.Equal(p, udpPacket(hostB, hoaC, 99)) {
		t.Fatalf("Send over raw ESP: %x", p)
	}
	if s := x.h.plane.Stats(); s.ESPWritten != n+1 || s.UDPWritten != n {
		t.Fatalf("after Send: %v", s)
	}
}

// A plane without a bind for an SA's carrier drops its packets.
func TestPlaneCarrierWithoutBind(t *testing.T) {
	x := newHub(t)
	// a has only UDP: an SA on the raw carrier cannot leave.
	tn, err := x.a.plane.InstallTunnel(TunnelSA{Name: "c", Transform: esp.AESGCM128, SPIOut: 0x5005, SPIIn: 0x6006,
		KeyOut: key(5), KeyIn: key(6), Local: rawB, Remote: rawC, Carrier: esp.CarrierESP,
		LocalTS: netip.PrefixFrom(hoaA, 128), RemoteTS: netip.PrefixFrom(hoaC, 128)})
	if err != nil {
		t.Fatal(err)
	}
	x.a.tun.in <- udpPacket(hoaA, hoaC, 1)
	waitFor(t, func() bool { return x.a.plane.Stats().Drop(DropUnsupported) == 1 }, x.a.plane)
	if err := x.a.plane.Send(x.a.tn.Out, udpPacket(hoaA, hostB, 1)); err != nil {
		t.Fatalf("UDP SA: %v", err)
	}
	if err := x.a.plane.Send(tn.Out, udpPacket(hoaA, hoaC, 2)); err == nil {
		t.Fatal("Send on a carrier without a bind succeeded")
	}
}

// Transport-mode ESP (the RFC 3776 BU/BA) on the raw carrier goes whole to
// the Transport hook, unopened; in UDP it is dropped.
func TestPlaneTransportHook(t *testing.T) {
	x := newHub(t)
	sa, err := esp.New(esp.Config{SPI: 0x7007, Direction: esp.Inbound, Transform: esp.AESGCM128, Key: key(7),
		Endpoints: esp.Endpoints{Local: rawB, Remote: rawC, Carrier: esp.CarrierESP}})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.h.plane.sad.Add(&ipsec.SAEntry{SA: sa, Mode: ipsec.Transport}); err != nil {
		t.Fatal(err)
	}
	out, err := esp.New(esp.Config{SPI: 0x7007, Direction: esp.Outbound, Transform: esp.AESGCM128, Key: key(7),
		Endpoints: esp.Endpoints{Local: rawC, Remote: rawB, Carrier: esp.CarrierESP}})
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := out.Seal(nil, []byte("a Binding Update"), 135)
	if err != nil {
		t.Fatal(err)
	}
	x.hRaw.inject(pkt, rawC)
	select {
	case got := <-x.transport:
		if !bytes.Equal(got, pkt) {
			t.Fatalf("hook got %x, want %x", got, pkt)
		}
		if from := <-x.transportFrom; from != rawC.Addr() {
			t.Fatalf("hook: from %v", from)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no transport packet: %v", x.h.plane.Stats())
	}
	if _, nh, err := sa.Open(pkt); err != nil || nh != 135 {
		t.Fatalf("Open after the plane handed it on: next header %d, %v", nh, err)
	}
	x.h.bind.inject(pkt, outerA)
	waitFor(t, func() bool { return x.h.plane.Stats().Drop(DropNotTunnel) == 1 }, x.h.plane)
	if s := x.h.plane.Stats(); s.Transport != 1 {
		t.Fatalf("counters: %v", s)
	}
}

func waitFor(t *testing.T, cond func() bool, p *Plane) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("counters: %v", p.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPlaneConfigChecked(t *testing.T) {
	ua, _ := memBindPair(outerA, outerB)
	ra, _ := memBindPair(rawB, rawC)
	for name, c := range map[string]Config{
		"raw beside raw":  {Bind: ra, Carrier: esp.CarrierESP, RawESP: ra},
		"unknown carrier": {Bind: ua, Carrier: 9},
		"no bind":         {RawESP: ra},
	} {
		c.TUN, c.SPD, c.SAD = newMemTUN(), ipsec.NewSPD(), ipsec.NewSAD()
		if p, err := New(c); err == nil {
			p.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}
