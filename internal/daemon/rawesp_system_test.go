package daemon_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/control"
	"mip6/internal/demo"
	"mip6/internal/netns"
	"mip6/internal/tshark"
)

// The raw ESP carrier with the real daemons: a home agent with
// ike.raw_esp serves a mobile node that asks for esp_encapsulation
// "none" over raw ESP (IP protocol 50, no UDP header; IKE on port 500)
// and one with the default over ESP in UDP 4500 (IKE on 4500 from the
// start), each through the scenario: register, pings from the
// correspondent, move, pings, de-register. The home link's capture,
// decrypted with the key log, shows where the tunnelled pings went.
func TestDaemonsRawESP(t *testing.T) {
	netns.Require(t, "ping", "tcpdump", "tshark", "nft")
	bin := buildMIP6(t)
	for _, tc := range []struct {
		name, encap, wireForm string
	}{
		{"raw", "none", "tunnel"},
		{"udp beside raw", "udp", "tunnel"},
		{"raw with the transport form", "none", "transport"},
	} {
		t.Run(tc.name, func(t *testing.T) { rawESPScenario(t, bin, tc.encap, tc.wireForm) })
	}
}

func rawESPScenario(t *testing.T, bin, encap, wireForm string) {
	dir := t.TempDir()
	l := newLab(t)
	haConf, mnConf := writePSKConfigs(t, dir)
	keyLog := filepath.Join(dir, "keys.log")
	editFile(t, haConf, "identity = \"ha.example.net\"\n", fmt.Sprintf("identity = \"ha.example.net\"\nraw_esp = true\nkey_log = %q\n", keyLog))
	editFile(t, mnConf, "[mobility]\n", fmt.Sprintf("[mobility]\nesp_encapsulation = %q\nwire_form = %q\n", encap, wireForm))
	if wireForm == "transport" {
		editFile(t, haConf, "home_interface = \"ha0\"\n", "home_interface = \"ha0\"\nwire_form = \"transport\"\n")
	}
	carrier := map[string]string{"none": "esp", "udp": "udp"}[encap]
	_, pcap := l.moveScenario(t, bin, dir, haConf, mnConf, "ip6", wireForm, func(haSock string) {
		s, err := status(t, bin, haSock)
		if err != nil {
			t.Fatal(err)
		}
		checkCarrier(t, "home agent", s, carrier)
		if ms, err := status(t, bin, filepath.Join(dir, "mn.sock")); err != nil {
			t.Fatal(err)
		} else {
			checkCarrier(t, "mobile node", ms, carrier)
		}
		read := map[string]string{"esp": "dataplane_esp_read", "udp": "dataplane_udp_read"}[carrier]
		if s.Counters[read] == 0 || s.Counters["dataplane_drop_unsupported"] != 0 || s.Counters["dataplane_drop_not_tunnel"] != 0 {
			t.Errorf("home agent data plane counters: %v", s.Counters)
		}
	})

	profile := t.TempDir()
	if err := demo.WriteWiresharkKeys(profile, readFile(t, keyLog)); err != nil {
		t.Fatal(err)
	}
	opts := tshark.Options{ConfigDir: profile, Prefs: []string{"udp.check_checksum:FALSE", "esp.enable_encryption_decode:TRUE"}}
	tshark.RequireClean(t, pcap, opts)
	count := func(filter string) int {
		o := opts
		o.Filter = filter
		return len(tshark.Run(t, pcap, o, "frame.number"))
	}
	defer func() {
		if t.Failed() {
			o := opts
			o.Filter = "esp || udp"
			for _, p := range tshark.Run(t, pcap, o, "frame.number", "ipv6.src", "ipv6.dst", "udp.srcport", "udp.dstport", "esp.spi", "icmpv6.type", "_ws.col.Info") {
				t.Logf("%+v", p)
			}
		}
	}()
	raw, inUDP := count("esp && !udp && icmpv6.type == 128"), count("udp.port == 4500 && esp && icmpv6.type == 128")
	switch carrier {
	case "esp":
		if raw < 6 || inUDP != 0 {
			t.Fatalf("echo requests tunnelled in raw ESP: %d (want 6), in UDP 4500: %d (want 0)", raw, inUDP)
		}
		if n := count("udp.port == 4500"); n != 0 {
			t.Errorf("%d datagrams on UDP 4500: IKE must stay on 500 and ESP raw", n)
		}
	case "udp":
		if inUDP < 6 || raw != 0 {
			t.Fatalf("echo requests tunnelled in UDP 4500: %d (want 6), in raw ESP: %d (want 0)", inUDP, raw)
		}
		if n := count("udp.port == 500"); n != 0 {
			t.Errorf("%d datagrams on UDP 500: IKE must run on 4500 from the start", n)
		}
	}
	if wireForm == "transport" {
		// BUs in the RFC 3776 form reached the home agent: raw ESP behind
		// a Home Address option, the tunnel beside them raw as well.
		if n := count("mip6.mhtype == 5 && ipv6.opt.mipv6.home_address && !udp"); n < 2 {
			t.Errorf("%d transport-form Binding Updates on the home link", n)
		}
		if n := count("icmpv6.type == 4"); n != 0 {
			t.Errorf("%d ICMPv6 Parameter Problems on the home link", n)
		}
	}
}

