package node

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"mip6/ike"
	"mip6/ike/crypto"
	"mip6/internal/tshark"
	"mip6/ipsec"
	"mip6/vnet"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// SPIs of the hand-keyed MPS/MPA pairs: the home agent receives on
// mpdSPIHA, the mobile node on mpdSPIMN.
const mpdSPIHA, mpdSPIMN = 0x7000, 0x8000

// mpdPair builds matching MPS/MPA transport-mode pairs with the RFC 4877
// §7.2.3 selectors, keyed by hand.
func mpdPair(t testing.TB, spiHA, spiMN uint32, identity string, home netip.Addr) (haSide, mnSide *Child) {
	t.Helper()
	return transportPair(t, spiHA, spiMN, identity, home, ipsec.ProtoICMPv6,
		ipsec.ICMPv6MobilePrefixSolicitation, ipsec.ICMPv6MobilePrefixAdvertisement)
}

// newMPDLab is a transport-form lab with the MPS/MPA pair installed on
// both sides, the mobile node registered from access network A.
func newMPDLab(t *testing.T, capture string) (l *lab, haPD, mnPD *Child) {
	l = newLabWith(t, labOptions{transport: true, capture: capture})
	haPD, mnPD = mpdPair(t, mpdSPIHA, mpdSPIMN, alice, hoa)
	if err := l.ha.Install(haPD); err != nil {
		t.Fatal(err)
	}
	if err := l.mn.Install(mnPD); err != nil {
		t.Fatal(err)
	}
	if l.mn.pfx.Load() != mnPD || l.mn.sig.Load() != l.mnSig {
		t.Fatal("Install did not tell the MPS/MPA pair from the BU/BA pair")
	}
	coa := vnet.AddrOn(vnet.APrefix, 0x100)
	l.mn.Attach(coa)
	waitRegistered(t, l, coa)
	time.Sleep(time.Second)
	return l, haPD, mnPD
}

// TestTransportFormPrefixDiscovery: with the MPS/MPA pair installed, the
// Mobile Prefix Solicitation goes from the care-of address with a Home
// Address option through it, and the Advertisement comes back behind a
// Type 2 Routing header through its pair; nothing goes through the
// tunnel. tshark decrypts both on the home link (ICMPv6 146 and 147, good
// checksums over the home address) and finds nothing malformed.
func TestTransportFormPrefixDiscovery(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		l, _, _ := newMPDLab(t, dir)
		l.mn.SolicitPrefixes()
		time.Sleep(time.Second)
		if _, ok := l.heard.Load("Mobile Prefix Advertisement received"); !ok {
			t.Fatalf("no Mobile Prefix Advertisement came back: mn %v, ha %v", l.mn.t.counters.snapshot(), l.ha.t.counters.snapshot())
		}
		for _, c := range []struct {
			who  string
			got  uint64
			want uint64
		}{
			{"mn " + cMPSOut, l.mnCount(cMPSOut), 1}, {"mn " + cMPAIn, l.mnCount(cMPAIn), 1},
			{"ha " + cMPSIn, l.haCount(cMPSIn), 1}, {"ha " + cMPAOut, l.haCount(cMPAOut), 1},
			{"mn " + cESPOut, l.mnCount(cESPOut), 0}, {"ha " + cESPOut, l.haCount(cESPOut), 0},
			{"mn " + cTransportOut, l.mnCount(cTransportOut), 2}, {"mn " + cTransportIn, l.mnCount(cTransportIn), 2},
			{"ha " + cDropTransportSelectors, l.haCount(cDropTransportSelectors), 0},
		} {
			if c.got != c.want {
				t.Errorf("%s = %d, want %d", c.who, c.got, c.want)
			}
		}
		if in, out := l.haSig.In.SA.Stats().Packets, l.haSig.Out.SA.Stats().Packets; in != 1 || out != 1 {
			t.Errorf("BU/BA SA carried %d in / %d out, want the BU and the BA only", in, out)
		}
		l.d.Net.Close()
	})
	checkPrefixDiscoveryCapture(t, filepath.Join(dir, "home.pcap"))
}

