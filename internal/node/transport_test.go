package node

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"mip6/dataplane"
	"mip6/esp"
	"mip6/ha"
	"mip6/ike"
	"mip6/ike/crypto"
	"mip6/internal/tshark"
	"mip6/ipsec"
	"mip6/vnet"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// sigKey keys the transport-mode pairs: AES-GCM-128 key and salt. No ESN,
// so that tshark 4.0 can decrypt them.
var sigKey = []byte("fedcba9876543210abcd")

// sigPair builds matching transport-mode BU/BA pairs, keyed by hand, with
// the RFC 4877 §7.2.1 selectors.
func sigPair(t testing.TB, spiHA, spiMN uint32, identity string, home netip.Addr) (haSide, mnSide *Child) {
	t.Helper()
	return transportPair(t, spiHA, spiMN, identity, home, ipsec.ProtoMH, ipsec.MHBindingUpdate, ipsec.MHBindingAck)
}

// transportPair builds matching transport-mode pairs, keyed by hand, whose
// selectors say protocol proto, the mobile node sending type mnType from
// home to the home agent, the home agent type haType back.
func transportPair(t testing.TB, spiHA, spiMN uint32, identity string, home netip.Addr, proto, mnType, haType uint8) (haSide, mnSide *Child) {
	t.Helper()
	types := func(typ uint8) ipsec.PortRange {
		return ipsec.PortRange{From: uint16(typ) << 8, To: uint16(typ)<<8 | 0xff}
	}
	fromMN := ipsec.Selectors{Local: ipsec.Addr(home), Remote: ipsec.Addr(vnet.HAAddr), Proto: proto, LocalPort: types(mnType), RemotePort: types(haType)}
	fromHA := ipsec.Selectors{Local: fromMN.Remote, Remote: fromMN.Local, Proto: proto, LocalPort: fromMN.RemotePort, RemotePort: fromMN.LocalPort}
	mk := func(spi uint32, dir esp.Direction, sel ipsec.Selectors) *ipsec.SAEntry {
		sa, err := esp.New(esp.Config{SPI: spi, Direction: dir, Transform: esp.AESGCM128, Key: sigKey,
			Endpoints: esp.Endpoints{Carrier: esp.CarrierESP}})
		if err != nil {
			t.Fatal(err)
		}
		return &ipsec.SAEntry{SA: sa, Mode: ipsec.Transport, Identity: identity, HomeAddress: home, PolicyID: uint64(spi), Selectors: sel}
	}
	// An SA's selectors are its sender's view.
	haSide = &Child{In: mk(spiHA, esp.Inbound, fromMN), Out: mk(spiMN, esp.Outbound, fromHA)}
	mnSide = &Child{In: mk(spiMN, esp.Inbound, fromHA), Out: mk(spiHA, esp.Outbound, fromMN)}
	return
}

func (l *lab) haCount(name string) uint64 { return l.ha.t.counters.snapshot()[name] }
func (l *lab) mnCount(name string) uint64 { return l.mn.t.counters.snapshot()[name] }