// checkCarrier wants every tunnel CHILD_SA of s on carrier.
func checkCarrier(t *testing.T, who string, s *control.Status, carrier string) {
	t.Helper()
	tunnels := 0
	for _, c := range s.ChildSAs {
		if strings.HasPrefix(c.Mode, "tunnel") {
			tunnels++
			if !strings.HasSuffix(c.Mode, ", "+carrier) {
				t.Errorf("%s: CHILD_SA %s mode %q, want carrier %s", who, c.SPIIn, c.Mode, carrier)
			}
		}
	}
	if tunnels == 0 {
		t.Errorf("%s: no tunnel CHILD_SA in %+v", who, s.ChildSAs)
	}
}

// Both carriers at once at one home agent: alice asks for raw ESP, bob
// keeps the default (ESP in UDP 4500); both register, the correspondent
// reaches both home addresses, alice moves while bob stays, both
// de-register. Each one's tunnelled pings travel on its own carrier.
func TestDaemonsBothCarriersAtOnce(t *testing.T) {
	netns.Require(t, "ping", "tcpdump", "tshark", "nft")
	bin := buildMIP6(t)
	dir := t.TempDir()
	l := newLab(t)
	haConf, aliceConf := writePSKConfigs(t, dir)
	keyLog := filepath.Join(dir, "keys.log")
	editFile(t, haConf, "identity = \"ha.example.net\"\n", fmt.Sprintf("identity = \"ha.example.net\"\nraw_esp = true\nkey_log = %q\n", keyLog))
	editFile(t, haConf, "[store]\n", "[[mobile_node]]\nidentity = \"bob@example.net\"\nauth = \"psk\"\npsk = \"bob's system test pre-shared key\"\n[store]\n")
	editFile(t, aliceConf, "[mobility]\n", "[mobility]\nesp_encapsulation = \"none\"\n")
	bobConf := filepath.Join(dir, "bob.conf")
	write(t, bobConf, fmt.Sprintf(`
identity = "bob@example.net"
[credential]
psk = "bob's system test pre-shared key"
[home_agent]
address = "2001:db8:1::2"
identity = "ha.example.net"
[mobility]
interfaces = ["e0"]
[daemon]
control_socket = "%s/bob.sock"
log_level = "debug"
`, dir))
	bobNS := netns.New(t, "bob")
	netns.Link(t, bobNS, "e0", l.router, "re")
	l.router.AddAddr(t, "re", "2001:db8:e::1/64")
	bobNS.AddAddr(t, "e0", "2001:db8:e::100/64")
	bobNS.AddRoute(t, "default", "via", "2001:db8:e::1")
	l.attach(t, "a0", "2001:db8:a::100", "2001:db8:a::1")

	pcap, dump := l.capture(t, dir, "ip6")
	ha := l.ha.Start(t, bin, "ha", "-c", haConf)
	haSock := filepath.Join(dir, "ha.sock")
	netns.Eventually(t, 10*time.Second, func() error { _, err := status(t, bin, haSock); return err })
	alice := l.mn.Start(t, bin, "mn", "-c", aliceConf)
	bob := bobNS.Start(t, bin, "mn", "-c", bobConf)
	defer func() {
		if t.Failed() {
			t.Logf("home agent:\n%s\nalice:\n%s\nbob:\n%s", ha.Output(), alice.Output(), bob.Output())
		}
	}()
	netns.Eventually(t, 20*time.Second, bindingTo(t, bin, haSock, "2001:db8:a::100"))
	netns.Eventually(t, 20*time.Second, bindingTo(t, bin, haSock, "2001:db8:e::100"))
	s, err := status(t, bin, haSock)
	if err != nil {
		t.Fatal(err)
	}
	hoas := map[string]string{}
	for _, b := range s.Bindings {
		hoas[b.Identity] = b.HomeAddress
	}
	carriers := map[string]string{}
	for _, c := range s.ChildSAs {
		if strings.HasPrefix(c.Mode, "tunnel") {
			carriers[c.Identity] = c.Mode[strings.LastIndex(c.Mode, " ")+1:]
		}
	}
	if carriers["alice@example.net"] != "esp" || carriers["bob@example.net"] != "udp" {
		t.Fatalf("carriers %v, want alice esp and bob udp (CHILD_SAs %+v)", carriers, s.ChildSAs)
	}
	ping := func() {
		for _, hoa := range hoas {
			l.cn.Run(t, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", hoa)
		}
	}
	ping()
	l.attach(t, "b0", "2001:db8:b::100", "2001:db8:b::1")
	netns.Eventually(t, 15*time.Second, bindingTo(t, bin, haSock, "2001:db8:b::100"))
	ping()
	// The K flag moved alice's IKE SA to her new care-of address, on the
	// port her IKE runs on (500: raw ESP); bob's stays on 4500.
	s, err = status(t, bin, haSock)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"alice@example.net": "[2001:db8:b::100]:500", "bob@example.net": "[2001:db8:e::100]:4500"}
	for _, sa := range s.IKESAs {
		if sa.Remote != want[sa.Identity] {
			t.Errorf("IKE SA of %s at %s, want %s", sa.Identity, sa.Remote, want[sa.Identity])
		}
	}
	alice.Stop()
	bob.Stop()
	netns.Eventually(t, 10*time.Second, func() error {
		s, err := status(t, bin, haSock)
		if err == nil && len(s.Bindings) > 0 {
			err = fmt.Errorf("bindings still there: %+v", s.Bindings)
		}
		return err
	})
	ha.Stop()
	dump.Stop()

	profile := t.TempDir()
	if err := demo.WriteWiresharkKeys(profile, readFile(t, keyLog)); err != nil {
		t.Fatal(err)
	}
	opts := tshark.Options{ConfigDir: profile, Prefs: []string{"udp.check_checksum:FALSE", "esp.enable_encryption_decode:TRUE"}}
	tshark.RequireClean(t, pcap, opts)
	count := func(filter string) int {
		o := opts
		o.Filter = filter
		return len(tshark.Run(t, pcap, o, "frame.number"))
	}
	for _, c := range []struct {
		who, filter string
		want        int
	}{
		{"alice, raw ESP", fmt.Sprintf("esp && !udp && icmpv6.type == 128 && ipv6.dst == %s", hoas["alice@example.net"]), 6},
		{"alice, in UDP", fmt.Sprintf("udp && esp && ipv6.dst == %s", hoas["alice@example.net"]), 0},
		{"bob, in UDP 4500", fmt.Sprintf("udp.port == 4500 && esp && icmpv6.type == 128 && ipv6.dst == %s", hoas["bob@example.net"]), 6},
		{"bob, raw ESP", fmt.Sprintf("esp && !udp && ipv6.dst == %s", hoas["bob@example.net"]), 0},
	} {
		if n := count(c.filter); (c.want == 0) != (n == 0) || n < c.want {
			t.Errorf("%s: %d tunnelled packets (%s), want %d", c.who, n, c.filter, c.want)
		}
	}
}

