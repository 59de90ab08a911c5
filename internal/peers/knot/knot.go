// Package knot runs a private Knot DNS server (knotd from Debian's knot
// package) for system tests: its own config, zone files and run directory
// in a temporary directory, inside a network namespace, answering
// authoritatively on one IPv6 address (2001:db8::53 by default) port 53.
// The server is stopped at test cleanup and its log printed when the test
// failed. A missing knotd or kdig fails the test; it never skips.
package knot

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mip6/internal/netns"
)

// Options configure a server.
type Options struct {
	// Zones maps each zone's origin ("example.net") to its master-file text.
	Zones map[string]string
	// NS is the namespace to run in; nil creates one.
	NS *netns.NS
	// Addr is the address to answer on (added to the namespace's lo when
	// not present); default 2001:db8::53.
	Addr netip.Addr
}

// Server is a running knotd.
type Server struct {
	NS   *netns.NS
	Addr netip.AddrPort
	Dir  string
	proc *netns.Proc
}

// Start writes the config and zones, starts knotd and waits until kdig
// gets an answer for every zone's SOA.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	netns.Require(t, "knotd", "kdig")
	if len(o.Zones) == 0 {
		t.Fatal("knot: no zones")
	}
	if o.NS == nil {
		o.NS = netns.New(t, "knot")
	}
	if !o.Addr.IsValid() {
		o.Addr = netip.MustParseAddr("2001:db8::53")
	}
	if out, _ := o.NS.Exec("ip", "-6", "addr", "show", "dev", "lo"); !strings.Contains(out, o.Addr.String()+"/") {
		o.NS.Run(t, "ip", "-6", "addr", "add", o.Addr.String()+"/128", "dev", "lo")
	}
	dir := t.TempDir()
	s := &Server{NS: o.NS, Addr: netip.AddrPortFrom(o.Addr, 53), Dir: dir}
	writeFile(t, filepath.Join(dir, "knot.conf"), s.config(o.Zones))
	for origin, text := range o.Zones {
		writeFile(t, filepath.Join(dir, strings.TrimSuffix(origin, ".")+".zone"), text)
	}
	if out, err := exec.Command("knotc", "-c", filepath.Join(dir, "knot.conf"), "conf-check").CombinedOutput(); err != nil {
		t.Fatalf("knot: config check: %v\n%s", err, out)
	}
	s.proc = o.NS.Start(t, "knotd", "-c", filepath.Join(dir, "knot.conf"))
	s.waitReady(t, o.Zones)
	return s
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatalf("knot: %v", err)
	}
}

func (s *Server) config(zones map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `server:
    rundir: "%[1]s"
    listen: %[2]s@53
log:
  - target: stderr
    any: info
database:
    storage: "%[1]s/db"
control:
    listen: "%[1]s/knot.sock"
template:
  - id: default
    storage: "%[1]s"
    file: "%%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
`, s.Dir, s.Addr.Addr())
	origins := make([]string, 0, len(zones))
	for o := range zones {
		origins = append(origins, strings.TrimSuffix(o, "."))
	}
	slices.Sort(origins)
	for _, o := range origins {
		fmt.Fprintf(&b, "  - domain: %s\n", o)
	}
	return b.String()
}

func (s *Server) waitReady(t testing.TB, zones map[string]string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for origin := range zones {
		for {
			if done, err := s.proc.Exited(); done {
				t.Fatalf("knot: knotd exited: %v\n%s", err, s.proc.Output())
			}
			out, err := s.Kdig("SOA", origin, "+short")
			if err == nil && strings.TrimSpace(out) != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("knot: no SOA answer for %s within 10s: %v %s\n%s", origin, err, out, s.proc.Output())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Kdig runs kdig against the server inside its namespace.
func (s *Server) Kdig(args ...string) (string, error) {
	a := append([]string{"kdig", "@" + s.Addr.Addr().String(), "+time=1", "+retry=0"}, args...)
	return s.NS.Exec(a...)
}

// SetZone replaces a served zone's text and makes knotd reload it (a
// renumbered home network, a home agent added or withdrawn). The SOA
// serial must grow; SetZone waits until kdig sees the new serial.
func (s *Server) SetZone(t testing.TB, origin, text string) {
	t.Helper()
	origin = strings.TrimSuffix(origin, ".")
	writeFile(t, filepath.Join(s.Dir, origin+".zone"), text)
	ctl := []string{"knotc", "-c", filepath.Join(s.Dir, "knot.conf"), "zone-reload", origin}
	if out, err := s.NS.Exec(ctl...); err != nil {
		t.Fatalf("knot: reload %s: %v\n%s", origin, err, out)
	}
	want := serialOf(text)
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := s.Kdig("SOA", origin, "+short")
		if f := strings.Fields(out); err == nil && len(f) >= 3 && f[2] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("knot: %s still not at serial %s after reload: %s\n%s", origin, want, out, s.proc.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serialOf finds the SOA serial in zone text written on one line, as the
// tests do ("@ IN SOA ns. host. SERIAL ...").
func serialOf(text string) string {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		for i, w := range f {
			if w == "SOA" && i+3 < len(f) {
				return f[i+3]
			}
		}
	}
	return ""
}

// Log returns knotd's output so far.
func (s *Server) Log() string { return s.proc.Output() }

// Stop stops knotd (a test of a server that went away).
func (s *Server) Stop() { s.proc.Stop() }