// TestTransportFormRegisterMoveReturnHome runs registration, a move and
// the return home with BU/BA in the RFC 3776 transport form, the payload
// still in the UDP tunnel, and checks the home link's capture with tshark:
// BU with a Home Address option, BA with a Type 2 Routing header, both raw
// ESP that decrypts to MH types 5 and 6, nothing malformed.
func TestTransportFormRegisterMoveReturnHome(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		l := newLabWith(t, labOptions{transport: true, capture: dir})
		// An IKE SA made the pairs: K moves it, keeping its UDP port.
		var mu sync.Mutex
		var ikeMoves []netip.AddrPort
		l.haTun.IKESA, l.haSig.IKESA = 7, 7
		l.ha.moveIKE = func(spi uint64, to netip.AddrPort) {
			mu.Lock()
			defer mu.Unlock()
			if spi == 7 {
				ikeMoves = append(ikeMoves, to)
			}
		}
		coaA := vnet.AddrOn(vnet.APrefix, 0x100)
		l.mn.Attach(coaA)
		waitRegistered(t, l, coaA)
		time.Sleep(time.Second)
		if l.mnCount(cESPOut) != 0 || l.mnCount(cTransportOut) != 1 || l.mnCount(cTransportIn) != 1 || l.mnCount(cBAIn) != 1 {
			t.Fatalf("BU/BA did not go in the transport form: %v", l.mn.t.counters.snapshot())
		}
		if l.haCount(cTransportIn) != 1 || l.haCount(cBAOut) != 1 {
			t.Fatalf("home agent: %v", l.ha.t.counters.snapshot())
		}
		ping(t, l, 1) // payload through the UDP tunnel

		l.ifc.Detach()
		coaB := vnet.AddrOn(vnet.BPrefix, 0x100)
		l.ifc = l.mnNd.Attach(l.d.B, coaB)
		l.mn.Attach(coaB)
		waitRegistered(t, l, coaB)
		if got := l.haTun.Out.SA.Endpoints().Remote; got != netip.AddrPortFrom(coaB, 4500) {
			t.Fatalf("tunnel SA moved to %v: the raw BU's missing port must not reach the UDP tunnel", got)
		}
		ping(t, l, 2)
		mu.Lock()
		if want := []netip.AddrPort{netip.AddrPortFrom(coaA, 4500), netip.AddrPortFrom(coaB, 4500)}; fmt.Sprint(ikeMoves) != fmt.Sprint(want) {
			t.Errorf("IKE SA moves %v, want %v", ikeMoves, want)
		}
		mu.Unlock()
		if l.haCount(cHandovers) != 1 {
			t.Errorf("handovers = %d, want 1", l.haCount(cHandovers))
		}

		l.ifc.Detach()
		l.ifc = l.mnNd.Attach(l.d.Home, hoa)
		l.mn.Attach(hoa)
		for i := 0; i < 200; i++ {
			if _, ok := l.ha.core.Cache().Lookup(hoa); !ok {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Second)
		l.mn.mu.Lock()
		st := l.mn.core.State()
		l.mn.mu.Unlock()
		if _, ok := l.ha.core.Cache().Lookup(hoa); ok || st.Registered || !st.AtHome || st.Pending {
			t.Fatalf("de-registration at home: binding left %v, mn %+v, counters %v", ok, st, l.mn.t.counters.snapshot())
		}
		// The two echo replies went through the plane, the BUs beside it.
		if l.mnCount(cTransportOut) != 3 || l.mnCount(cTransportIn) != 3 || l.mnCount(cESPOut) != 0 || l.mnPlane.Stats().Sealed != 2 {
			t.Fatalf("mn counters: %v; plane %v", l.mn.t.counters.snapshot(), l.mnPlane.Stats())
		}
		ping(t, l, 3)
		l.d.Net.Close()
	})
	checkHomeLinkCapture(t, filepath.Join(dir, "home.pcap"))
}

