package hostnet

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mip6/dataplane"
	"mip6/esp"
	"mip6/ha"
	"mip6/internal/control"
	"mip6/internal/netns"
	"mip6/internal/node"
	"mip6/internal/tshark"
	"mip6/ipsec"
	"mip6/mn"
)

// The topology, only 2001:db8::/32:
//
//	HA 2001:db8:1::2 ──┐                      ┌── A 2001:db8:a::/64 ── (MN, first)
//	                   brH ─ router ::1 on each ─ B 2001:db8:b::/64 ── (MN, then)
//	(MN, back home) ───┘        │
//	                   CN 2001:db8:c::2 on 2001:db8:c::/64
//
// The three links are bridges in the router's namespace; the MN's veth
// "moves" when its router-side port changes bridge.
var (
	homePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	haAddr     = netip.MustParseAddr("2001:db8:1::2")
	homeAddr   = netip.MustParseAddr("2001:db8:1::100")
	cnAddr     = netip.MustParseAddr("2001:db8:c::2")
	coaA       = netip.MustParseAddr("2001:db8:a::100")
	coaB       = netip.MustParseAddr("2001:db8:b::100")
)

const (
	mnIdentity = "mn@example.net"
	// mnPort is the router's end of the MN's veth.
	mnPort = "p-mn"
)

type topology struct {
	ha, rt, mn, cn *netns.NS
}

func buildTopology(t testing.TB) *topology {
	tp := &topology{ha: netns.New(t, "ha"), rt: netns.New(t, "rt"), mn: netns.New(t, "mn"), cn: netns.New(t, "cn")}
	rt := tp.rt
	rt.Forwarding(t)
	// A spare port (a veth whose other end stays idle, with IPv6 off) keeps
	// each bridge's carrier up while the MN's port moves: a bridge that
	// gains its first port gets carrier only after linkwatch's delay of up
	// to a second, and the first Binding Update would wait for it.
	for _, br := range []string{"brH", "brA", "brB"} {
		rt.Bridge(t, br)
		rt.Run(t, "ip", "link", "add", "s"+br, "type", "veth", "peer", "name", "i"+br)
		rt.Sysctl(t, "net.ipv6.conf.i"+br+".disable_ipv6", "1")
		rt.Run(t, "ip", "link", "set", "s"+br, "master", br)
		rt.Up(t, "s"+br)
		rt.Up(t, "i"+br)
	}
	netns.Link(t, tp.ha, "home0", rt, "p-ha")
	rt.Run(t, "ip", "link", "set", "p-ha", "master", "brH")
	netns.Link(t, tp.mn, "eth0", rt, mnPort)
	rt.Run(t, "ip", "link", "set", mnPort, "master", "brA")
	netns.Link(t, tp.cn, "eth0", rt, "p-cn")
	rt.AddAddr(t, "brH", "2001:db8:1::1/64")
	rt.AddAddr(t, "brA", "2001:db8:a::1/64")
	rt.AddAddr(t, "brB", "2001:db8:b::1/64")
	rt.AddAddr(t, "p-cn", "2001:db8:c::1/64")

	// Captured packets carry the checksums their receivers check.
	for _, e := range []struct {
		ns  *netns.NS
		dev string
	}{{tp.ha, "home0"}, {tp.mn, "eth0"}, {tp.cn, "eth0"}, {rt, "p-ha"}, {rt, mnPort}, {rt, "p-cn"}} {
		if err := e.ns.Do(func() error { return disableTxChecksumOffload(e.dev) }); err != nil {
			t.Fatal(err)
		}
	}
	tp.ha.AddAddr(t, "home0", haAddr.String()+"/64")
	tp.ha.AddRoute(t, "default", "via", "2001:db8:1::1")
	tp.cn.AddAddr(t, "eth0", cnAddr.String()+"/64")
	tp.cn.AddRoute(t, "default", "via", "2001:db8:c::1")
	tp.mn.AddAddr(t, "eth0", coaA.String()+"/64")
	tp.mn.AddRoute(t, "default", "via", "2001:db8:a::1")
	for _, e := range []struct {
		ns  *netns.NS
		dev string
	}{{tp.ha, "home0"}, {tp.mn, "eth0"}, {tp.cn, "eth0"}, {rt, "brH"}, {rt, "brA"}, {rt, "p-cn"}} {
		waitLinkLocal(t, e.ns, e.dev)
	}
	return tp
}