// A mobile node that asks for raw ESP at a home agent without
// ike.raw_esp: the home agent refuses the CHILD_SA, saying why, rather
// than install a tunnel it cannot carry; no binding comes of it, and the
// mobile node, seeing its CHILD_SA deleted, starts over at once.
func TestDaemonsRawESPRefused(t *testing.T) {
	netns.Require(t, "ping")
	bin := buildMIP6(t)
	dir := t.TempDir()
	l := newLab(t)
	haConf, mnConf := writePSKConfigs(t, dir)
	editFile(t, mnConf, "[mobility]\n", "[mobility]\nesp_encapsulation = \"none\"\n")
	l.attach(t, "a0", "2001:db8:a::100", "2001:db8:a::1")
	ha := l.ha.Start(t, bin, "ha", "-c", haConf)
	haSock := filepath.Join(dir, "ha.sock")
	netns.Eventually(t, 10*time.Second, func() error { _, err := status(t, bin, haSock); return err })
	mn := l.mn.Start(t, bin, "mn", "-c", mnConf)
	netns.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(ha.Output(), "CHILD_SA refused: raw ESP") {
			return fmt.Errorf("no refusal in the home agent's log")
		}
		return nil
	})
	netns.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(mn.Output(), "re-bootstrapping") || !strings.Contains(mn.Output(), "does the home agent have ike.raw_esp?") {
			return fmt.Errorf("the mobile node did not start over")
		}
		return nil
	})
	s, err := status(t, bin, haSock)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Bindings) != 0 || len(s.ChildSAs) != 0 {
		t.Fatalf("home agent: bindings %+v, CHILD_SAs %+v\nmobile node:\n%s", s.Bindings, s.ChildSAs, mn.Output())
	}
}