// checkHomeLinkCapture dissects the home link's capture: three BUs and
// three BAs in the transport form (the last pair at home: no Home Address
// option, no routing header).
func checkHomeLinkCapture(t *testing.T, path string) {
	var opts tshark.Options
	opts.Prefs = []string{"esp.enable_encryption_decode:TRUE"}
	for _, spi := range []uint32{0x5000, 0x6000} {
		opts.UAT = append(opts.UAT, tshark.UATRecord{Table: "esp_sa", Fields: []string{"IPv6", "*", "*",
			fmt.Sprintf("0x%08x", spi), "AES-GCM with 16 octet ICV [RFC4106]", "0x" + hex.EncodeToString(sigKey), "NULL", ""}})
	}
	tshark.RequireClean(t, path, opts)
	opts.Filter = "esp.spi == 0x5000 || esp.spi == 0x6000"
	pkts := tshark.Run(t, path, opts, "ipv6.src", "ipv6.dst", "ipv6.opt.mipv6.home_address", "ipv6.routing.type",
		"ipv6.routing.segleft", "ipv6.routing.mipv6.home_address", "esp.spi", "mip6.mhtype", "mip6.bu.seqnr", "mip6.ba.status")
	var got []string
	for _, p := range pkts {
		got = append(got, fmt.Sprintf("%s>%s hao=%s rh=%s/%s/%s spi=%s mh=%s", p.Get("ipv6.src"), p.Get("ipv6.dst"),
			p.Get("ipv6.opt.mipv6.home_address"), p.Get("ipv6.routing.type"), p.Get("ipv6.routing.segleft"),
			p.Get("ipv6.routing.mipv6.home_address"), p.Get("esp.spi"), p.Get("mip6.mhtype")))
	}
	coaA, coaB := vnet.AddrOn(vnet.APrefix, 0x100), vnet.AddrOn(vnet.BPrefix, 0x100)
	var want []string
	for _, coa := range []netip.Addr{coaA, coaB} {
		want = append(want,
			fmt.Sprintf("%s>%s hao=%s rh=// spi=0x00005000 mh=5", coa, vnet.HAAddr, hoa),
			fmt.Sprintf("%s>%s hao= rh=2/1/%s spi=0x00006000 mh=6", vnet.HAAddr, coa, hoa))
	}
	want = append(want,
		fmt.Sprintf("%s>%s hao= rh=// spi=0x00005000 mh=5", hoa, vnet.HAAddr),
		fmt.Sprintf("%s>%s hao= rh=// spi=0x00006000 mh=6", vnet.HAAddr, hoa))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("home link, transport-form frames:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// buMsg is a Binding Update for home from coa (Alternate Care-of Address).
func buMsg(seq uint16, home, coa netip.Addr) []byte {
	m := mh.BindingUpdate{Sequence: seq, Acknowledge: true, HomeRegistration: true, Lifetime: 100}
	m.Options.Present |= mh.HasAlternateCareOfAddress
	m.Options.AlternateCareOfAddress = coa
	return m.Append(nil, home, vnet.HAAddr)
}

// rawPacket seals msg (next header nh) through out and wraps it in the
// transport form: src -> dst, a Home Address option if hao is valid, a
// Type 2 Routing header if rh2 is.
func rawPacket(t testing.TB, out *ipsec.SAEntry, src, dst, hao, rh2 netip.Addr, nh uint8, msg []byte) []byte {
	t.Helper()
	sealed, err := out.SA.Seal(nil, msg, nh)
	if err != nil {
		t.Fatal(err)
	}
	p := ipv6.Packet{Header: ipv6.Header{HopLimit: 64, Src: src, Dst: dst}, HomeAddress: hao, Proto: ipv6.ProtoESP}
	if rh2.IsValid() {
		p.RoutingHomeAddress, p.SegmentsLeft = rh2, 1
	}
	return p.Append(nil, sealed)
}

// TestTransportFormAttacks: every forged or misrouted transport-form
// packet is dropped, counted precisely, and leaves the binding as it was.
func TestTransportFormAttacks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLabWith(t, labOptions{transport: true})
		coa := vnet.AddrOn(vnet.APrefix, 0x100)
		l.mn.Attach(coa)
		waitRegistered(t, l, coa)
		time.Sleep(time.Second)
		before, _ := l.ha.core.Cache().Lookup(hoa)
		mallory := netip.MustParseAddr("2001:db8:1::666")
		sigOut := l.mnSig.Out
		seq := before.Sequence + 100
		attack := func(name, counter string, deliver func()) {
			t.Helper()
			n, wrongSA := l.haCount(counter), l.ha.core.Counters().Drops[ha.DropWrongSA]
			deliver()
			if got := l.haCount(counter); got != n+1 {
				t.Errorf("%s: %s = %d, want %d (%v)", name, counter, got, n+1, l.ha.t.counters.snapshot())
			}
			if b, _ := l.ha.core.Cache().Lookup(hoa); b != before {
				t.Errorf("%s: binding changed: %+v, was %+v", name, b, before)
			}
			if _, ok := l.ha.core.Cache().Lookup(mallory); ok {
				t.Errorf("%s: a binding for %s", name, mallory)
			}
			if l.ha.core.Counters().Drops[ha.DropWrongSA] != wrongSA {
				t.Errorf("%s: reached the binding checks", name)
			}
		}
		now := time.Now()
		attack("another home address in the HAO", cDropHAOMismatch, func() {
			l.ha.HandleRaw(rawPacket(t, sigOut, coa, vnet.HAAddr, mallory, netip.Addr{}, ipv6.ProtoMobility, buMsg(seq, mallory, coa)), now)
		})
		attack("transport form through the tunnel SA", cDropNotTransport, func() {
			l.ha.HandleRaw(rawPacket(t, l.mnTun.Out, coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoMobility, buMsg(seq, hoa, coa)), now)
		})
		// The tunnelled form through the transport SA: the data plane never
		// opens a transport SA's packet that came in UDP ...
		inner := ipv6.AppendPacket(nil, hoa, vnet.HAAddr, ipv6.ProtoMobility, buMsg(seq, hoa, coa))
		sealed, err := sigOut.SA.Seal(nil, inner, ipv6.ProtoIPv6)
		if err != nil {
			t.Fatal(err)
		}
		c, err := l.mnNd.ListenUDP(netip.AddrPortFrom(coa, 4501))
		if err != nil {
			t.Fatal(err)
		}
		notTunnel := l.haPlane.Stats().Drop(dataplane.DropNotTunnel)
		if _, err := c.WriteToUDPAddrPort(sealed, netip.AddrPortFrom(vnet.HAAddr, 4500)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // the bubble is idle: the plane is done with it
		if got := l.haPlane.Stats().Drop(dataplane.DropNotTunnel); got != notTunnel+1 {
			t.Errorf("tunnelled form through the transport SA: plane drop_not_tunnel %d -> %d", notTunnel, got)
		}
		if b, _ := l.ha.core.Cache().Lookup(hoa); b != before {
			t.Errorf("tunnelled form through the transport SA: binding changed: %+v, was %+v", b, before)
		}
		// ... and its Local hook refuses what a transport SA opened.
		attack("tunnelled form through the transport SA, data plane", cDropNotTunnel, func() {
			inner := ipv6.AppendPacket(nil, hoa, vnet.HAAddr, ipv6.ProtoMobility, buMsg(seq, hoa, coa))
			if !l.ha.PlaneLocal(l.haSig.In, inner, netip.AddrPortFrom(coa, 4500)) {
				t.Error("plane: not consumed")
			}
		})
		attack("tampered ESP", cDropESP, func() {
			pkt := rawPacket(t, sigOut, coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoMobility, buMsg(seq, hoa, coa))
			pkt[len(pkt)-20] ^= 1
			l.ha.HandleRaw(pkt, now)
		})
		attack("Binding Ack sent to the home agent", cDropTransportSelectors, func() {
			ba := mh.BindingAck{Sequence: seq, Lifetime: 100}
			l.ha.HandleRaw(rawPacket(t, sigOut, coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoMobility, ba.Append(nil, hoa, vnet.HAAddr)), now)
		})
		attack("UDP through the transport SA", cDropTransportNotMH, func() {
			l.ha.HandleRaw(rawPacket(t, sigOut, coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoUDP, []byte{0, 1, 0, 2, 0, 8, 0, 0}), now)
		})
		attack("truncated Home Address option", cDropRawMalformed, func() {
			pkt := rawPacket(t, sigOut, coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoMobility, buMsg(seq, hoa, coa))
			pkt = pkt[:ipv6.HeaderLen+12]
			pkt[4], pkt[5] = 0, 12
			l.ha.HandleRaw(pkt, now)
		})
		attack("Type 2 Routing header to the home agent", cDropRawMalformed, func() {
			l.ha.HandleRaw(rawPacket(t, sigOut, coa, vnet.HAAddr, hoa, hoa, ipv6.ProtoMobility, buMsg(seq, hoa, coa)), now)
		})
		attack("care-of address as source, no HAO", cDropHAOMismatch, func() {
			l.ha.HandleRaw(rawPacket(t, sigOut, coa, vnet.HAAddr, netip.Addr{}, netip.Addr{}, ipv6.ProtoMobility, buMsg(seq, hoa, coa)), now)
		})
		// A BU the home agent accepts, then the same bytes again.
		coa2 := vnet.AddrOn(vnet.APrefix, 0x200)
		pkt := rawPacket(t, sigOut, coa2, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoMobility, buMsg(seq, hoa, coa2))
		replay := append([]byte(nil), pkt...)
		l.ha.HandleRaw(pkt, now)
		if b, _ := l.ha.core.Cache().Lookup(hoa); b.CareOf != coa2 || b.Sequence != seq {
			t.Fatalf("the genuine BU was not accepted: %+v", b)
		}
		before, _ = l.ha.core.Cache().Lookup(hoa)
		attack("replayed BU", cDropESP, func() { l.ha.HandleRaw(replay, now) })
		l.d.Net.Close()
	})
}