// checkPrefixDiscoveryCapture dissects the home link's capture of
// TestTransportFormPrefixDiscovery: one MPS, one MPA, in the transport form.
func checkPrefixDiscoveryCapture(t *testing.T, path string) {
	var opts tshark.Options
	opts.Prefs = []string{"esp.enable_encryption_decode:TRUE"}
	for _, spi := range []uint32{0x5000, 0x6000, mpdSPIHA, mpdSPIMN} {
		opts.UAT = append(opts.UAT, tshark.UATRecord{Table: "esp_sa", Fields: []string{"IPv6", "*", "*",
			fmt.Sprintf("0x%08x", spi), "AES-GCM with 16 octet ICV [RFC4106]", "0x" + hex.EncodeToString(sigKey), "NULL", ""}})
	}
	tshark.RequireClean(t, path, opts)
	opts.Filter = "icmpv6.type == 146 || icmpv6.type == 147"
	pkts := tshark.Run(t, path, opts, "ipv6.src", "ipv6.dst", "ipv6.opt.mipv6.home_address", "ipv6.routing.type",
		"ipv6.routing.segleft", "ipv6.routing.mipv6.home_address", "esp.spi", "icmpv6.type", "icmpv6.checksum.status", "udp.port")
	var got []string
	for _, p := range pkts {
		got = append(got, fmt.Sprintf("%s>%s hao=%s rh=%s/%s/%s spi=%s icmpv6=%s checksum=%s udp=%s", p.Get("ipv6.src"), p.Get("ipv6.dst"),
			p.Get("ipv6.opt.mipv6.home_address"), p.Get("ipv6.routing.type"), p.Get("ipv6.routing.segleft"),
			p.Get("ipv6.routing.mipv6.home_address"), p.Get("esp.spi"), p.Get("icmpv6.type"), p.Get("icmpv6.checksum.status"), p.Get("udp.port")))
	}
	coa := vnet.AddrOn(vnet.APrefix, 0x100)
	want := []string{
		fmt.Sprintf("%s>%s hao=%s rh=// spi=0x%08x icmpv6=146 checksum=1 udp=", coa, vnet.HAAddr, hoa, mpdSPIHA),
		fmt.Sprintf("%s>%s hao= rh=2/1/%s spi=0x%08x icmpv6=147 checksum=1 udp=", vnet.HAAddr, coa, hoa, mpdSPIMN),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("home link, Mobile Prefix Discovery:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// mpsMsg is a Mobile Prefix Solicitation from home, checksum over it.
func mpsMsg(id uint16, home netip.Addr) []byte {
	s := ipv6.MobilePrefixSolicitation{Identifier: id}
	return s.Append(nil, home, vnet.HAAddr)
}

// TestTransportFormPrefixDiscoveryAttacks: at the home agent, a
// solicitation through the wrong kind of SA, for another mobile node's
// home address, or through the tunnel SA, and a Binding Update through the
// MPS/MPA SA, are dropped and counted; nothing is answered and the binding
// stays as it was.
func TestTransportFormPrefixDiscoveryAttacks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, _, mnPD := newMPDLab(t, "")
		before, _ := l.ha.core.Cache().Lookup(hoa)
		coa := before.CareOf
		mallory := netip.MustParseAddr("2001:db8:1::666")
		// Mallory's own MPS/MPA pair, made for her home address.
		malHA, malMN := mpdPair(t, 0x7100, 0x8100, "mallory@example.net", mallory)
		if err := l.ha.Install(malHA); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		for _, a := range []struct {
			name, counter string
			pkt           []byte
		}{
			{"MPS through the BU/BA SA", cDropTransportSelectors,
				rawPacket(t, l.mnSig.Out, coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoICMPv6, mpsMsg(1, hoa))},
			{"BU through the MPS/MPA SA", cDropTransportSelectors,
				rawPacket(t, mnPD.Out, coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoMobility, buMsg(before.Sequence+10, hoa, coa))},
			{"MPA sent to the home agent", cDropTransportSelectors, func() []byte {
				mpa := l.ha.core.PrefixAdvertisement(nil, 1, hoa)
				return rawPacket(t, mnPD.Out, coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoICMPv6, mpa[ipv6.HeaderLen:])
			}()},
			{"another mobile node's home address in the HAO", cDropHAOMismatch,
				rawPacket(t, mnPD.Out, coa, vnet.HAAddr, mallory, netip.Addr{}, ipv6.ProtoICMPv6, mpsMsg(2, mallory))},
			{"alice's home address through mallory's SA", cDropHAOMismatch,
				rawPacket(t, malMN.Out, vnet.AddrOn(vnet.APrefix, 0x666), vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoICMPv6, mpsMsg(3, hoa))},
			{"MPS in the transport form through the tunnel SA", cDropNotTransport,
				rawPacket(t, l.mnTun.Out, coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoICMPv6, mpsMsg(4, hoa))},
		} {
			n, mpaOut, sent, bus := l.haCount(a.counter), l.haCount(cMPAOut), l.haCount(cTransportOut), l.haCount(cBUIn)
			l.ha.HandleRaw(a.pkt, now)
			if got := l.haCount(a.counter); got != n+1 {
				t.Errorf("%s: %s %d -> %d, want +1 (%v)", a.name, a.counter, n, got, l.ha.t.counters.snapshot())
			}
			if l.haCount(cMPAOut) != mpaOut || l.haCount(cTransportOut) != sent || l.haCount(cBUIn) != bus {
				t.Errorf("%s: answered or processed: %v", a.name, l.ha.t.counters.snapshot())
			}
			if b, _ := l.ha.core.Cache().Lookup(hoa); b != before {
				t.Errorf("%s: binding changed: %+v, was %+v", a.name, b, before)
			}
		}
		// The genuine solicitation through the right SA is answered.
		l.ha.HandleRaw(rawPacket(t, mnPD.Out, coa, vnet.HAAddr, hoa, netip.Addr{}, ipv6.ProtoICMPv6, mpsMsg(5, hoa)), now)
		if l.haCount(cMPAOut) != 1 {
			t.Errorf("genuine MPS: %s = %d, want 1", cMPAOut, l.haCount(cMPAOut))
		}
		// Raw ESP from the home address, no Home Address option (what the
		// plane hands HandleTransportESP): the same checks.
		espOf := func(out *ipsec.SAEntry, nh uint8, msg []byte) []byte {
			sealed, err := out.SA.Seal(nil, msg, nh)
			if err != nil {
				t.Fatal(err)
			}
			return sealed
		}
		n := l.haCount(cDropTransportSelectors)
		l.ha.HandleTransportESP(espOf(mnPD.Out, ipv6.ProtoMobility, buMsg(before.Sequence+20, hoa, coa)), hoa, vnet.HAAddr, now)
		if l.haCount(cDropTransportSelectors) != n+1 || l.haCount(cBUIn) != 1 {
			t.Errorf("BU through the MPS/MPA SA, no HAO: %v", l.ha.t.counters.snapshot())
		}
		l.ha.HandleTransportESP(espOf(mnPD.Out, ipv6.ProtoICMPv6, mpsMsg(6, hoa)), hoa, vnet.HAAddr, now)
		if l.haCount(cMPAOut) != 2 {
			t.Errorf("MPS from the home address: %s = %d, want 2", cMPAOut, l.haCount(cMPAOut))
		}
		l.d.Net.Close()
	})
}

