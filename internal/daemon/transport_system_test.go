package daemon_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/demo"
	"mip6/internal/netns"
	"mip6/internal/tshark"
)

// The RFC 3776 transport form with the real daemons: Binding Updates leave
// the mobile node as CoA->HA with a Home Address option and raw ESP in
// transport mode, acknowledgements come back with a type 2 routing header;
// the kernels, which have no MIP6, neither drop them before the daemons see
// them nor answer with Parameter Problems; the payload still flows through
// the tunnel, across a move and back.
func TestDaemonsTransportForm(t *testing.T) {
	netns.Require(t, "ping", "tcpdump", "tshark", "nft")
	bin := buildMIP6(t)
	dir := t.TempDir()
	l := newLab(t)

	haConf, mnConf := writePSKConfigs(t, dir)
	keyLog := filepath.Join(dir, "keys.log")
	editFile(t, haConf, "home_interface = \"ha0\"\n", "home_interface = \"ha0\"\nwire_form = \"transport\"\n")
	editFile(t, haConf, "identity = \"ha.example.net\"\n", fmt.Sprintf("identity = \"ha.example.net\"\nkey_log = %q\n", keyLog))
	editFile(t, mnConf, "[mobility]\n", "[mobility]\nwire_form = \"transport\"\n")

	hoa, pcap := l.moveScenario(t, bin, dir, haConf, mnConf, "ip6", "transport", func(haSock string) {
		s, err := status(t, bin, haSock)
		if err != nil {
			t.Fatal(err)
		}
		if s.Counters["esp_transport_in"] == 0 || s.Counters["esp_transport_out"] == 0 {
			t.Fatalf("home agent counters: no transport-form BU/BA: %v", s.Counters)
		}
		for _, c := range []string{"drop_hao_mismatch", "drop_raw_malformed", "drop_not_transport_mode", "drop_send_failed"} {
			if s.Counters[c] != 0 {
				t.Errorf("home agent counter %s = %d", c, s.Counters[c])
			}
		}
		// Mobile prefix discovery in the transport form too (RFC 4877 §7.2.3).
		mnSock := filepath.Join(dir, "mn.sock")
		if out, err := exec.Command(bin, "mn", "solicit-prefixes", "-s", mnSock).CombinedOutput(); err != nil {
			t.Fatalf("mip6 mn solicit-prefixes: %v\n%s", err, out)
		}
		netns.Eventually(t, 5*time.Second, func() error {
			m, err := status(t, bin, mnSock)
			if err == nil && m.Counters["prefix_advertisements_in"] == 0 {
				err = fmt.Errorf("no Mobile Prefix Advertisement at the mobile node: %v", m.Counters)
			}
			return err
		})
	})

	profile := t.TempDir()
	if err := demo.WriteWiresharkKeys(profile, readFile(t, keyLog)); err != nil {
		t.Fatal(err)
	}
	opts := tshark.Options{ConfigDir: profile, Prefs: []string{"udp.check_checksum:FALSE", "esp.enable_encryption_decode:TRUE"}}
	tshark.RequireClean(t, pcap, opts)
	// Binding Updates: outer CoA->HA, Home Address option, raw ESP.
	o := opts
	o.Filter = "mip6.mhtype == 5"
	bus := tshark.Run(t, pcap, o, "ipv6.src", "ipv6.opt.mipv6.home_address", "udp.port", "esp.spi")
	if len(bus) < 2 {
		t.Fatalf("%d Binding Updates decrypted on the home link, want one from A and one from B at least", len(bus))
	}
	t.Logf("%d Binding Updates, first %+v", len(bus), bus[0])
	for _, p := range bus {
		if p.Has("udp.port") || !p.Has("esp.spi") {
			t.Errorf("BU %+v: not raw ESP", p)
		}
		if src := p.Get("ipv6.src"); src == hoa {
			continue // the de-registration from home carries no Home Address option
		}
		if p.Get("ipv6.opt.mipv6.home_address") != hoa {
			t.Errorf("BU %+v: Home Address option is not %s", p, hoa)
		}
	}
	// Binding Acks: type 2 routing header naming the home address.
	o.Filter = "mip6.mhtype == 6"
	bas := tshark.Run(t, pcap, o, "ipv6.dst", "ipv6.routing.type", "ipv6.routing.segleft", "udp.port")
	if len(bas) < 2 {
		t.Fatalf("%d Binding Acks decrypted on the home link", len(bas))
	}
	t.Logf("%d Binding Acks, first %+v", len(bas), bas[0])
	for _, p := range bas {
		if p.Has("udp.port") {
			t.Errorf("BA %+v: not raw ESP", p)
		}
		if p.Get("ipv6.dst") != hoa && (p.Get("ipv6.routing.type") != "2" || p.Get("ipv6.routing.segleft") != "1") {
			t.Errorf("BA %+v: no type 2 routing header with one segment left", p)
		}
	}
	// The solicitation and the advertisement: ICMPv6 in raw ESP, HAO / RH2.
	o.Filter = "icmpv6.type == 146 || icmpv6.type == 147"
	mpd := tshark.Run(t, pcap, o, "icmpv6.type", "ipv6.opt.mipv6.home_address", "ipv6.routing.type", "udp.port")
	if len(mpd) != 2 || mpd[0].Get("ipv6.opt.mipv6.home_address") != hoa || mpd[1].Get("ipv6.routing.type") != "2" ||
		mpd[0].Has("udp.port") || mpd[1].Has("udp.port") {
		t.Fatalf("MPS/MPA on the home link: %+v", mpd)
	}
	// Neither kernel objected to the Mobile IPv6 headers.
	o.Filter = "icmpv6.type == 4"
	if pp := tshark.Run(t, pcap, o, "ipv6.src"); len(pp) > 0 {
		t.Fatalf("%d ICMPv6 Parameter Problems on the home link: a kernel saw the HAO or RH2", len(pp))
	}
	// The payload went through the ESP-in-UDP tunnel.
	o.Filter = "udp.port == 4500 && esp && icmpv6.type == 128"
	if pings := tshark.Run(t, pcap, o, "esp.spi"); len(pings) < 6 {
		t.Fatalf("%d tunnelled echo requests, want 6", len(pings))
	}
}

// editFile replaces old (which must be there) with new in a config file.
func editFile(t testing.TB, path, old, new string) {
	t.Helper()
	text := readFile(t, path)
	if !strings.Contains(text, old) {
		t.Fatalf("%s lacks %q", path, old)
	}
	write(t, path, strings.Replace(text, old, new, 1))
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