// TestTransportFormMobileNodeDrops: the mobile node takes a transport-form
// Binding Ack only from its home agent, through its transport SA, with a
// Type 2 Routing header naming its home address.
func TestTransportFormMobileNodeDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLabWith(t, labOptions{transport: true})
		coa := vnet.AddrOn(vnet.APrefix, 0x100)
		l.mn.Attach(coa)
		waitRegistered(t, l, coa)
		time.Sleep(time.Second)
		ba := mh.BindingAck{Sequence: 1, Lifetime: 100}
		msg := ba.Append(nil, vnet.HAAddr, hoa)
		out := l.haSig.Out
		cn := vnet.CNAddr
		for _, c := range []struct {
			name, counter string
			pkt           []byte
		}{
			{"RH2 naming another home address", cDropRH2Mismatch, rawPacket(t, out, vnet.HAAddr, coa, netip.Addr{}, netip.MustParseAddr("2001:db8:1::666"), ipv6.ProtoMobility, msg)},
			{"from another source", cDropWrongPeer, rawPacket(t, out, cn, coa, netip.Addr{}, hoa, ipv6.ProtoMobility, msg)},
			{"through the tunnel SA", cDropNotTransport, rawPacket(t, l.haTun.Out, vnet.HAAddr, coa, netip.Addr{}, hoa, ipv6.ProtoMobility, msg)},
			{"truncated RH2", cDropRawMalformed, func() []byte {
				p := rawPacket(t, out, vnet.HAAddr, coa, netip.Addr{}, hoa, ipv6.ProtoMobility, msg)
				p = p[:ipv6.HeaderLen+20]
				p[4], p[5] = 0, 20
				return p
			}()},
		} {
			n, acks := l.mnCount(c.counter), l.mnCount(cBAIn)
			l.mn.HandleRaw(c.pkt, time.Now())
			if l.mnCount(c.counter) != n+1 || l.mnCount(cBAIn) != acks {
				t.Errorf("%s: %s %d -> %d, acks %d -> %d", c.name, c.counter, n, l.mnCount(c.counter), acks, l.mnCount(cBAIn))
			}
		}
		l.d.Net.Close()
	})
}

