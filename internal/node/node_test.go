package node

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"mip6/discovery"
	"mip6/esp"
	"mip6/ha"
	"mip6/ipsec"
	"mip6/mn"
	"mip6/vnet"
	"mip6/wire/ipv6"
)

const alice = "alice@example.net"

var hoa = netip.MustParseAddr("2001:db8:1::100")

type padFunc func(string, netip.Addr) bool

func (f padFunc) Authorized(id string, a netip.Addr) bool { return f(id, a) }

// pair builds matching CHILD_SA pairs for the HA and the MN, keyed by hand.
func pair(t *testing.T, spiHA, spiMN uint32, identity string, home netip.Addr) (haSide, mnSide *Child) {
	t.Helper()
	key := []byte("0123456789abcdef0123") // 16-byte AES key + 4-byte salt
	mk := func(spi uint32, dir esp.Direction, remote netip.Addr) *ipsec.SAEntry {
		sa, err := esp.New(esp.Config{SPI: spi, Direction: dir, Transform: esp.AESGCM128, Key: key, ESN: true,
			Endpoints: esp.Endpoints{Remote: netip.AddrPortFrom(remote, 4500), Carrier: esp.CarrierUDP}})
		if err != nil {
			t.Fatal(err)
		}
		return &ipsec.SAEntry{SA: sa, Mode: ipsec.Tunnel, Identity: identity, HomeAddress: home, PolicyID: uint64(spi)}
	}
	// HA receives on spiHA (MN sends with it) and sends on spiMN.
	haSide = &Child{In: mk(spiHA, esp.Inbound, netip.Addr{}), Out: mk(spiMN, esp.Outbound, netip.Addr{})}
	mnSide = &Child{In: mk(spiMN, esp.Inbound, vnet.HAAddr), Out: mk(spiHA, esp.Outbound, vnet.HAAddr)}
	return
}

type lab struct {
	d     *vnet.Demo
	ha    *HomeAgent
	mn    *MobileNode
	mnNd  *vnet.Node
	ifc   *vnet.Interface
	heard sync.Map // what the MN's packet path reported
	// The hand-keyed pairs: tunnel, and (transport labs) signalling.
	haTun, mnTun, haSig, mnSig *Child
	haPlane, mnPlane           *VnetPlane
}

// labOptions vary the lab: transport sends BU/BA in the RFC 3776
// transport form; capture, if set, is a directory for the links' pcaps.
type labOptions struct {
	transport bool
	capture   string
	// ikeSA names the IKE SA of the hand-keyed pairs; moveIKE hears the
	// home agent's K-flag moves of it.
	ikeSA   uint64
	moveIKE func(ikeSA uint64, to netip.AddrPort)
}

func newLab(t *testing.T) *lab { return newLabWith(t, labOptions{}) }

func newLabWith(t *testing.T, o labOptions) *lab {
	d := vnet.NewDemo()
	t.Cleanup(func() { d.Net.Close() })
	if o.capture != "" {
		if err := d.Net.CapturePcap(o.capture); err != nil {
			t.Fatal(err)
		}
	}
	core, err := ha.New(ha.Config{Address: vnet.HAAddr, HomePrefixes: []netip.Prefix{vnet.HomePrefix}, KeyMgmtMobility: true},
		padFunc(func(id string, a netip.Addr) bool { return id == alice && a == hoa }))
	if err != nil {
		t.Fatal(err)
	}
	haConn, err := d.HA.ListenUDP(netip.AddrPortFrom(vnet.HAAddr, 4500))
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHomeAgent(HomeAgentConfig{Core: core, HomePrefix: vnet.HomePrefix, PAD: ipsec.NewPAD(), SAD: ipsec.NewSAD(), SPD: ipsec.NewSPD(),
		Link: VnetHomeLink{Node: d.HA, Ifc: d.HAIfc}, Raw: VnetRaw{Node: d.HA}, MoveIKE: o.moveIKE})
	if err != nil {
		t.Fatal(err)
	}
	hp, err := StartVnetHomeAgent(d.HA, h, haConn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hp.Close() })

	mnNd := d.Net.NewNode("mn")
	coa := vnet.AddrOn(vnet.APrefix, 0x100)
	ifc := mnNd.Attach(d.A, coa)
	mnNd.AddLocalAddr(hoa)
	mnConn, err := mnNd.ListenUDP(netip.AddrPortFrom(netip.IPv6Unspecified(), 4500))
	if err != nil {
		t.Fatal(err)
	}
	mcore, err := mn.New(mn.Config{HomeAddress: hoa, HomeAgent: vnet.HAAddr, HomePrefix: vnet.HomePrefix, KeyMgmt: true, Lifetime: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	l := &lab{d: d, mnNd: mnNd, ifc: ifc}
	m, err := NewMobileNode(MobileNodeConfig{Identity: alice, HomeAddress: hoa, HomeAgent: vnet.HAAddr, Core: mcore,
		SAD: ipsec.NewSAD(), SPD: ipsec.NewSPD(), TransportForm: o.transport, Raw: VnetRaw{Node: mnNd},
		Observe: func(actor, step, what, detail string) { l.heard.Store(what, detail) }})
	if err != nil {
		t.Fatal(err)
	}
	mp, err := StartVnetMobileNode(mnNd, m, mnConn, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); mp.Close() })
	go m.Timers(stop)
	l.haPlane, l.mnPlane = hp, mp
	hs, ms := pair(t, 0x1000, 0x2000, alice, hoa)
	hs.IKESA = o.ikeSA
	if err := h.Install(hs); err != nil {
		t.Fatal(err)
	}
	if err := m.Install(ms); err != nil {
		t.Fatal(err)
	}
	l.haTun, l.mnTun = hs, ms
	if o.transport {
		l.haSig, l.mnSig = sigPair(t, 0x5000, 0x6000, alice, hoa)
		if err := h.Install(l.haSig); err != nil {
			t.Fatal(err)
		}
		if err := m.Install(l.mnSig); err != nil {
			t.Fatal(err)
		}
	}
	l.ha, l.mn = h, m
	return l
}

