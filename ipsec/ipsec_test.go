package ipsec

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"mip6/esp"
	"mip6/wire/ipv6"
)

var (
	homePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	cn         = netip.MustParseAddr("2001:db8:99::7")
	stranger   = netip.MustParseAddr("2001:db8:1::bad")
)

func mhPort(t uint8) uint16   { return uint16(t) << 8 }
func icmpPort(t uint8) uint16 { return uint16(t) << 8 }
func actionOf(e *Entry) string {
	if e == nil {
		return "none"
	}
	return fmt.Sprintf("%v/%d", e.Action, e.Class)
}

func haSPD() *SPD {
	spd := NewSPD()
	spd.Add(GenericHomeAgentEntries(homeAgent1, homePrefix)...)
	spd.Add(example.Entries(RoleHomeAgent, PolicyOptions{SignallingMode: Tunnel})...)
	spd.Add(example.PayloadEntry(RoleHomeAgent))
	return spd
}

func TestHomeAgentLookups(t *testing.T) {
	spd := haSPD()
	cases := []struct {
		name string
		dir  Direction
		p    Packet
		want string
	}{
		{"BU from the MN's home address", Inbound, InboundPacket(homeAddress1, homeAgent1, ProtoMH, mhPort(MHBindingUpdate), 0), actionOf(&Entry{Action: Protect, Class: ClassBinding})},
		{"BAck to the MN", Outbound, OutboundPacket(homeAgent1, homeAddress1, ProtoMH, mhPort(MHBindingAck), 0), actionOf(&Entry{Action: Protect, Class: ClassBinding})},
		{"BU from an unauthenticated node", Inbound, InboundPacket(stranger, homeAgent1, ProtoMH, mhPort(MHBindingUpdate), 0), actionOf(&Entry{Action: Discard, Class: ClassBinding})},
		{"MPS from the MN", Inbound, InboundPacket(homeAddress1, homeAgent1, ProtoICMPv6, icmpPort(ICMPv6MobilePrefixSolicitation), 0), actionOf(&Entry{Action: Protect, Class: ClassPrefixDiscovery})},
		{"MPS from a stranger", Inbound, InboundPacket(stranger, homeAgent1, ProtoICMPv6, icmpPort(ICMPv6MobilePrefixSolicitation), 0), actionOf(&Entry{Action: Discard, Class: ClassPrefixDiscovery})},
		{"HoT from a CN forwarded to the MN", Outbound, OutboundPacket(cn, homeAddress1, ProtoMH, mhPort(MHHomeTest), 0), actionOf(&Entry{Action: Protect, Class: ClassReturnRouting})},
		{"HoTi tunnelled from the MN", Inbound, InboundPacket(homeAddress1, cn, ProtoMH, mhPort(MHHomeTestInit), 0), actionOf(&Entry{Action: Protect, Class: ClassReturnRouting})},
		{"HoT to another home address", Outbound, OutboundPacket(cn, stranger, ProtoMH, mhPort(MHHomeTest), 0), actionOf(&Entry{Action: Discard, Class: ClassReturnRouting})},
		{"TCP from a CN to the MN", Outbound, OutboundPacket(cn, homeAddress1, ProtoTCP, 443, 50000), actionOf(&Entry{Action: Protect, Class: ClassPayload})},
		{"IKE to the HA", Inbound, InboundPacket(careOf1, homeAgent1, ProtoUDP, 4500, 4500), actionOf(&Entry{Action: Bypass, Class: ClassKeyExchange})},
		{"unrelated traffic", Inbound, InboundPacket(cn, stranger, ProtoTCP, 1, 2), "none"},
	}
	for _, c := range cases {
		if got := actionOf(spd.Lookup(c.dir, &c.p)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	// Once the MN's IKE SA goes, its BUs fall to the generic discard.
	spd.RemoveName("user_1")
	p := InboundPacket(homeAddress1, homeAgent1, ProtoMH, mhPort(MHBindingUpdate), 0)
	if e := spd.Lookup(Inbound, &p); e == nil || e.Action != Discard {
		t.Fatalf("after RemoveName: %s", actionOf(e))
	}
	if len(spd.ByName("user_1")) != 0 || len(spd.Entries()) != 5 {
		t.Fatalf("entries left: %d", len(spd.Entries()))
	}
}

func TestMobileNodeLookups(t *testing.T) {
	spd := NewSPD()
	spd.Add(example.PayloadEntry(RoleMobileNode)) // added first, still ordered after signalling
	ids := spd.Add(example.Entries(RoleMobileNode, PolicyOptions{})...)
	bu := OutboundPacket(homeAddress1, homeAgent1, ProtoMH, mhPort(MHBindingUpdate), 0)
	e := spd.Lookup(Outbound, &bu)
	if e == nil || e.Class != ClassBinding || e.Initiate == nil || e.Initiate.IDi != "user_1" || e.ID != ids[0] {
		t.Fatalf("BU: %+v", e)
	}
	if got, ok := spd.Get(ids[0]); !ok || got != e {
		t.Fatal("Get")
	}
	hoti := OutboundPacket(homeAddress1, cn, ProtoMH, mhPort(MHHomeTestInit), 0)
	if e := spd.Lookup(Outbound, &hoti); e == nil || e.Class != ClassReturnRouting || e.Mode != Tunnel {
		t.Fatalf("HoTi: %s", actionOf(e))
	}
	tcp := OutboundPacket(homeAddress1, cn, ProtoTCP, 40000, 443)
	if e := spd.Lookup(Outbound, &tcp); e == nil || e.Class != ClassPayload {
		t.Fatalf("payload: %s", actionOf(e))
	}
	// A BAck arriving is matched by the remote type of the binding entry.
	back := InboundPacket(homeAgent1, homeAddress1, ProtoMH, mhPort(MHBindingAck), 0)
	if e := spd.Lookup(Inbound, &back); e == nil || e.Class != ClassBinding {
		t.Fatalf("BAck: %s", actionOf(e))
	}
	spd.Remove(ids...)
	if e := spd.Lookup(Outbound, &bu); e == nil || e.Class != ClassPayload {
		t.Fatalf("after Remove: %s", actionOf(e))
	}
}

// linear is the reference: the first matching entry in order.
func linear(spd *SPD, dir Direction, p *Packet) *Entry {
	for _, e := range spd.Entries() {
		if e.Matches(dir, p) {
			return e
		}
	}
	return nil
}

// TestLookupIndexMatchesLinearScan checks the address index against a
// plain first-match scan on random policies and packets.
func TestLookupIndexMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	addrs := []netip.Addr{homeAddress1, homeAgent1, careOf1, cn, stranger, netip.MustParseAddr("2001:db8:1::5")}
	randRange := func() AddrRange {
		switch rng.IntN(4) {
		case 0:
			return AnyAddr
		case 1:
			return Prefix(homePrefix)
		default:
			return Addr(addrs[rng.IntN(len(addrs))])
		}
	}
	protos := []uint8{ProtoMH, ProtoICMPv6, ProtoTCP, ProtoUDP}
	for round := range 50 {
		spd := NewSPD()
		for range 40 {
			e := Entry{Priority: rng.IntN(3) * 100, Action: Action(1 + rng.IntN(3))}
			e.Local, e.Remote = randRange(), randRange()
			e.Proto = protos[rng.IntN(len(protos))]
			if rng.IntN(4) == 0 {
				e.Proto = ProtoAny
			}
			e.LocalPort, e.RemotePort = AnyPort, AnyPort
			if rng.IntN(2) == 0 {
				e.LocalPort = MHType(uint8(rng.IntN(8)))
			}
			spd.Add(e)
		}
		for range 200 {
			dir := Direction(1 + rng.IntN(2))
			p := Packet{Local: addrs[rng.IntN(len(addrs))], Remote: addrs[rng.IntN(len(addrs))],
				Proto: protos[rng.IntN(len(protos))], LocalPort: uint16(rng.IntN(8)) << 8, RemotePort: uint16(rng.IntN(8)) << 8}
			if got, want := spd.Lookup(dir, &p), linear(spd, dir, &p); got != want {
				t.Fatalf("round %d: %+v: index %v, scan %v", round, p, got, want)
			}
		}
	}
}

func TestLookupNoAllocs(t *testing.T) {
	spd := haSPD()
	p := InboundPacket(homeAddress1, homeAgent1, ProtoMH, mhPort(MHBindingUpdate), 0)
	if n := testing.AllocsPerRun(100, func() { spd.Lookup(Inbound, &p) }); n != 0 {
		t.Fatalf("%v allocs per lookup", n)
	}
}

func newSA(t testing.TB, spi uint32, dir Direction) *esp.SA {
	sa, err := esp.New(esp.Config{SPI: spi, Direction: dir, Transform: esp.AESGCM128, Key: make([]byte, 20)})
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

func TestSAD(t *testing.T) {
	sad := NewSAD()
	opts := PolicyOptions{SignallingMode: Transport, Manual: &manualSPIs}
	specs := example.ManualSAs(RoleHomeAgent, opts)
	if len(specs) != 6 {
		t.Fatalf("%d specs", len(specs))
	}
	var bu *SAEntry
	for _, s := range specs {
		e := s.Entry(newSA(t, s.SPI, s.Dir), "user_1", homeAddress1)
		e.PolicyID = uint64(s.Class)
		must(t, sad.Add(e))
		if s.SPI == manualSPIs.BU {
			bu = e
		}
	}
	if got := sad.Inbound(manualSPIs.BU); got != bu || bu.Dir() != Inbound {
		t.Fatal("inbound lookup")
	}
	if sad.Inbound(0xdead) != nil || sad.UnknownSPI() != 1 {
		t.Fatal("unknown SPI not counted")
	}
	var dup *DuplicateSPIError
	if err := sad.Add(&SAEntry{SA: newSA(t, manualSPIs.BU, Inbound)}); !errors.As(err, &dup) {
		t.Fatalf("duplicate: %v", err)
	}
	// The BU SA carries BUs from home_address_1 only.
	okBU := InboundPacket(homeAddress1, homeAgent1, ProtoMH, mhPort(MHBindingUpdate), 0)
	otherBU := InboundPacket(stranger, homeAgent1, ProtoMH, mhPort(MHBindingUpdate), 0)
	hoti := InboundPacket(homeAddress1, homeAgent1, ProtoMH, mhPort(MHHomeTestInit), 0)
	if !bu.Allows(&okBU) || bu.Allows(&otherBU) || bu.Allows(&hoti) {
		t.Fatal("inbound selector check")
	}
	if !bu.CreatedFor(homeAddress1) || bu.CreatedFor(stranger) {
		t.Fatal("CreatedFor")
	}
	out := sad.Outbound(uint64(ClassBinding))
	back := OutboundPacket(homeAgent1, homeAddress1, ProtoMH, mhPort(MHBindingAck), 0)
	if out == nil || out.SPI() != manualSPIs.BAck || !out.Allows(&back) {
		t.Fatalf("outbound: %+v", out)
	}
	// Rekeying replaces the outbound SA of a policy.
	re := &SAEntry{SA: newSA(t, 0x2002, Outbound), PolicyID: uint64(ClassBinding)}
	must(t, sad.Add(re))
	if sad.Outbound(uint64(ClassBinding)) != re {
		t.Fatal("rekey")
	}
	sad.Remove(out) // the old one is no longer installed: no effect
	if sad.Outbound(uint64(ClassBinding)) != re {
		t.Fatal("removing the replaced SA removed the new one")
	}
	sad.Remove(bu)
	if sad.Inbound(manualSPIs.BU) != nil || len(sad.ByIdentity("user_1")) != 4 || len(sad.All()) != 5 {
		t.Fatalf("after remove: %d %d", len(sad.ByIdentity("user_1")), len(sad.All()))
	}
}

func TestPAD(t *testing.T) {
	pad := NewPAD()
	pad.Set(example.PADEntry(RoleHomeAgent, AuthEAP))
	dyn := MobileNode{Identity: "alice@example.net"}
	pad.Set(dyn.PADEntry(RoleHomeAgent, AuthSharedSecret))
	if !pad.Authorize("user_1", Addr(homeAddress1)) || pad.Authorize("user_1", Addr(stranger)) || pad.Authorize("user_1", AnyAddr) {
		t.Fatal("static home address authorisation")
	}
	hoa := netip.MustParseAddr("2001:db8:1::a1")
	if pad.Authorize("alice@example.net", Addr(hoa)) {
		t.Fatal("authorised before assignment")
	}
	must(t, pad.AddTemporary("alice@example.net", hoa))
	must(t, pad.AddTemporary("alice@example.net", hoa)) // idempotent
	if !pad.Authorize("alice@example.net", Addr(hoa)) {
		t.Fatal("temporary entry not honoured")
	}
	var claimed *ClaimedError
	if err := pad.AddTemporary("user_1", hoa); !errors.As(err, &claimed) || claimed.Identity != "alice@example.net" {
		t.Fatalf("double claim: %v", err)
	}
	var unknown *UnknownIdentityError
	if err := pad.AddTemporary("mallory", hoa); !errors.As(err, &unknown) {
		t.Fatalf("unknown identity: %v", err)
	}
	if id, ok := pad.OwnerOf(hoa); !ok || id != "alice@example.net" {
		t.Fatal("OwnerOf")
	}
	pad.RemoveTemporary("user_1", hoa) // not the owner: no effect
	if !pad.Authorize("alice@example.net", Addr(hoa)) {
		t.Fatal("removed by a non-owner")
	}
	pad.RemoveTemporary("alice@example.net", hoa)
	if pad.Authorize("alice@example.net", Addr(hoa)) {
		t.Fatal("temporary entry survived removal")
	}
	must(t, pad.AddTemporary("alice@example.net", hoa))
	pad.Remove("alice@example.net")
	if _, ok := pad.OwnerOf(hoa); ok || len(pad.Entries()) != 1 {
		t.Fatal("Remove left state")
	}
}

// BenchmarkLookup: a home agent with 10000 mobile nodes' entries.
func BenchmarkLookup(b *testing.B) {
	spd := NewSPD()
	spd.Add(GenericHomeAgentEntries(homeAgent1, homePrefix)...)
	var last netip.Addr
	for i := range 10000 {
		a := homePrefix.Addr().As16()
		a[14], a[15] = byte(i>>8), byte(i)
		mn := MobileNode{Identity: fmt.Sprint("mn", i), HomeAddress: netip.AddrFrom16(a), HomeAgent: homeAgent1}
		var es []Entry
		es = append(es, mn.Entries(RoleHomeAgent, PolicyOptions{})...)
		es = append(es, mn.PayloadEntry(RoleHomeAgent))
		spd.Add(es...)
		last = mn.HomeAddress
	}
	p := OutboundPacket(cn, last, ProtoTCP, 443, 50000)
	b.ReportAllocs()
	for b.Loop() {
		if e := spd.Lookup(Outbound, &p); e == nil || e.Class != ClassPayload {
			b.Fatal("miss")
		}
	}
}

// TestConcurrentLookupAndWrites runs packet-path lookups while the control
// plane adds and removes mobile nodes (meaningful under -race).
func TestConcurrentLookupAndWrites(t *testing.T) {
	spd := haSPD()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			mn := example
			mn.Identity = fmt.Sprint("mn", i%5)
			a := homeAddress1.As16()
			a[14] = byte(i % 5)
			mn.HomeAddress = netip.AddrFrom16(a)
			spd.Add(mn.Entries(RoleHomeAgent, PolicyOptions{})...)
			spd.RemoveName(mn.Identity)
		}
	}()
	p := InboundPacket(homeAddress1, homeAgent1, ProtoMH, mhPort(MHBindingUpdate), 0)
	for {
		select {
		case <-done:
			return
		default:
		}
		if e := spd.Lookup(Inbound, &p); e == nil || e.Action != Protect {
			t.Fatalf("user_1's entry lost during unrelated writes: %s", actionOf(e))
		}
	}
}