// attachMN moves the MN's cable to bridge br and gives eth0 addr/64 with
// a default route via the router on that link, then removes the old
// address (so a follower sees the new address with its route in place).
func (tp *topology) attachMN(t testing.TB, br string, old, addr netip.Addr) {
	tp.rt.Run(t, "ip", "link", "set", mnPort, "master", br)
	tp.mn.AddAddr(t, "eth0", addr.String()+"/64")
	gw := netip.PrefixFrom(addr, 64).Masked().Addr().Next()
	tp.mn.Run(t, "ip", "-6", "route", "replace", "default", "via", gw.String(), "dev", "eth0")
	tp.mn.Run(t, "ip", "-6", "addr", "del", old.String()+"/64", "dev", "eth0")
}

// keying makes matching CHILD_SA pairs for both roles, bound to identity
// and home address, and returns the esp_sa rows that let tshark decrypt
// them. IKE keying plugs in here.
type keying func(t testing.TB, identity string, hoa, haAddr netip.Addr) (haSide, mnSide *node.Child, uat []tshark.UATRecord)

// handKeyed keys both directions with fresh random AES-GCM-128 keys,
// without extended sequence numbers: tshark 4.0 cannot check the ICV of an
// ESN SA.
func handKeyed(t testing.TB, identity string, hoa, haAddr netip.Addr) (haSide, mnSide *node.Child, uat []tshark.UATRecord) {
	t.Helper()
	mk := func(spi uint32, key []byte, dir esp.Direction, remote netip.Addr) *ipsec.SAEntry {
		ep := esp.Endpoints{Carrier: esp.CarrierUDP}
		if remote.IsValid() {
			ep.Remote = netip.AddrPortFrom(remote, ESPPort)
		}
		sa, err := esp.New(esp.Config{SPI: spi, Direction: dir, Transform: esp.AESGCM128, Key: key, Endpoints: ep})
		if err != nil {
			t.Fatal(err)
		}
		return &ipsec.SAEntry{SA: sa, Mode: ipsec.Tunnel, Identity: identity, HomeAddress: hoa, PolicyID: uint64(spi)}
	}
	const toHA, toMN = 0x1000a001, 0x2000b002
	kHA, kMN := make([]byte, 20), make([]byte, 20) // AES-128 key + 4-byte salt
	rand.Read(kHA)
	rand.Read(kMN)
	haSide = &node.Child{In: mk(toHA, kHA, esp.Inbound, netip.Addr{}), Out: mk(toMN, kMN, esp.Outbound, netip.Addr{})}
	mnSide = &node.Child{In: mk(toMN, kMN, esp.Inbound, haAddr), Out: mk(toHA, kHA, esp.Outbound, haAddr)}
	for _, k := range []struct {
		spi uint32
		key []byte
	}{{toHA, kHA}, {toMN, kMN}} {
		uat = append(uat, tshark.UATRecord{Table: "esp_sa", Fields: []string{"IPv6", "*", "*", fmt.Sprintf("0x%08x", k.spi),
			"AES-GCM with 16 octet ICV [RFC4106]", "0x" + hex.EncodeToString(k.key), "NULL", ""}})
	}
	return haSide, mnSide, uat
}

type padFunc func(string, netip.Addr) bool

func (f padFunc) Authorized(id string, a netip.Addr) bool { return f(id, a) }

// haRole is the home agent running in its namespace, on a data plane as
// the daemon runs it: the plane owns UDP port 4500 and the TUN.
type haRole struct {
	core  *ha.HomeAgent
	node  *node.HomeAgent
	link  *HomeLink
	plane *dataplane.Plane
}