// BenchmarkDaemonThroughput is one TCP stream from the correspondent to
// the mobile node's home address through the real daemons (home agent
// forwarding, tunnel to the care-of address), ESP in UDP 4500 against raw
// ESP.
//
//	go test -run '^$' -bench DaemonThroughput -benchtime 3s ./internal/daemon
func BenchmarkDaemonThroughput(b *testing.B) {
	netns.Require(b, "ping")
	bin := buildMIP6(b)
	for _, encap := range []string{"udp", "none"} {
		b.Run("esp_encapsulation="+encap, func(b *testing.B) { daemonThroughput(b, bin, encap) })
	}
}

func daemonThroughput(b *testing.B, bin, encap string) {
	dir := b.TempDir()
	l := newLab(b)
	haConf, mnConf := writePSKConfigs(b, dir)
	editFile(b, haConf, "identity = \"ha.example.net\"\n", "identity = \"ha.example.net\"\nraw_esp = true\n")
	editFile(b, haConf, "log_level = \"debug\"", "log_level = \"info\"")
	editFile(b, mnConf, "log_level = \"debug\"", "log_level = \"info\"")
	editFile(b, mnConf, "[mobility]\n", fmt.Sprintf("[mobility]\nesp_encapsulation = %q\n", encap))
	l.attach(b, "a0", "2001:db8:a::100", "2001:db8:a::1")
	l.ha.Start(b, bin, "ha", "-c", haConf)
	haSock := filepath.Join(dir, "ha.sock")
	netns.Eventually(b, 10*time.Second, func() error { _, err := status(b, bin, haSock); return err })
	l.mn.Start(b, bin, "mn", "-c", mnConf)
	netns.Eventually(b, 20*time.Second, bindingTo(b, bin, haSock, "2001:db8:a::100"))
	s, err := status(b, bin, haSock)
	if err != nil {
		b.Fatal(err)
	}
	hoa := netip.MustParseAddr(s.Bindings[0].HomeAddress)
	netns.BenchTCP(b, l.mn, netip.AddrPortFrom(hoa, 5003), l.cn, netip.Addr{})
}