// TestFromIPv6 matches a transport-mode BU (Home Address option, RFC 4877
// §4.2) and BAck (Type 2 Routing header) against entries written for the
// home address, not the care-of address in the IPv6 header.
func TestFromIPv6(t *testing.T) {
	spd := NewSPD()
	spd.Add(example.Entries(RoleHomeAgent, PolicyOptions{})...)
	mhBU := []byte{59, 1, MHBindingUpdate, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	raw := (&ipv6.Packet{Header: ipv6.Header{Src: careOf1, Dst: homeAgent1, HopLimit: 64}, HomeAddress: homeAddress1, Proto: ProtoMH}).Append(nil, mhBU)
	var p ipv6.Packet
	must(t, ipv6.ParsePacket(raw, &p))
	pkt, ok := FromIPv6(Inbound, &p)
	if !ok || pkt.Remote != homeAddress1 || pkt.RemotePort != uint16(MHBindingUpdate)<<8 {
		t.Fatalf("BU view %+v", pkt)
	}
	if e := spd.Lookup(Inbound, &pkt); e == nil || e.Class != ClassBinding {
		t.Fatalf("BU with HAO: %s", actionOf(e))
	}
	mhBA := []byte{59, 1, MHBindingAck, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	raw = (&ipv6.Packet{Header: ipv6.Header{Src: homeAgent1, Dst: careOf1, HopLimit: 64}, RoutingHomeAddress: homeAddress1, SegmentsLeft: 1, Proto: ProtoMH}).Append(nil, mhBA)
	must(t, ipv6.ParsePacket(raw, &p))
	pkt, ok = FromIPv6(Outbound, &p)
	if e := spd.Lookup(Outbound, &pkt); !ok || e == nil || e.Class != ClassBinding {
		t.Fatalf("BAck with RH2: %+v %s", pkt, actionOf(e))
	}
	udp := ipv6.AppendUDP(nil, netip.AddrPortFrom(cn, 53), netip.AddrPortFrom(homeAddress1, 40000), []byte("x"))
	must(t, ipv6.ParsePacket(udp, &p))
	pkt, ok = FromIPv6(Inbound, &p)
	if !ok || pkt.RemotePort != 53 || pkt.LocalPort != 40000 || pkt.Local != homeAddress1 {
		t.Fatalf("UDP view %+v", pkt)
	}
	p.Payload = p.Payload[:1]
	if _, ok := FromIPv6(Inbound, &p); ok {
		t.Fatal("truncated UDP header accepted")
	}
}

func TestZeroSelectorsMatchEverything(t *testing.T) {
	e := &SAEntry{SA: newSA(t, 0x4001, Inbound)}
	for _, p := range []Packet{
		InboundPacket(cn, homeAddress1, ProtoTCP, 1, 2),
		InboundPacket(homeAddress1, homeAgent1, ProtoMH, mhPort(MHBindingUpdate), 0),
	} {
		if !e.Allows(&p) {
			t.Fatalf("zero selectors refuse %+v", p)
		}
	}
}

func BenchmarkSADInbound(b *testing.B) {
	sad := NewSAD()
	for i := range 10000 {
		_ = sad.Add(&SAEntry{SA: newSA(b, uint32(0x10000+i), Inbound)})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if sad.Inbound(uint32(0x10000+i%10000)) == nil {
			b.Fatal("miss")
		}
		i++
	}
}

func TestAdmit(t *testing.T) {
	spd := haSPD()
	bu := InboundPacket(homeAddress1, homeAgent1, ProtoMH, mhPort(MHBindingUpdate), 0)
	forged := InboundPacket(stranger, homeAgent1, ProtoMH, mhPort(MHBindingUpdate), 0)
	ike := InboundPacket(careOf1, homeAgent1, ProtoUDP, 4500, 4500)
	other := InboundPacket(cn, stranger, ProtoTCP, 1, 2)
	if spd.AdmitClear(&bu, Bypass) || spd.AdmitClear(&forged, Bypass) || !spd.AdmitClear(&ike, Discard) ||
		spd.AdmitClear(&other, Discard) || !spd.AdmitClear(&other, Bypass) {
		t.Fatal("clear-text verdicts")
	}
	if spd.Drops(DropUnprotected) != 1 || spd.Drops(DropDiscardPolicy) != 1 || spd.Drops(DropNoPolicy) != 1 {
		t.Fatalf("counters %d %d %d", spd.Drops(DropUnprotected), spd.Drops(DropDiscardPolicy), spd.Drops(DropNoPolicy))
	}
	sa := example.ManualSAs(RoleHomeAgent, PolicyOptions{Manual: &manualSPIs})[1] // SA1, inbound BU
	e := sa.Entry(newSA(t, sa.SPI, sa.Dir), "user_1", homeAddress1)
	if !spd.AdmitProtected(e, &bu) || spd.AdmitProtected(e, &forged) || spd.Drops(DropSelectorMismatch) != 1 {
		t.Fatal("protected verdicts")
	}
	if DropSelectorMismatch.String() != "selector mismatch" {
		t.Fatal("names")
	}
}

// FuzzFromIPv6 runs arbitrary packets through the policy path the data
// plane uses: parse, selector view, lookup, verdicts. Nothing may panic,
// and the index must agree with a plain scan.
func FuzzFromIPv6(f *testing.F) {
	f.Add(ipv6.AppendUDP(nil, netip.AddrPortFrom(careOf1, 4500), netip.AddrPortFrom(homeAgent1, 4500), []byte{0xff}))
	f.Add((&ipv6.Packet{Header: ipv6.Header{Src: careOf1, Dst: homeAgent1, HopLimit: 64}, HomeAddress: homeAddress1, Proto: ProtoMH}).
		Append(nil, []byte{59, 1, MHBindingUpdate, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
	spd := haSPD()
	f.Fuzz(func(t *testing.T, b []byte) {
		var p ipv6.Packet
		if ipv6.ParsePacket(b, &p) != nil {
			return
		}
		for _, dir := range []Direction{Inbound, Outbound} {
			pkt, _ := FromIPv6(dir, &p)
			if got, want := spd.Lookup(dir, &pkt), linear(spd, dir, &pkt); got != want {
				t.Fatalf("index %v, scan %v", got, want)
			}
			spd.AdmitClear(&pkt, Discard)
		}
	})
}

func TestPADAuthorizedHomeAddress(t *testing.T) {
	p := NewPAD()
	static := netip.MustParseAddr("2001:db8:1::100")
	dyn := netip.MustParseAddr("2001:db8:1::1000")
	p.Set(PADEntry{Identity: "alice@example.net", ChildSAAddrs: []AddrRange{{From: static, To: static}}})
	p.Set(PADEntry{Identity: "mallory@example.net"})
	if err := p.AddTemporary("mallory@example.net", dyn); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   string
		hoa  netip.Addr
		want bool
	}{
		{"alice@example.net", static, true},
		{"mallory@example.net", static, false},
		{"mallory@example.net", dyn, true},
		{"alice@example.net", dyn, false}, // linked to mallory, whatever alice's static entry says
		{"nobody@example.net", static, false},
	} {
		if got := p.Authorized(c.id, c.hoa); got != c.want {
			t.Errorf("Authorized(%s, %s) = %v, want %v", c.id, c.hoa, got, c.want)
		}
	}
}