func startHA(t testing.TB, ns *netns.NS, child *node.Child) *haRole {
	r := &haRole{}
	var bind *dataplane.UDPBind
	err := ns.Do(func() error {
		var err error
		pad := padFunc(func(id string, a netip.Addr) bool { return id == mnIdentity && a == homeAddr })
		if r.core, err = ha.New(ha.Config{Address: haAddr, HomePrefixes: []netip.Prefix{homePrefix}, KeyMgmtMobility: true}, pad); err != nil {
			return err
		}
		if r.link, err = NewHomeLink(HomeLinkConfig{Interface: "home0"}); err != nil {
			return err
		}
		if bind, err = dataplane.ListenUDP(netip.AddrPortFrom(netip.IPv6Unspecified(), ESPPort), 0); err != nil {
			return err
		}
		spd, sad := ipsec.NewSPD(), ipsec.NewSAD()
		if r.node, err = node.NewHomeAgent(node.HomeAgentConfig{Core: r.core, PAD: ipsec.NewPAD(), SAD: sad, SPD: spd, Link: r.link}); err != nil {
			return err
		}
		r.plane, err = dataplane.New(dataplane.Config{TUN: r.link.TUN().Device(), Bind: bind, SPD: spd, SAD: sad,
			Local: r.node.PlaneLocal, Unprotected: func(pkt []byte) {
				if !r.node.FromHomeLink(pkt) {
					r.link.Unclaimed.Add(1)
				}
			}})
		return err
	})
	// As the daemon stops: the link (routes, then the TUN), then the plane.
	if r.plane != nil {
		t.Cleanup(func() { r.plane.Close() })
	} else if bind != nil {
		t.Cleanup(func() { bind.Close() })
	}
	if r.link != nil {
		t.Cleanup(func() { r.link.Close() })
	}
	if err != nil {
		t.Fatalf("home agent: %v", err)
	}
	r.node.AttachPlane(r.plane)
	if err := r.node.Install(child); err != nil {
		t.Fatal(err)
	}
	return r
}

// mnRole is the mobile node running in its namespace, on a data plane.
type mnRole struct {
	node  *node.MobileNode
	host  *MobileHost
	plane *dataplane.Plane
}

func startMN(t testing.TB, ns *netns.NS, child *node.Child) *mnRole {
	r := &mnRole{}
	var bind *dataplane.UDPBind
	err := ns.Do(func() error {
		core, err := mn.New(mn.Config{HomeAddress: homeAddr, HomeAgent: haAddr, HomePrefix: homePrefix, KeyMgmt: true, Lifetime: 10 * time.Minute})
		if err != nil {
			return err
		}
		if r.host, err = NewMobileHost(MobileHostConfig{HomeAddress: homeAddr, Interface: "eth0"}); err != nil {
			return err
		}
		if bind, err = dataplane.ListenUDP(netip.AddrPortFrom(netip.IPv6Unspecified(), ESPPort), 0); err != nil {
			return err
		}
		spd, sad := ipsec.NewSPD(), ipsec.NewSAD()
		r.node, err = node.NewMobileNode(node.MobileNodeConfig{Identity: mnIdentity, HomeAddress: homeAddr, HomeAgent: haAddr,
			Core: core, SAD: sad, SPD: spd, Host: r.host})
		if err != nil {
			return err
		}
		r.plane, err = dataplane.New(dataplane.Config{TUN: r.host.TUN().Device(), Bind: bind, SPD: spd, SAD: sad,
			Local: r.node.PlaneLocal, Unprotected: func(pkt []byte) {
				if !r.node.FromHost(pkt) {
					r.host.NotTunnelled.Add(1)
				}
			}})
		return err
	})
	if r.plane != nil {
		t.Cleanup(func() { r.plane.Close() })
	} else if bind != nil {
		t.Cleanup(func() { bind.Close() })
	}
	if r.host != nil {
		t.Cleanup(func() { r.host.Close() })
	}
	if err != nil {
		t.Fatalf("mobile node: %v", err)
	}
	r.node.AttachPlane(r.plane)
	if err := r.node.Install(child); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go r.node.Timers(stop)
	return r
}

func (r *mnRole) counter(name string) uint64 {
	var s control.Status
	r.node.Status(&s)
	return s.Counters[name]
}

func (r *mnRole) status() control.Binding {
	var s control.Status
	r.node.Status(&s)
	return s.Bindings[0]
}

// attach gives the MN care-of address coa and waits until the HA's binding
// has it and the MN has received one more acknowledgement; it returns how
// long that took (one signalling round trip plus processing).
func attach(t testing.TB, h *haRole, m *mnRole, coa netip.Addr) time.Duration {
	t.Helper()
	acks := m.counter("binding_acks_in")
	start := time.Now()
	m.node.Attach(coa)
	return awaitBinding(t, h, m, coa, acks, start)
}