func waitRegistered(t *testing.T, l *lab, coa netip.Addr) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if b, ok := l.ha.core.Cache().Lookup(hoa); ok && b.CareOf == coa {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no binding %s -> %s at the home agent", hoa, coa)
}

func ping(t *testing.T, l *lab, seq uint16) {
	t.Helper()
	p := l.d.CN.NewPinger(seq, vnet.CNAddr)
	if err := p.Send(hoa, seq); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-p.C:
		if r.From != hoa {
			t.Fatalf("reply from %s", r.From)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("ping %d to the home address got no reply", seq)
	}
}

// The whole mobility path on the lab network with hand-keyed SAs:
// register, ping the home address, move, ping, come home.
func TestRegisterMoveAndReturnHome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		coaA := vnet.AddrOn(vnet.APrefix, 0x100)
		l.mn.Attach(coaA)
		waitRegistered(t, l, coaA)
		ping(t, l, 1)

		// Move to access network B.
		l.ifc.Detach()
		coaB := vnet.AddrOn(vnet.BPrefix, 0x100)
		l.ifc = l.mnNd.Attach(l.d.B, coaB)
		l.mn.Attach(coaB)
		waitRegistered(t, l, coaB)
		ping(t, l, 2)
		var st = l.ha.t.counters.snapshot()
		if st[cHandovers] != 1 {
			t.Errorf("handovers = %d, want 1", st[cHandovers])
		}
		l.d.Net.Close()
	})
}

// An MN must not register another MN's home address, even through its own
// valid SA.
func TestBindingUpdateThroughAnotherMNsSAIsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		// Mallory's SA pair is bound to another home address; it carries
		// Alice's BU.
		mallory := netip.MustParseAddr("2001:db8:1::666")
		hs, _ := pair(t, 0x3000, 0x4000, "mallory@example.net", mallory)
		if err := l.ha.Install(hs); err != nil {
			t.Fatal(err)
		}
		// Re-key the MN's outbound tunnel onto Mallory's SA.
		_, ms := pair(t, 0x3000, 0x4000, "mallory@example.net", mallory)
		if err := l.mn.Install(ms); err != nil {
			t.Fatal(err)
		}
		l.mn.Attach(vnet.AddrOn(vnet.APrefix, 0x100))
		time.Sleep(3 * time.Second)
		if _, ok := l.ha.core.Cache().Lookup(hoa); ok {
			t.Fatal("binding created through an SA made for another home address")
		}
		if d := l.ha.core.Counters().Drops[ha.DropWrongSA]; d == 0 {
			t.Fatalf("drops = %v, want wrong-sa counted", l.ha.core.Counters().Drops)
		}
		l.d.Net.Close()
	})
}

