package daemon_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/control"
	"mip6/internal/netns"
	"mip6/internal/tshark"
)

// buildMIP6 builds the mip6 binary once for the system tests.
func buildMIP6(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mip6")
	out, err := exec.Command("go", "build", "-o", bin, "mip6/cmd/mip6").CombinedOutput()
	if err != nil {
		t.Fatalf("go build mip6: %v\n%s", err, out)
	}
	return bin
}

// lab is the topology in network namespaces: home link (HA ::2,
// router ::1), access networks A and B, and a correspondent, joined by one
// router.
type lab struct {
	ha, router, cn, mn *netns.NS
}

func newLab(t testing.TB) *lab {
	l := &lab{ha: netns.New(t, "ha"), router: netns.New(t, "rt"), cn: netns.New(t, "cn"), mn: netns.New(t, "mn")}
	l.router.Forwarding(t)
	netns.Link(t, l.ha, "ha0", l.router, "rhome")
	netns.Link(t, l.cn, "c0", l.router, "rc")
	netns.Link(t, l.mn, "a0", l.router, "ra")
	netns.Link(t, l.mn, "b0", l.router, "rb")
	for dev, addr := range map[string]string{"rhome": "2001:db8:1::1/64", "rc": "2001:db8:c::1/64",
		"ra": "2001:db8:a::1/64", "rb": "2001:db8:b::1/64"} {
		l.router.AddAddr(t, dev, addr)
	}
	l.ha.AddAddr(t, "ha0", "2001:db8:1::2/64")
	l.ha.AddRoute(t, "default", "via", "2001:db8:1::1")
	l.cn.AddAddr(t, "c0", "2001:db8:c::100/64")
	l.cn.AddRoute(t, "default", "via", "2001:db8:c::1")
	return l
}

// attach puts the mobile node on access network dev (a0 or b0) with coa.
func (l *lab) attach(t testing.TB, dev, coa, gw string) {
	for _, d := range []string{"a0", "b0"} {
		l.mn.Run(t, "ip", "-6", "addr", "flush", "dev", d, "scope", "global")
	}
	l.mn.AddAddr(t, dev, coa+"/64")
	l.mn.Run(t, "ip", "-6", "route", "replace", "default", "via", gw, "dev", dev)
}

func status(t testing.TB, bin, sock string) (*control.Status, error) {
	out, err := exec.Command(bin, "status", "-s", sock, "--json").Output()
	if err != nil {
		return nil, err
	}
	var s control.Status
	return &s, json.Unmarshal(out, &s)
}

func bindingTo(t testing.TB, bin, sock, coa string) func() error {
	return func() error {
		s, err := status(t, bin, sock)
		if err != nil {
			return err
		}
		for _, b := range s.Bindings {
			if b.CareOf == coa {
				return nil
			}
		}
		return fmt.Errorf("no binding to %s: %+v", coa, s.Bindings)
	}
}

// The scenario for real: the mip6 daemons bootstrap with IKEv2 (PSK, CP
// home address), register from A, the correspondent pings the home
// address, the MN moves to B, pings again, and de-registers when stopped.
// The capture of the home agent's link is checked with tshark.
func TestDaemonsMoveBetweenAccessNetworks(t *testing.T) {
	netns.Require(t, "ping", "tcpdump", "tshark")
	bin := buildMIP6(t)
	dir := t.TempDir()
	l := newLab(t)
	haConf, mnConf := writePSKConfigs(t, dir)
	_, pcap := l.moveScenario(t, bin, dir, haConf, mnConf, "udp", "tunnel", func(haSock string) {
		netns.Eventually(t, 5*time.Second, func() error { // RFC 3948 §4
			s, err := status(t, bin, haSock)
			if err == nil && s.Counters["dataplane_nat_keepalives"] == 0 {
				err = fmt.Errorf("no NAT-keepalive from the mobile node yet")
			}
			return err
		})
	})
	// Captured on the sender: the kernel leaves UDP checksums to the veth
	// offload, so tshark would see them unfilled.
	tshark.RequireClean(t, pcap, tshark.Options{Prefs: []string{"udp.check_checksum:FALSE"}})
	pkts := tshark.Run(t, pcap, tshark.Options{Filter: "esp"}, "esp.spi")
	if len(pkts) < 10 {
		t.Fatalf("only %d ESP packets on the home link", len(pkts))
	}
}