// awaitBinding waits until the HA's binding has care-of address coa and the
// MN has more than acks acknowledgements; it returns the time since start.
func awaitBinding(t testing.TB, h *haRole, m *mnRole, coa netip.Addr, acks uint64, start time.Time) time.Duration {
	t.Helper()
	deadline := start.Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, ok := h.core.Cache().Lookup(homeAddr)
		st := m.status()
		if ok && b.CareOf == coa && m.counter("binding_acks_in") > acks && st.State == "registered" && st.CareOf == coa.String() {
			return time.Since(start)
		}
		time.Sleep(100 * time.Microsecond)
	}
	b, ok := h.core.Cache().Lookup(homeAddr)
	t.Fatalf("no binding to %s within 10 s: HA binding %+v (present %v), MN %+v", coa, b, ok, m.status())
	return 0
}

// pingHome pings the home address from the correspondent until a reply
// comes back (bounded: 10 s).
func pingHome(t testing.TB, cn *netns.NS) { pingHomeSize(t, cn, 56) }

// pingHomeSize is pingHome with a payload of size bytes.
func pingHomeSize(t testing.TB, cn *netns.NS, size int) {
	t.Helper()
	netns.Eventually(t, 10*time.Second, func() error {
		_, err := cn.ExecWithin(5*time.Second, "ping", "-6", "-n", "-c", "1", "-W", "1", "-s", strconv.Itoa(size), homeAddr.String())
		return err
	})
}

// startCapture records the HA's home-link interface.
func startCapture(t testing.TB, ns *netns.NS, path string) *netns.Proc {
	p := ns.Start(t, "tcpdump", "-n", "-U", "--immediate-mode", "-B", "32768", "-i", "home0", "-w", path, "ip6")
	netns.Eventually(t, 10*time.Second, func() error {
		if ok, err := p.Exited(); ok {
			return fmt.Errorf("tcpdump exited: %v: %s", err, p.Output())
		}
		if !strings.Contains(p.Output(), "listening on") {
			return fmt.Errorf("tcpdump not listening yet")
		}
		return nil
	})
	return p
}