// TestTransportFormPrefixDiscoveryMobileNodeDrops: the mobile node takes
// an MPA in the transport form only through the MPS/MPA SA, and a BA only
// through the BU/BA SA.
func TestTransportFormPrefixDiscoveryMobileNodeDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, haPD, _ := newMPDLab(t, "")
		coa := vnet.AddrOn(vnet.APrefix, 0x100)
		mpa := l.ha.core.PrefixAdvertisement(nil, 1, hoa)[ipv6.HeaderLen:]
		ba := (&mh.BindingAck{Sequence: 1, Lifetime: 100}).Append(nil, vnet.HAAddr, hoa)
		for _, c := range []struct {
			name, counter string
			pkt           []byte
		}{
			{"MPA through the BU/BA SA", cDropTransportSelectors, rawPacket(t, l.haSig.Out, vnet.HAAddr, coa, netip.Addr{}, hoa, ipv6.ProtoICMPv6, mpa)},
			{"BA through the MPS/MPA SA", cDropTransportSelectors, rawPacket(t, haPD.Out, vnet.HAAddr, coa, netip.Addr{}, hoa, ipv6.ProtoMobility, ba)},
			{"MPA from another source", cDropWrongPeer, rawPacket(t, haPD.Out, vnet.CNAddr, coa, netip.Addr{}, hoa, ipv6.ProtoICMPv6, mpa)},
			{"MPA with an RH2 naming another home address", cDropRH2Mismatch,
				rawPacket(t, haPD.Out, vnet.HAAddr, coa, netip.Addr{}, netip.MustParseAddr("2001:db8:1::666"), ipv6.ProtoICMPv6, mpa)},
		} {
			n, mpas, acks := l.mnCount(c.counter), l.mnCount(cMPAIn), l.mnCount(cBAIn)
			l.mn.HandleRaw(c.pkt, time.Now())
			if l.mnCount(c.counter) != n+1 || l.mnCount(cMPAIn) != mpas || l.mnCount(cBAIn) != acks {
				t.Errorf("%s: %s %d -> %d, MPAs %d -> %d, acks %d -> %d", c.name, c.counter, n, l.mnCount(c.counter),
					mpas, l.mnCount(cMPAIn), acks, l.mnCount(cBAIn))
			}
		}
		// Through the right SA it is taken.
		l.mn.HandleRaw(rawPacket(t, haPD.Out, vnet.HAAddr, coa, netip.Addr{}, hoa, ipv6.ProtoICMPv6, mpa), time.Now())
		if l.mnCount(cMPAIn) != 1 {
			t.Errorf("genuine MPA: %s = %d, want 1", cMPAIn, l.mnCount(cMPAIn))
		}
		l.d.Net.Close()
	})
}