// capture starts tcpdump on the home agent's link (filter, e.g. "ip6")
// into dir/home.pcap. --immediate-mode: packets reach the file as they
// come, none wait in a ring block that stopping tcpdump would lose.
func (l *lab) capture(t *testing.T, dir, filter string) (pcap string, dump *netns.Proc) {
	t.Helper()
	pcap = filepath.Join(dir, "home.pcap")
	dump = l.ha.Start(t, "tcpdump", "--immediate-mode", "-i", "ha0", "-U", "-w", pcap, filter)
	netns.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(dump.Output(), "listening on") {
			return fmt.Errorf("tcpdump not capturing yet")
		}
		return nil
	})
	return pcap, dump
}

// startDaemons starts mip6 ha and, once it answers, mip6 mn, and waits for
// the binding from coa; a failing test shows both daemons' output.
func (l *lab) startDaemons(t *testing.T, bin, dir, haConf, mnConf, coa string) (ha, mn *netns.Proc, haSock, mnSock string) {
	t.Helper()
	ha = l.ha.Start(t, bin, "ha", "-c", haConf)
	haSock, mnSock = filepath.Join(dir, "ha.sock"), filepath.Join(dir, "mn.sock")
	netns.Eventually(t, 10*time.Second, func() error { _, err := status(t, bin, haSock); return err })
	mn = l.mn.Start(t, bin, "mn", "-c", mnConf)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("home agent:\n%s\nmobile node:\n%s", ha.Output(), mn.Output())
		}
	})
	netns.Eventually(t, 20*time.Second, bindingTo(t, bin, haSock, coa))
	return ha, mn, haSock, mnSock
}