// TestSignallingSAsNeverCarryPayload: a transport-mode
// pair is found by SPI but is in no policy; Remove and RemoveSPI take it
// out; a later pair (rekey) answers; ChildFromIKE makes it raw ESP.
func TestSignallingSAsNeverCarryPayload(t *testing.T) {
	core, err := ha.New(ha.Config{Address: vnet.HAAddr, HomePrefixes: []netip.Prefix{vnet.HomePrefix}},
		padFunc(func(id string, a netip.Addr) bool { return id == alice && a == hoa }))
	if err != nil {
		t.Fatal(err)
	}
	spd, sad := ipsec.NewSPD(), ipsec.NewSAD()
	h, err := NewHomeAgent(HomeAgentConfig{Core: core, PAD: ipsec.NewPAD(), SAD: sad, SPD: spd, Link: nopLink{}})
	if err != nil {
		t.Fatal(err)
	}
	c := &ike.ChildSA{Name: "bu", InboundSPI: 0x7000, OutboundSPI: 0x8000, Transport: true,
		Suite:  ike.ChildSuite{Encr: crypto.Encr{ID: crypto.ENCR_AES_GCM_16, KeyLen: 128}},
		InEncr: sigKey, OutEncr: sigKey,
		Local: netip.AddrPortFrom(vnet.HAAddr, 4500), Remote: netip.AddrPortFrom(vnet.AddrOn(vnet.APrefix, 1), 4500)}
	sig, err := ChildFromIKE(c, 1, alice, hoa)
	if err != nil {
		t.Fatal(err)
	}
	if ep := sig.Out.SA.Endpoints(); ep.Carrier != esp.CarrierESP || ep.Remote.Port() != 0 || sig.Out.Mode != ipsec.Transport {
		t.Fatalf("transport child endpoints %+v mode %v", ep, sig.Out.Mode)
	}
	if err := h.Install(sig); err != nil {
		t.Fatal(err)
	}
	if len(spd.Entries()) != 0 || sad.Inbound(0x7000) != sig.In {
		t.Fatalf("SPD %v, SAD inbound %v", spd.Entries(), sad.Inbound(0x7000))
	}
	hs, _ := pair(t, 0x1000, 0x2000, alice, hoa)
	if err := h.Install(hs); err != nil {
		t.Fatal(err)
	}
	cn := netip.MustParseAddr("2001:db8:c::1")
	toHoA := ipsec.OutboundPacket(cn, hoa, ipsec.ProtoMH, 1, 2)
	if e := spd.Lookup(ipsec.Outbound, &toHoA); e == nil || e.ID != hs.policy {
		t.Fatalf("MH to the home address: policy %+v", e)
	}
	c.InboundSPI, c.OutboundSPI = 0x7001, 0x8001
	rekeyed, err := ChildFromIKE(c, 1, alice, hoa)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Install(rekeyed); err != nil {
		t.Fatal(err)
	}
	h.RemoveSPI(0x7000)
	if sad.Inbound(0x7000) != nil || sad.Inbound(0x7001) != rekeyed.In || len(h.sig[hoa]) != 1 || h.sig[hoa][0] != rekeyed {
		t.Fatalf("after rekey: old %v new %v list %v", sad.Inbound(0x7000), sad.Inbound(0x7001), h.sig[hoa])
	}
	h.Remove(rekeyed)
	if sad.Inbound(0x7001) != nil || len(h.sig) != 0 || len(h.children) != 1 {
		t.Fatalf("after Remove: %v %v %v", sad.Inbound(0x7001), h.sig, h.children)
	}
}

