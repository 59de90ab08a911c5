package mn_test

// End-to-end on vnet: a home agent (ha core) and a mobile node (mn core)
// with real ESP-in-UDP SAs (manually keyed, as RFC 4877 §6 allows; IKE
// replaces this in the daemons), BU/BA in the RFC 4877 §3 tunnelled form,
// the correspondent pinging the home address while the MN moves A -> B ->
// home. Every link is captured and checked with tshark.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"mip6/esp"
	"mip6/ha"
	"mip6/internal/tshark"
	"mip6/mn"
	"mip6/vnet"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

const (
	identity = "alice@example.net"
	spiToHA  = 0xc0de0001 // MN -> HA
	spiToMN  = 0xc0de0002 // HA -> MN
)

var (
	hoa  = vnet.AddrOn(vnet.HomePrefix, 0xa)
	coaA = vnet.AddrOn(vnet.APrefix, 0xa)
	coaB = vnet.AddrOn(vnet.BPrefix, 0xa)
)

type onePAD struct{}

func (onePAD) Authorized(id string, a netip.Addr) bool { return id == identity && a == hoa }

// saPair makes one direction's outbound and inbound SA with a fresh key.
func saPair(t *testing.T, spi uint32) (out, in *esp.SA, key []byte) {
	key = make([]byte, esp.AESGCM128.KeyLen())
	rand.Read(key)
	var err error
	if out, err = esp.New(esp.Config{SPI: spi, Direction: esp.Outbound, Transform: esp.AESGCM128, Key: key}); err != nil {
		t.Fatal(err)
	}
	if in, err = esp.New(esp.Config{SPI: spi, Direction: esp.Inbound, Transform: esp.AESGCM128, Key: key}); err != nil {
		t.Fatal(err)
	}
	return out, in, key
}