// moveScenario runs the daemons through the scenario while
// tcpdump (with filter) captures the home link: register from A, ping the
// home address from the correspondent, atA, move to B, ping, stop the
// mobile node (it de-registers), stop the home agent. It returns the home
// address and the capture. Both daemons must report the binding in
// wireForm.
func (l *lab) moveScenario(t *testing.T, bin, dir, haConf, mnConf, filter, wireForm string, atA func(haSock string)) (hoa, pcap string) {
	t.Helper()
	l.attach(t, "a0", "2001:db8:a::100", "2001:db8:a::1")
	pcap, dump := l.capture(t, dir, filter)
	ha, mn, haSock, mnSock := l.startDaemons(t, bin, dir, haConf, mnConf, "2001:db8:a::100")
	s, err := status(t, bin, haSock)
	if err != nil {
		t.Fatal(err)
	}
	hoa = s.Bindings[0].HomeAddress
	if !strings.HasPrefix(hoa, "2001:db8:1::1") || s.Bindings[0].Identity != "alice@example.net" || s.Bindings[0].WireForm != wireForm {
		t.Fatalf("binding %+v", s.Bindings[0])
	}
	l.cn.Run(t, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", hoa)
	if atA != nil {
		atA(haSock)
	}

	l.attach(t, "b0", "2001:db8:b::100", "2001:db8:b::1")
	netns.Eventually(t, 15*time.Second, bindingTo(t, bin, haSock, "2001:db8:b::100"))
	l.cn.Run(t, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", hoa)
	if ms, err := status(t, bin, mnSock); err != nil || len(ms.Bindings) != 1 || ms.Bindings[0].State != "registered" ||
		ms.Bindings[0].WireForm != wireForm {
		t.Fatalf("mobile node status %+v, %v", ms, err)
	}

	mn.Stop() // SIGTERM: de-register first, then delete the IKE SA
	netns.Eventually(t, 10*time.Second, func() error {
		s, err := status(t, bin, haSock)
		switch {
		case err != nil:
		case len(s.Bindings) > 0:
			err = fmt.Errorf("binding still there: %+v", s.Bindings)
		case len(s.IKESAs) > 0:
			err = fmt.Errorf("IKE SA still there: %+v", s.IKESAs)
		}
		return err
	})
	ha.Stop()
	dump.Stop()
	return hoa, pcap
}

func write(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writePSKConfigs writes the configs of a PSK home agent and mobile node.
func writePSKConfigs(t testing.TB, dir string) (haConf, mnConf string) {
	haConf = filepath.Join(dir, "ha.conf")
	write(t, haConf, fmt.Sprintf(`
[home_agent]
address = "2001:db8:1::2"
home_prefix = "2001:db8:1::/64"
home_interface = "ha0"
[ike]
listen = ["[2001:db8:1::2]:500", "[2001:db8:1::2]:4500"]
identity = "ha.example.net"
[addresses]
pool = "2001:db8:1::1000/116"
[[mobile_node]]
identity = "alice@example.net"
auth = "psk"
psk = "system test pre-shared key"
[store]
path = "%s/ha.db"
[daemon]
control_socket = "%s/ha.sock"
log_level = "debug"
`, dir, dir))
	mnConf = filepath.Join(dir, "mn.conf")
	write(t, mnConf, fmt.Sprintf(`
identity = "alice@example.net"
[credential]
psk = "system test pre-shared key"
[home_agent]
address = "2001:db8:1::2"
identity = "ha.example.net"
[mobility]
interfaces = ["a0", "b0"]
nat_keepalive = "200ms"
[daemon]
control_socket = "%s/mn.sock"
log_level = "debug"
`, dir))
	return haConf, mnConf
}

// BenchmarkHandover measures, with the real daemons in namespaces, the time
// from the mobile node noticing a new care-of address to the home agent's
// acknowledgement (one BU/BA round trip plus processing on both sides),
// moving back and forth between access networks A and B.
//
//	go test -run '^$' -bench Handover ./internal/daemon
func BenchmarkHandover(b *testing.B) {
	netns.Require(b, "ping")
	bin := buildMIP6(b)
	dir := b.TempDir()
	l := newLab(b)
	l.attach(b, "a0", "2001:db8:a::100", "2001:db8:a::1")
	haConf, mnConf := writePSKConfigs(b, dir)
	l.ha.Start(b, bin, "ha", "-c", haConf)
	haSock, mnSock := filepath.Join(dir, "ha.sock"), filepath.Join(dir, "mn.sock")
	netns.Eventually(b, 10*time.Second, func() error { _, err := status(b, bin, haSock); return err })
	l.mn.Start(b, bin, "mn", "-c", mnConf)
	netns.Eventually(b, 20*time.Second, bindingTo(b, bin, haSock, "2001:db8:a::100"))
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dev, coa, gw := "b0", "2001:db8:b::100", "2001:db8:b::1"
		if i%2 == 1 {
			dev, coa, gw = "a0", "2001:db8:a::100", "2001:db8:a::1"
		}
		l.attach(b, dev, coa, gw)
		netns.Eventually(b, 10*time.Second, bindingTo(b, bin, haSock, coa))
		ms, err := status(b, bin, mnSock)
		if err != nil {
			b.Fatal(err)
		}
		total += time.Duration(ms.Counters["handover_last_us"]) * time.Microsecond
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "us/handover")
}

// The operators' lab script runs the same scenario with the built binary;
// it must keep working.
func TestLabScript(t *testing.T) {
	netns.Require(t, "ping", "tcpdump", "bash")
	bin := buildMIP6(t)
	cmd := exec.Command("bash", "../../scripts/netns-lab.sh", bin)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "lab: scenario complete") {
		t.Fatalf("scripts/netns-lab.sh: %v\n%s", err, out)
	}
}