// TestTransportFormKeepsTunnelPort: a raw ESP BU has no port; the UDP
// tunnel keeps the (NAT) port it had at the same care-of address, and
// takes 4500 at a new one.
func TestTransportFormKeepsTunnelPort(t *testing.T) {
	core, err := ha.New(ha.Config{Address: vnet.HAAddr, HomePrefixes: []netip.Prefix{vnet.HomePrefix}},
		padFunc(func(id string, a netip.Addr) bool { return id == alice && a == hoa }))
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHomeAgent(HomeAgentConfig{Core: core, PAD: ipsec.NewPAD(), SAD: ipsec.NewSAD(), SPD: ipsec.NewSPD(),
		Link: nopLink{}, Raw: nopRaw{}})
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := pair(t, 0x1000, 0x2000, alice, hoa)
	hsig, msig := sigPair(t, 0x5000, 0x6000, alice, hoa)
	for _, c := range []*Child{hs, hsig} {
		if err := h.Install(c); err != nil {
			t.Fatal(err)
		}
	}
	coa, coa2 := vnet.AddrOn(vnet.APrefix, 0x100), vnet.AddrOn(vnet.BPrefix, 0x100)
	nat := netip.AddrPortFrom(coa, 31000)
	inner := ipv6.AppendPacket(nil, hoa, vnet.HAAddr, ipv6.ProtoMobility, buMsg(1, hoa, coa))
	h.PlaneLocal(hs.In, inner, nat) // tunnelled, from behind a NAT
	for i, c := range []struct {
		coa  netip.Addr
		want netip.AddrPort
	}{{coa, nat}, {coa2, netip.AddrPortFrom(coa2, 4500)}} {
		h.HandleRaw(rawPacket(t, msig.Out, c.coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoMobility, buMsg(uint16(2+i), hoa, c.coa)), time.Now())
		if b, _ := core.Cache().Lookup(hoa); b.CareOf != c.coa || b.Sequence != uint16(2+i) {
			t.Fatalf("binding %+v", b)
		}
		if got := hs.Out.SA.Endpoints().Remote; got != c.want {
			t.Errorf("BU from %s: tunnel remote %v, want %v", c.coa, got, c.want)
		}
		if got := hsig.Out.SA.Endpoints(); got.Remote != netip.AddrPortFrom(c.coa, 0) || got.Carrier != esp.CarrierESP {
			t.Errorf("BU from %s: signalling SA endpoints %+v", c.coa, got)
		}
	}
}