// The RFC 3776 transport form with the raw ESP carrier, back home: the
// mobile node registers from A, then attaches to the home link (a bridge
// in the router joins it to the home agent's link) and de-registers with
// plain ESP from its home address, which the home agent's raw ESP socket
// reads and its plane hands over (no nftables capture of protocol 50
// there: it would take the raw tunnels' ESP too). The correspondent then
// reaches the home address on the home link directly.
func TestDaemonsRawESPTransportFormAtHome(t *testing.T) {
	netns.Require(t, "ping", "tcpdump", "tshark", "nft")
	bin := buildMIP6(t)
	dir := t.TempDir()
	l := newLab(t)
	// The home link becomes a bridge in the router: ha0's peer and the
	// mobile node's h0 on it.
	l.router.Bridge(t, "brh")
	l.router.Run(t, "ip", "link", "set", "rhome", "master", "brh")
	l.router.Run(t, "ip", "-6", "addr", "del", "2001:db8:1::1/64", "dev", "rhome")
	l.router.AddAddr(t, "brh", "2001:db8:1::1/64")
	netns.Link(t, l.mn, "h0", l.router, "rh")
	l.router.Run(t, "ip", "link", "set", "rh", "master", "brh")

	haConf, mnConf := writePSKConfigs(t, dir)
	keyLog := filepath.Join(dir, "keys.log")
	editFile(t, haConf, "identity = \"ha.example.net\"\n", fmt.Sprintf("identity = \"ha.example.net\"\nraw_esp = true\nkey_log = %q\n", keyLog))
	editFile(t, haConf, "home_interface = \"ha0\"\n", "home_interface = \"ha0\"\nwire_form = \"transport\"\n")
	editFile(t, mnConf, "[mobility]\n", "[mobility]\nesp_encapsulation = \"none\"\nwire_form = \"transport\"\n")
	editFile(t, mnConf, `interfaces = ["a0", "b0"]`, `interfaces = ["a0", "b0", "h0"]`)
	l.attach(t, "a0", "2001:db8:a::100", "2001:db8:a::1")

	pcap, dump := l.capture(t, dir, "ip6")
	ha, mn, haSock, mnSock := l.startDaemons(t, bin, dir, haConf, mnConf, "2001:db8:a::100")
	s, err := status(t, bin, haSock)
	if err != nil {
		t.Fatal(err)
	}
	hoa := s.Bindings[0].HomeAddress
	l.cn.Run(t, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", hoa)

	// Home: the home address on h0 (no DAD: the home agent still defends
	// it by proxy until the de-registration), nothing on A or B.
	for _, d := range []string{"a0", "b0"} {
		l.mn.Run(t, "ip", "-6", "addr", "flush", "dev", d, "scope", "global")
	}
	l.mn.Run(t, "ip", "-6", "addr", "add", hoa+"/64", "dev", "h0", "nodad")
	l.mn.Run(t, "ip", "-6", "route", "replace", "default", "via", "2001:db8:1::1", "dev", "h0")
	netns.Eventually(t, 15*time.Second, func() error {
		s, err := status(t, bin, haSock)
		if err == nil && len(s.Bindings) > 0 {
			err = fmt.Errorf("binding still there: %+v", s.Bindings)
		}
		return err
	})
	netns.Eventually(t, 10*time.Second, func() error {
		ms, err := status(t, bin, mnSock)
		if err == nil && (len(ms.Bindings) != 1 || ms.Bindings[0].State == "registered") {
			err = fmt.Errorf("mobile node: %+v", ms.Bindings)
		}
		return err
	})
	s, err = status(t, bin, haSock)
	if err != nil {
		t.Fatal(err)
	}
	if s.Counters["dataplane_transport"] == 0 || s.Counters["drop_raw_malformed"] != 0 || s.Counters["drop_hao_mismatch"] != 0 {
		t.Errorf("home agent: the at-home BU did not come through the raw ESP socket: %v", s.Counters)
	}
	l.cn.Run(t, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", hoa)
	mn.Stop()
	ha.Stop()
	dump.Stop()

	profile := t.TempDir()
	if err := demo.WriteWiresharkKeys(profile, readFile(t, keyLog)); err != nil {
		t.Fatal(err)
	}
	opts := tshark.Options{ConfigDir: profile, Prefs: []string{"udp.check_checksum:FALSE", "esp.enable_encryption_decode:TRUE"}}
	o := opts
	o.Filter = fmt.Sprintf("mip6.mhtype == 5 && ipv6.src == %s && !ipv6.opt.mipv6.home_address && !udp", hoa)
	if bus := tshark.Run(t, pcap, o, "frame.number"); len(bus) == 0 {
		t.Error("no Binding Update in plain ESP from the home address on the home link")
	}
	o.Filter = "icmpv6.type == 4"
	if n := len(tshark.Run(t, pcap, o, "frame.number")); n != 0 {
		t.Errorf("%d ICMPv6 Parameter Problems on the home link", n)
	}
}