func TestReturnHomeDeregisters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		coaA := vnet.AddrOn(vnet.APrefix, 0x100)
		l.mn.Attach(coaA)
		waitRegistered(t, l, coaA)
		l.ifc.Detach()
		l.ifc = l.mnNd.Attach(l.d.Home, hoa)
		l.mn.Attach(hoa)
		for i := 0; i < 200; i++ {
			if _, ok := l.ha.core.Cache().Lookup(hoa); !ok {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, ok := l.ha.core.Cache().Lookup(hoa); ok {
			t.Fatal("binding still there after returning home")
		}
		time.Sleep(time.Second)
		l.mn.mu.Lock()
		st := l.mn.core.State()
		l.mn.mu.Unlock()
		if st.Registered || !st.AtHome || st.Pending {
			t.Fatalf("mn state after de-registration: %+v", st)
		}
		ping(t, l, 3) // answered on the home link, no tunnel
		l.d.Net.Close()
	})
}

// DHAAD from a care-of address finds the home agent (RFC 6275 §10.5), and
// a registered MN learns its home prefix through the tunnel (MPS/MPA).
func TestHomeAgentDiscoveryAndPrefixes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		conn, err := l.mnNd.ListenICMP(netip.Addr{}, ipv6.ICMPv6DHAADReply)
		if err != nil {
			t.Fatal(err)
		}
		c := discovery.DHAADClient{Conn: conn}
		has, err := c.Discover(context.Background(), vnet.HomePrefix)
		if err != nil || len(has) != 1 || has[0] != vnet.HAAddr {
			t.Fatalf("DHAAD: %v, %v", has, err)
		}
		l.mn.Attach(vnet.AddrOn(vnet.APrefix, 0x100))
		waitRegistered(t, l, vnet.AddrOn(vnet.APrefix, 0x100))
		l.mn.SolicitPrefixes()
		time.Sleep(time.Second)
		if _, ok := l.heard.Load("Mobile Prefix Advertisement received"); !ok {
			t.Fatal("no Mobile Prefix Advertisement came back through the tunnel")
		}
		l.d.Net.Close()
	})
}

// announcingHost records when the mobile node asks for its home address to
// be advertised on the home link, and whether the home agent still had the
// binding (and so its proxy) then.
type announcingHost struct {
	ha         *HomeAgent
	calls      atomic.Int32
	whileBound atomic.Bool
}

func (h *announcingHost) AnnounceHome() error {
	h.calls.Add(1)
	if _, ok := h.ha.core.Cache().Lookup(hoa); ok {
		h.whileBound.Store(true)
	}
	return nil
}

// Back home, the mobile node advertises its home address only after the
// home agent acknowledged the de-registration (RFC 6275 §11.5.4), never
// while the home agent's proxy might still answer for it, and not when it
// de-registers from away.
func TestReturnHomeAnnouncesAfterAck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		host := &announcingHost{ha: l.ha}
		l.mn.cfg.Host = host
		coaA := vnet.AddrOn(vnet.APrefix, 0x100)
		l.mn.Attach(coaA)
		waitRegistered(t, l, coaA)
		if n := host.calls.Load(); n != 0 {
			t.Fatalf("%d announcements while away", n)
		}
		l.ifc.Detach()
		l.ifc = l.mnNd.Attach(l.d.Home, hoa)
		l.mn.Attach(hoa)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if n := host.calls.Load(); n != 1 || host.whileBound.Load() {
			t.Fatalf("%d announcements, one while the binding was still there: %v", n, host.whileBound.Load())
		}
		l.d.Net.Close()
	})
}

// After the mobile node's IKE SA was rekeyed, a move with K moves the new
// IKE SA, not the one that is gone (RFC 4877 §4.3, RFC 7296 §2.18).
func TestKFlagMoveFollowsIKERekey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var moves []uint64
		l := newLabWith(t, labOptions{ikeSA: 7, moveIKE: func(sa uint64, _ netip.AddrPort) {
			mu.Lock()
			moves = append(moves, sa)
			mu.Unlock()
		}})
		coaA := vnet.AddrOn(vnet.APrefix, 0x100)
		l.mn.Attach(coaA)
		waitRegistered(t, l, coaA)
		l.ha.IKESARekeyed(7, 9)
		l.ifc.Detach()
		coaB := vnet.AddrOn(vnet.BPrefix, 0x100)
		l.ifc = l.mnNd.Attach(l.d.B, coaB)
		l.mn.Attach(coaB)
		waitRegistered(t, l, coaB)
		mu.Lock()
		got := append([]uint64(nil), moves...)
		mu.Unlock()
		if len(got) != 2 || got[0] != 7 || got[1] != 9 {
			t.Fatalf("IKE SAs moved: %v, want [7 9]", got)
		}
		l.d.Net.Close()
	})
}