func spiOf(b []byte) uint32 {
	if len(b) < 8 {
		return 0
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// haRig is the home agent's packet path for one MN.
type haRig struct {
	t      *testing.T
	d      *vnet.Demo
	core   *ha.HomeAgent
	conn   *vnet.UDPConn
	in     *esp.SA
	out    *esp.SA
	mu     sync.Mutex
	remote netip.AddrPort // care-of endpoint of the tunnel
	active bool
	drops  atomic.Uint64
	done   chan struct{}
}

func newHARig(t *testing.T, d *vnet.Demo, in, out *esp.SA) *haRig {
	core, err := ha.New(ha.Config{Address: vnet.HAAddr, HomePrefixes: []netip.Prefix{vnet.HomePrefix}, KeyMgmtMobility: true,
		MaxLifetime: 10 * time.Minute}, onePAD{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := d.HA.ListenUDP(netip.AddrPortFrom(netip.Addr{}, 4500))
	if err != nil {
		t.Fatal(err)
	}
	h := &haRig{t: t, d: d, core: core, conn: conn, in: in, out: out, done: make(chan struct{})}
	d.HA.SetHandler(h.intercept)
	d.Home.Claim(ha.HomeAgentsAnycast(vnet.HomePrefix), d.HAIfc)
	go h.read()
	return h
}

// intercept tunnels packets the home link delivered for a claimed HoA.
func (h *haRig) intercept(_ *vnet.Interface, pkt []byte) bool {
	hdr, err := ipv6.ParseHeader(pkt)
	if err != nil || hdr.Dst == vnet.HAAddr {
		return false
	}
	if hdr.Dst == ha.HomeAgentsAnycast(vnet.HomePrefix) {
		var p ipv6.Packet
		if ipv6.ParsePacket(pkt, &p) == nil && p.Proto == ipv6.ProtoICMPv6 {
			if reply, ok := h.core.HandleDHAADRequest(nil, p.Header.Src, p.Header.Dst, p.Payload); ok {
				_ = h.d.HA.SendDirect(reply)
			}
		}
		return true
	}
	if _, ok := h.core.TunnelDestination(hdr.Dst); !ok {
		return false
	}
	h.mu.Lock()
	remote, active := h.remote, h.active
	h.mu.Unlock()
	if active {
		h.seal(pkt, remote)
	}
	return true
}

func (h *haRig) seal(inner []byte, to netip.AddrPort) {
	sealed, err := h.out.Seal(nil, inner, ipv6.ProtoIPv6)
	if err != nil {
		h.t.Error(err)
		return
	}
	_, _ = h.conn.WriteToUDPAddrPort(sealed, to)
}

func (h *haRig) read() {
	defer close(h.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := h.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		pkt := append([]byte(nil), buf[:n]...)
		if spiOf(pkt) != spiToHA {
			h.drops.Add(1)
			continue
		}
		inner, nh, err := h.in.Open(pkt)
		if err != nil || nh != ipv6.ProtoIPv6 {
			h.drops.Add(1)
			continue
		}
		h.fromTunnel(time.Now(), from, inner)
	}
}

func (h *haRig) fromTunnel(now time.Time, from netip.AddrPort, inner []byte) {
	var p ipv6.Packet
	if ipv6.ParsePacket(inner, &p) != nil {
		h.drops.Add(1)
		return
	}
	// What the SAD remembers about spiToHA: created for identity, bound to hoa.
	sec := ha.SecurityContext{SA: spiToHA, Identity: identity, HomeAddress: hoa, OuterSource: from.Addr(), OuterSourcePort: from.Port()}
	switch {
	case p.Header.Dst == vnet.HAAddr && p.Proto == ipv6.ProtoMobility:
		h.apply(h.core.HandleMH(now, sec, p.PseudoSrc(), p.PseudoDst(), p.Payload), from)
	case p.Header.Dst == vnet.HAAddr && p.Proto == ipv6.ProtoICMPv6:
		if mpa, ok := h.core.HandlePrefixSolicitation(nil, sec, p.PseudoSrc(), p.PseudoDst(), p.Payload); ok {
			h.seal(mpa, from)
		}
	case h.core.TunnelSourceAllowed(sec, p.Header.Src):
		_ = h.d.HA.SendDirect(inner) // reverse tunnelling
	default:
		h.drops.Add(1)
	}
}

func (h *haRig) apply(r ha.Result, from netip.AddrPort) {
	b := r.Binding
	h.mu.Lock()
	if r.Effects.Has(ha.EffectMoveTunnel) {
		h.remote = netip.AddrPortFrom(b.CareOf, from.Port())
		h.out.MoveEndpoints(esp.Endpoints{Local: netip.AddrPortFrom(vnet.HAAddr, 4500), Remote: h.remote, Carrier: esp.CarrierUDP})
	}
	if r.Effects.Has(ha.EffectTunnelActive) {
		h.active = true
	}
	if r.Effects.Has(ha.EffectTunnelInactive) {
		h.active = false
	}
	h.mu.Unlock()
	if r.Effects.Has(ha.EffectClaimHomeAddress) {
		h.d.Home.Claim(b.HomeAddress, h.d.HAIfc)
	}
	if r.Effects.Has(ha.EffectReleaseHomeAddress) {
		h.d.Home.Release(b.HomeAddress, h.d.HAIfc)
	}
	if r.SendAck {
		h.seal(ha.AppendAck(nil, &r.Ack), netip.AddrPortFrom(r.Ack.CareOf, from.Port()))
	}
	if r.Verdict == ha.Dropped {
		h.drops.Add(1)
	}
}

// mnRig is the mobile node's packet path around the mn core; one goroutine
// owns the core.
type mnRig struct {
	t      *testing.T
	node   *vnet.Node
	ifc    *vnet.Interface
	conn   *vnet.UDPConn
	out    *esp.SA
	in     *esp.SA
	core   *mn.MobileNode
	home   atomic.Bool
	tunnel atomic.Bool
	mpa    atomic.Uint64 // Mobile Prefix Advertisements received
	events chan func(time.Time) []mn.Action
	notes  chan mn.Action
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newMNRig(t *testing.T, d *vnet.Demo, out, in *esp.SA) *mnRig {
	core, err := mn.New(mn.Config{HomeAddress: hoa, HomeAgent: vnet.HAAddr, HomePrefix: vnet.HomePrefix, KeyMgmt: true, Lifetime: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	node := d.Net.NewNode("mn")
	m := &mnRig{t: t, node: node, out: out, in: in, core: core, events: make(chan func(time.Time) []mn.Action, 16),
		notes: make(chan mn.Action, 16), stop: make(chan struct{})}
	if m.conn, err = node.ListenUDP(netip.AddrPortFrom(netip.Addr{}, 4500)); err != nil {
		t.Fatal(err)
	}
	node.SetOutputHook(m.output)
	m.wg.Add(2)
	go m.read()
	go m.own()
	return m
}

// output reverse-tunnels what the node sends from its home address.
func (m *mnRig) output(pkt []byte) bool {
	hdr, err := ipv6.ParseHeader(pkt)
	if err != nil || hdr.Src != hoa || m.home.Load() || !m.tunnel.Load() {
		return false
	}
	m.seal(pkt)
	return true
}

func (m *mnRig) seal(inner []byte) {
	sealed, err := m.out.Seal(nil, inner, ipv6.ProtoIPv6)
	if err != nil {
		m.t.Error(err)
		return
	}
	_, _ = m.conn.WriteToUDPAddrPort(sealed, netip.AddrPortFrom(vnet.HAAddr, 4500))
}

func (m *mnRig) read() {
	defer m.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, _, err := m.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		pkt := append([]byte(nil), buf[:n]...)
		if spiOf(pkt) != spiToMN {
			continue
		}
		inner, nh, err := m.in.Open(pkt)
		if err != nil || nh != ipv6.ProtoIPv6 {
			continue
		}
		var p ipv6.Packet
		if ipv6.ParsePacket(inner, &p) != nil || p.Header.Dst != hoa {
			continue
		}
		if p.Proto == ipv6.ProtoMobility && p.Header.Src == vnet.HAAddr {
			if ba, err := mn.ParseAck(p.PseudoSrc(), p.PseudoDst(), p.Payload); err == nil {
				m.events <- func(now time.Time) []mn.Action { return m.core.HandleAck(now, ba) }
			}
			continue
		}
		if p.Proto == ipv6.ProtoICMPv6 && p.Header.Src == vnet.HAAddr && len(p.Payload) > 0 && p.Payload[0] == ipv6.ICMPv6MobilePrefixAdvert {
			if id, pfx, err := mn.ParsePrefixAdvertisement(p.PseudoSrc(), p.PseudoDst(), p.Payload); err == nil {
				m.mpa.Add(1)
				m.events <- func(now time.Time) []mn.Action { return m.core.HandlePrefixAdvertisement(now, id, pfx) }
			}
			continue
		}
		m.node.Inject(append([]byte(nil), inner...))
	}
}

func (m *mnRig) own() {
	defer m.wg.Done()
	for {
		var tc <-chan time.Time
		var timer *time.Timer
		if next := m.core.NextTimer(); !next.IsZero() {
			timer = time.NewTimer(time.Until(next))
			tc = timer.C
		}
		var acts []mn.Action
		select {
		case f := <-m.events:
			acts = f(time.Now())
		case <-tc:
			acts = m.core.Timer(time.Now())
		case <-m.stop:
			return
		}
		if timer != nil {
			timer.Stop()
		}
		m.do(acts)
	}
}

func (m *mnRig) do(acts []mn.Action) {
	for _, a := range acts {
		switch a := a.(type) {
		case mn.MoveEndpoints:
			ep := esp.Endpoints{Local: netip.AddrPortFrom(a.CareOf, 4500), Remote: netip.AddrPortFrom(vnet.HAAddr, 4500), Carrier: esp.CarrierUDP}
			m.out.MoveEndpoints(ep)
			m.in.MoveEndpoints(ep)
		case mn.SendBindingUpdate:
			m.seal(mn.AppendBindingUpdate(nil, &a))
		case mn.SendPrefixSolicitation:
			m.seal(mn.AppendPrefixSolicitation(nil, &a))
		case mn.TunnelActive:
			m.tunnel.Store(a.Active)
		}
		select {
		case m.notes <- a:
		default:
		}
	}
}

// moveTo detaches the MN and attaches it to link with addr (the home
// address on the home link), then tells the core.
func (m *mnRig) moveTo(l *vnet.Link, addr netip.Addr) {
	if m.ifc != nil {
		m.ifc.Detach()
	}
	m.ifc = m.node.Attach(l, addr)
	atHome := addr == hoa
	m.home.Store(atHome)
	if atHome {
		m.node.RemoveLocalAddr(hoa)
	} else if !m.node.IsLocal(hoa) {
		m.node.AddLocalAddr(hoa)
	}
	m.events <- func(now time.Time) []mn.Action { return m.core.Attach(now, addr) }
}

// await waits for an action of type T from the MN.
func await[T mn.Action](t *testing.T, m *mnRig, within time.Duration) T {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case a := <-m.notes:
			if x, ok := a.(T); ok {
				return x
			}
		case <-deadline:
			var zero T
			t.Fatalf("no %T within %v", zero, within)
			return zero
		}
	}
}

// pingPhase sends n pings 20 ms apart and returns how many were answered
// and the send time of the first answered one.
func pingPhase(p *vnet.Pinger, seq *uint16, n int) (answered int, firstOK time.Duration) {
	start := time.Now()
	sent := map[uint16]time.Duration{}
	firstOK = -1
	for i := 0; i < n; i++ {
		*seq++
		sent[*seq] = time.Since(start)
		_ = p.Send(hoa, *seq)
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	for {
		select {
		case r := <-p.C:
			if at, ok := sent[r.Seq]; ok {
				answered++
				if firstOK < 0 || at < firstOK {
					firstOK = at
				}
			}
		default:
			return answered, firstOK
		}
	}
}

func TestEndToEndMoveAndReturnHome(t *testing.T) {
	dir := t.TempDir()
	var uat []tshark.UATRecord
	synctest.Test(t, func(t *testing.T) {
		d, h, m, keys := newLab(t, dir)
		defer shutdown(t, d, h, m) // also on t.Fatal: the bubble must empty
		uat = keys
		p := d.CN.NewPinger(1, vnet.CNAddr)
		var seq uint16

		discoverHA(t, d)
		m.moveTo(d.A, coaA)
		reg := await[mn.Registered](t, m, 5*time.Second)
		if reg.CareOf != coaA || !reg.KeyMgmt {
			t.Fatalf("registered %+v", reg)
		}
		if got, _ := pingPhase(p, &seq, 10); got != 10 {
			t.Fatalf("at A: %d/10 pings answered", got)
		}
		relayHomeTest(t, d, m)
		m.events <- func(now time.Time) []mn.Action { return m.core.SolicitPrefixes(now) }
		time.Sleep(50 * time.Millisecond)
		if m.mpa.Load() != 1 {
			t.Fatal("no Mobile Prefix Advertisement through the tunnel")
		}

		moved := time.Now()
		m.moveTo(d.B, coaB)
		reg = await[mn.Registered](t, m, 5*time.Second)
		handover := time.Since(moved)
		if reg.CareOf != coaB || handover > 10*time.Millisecond {
			t.Fatalf("move to B: %+v after %v", reg, handover)
		}
		t.Logf("handover A->B: BU/BA round trip %v", handover)
		if b, _ := h.core.TunnelDestination(hoa); b.CareOf != coaB {
			t.Fatalf("HA binding %+v", b)
		}
		if got, _ := pingPhase(p, &seq, 10); got != 10 {
			t.Fatalf("at B: %d/10 pings answered", got)
		}

		m.moveTo(d.Home, hoa)
		await[mn.Deregistered](t, m, 5*time.Second)
		if _, ok := h.core.TunnelDestination(hoa); ok || d.Home.Claimed(hoa) != nil {
			t.Fatal("binding or proxy claim survives de-registration")
		}
		if got, _ := pingPhase(p, &seq, 10); got != 10 {
			t.Fatalf("at home: %d/10 pings answered", got)
		}
		if n := h.drops.Load(); n != 0 {
			t.Fatalf("HA dropped %d packets: %+v", n, h.core.Counters())
		}
		if c := h.core.Counters(); c.Status[0] != 3 {
			t.Fatalf("HA acks %v, want 3 accepted", c.Status)
		}

	})
	opts := tshark.Options{UAT: uat, Prefs: []string{"esp.enable_encryption_decode:TRUE", "esp.enable_authentication_check:TRUE"}}
	for _, name := range []string{"home", "access-b"} { // tshark starts slowly: the two links that carry every kind of packet
		tshark.RequireClean(t, filepath.Join(dir, name+".pcap"), opts)
	}
	// The BUs as tshark reads them inside ESP on access network B.
	pkts := tshark.Run(t, filepath.Join(dir, "access-b.pcap"), opts, "mip6.mhtype", "mip6.bu.seqnr", "mip6.acoa.acoa", "esp.icv_good")
	var bus int
	for _, pk := range pkts {
		if pk.Get("mip6.mhtype") == "5" {
			bus++
			if pk.Get("mip6.acoa.acoa") != coaB.String() || pk.Get("esp.icv_good") != "1" || pk.Get("mip6.bu.seqnr") != "2" {
				t.Errorf("BU frame %d: %v\n%s", pk.Number, pk.Fields, tshark.Verbose(t, filepath.Join(dir, "access-b.pcap"), opts, pk.Number))
			}
		}
	}
	if bus != 1 {
		t.Fatalf("tshark found %d BUs on access-b, want 1", bus)
	}
}

// discoverHA runs DHAAD from care-of address A to the Home-Agents anycast
// address (unprotected, as RFC 6275 §10.5 has it).
func discoverHA(t *testing.T, d *vnet.Demo) {
	t.Helper()
	probe := d.Net.NewNode("dhaad-probe")
	probe.Attach(d.A, vnet.AddrOn(vnet.APrefix, 0xd))
	replies := make(chan []byte, 1)
	probe.Tap(ipv6.ProtoICMPv6, replies)
	any := ha.HomeAgentsAnycast(vnet.HomePrefix)
	src := vnet.AddrOn(vnet.APrefix, 0xd)
	req := ipv6.DHAADRequest{Identifier: 77}
	if err := probe.Send(ipv6.AppendPacket(nil, src, any, ipv6.ProtoICMPv6, req.Append(nil, src, any))); err != nil {
		t.Fatal(err)
	}
	select {
	case pkt := <-replies:
		var p ipv6.Packet
		if err := ipv6.ParsePacket(pkt, &p); err != nil {
			t.Fatal(err)
		}
		rep, err := ipv6.ParseDHAADReply(p.Payload)
		if err != nil || rep.Identifier != 77 || rep.HomeAgentAddresses.Len() != 1 || rep.HomeAgentAddresses.At(0) != vnet.HAAddr {
			t.Fatalf("DHAAD reply %+v %v", rep, err)
		}
	case <-time.After(time.Second):
		t.Fatal("no DHAAD reply")
	}
}

// relayHomeTest sends a HoTi from the home address to the correspondent and
// a HoT back: both cross the HA and the ESP tunnel (RFC 4877 §4.1).
func relayHomeTest(t *testing.T, d *vnet.Demo, m *mnRig) {
	t.Helper()
	atCN, atMN := make(chan []byte, 1), make(chan []byte, 1)
	d.CN.Tap(ipv6.ProtoMobility, atCN)
	m.node.Tap(ipv6.ProtoMobility, atMN)
	hoti := mh.HomeTestInit{HomeInitCookie: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}}
	if err := m.node.Send(ipv6.AppendPacket(nil, hoa, vnet.CNAddr, ipv6.ProtoMobility, hoti.Append(nil, hoa, vnet.CNAddr))); err != nil {
		t.Fatal(err)
	}
	select {
	case pkt := <-atCN:
		var p ipv6.Packet
		if ipv6.ParsePacket(pkt, &p) != nil || p.Header.Src != hoa {
			t.Fatal("HoTi reached the CN malformed or not from the home address")
		}
		got, err := mh.ParseHomeTestInit(p.Payload)
		if err != nil || got.HomeInitCookie != hoti.HomeInitCookie {
			t.Fatalf("HoTi %+v %v", got, err)
		}
	case <-time.After(time.Second):
		t.Fatal("HoTi not relayed to the CN")
	}
	hot := mh.HomeTest{HomeNonceIndex: 1, HomeInitCookie: hoti.HomeInitCookie}
	if err := d.CN.Send(ipv6.AppendPacket(nil, vnet.CNAddr, hoa, ipv6.ProtoMobility, hot.Append(nil, vnet.CNAddr, hoa))); err != nil {
		t.Fatal(err)
	}
	select {
	case pkt := <-atMN:
		var p ipv6.Packet
		if ipv6.ParsePacket(pkt, &p) != nil || p.Header.Src != vnet.CNAddr {
			t.Fatal("HoT malformed")
		}
		if _, err := mh.ParseHomeTest(p.Payload); err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("HoT not tunnelled to the MN")
	}
}

// newLab builds the demo network with 1 ms links, an HA rig and an MN rig
// sharing fresh SAs; dir, if set, receives the per-link captures. It
// returns the esp_sa rows tshark needs to decrypt them.
func newLab(t *testing.T, dir string) (*vnet.Demo, *haRig, *mnRig, []tshark.UATRecord) {
	d := vnet.NewDemo()
	for _, l := range d.Net.Links() {
		l.SetLatency(time.Millisecond)
	}
	if dir != "" {
		if err := d.Net.CapturePcap(dir); err != nil {
			t.Fatal(err)
		}
	}
	mnOut, haIn, k1 := saPair(t, spiToHA)
	haOut, mnIn, k2 := saPair(t, spiToMN)
	var uat []tshark.UATRecord
	for _, k := range []struct {
		spi uint32
		key []byte
	}{{spiToHA, k1}, {spiToMN, k2}} {
		uat = append(uat, tshark.UATRecord{Table: "esp_sa", Fields: []string{"IPv6", "*", "*", fmt.Sprintf("0x%08x", k.spi),
			"AES-GCM with 16 octet ICV [RFC4106]", "0x" + hex.EncodeToString(k.key), "NULL", ""}})
	}
	return d, newHARig(t, d, haIn, haOut), newMNRig(t, d, mnOut, mnIn), uat
}

func shutdown(t *testing.T, d *vnet.Demo, h *haRig, m *mnRig) {
	m.conn.Close()
	close(m.stop)
	m.wg.Wait()
	h.conn.Close()
	<-h.done
	if err := d.Net.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestEndToEndLostBindingUpdate: the BU from access network B is lost; the
// MN retransmits after 1 s and the binding moves.
func TestEndToEndLostBindingUpdate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, h, m, _ := newLab(t, "")
		defer shutdown(t, d, h, m)
		m.moveTo(d.A, coaA)
		await[mn.Registered](t, m, 5*time.Second)
		d.B.SetLoss(vnet.DropSeq(1)) // the first packet on B: the BU
		moved := time.Now()
		m.moveTo(d.B, coaB)
		reg := await[mn.Registered](t, m, 5*time.Second)
		if took := time.Since(moved); reg.CareOf != coaB || took < time.Second || took > time.Second+10*time.Millisecond {
			t.Fatalf("registered %+v after %v, want one 1 s retransmission", reg, took)
		}
		if b, _ := h.core.TunnelDestination(hoa); b.CareOf != coaB || b.Sequence != 3 {
			t.Fatalf("binding %+v: want CoA B with the retransmission's sequence number 3", b)
		}
	})
}

// TestEndToEndHomeAgentVanishes: the HA leaves the home link; refreshes go
// unanswered and, after the bounded back-off, the MN asks for a re-bootstrap.
func TestEndToEndHomeAgentVanishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, h, m, _ := newLab(t, "")
		defer shutdown(t, d, h, m)
		m.moveTo(d.A, coaA)
		reg := await[mn.Registered](t, m, 5*time.Second)
		d.HAIfc.Detach()
		start := time.Now()
		rb := await[mn.Rebootstrap](t, m, time.Hour)
		// Refresh at 80% of 5 min = 240 s, then 1+2+4+8+16+32+32+32 s.
		if took := time.Since(start); rb.Status != 0 || took < 240*time.Second+127*time.Second-time.Second || took > 240*time.Second+128*time.Second {
			t.Fatalf("rebootstrap %+v after %v (registered %+v)", rb, took, reg)
		}
	})
}