// TestPrefixDiscoveryChildFromIKE: an IKE-made CHILD_SA keeps its ICMPv6
// selectors (types in the high octet, each SA in its sender's view), the
// mobile node's Install takes it as the MPS/MPA pair, and the two install
// calls refuse each other's kind.
func TestPrefixDiscoveryChildFromIKE(t *testing.T) {
	mk := func(local, remote ike.Selector, in, out uint32) *Child {
		c := &ike.ChildSA{Name: "pd", InboundSPI: in, OutboundSPI: out, Transport: true,
			Suite:  ike.ChildSuite{Encr: crypto.Encr{ID: crypto.ENCR_AES_GCM_16, KeyLen: 128}},
			InEncr: sigKey, OutEncr: sigKey, LocalTS: []ike.Selector{local}, RemoteTS: []ike.Selector{remote},
			Local: netip.AddrPortFrom(vnet.AddrOn(vnet.APrefix, 1), 500), Remote: netip.AddrPortFrom(vnet.HAAddr, 500)}
		ch, err := ChildFromIKE(c, 1, alice, hoa)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	pd := mk(ike.ICMPv6Selector(hoa, 146), ike.ICMPv6Selector(vnet.HAAddr, 147), 0x9000, 0x9001)
	wantOut := ipsec.Selectors{Local: ipsec.Addr(hoa), Remote: ipsec.Addr(vnet.HAAddr), Proto: ipsec.ProtoICMPv6,
		LocalPort: ipsec.ICMPv6Type(146), RemotePort: ipsec.ICMPv6Type(147)}
	wantIn := ipsec.Selectors{Local: ipsec.Addr(vnet.HAAddr), Remote: ipsec.Addr(hoa), Proto: ipsec.ProtoICMPv6,
		LocalPort: ipsec.ICMPv6Type(147), RemotePort: ipsec.ICMPv6Type(146)}
	if pd.Out.Selectors != wantOut || pd.In.Selectors != wantIn || !pd.prefixDiscovery() {
		t.Fatalf("selectors out %+v in %+v, want %+v / %+v", pd.Out.Selectors, pd.In.Selectors, wantOut, wantIn)
	}
	sig := mk(ike.MHSelector(hoa, 5, 5), ike.MHSelector(vnet.HAAddr, 6, 6), 0x9100, 0x9101)
	if sig.prefixDiscovery() || sig.In.Selectors.Proto != ipsec.ProtoMH {
		t.Fatalf("BU/BA pair taken for MPS/MPA: %+v", sig.In.Selectors)
	}
	l := newLabWith(t, labOptions{})
	if err := l.mn.InstallSignalling(pd); err == nil {
		t.Error("InstallSignalling took the MPS/MPA pair")
	}
	if err := l.mn.InstallPrefixDiscovery(sig); err == nil {
		t.Error("InstallPrefixDiscovery took the BU/BA pair")
	}
	if err := l.mn.Install(pd); err != nil || l.mn.pfx.Load() != pd || l.mn.sig.Load() != nil {
		t.Fatalf("Install: %v; MPS/MPA pair %v, BU/BA pair %v", err, l.mn.pfx.Load(), l.mn.sig.Load())
	}
	if err := l.mn.Install(sig); err != nil || l.mn.sig.Load() != sig || l.mn.pfx.Load() != pd {
		t.Fatalf("Install: %v; BU/BA pair %v", err, l.mn.sig.Load())
	}
	l.d.Net.Close()
}