// writeESPKeys writes the esp_sa rows as Wireshark's UAT file, so the
// capture can be read decrypted: WIRESHARK_CONFIG_DIR=<dir> tshark -o
// esp.enable_encryption_decode:TRUE -r <dir>/home-link.pcap.
func writeESPKeys(t testing.TB, path string, uat []tshark.UATRecord) {
	var b strings.Builder
	for _, u := range uat {
		q := make([]string, len(u.Fields))
		for i, f := range u.Fields {
			q[i] = strconv.Quote(f)
		}
		fmt.Fprintln(&b, strings.Join(q, ","))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSystemRegisterMoveReturnHome runs the scenario in network
// namespaces (root; ping, tcpdump and tshark needed):
//
//	go test -run TestSystem -v ./internal/hostnet
//
// With MIP6_PCAP_DIR set, the home link's capture (home-link.pcap) and the
// ESP keys that decrypt it (esp_sa) stay in that directory.
func TestSystemRegisterMoveReturnHome(t *testing.T) {
	runScenario(t, handKeyed)
}

// runScenario: the MN registers from A, the CN pings the home address, the
// MN moves to B, ping again, it returns home and de-registers; the capture
// of the HA's home link is checked with tshark.
func runScenario(t testing.TB, key keying) {
	netns.Require(t, "ping", "tcpdump", "tshark")
	tp := buildTopology(t)
	dir := t.TempDir()
	if d := os.Getenv("MIP6_PCAP_DIR"); d != "" {
		dir = d // keep the capture and its keys
	}
	pcap := filepath.Join(dir, "home-link.pcap")
	capture := startCapture(t, tp.ha, pcap)
	haSide, mnSide, uat := key(t, mnIdentity, homeAddr, haAddr)
	writeESPKeys(t, filepath.Join(dir, "esp_sa"), uat)
	h := startHA(t, tp.ha, haSide)
	m := startMN(t, tp.mn, mnSide)

	// Register from access network A: the MN follows its interface's
	// addresses through netlink, as the daemon does.
	acks, start := m.counter("binding_acks_in"), time.Now()
	if err := tp.mn.Do(func() error { return m.host.Follow(m.node) }); err != nil {
		t.Fatal(err)
	}
	t.Logf("registered from A in %v", awaitBinding(t, h, m, coaA, acks, start))
	requireClaimed(t, tp.ha, h, true)
	pingHome(t, tp.cn)
	// A TCP stream to the home address runs through the move, paced at
	// 32 Mbit/s so that tcpdump keeps up on a loaded machine
	// (BenchmarkTunnelTCP measures the unpaced rate).
	st := startStream(t, tp.mn, tp.cn, 4<<20)
	st.await(t, 1<<20)

	// Move to access network B.
	st.resetGap()
	acks, start = m.counter("binding_acks_in"), time.Now()
	tp.attachMN(t, "brB", coaA, coaB)
	t.Logf("handover to B: binding moved %v after the cable (ip(8) commands included)",
		awaitBinding(t, h, m, coaB, acks, start))
	pingHome(t, tp.cn)
	// 1500-byte packets do not fit the tunnel: the HA answers Packet Too
	// Big, the CN fragments, the fragments cross the tunnel one by one.
	pingHomeSize(t, tp.cn, 1452)
	st.await(t, 512<<10)
	t.Logf("TCP stream survived the move: %d bytes intact, longest pause %v",
		st.received.Load(), time.Duration(st.maxGap.Load()).Round(time.Millisecond))
	st.close()
	attack(t, tp, h, m, haSide.In.SPI())

	// Return home: the binding goes, the home address is answered directly.
	tp.attachMN(t, "brH", coaB, homeAddr)
	netns.Eventually(t, 10*time.Second, func() error {
		if _, ok := h.core.Cache().Lookup(homeAddr); ok {
			return fmt.Errorf("binding still in the HA's cache")
		}
		if st := m.status(); st.State != "unregistered" {
			return fmt.Errorf("MN binding update list %+v", st)
		}
		return nil
	})
	requireClaimed(t, tp.ha, h, false)
	pingHome(t, tp.cn)
	if n, e := m.host.Moves.Load(), m.host.FollowErrors.Load(); n != 3 || e != 0 {
		t.Errorf("the MN followed its addresses %d times (want 3: A, B, home) with %d errors", n, e)
	}
	checkCounters(t, h, m)

	capture.Stop()
	// tcpdump prints its statistics as it exits; a loaded machine can make
	// it drop packets, which matters only if the checks below miss some.
	var stats string
	netns.Eventually(t, 5*time.Second, func() error {
		out := capture.Output()
		if i := strings.Index(out, "packets captured"); i >= 0 {
			stats = strings.Join(strings.Fields(out[strings.LastIndex(out[:i], "\n")+1:]), " ")
			return nil
		}
		return fmt.Errorf("no statistics from tcpdump: %s", out)
	})
	t.Logf("tcpdump: %s", stats)
	checkCapture(t, pcap, uat, stats)
}

// requireClaimed checks the HA's proxy ND entry and host route for the
// home address as the kernel shows them.
func requireClaimed(t testing.TB, ns *netns.NS, h *haRole, want bool) {
	t.Helper()
	proxy := ns.Run(t, "ip", "-6", "neigh", "show", "proxy", "dev", "home0")
	route := ns.Run(t, "ip", "-6", "route", "show", homeAddr.String()+"/128")
	got := strings.Contains(proxy, homeAddr.String()) && strings.Contains(route, "mip6ha")
	if got != want || h.link.Claimed(homeAddr) != want {
		t.Fatalf("home address claimed = %v, want %v; proxy entries %q, route %q", got, want, proxy, route)
	}
	if n := h.link.Errors.Load(); n != 0 {
		t.Fatalf("home link reported %d errors", n)
	}
}

func checkCounters(t testing.TB, h *haRole, m *mnRole) {
	t.Helper()
	var hs, ms control.Status
	h.node.Status(&hs)
	m.node.Status(&ms)
	t.Logf("HA counters: %v", hs.Counters)
	t.Logf("MN counters: %v", ms.Counters)
	if hs.Counters["registrations"] < 3 || hs.Counters["handovers"] != 1 {
		t.Errorf("HA registrations %d (want >= 3: A, B, home), handovers %d (want 1)",
			hs.Counters["registrations"], hs.Counters["handovers"])
	}
	// Every Mobility Header arrived intact (checksum, format) and through
	// the right SA.
	for name, v := range hs.Counters {
		if strings.HasPrefix(name, "bu_drop_") && v != 0 {
			t.Errorf("HA: %s = %d", name, v)
		}
	}
	if v := ms.Counters["drop_mh_malformed"]; v != 0 {
		t.Errorf("MN: drop_mh_malformed = %d", v)
	}
	// The planes' TUN counters: what went into the tunnel and came out.
	if hs.Counters["dataplane_tun_read"] < 2 || hs.Counters["dataplane_tun_written"] < 2 ||
		ms.Counters["dataplane_tun_read"] < 2 || ms.Counters["dataplane_tun_written"] < 2 {
		t.Errorf("the pings did not cross the tunnel both ways")
	}
}

// checkCapture dissects the home link's capture with the ESP keys: no
// malformed packets or expert errors; the three Binding Updates (care-of A,
// B, and the de-registration from home) and their accepting acknowledgements; the
// pings to and from the home address inside ESP-in-UDP; the HA's
// unsolicited Neighbour Advertisement for the home address; its Packet Too
// Big for the 1500-byte ping.
func checkCapture(t testing.TB, path string, uat []tshark.UATRecord, stats string) {
	t.Helper()
	opts := tshark.Options{UAT: uat, Prefs: []string{"esp.enable_encryption_decode:TRUE", "esp.enable_authentication_check:TRUE"}}
	// The attacker's datagrams are malformed on purpose; everything else
	// must be clean.
	ours := opts
	ours.Filter = "!(ipv6.addr == " + attackerAddr.String() + ")"
	tshark.RequireClean(t, path, ours)
	evil := opts
	evil.Filter = "ipv6.src == " + attackerAddr.String() + " && udp.dstport == 4500"
	bad := tshark.Run(t, path, evil, "esp.spi", "esp.icv_good")
	if len(bad) != attackDatagrams {
		t.Errorf("capture holds %d attack datagrams, want %d", len(bad), attackDatagrams)
	}
	for _, p := range bad { // tshark agrees that the forgery is one
		if p.Get("esp.icv_good") == "1" {
			t.Errorf("frame %d: tshark verified the ICV of a forged ESP packet: %v", p.Number, p.Fields)
		}
	}
	pkts := tshark.Run(t, path, ours, "udp.dstport", "esp.spi", "esp.icv_good", "ipv6.src", "ipv6.dst", "mip6.mhtype",
		"mip6.acoa.acoa", "mip6.bu.lifetime", "mip6.ba.status", "icmpv6.type", "icmpv6.nd.na.target_address", "icmpv6.nd.na.flag.o")
	var acoas []string
	var acks, esp, echoIn, echoOut, na, ptb int
	for _, p := range pkts {
		inESP := p.Has("esp.spi")
		if inESP {
			esp++
			if p.Get("esp.icv_good") != "1" {
				t.Errorf("frame %d: ESP ICV not verified: %v", p.Number, p.Fields)
			}
		}
		switch {
		case p.Get("mip6.mhtype") == "5":
			bu := p.Get("mip6.acoa.acoa")
			if p.Get("mip6.bu.lifetime") == "0" {
				bu = "de-registration"
			}
			acoas = append(acoas, bu)
		case p.Get("mip6.mhtype") == "6" && p.Get("mip6.ba.status") == "0":
			acks++
		case inESP && p.Get("icmpv6.type") == "128" && lastOf(p.All("ipv6.dst")) == homeAddr.String():
			echoIn++
		case inESP && p.Get("icmpv6.type") == "129" && lastOf(p.All("ipv6.src")) == homeAddr.String():
			echoOut++
		case p.Get("icmpv6.type") == "136" && p.Get("icmpv6.nd.na.target_address") == homeAddr.String() &&
			p.Get("ipv6.dst") == "ff02::1" && p.Get("icmpv6.nd.na.flag.o") == "1":
			na++
		case p.Get("icmpv6.type") == "2" && p.Get("ipv6.src") == haAddr.String():
			ptb++
		}
	}
	t.Logf("home link capture: %d frames, %d ESP, BU alt-CoAs %v, %d accepting BAs, tunnelled echo %d in / %d out, %d unsolicited NAs, %d Packet Too Big",
		len(pkts), esp, acoas, acks, echoIn, echoOut, na, ptb)
	want := []string{coaA.String(), coaB.String(), "de-registration"}
	if !containsInOrder(acoas, want) || acks < 3 || echoIn < 2 || echoOut < 2 || na < 1 || ptb < 1 {
		t.Errorf("capture misses protocol steps: BU alt-CoAs %v (want %v in order), BAs %d (want >= 3), echo in %d / out %d (want >= 2), NAs %d, PTBs %d (tcpdump: %s)",
			acoas, want, acks, echoIn, echoOut, na, ptb, stats)
	}
}

func lastOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// containsInOrder reports whether want occurs in got as a subsequence.
func containsInOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}