// TestEndToEndReplayAndForgery: an attacker on access network B replays the
// MN's captured BU from A (ESP anti-replay drops it), sends one under an
// unknown SPI and one sealed with a wrong key; the binding stays at B.
func TestEndToEndReplayAndForgery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, h, m, _ := newLab(t, "")
		defer shutdown(t, d, h, m)
		var captured [][]byte
		var mu sync.Mutex
		d.A.Tap(func(_ time.Time, pkt []byte) {
			mu.Lock()
			captured = append(captured, append([]byte(nil), pkt...))
			mu.Unlock()
		})
		m.moveTo(d.A, coaA)
		await[mn.Registered](t, m, 5*time.Second)
		m.moveTo(d.B, coaB)
		await[mn.Registered](t, m, 5*time.Second)
		before, _ := h.core.TunnelDestination(hoa)

		attacker := d.Net.NewNode("attacker")
		attacker.Attach(d.B, vnet.AddrOn(vnet.BPrefix, 0xe))
		mu.Lock()
		bu := captured[0] // the MN's first packet on A: its BU
		mu.Unlock()
		forgedSPI := append([]byte(nil), bu...)
		forgedSPI[ipv6.HeaderLen+ipv6.UDPHeaderLen+3] ^= 0xff // SPI
		wrongKey, _, _ := saPair(t, spiToHA)
		for i := 0; i < 100; i++ { // past the replay window's seen numbers: the ICV must fail
			_, _ = wrongKey.Seal(nil, []byte{0}, ipv6.ProtoNoNext)
		}
		inner := mn.AppendBindingUpdate(nil, &mn.SendBindingUpdate{Sequence: 1000, Acknowledge: true, Home: true,
			Lifetime: 100, HomeAddress: hoa, HomeAgent: vnet.HAAddr, CareOf: coaA, AltCoA: coaA})
		sealed, _ := wrongKey.Seal(nil, inner, ipv6.ProtoIPv6)
		forgedKey := ipv6.AppendUDP(nil, netip.AddrPortFrom(coaA, 4500), netip.AddrPortFrom(vnet.HAAddr, 4500), sealed)
		for _, pkt := range [][]byte{bu, forgedSPI, forgedKey} {
			// Rewrite the UDP checksum of the tampered copy so only ESP can object.
			if err := attacker.SendDirect(fixUDP(pkt)); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(100 * time.Millisecond)
		if after, _ := h.core.TunnelDestination(hoa); after != before {
			t.Fatalf("binding changed: %+v -> %+v", before, after)
		}
		if n := h.drops.Load(); n != 3 {
			t.Fatalf("HA dropped %d packets, want 3", n)
		}
		st := h.in.Stats()
		if st.Drop(esp.DropReplay) != 1 || st.Drop(esp.DropBadICV) != 1 {
			t.Fatalf("ESP drops: replay %d, bad ICV %d", st.Drop(esp.DropReplay), st.Drop(esp.DropBadICV))
		}
	})
}

// fixUDP recomputes the UDP checksum of an IPv6/UDP packet.
func fixUDP(pkt []byte) []byte {
	hdr, _ := ipv6.ParseHeader(pkt)
	u := pkt[ipv6.HeaderLen:]
	src := netip.AddrPortFrom(hdr.Src, uint16(u[0])<<8|uint16(u[1]))
	dst := netip.AddrPortFrom(hdr.Dst, uint16(u[2])<<8|uint16(u[3]))
	return ipv6.AppendUDP(nil, src, dst, u[ipv6.UDPHeaderLen:])
}
