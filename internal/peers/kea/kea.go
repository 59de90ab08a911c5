// Package kea runs a private Kea DHCPv6 server (kea-dhcp6 from Debian's
// kea-dhcp6-server) on a home link for system tests: two network
// namespaces joined by a veth pair — the client side (the home agent)
// with interface "home0", the server side with "kea0" — because DHCPv6
// needs link-local multicast on a real interface. Config, lease file,
// pid and lock files live in a temporary directory; the server stops at
// cleanup and its log is printed when the test failed. A missing
// kea-dhcp6 fails the test; it never skips.
package kea

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/netns"
)

// Options configure the home link and the server.
type Options struct {
	// Subnet is the home link prefix (default 2001:db8:1::/64).
	Subnet netip.Prefix
	// PoolFirst and PoolLast bound the address pool (default ::100-::103
	// of Subnet).
	PoolFirst, PoolLast netip.Addr
	// ValidLifetime and PreferredLifetime in seconds (defaults 4000, 3000);
	// T1/T2 are half and 0.8 of the preferred lifetime.
	ValidLifetime, PreferredLifetime uint32
	// RapidCommit lets the server answer a Solicit carrying Rapid Commit
	// with a Reply (RFC 8415 §18.3.1).
	RapidCommit bool
}

// Server is a running kea-dhcp6 on a home link.
type Server struct {
	ClientNS, ServerNS *netns.NS
	ClientIf, ServerIf string
	// ClientAddr and ServerAddr are the global addresses on the link.
	ClientAddr, ServerAddr netip.Addr
	Subnet                 netip.Prefix
	Dir                    string
	LeaseFile              string
	conf                   string
	bin                    string
	proc                   *netns.Proc
}

// Start builds the home link and starts kea-dhcp6 on it.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	netns.Require(t, "kea-dhcp6")
	if !o.Subnet.IsValid() {
		o.Subnet = netip.MustParsePrefix("2001:db8:1::/64")
	}
	base := o.Subnet.Masked().Addr().As16()
	at := func(last byte) netip.Addr { b := base; b[14], b[15] = 0, last; return netip.AddrFrom16(b) }
	if !o.PoolFirst.IsValid() {
		b := base
		b[14], b[15] = 1, 0
		o.PoolFirst = netip.AddrFrom16(b)
		b[15] = 3
		o.PoolLast = netip.AddrFrom16(b)
	}
	if o.ValidLifetime == 0 {
		o.ValidLifetime = 4000
	}
	if o.PreferredLifetime == 0 {
		o.PreferredLifetime = 3000
	}
	s := &Server{
		ClientNS: netns.New(t, "ha"), ServerNS: netns.New(t, "kea"), ClientIf: "home0", ServerIf: "kea0",
		ClientAddr: at(1), ServerAddr: at(2), Subnet: o.Subnet.Masked(), Dir: t.TempDir(),
	}
	netns.Link(t, s.ClientNS, s.ClientIf, s.ServerNS, s.ServerIf)
	s.ClientNS.AddAddr(t, s.ClientIf, netip.PrefixFrom(s.ClientAddr, o.Subnet.Bits()).String())
	s.ServerNS.AddAddr(t, s.ServerIf, netip.PrefixFrom(s.ServerAddr, o.Subnet.Bits()).String())
	s.bin = unconfinedCopy(t, s.Dir)
	s.LeaseFile = filepath.Join(s.Dir, "leases6.csv")
	s.conf = filepath.Join(s.Dir, "kea-dhcp6.conf")
	if err := os.WriteFile(s.conf, s.config(o), 0o644); err != nil {
		t.Fatalf("kea: %v", err)
	}
	if out, err := s.ServerNS.Exec(s.bin, "-t", s.conf); err != nil {
		t.Fatalf("kea: config check: %v\n%s", err, out)
	}
	s.waitLinkLocal(t)
	s.Restart(t)
	return s
}

// unconfinedCopy copies kea-dhcp6 into dir. Debian ships an AppArmor
// profile attached to /usr/sbin/kea-dhcp6 that confines it to /etc/kea,
// /var/lib/kea and /run/kea; where AppArmor is on, the private instance
// (config, leases and pid in a temporary directory) must run from another
// path.
func unconfinedCopy(t testing.TB, dir string) string {
	t.Helper()
	src, err := exec.LookPath("kea-dhcp6")
	if err != nil {
		t.Fatalf("kea: %v", err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("kea: %v", err)
	}
	dst := filepath.Join(dir, "kea-dhcp6")
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatalf("kea: %v", err)
	}
	return dst
}

func (s *Server) config(o Options) []byte {
	pref := o.PreferredLifetime
	cfg := map[string]any{"Dhcp6": map[string]any{
		"interfaces-config": map[string]any{"interfaces": []string{s.ServerIf}},
		"lease-database":    map[string]any{"type": "memfile", "persist": true, "name": s.LeaseFile, "lfc-interval": 0},
		"data-directory":    s.Dir,
		"server-id":         map[string]any{"type": "EN", "enterprise-id": 32473, "identifier": "6d697036", "persist": false},
		"renew-timer":       pref / 2, "rebind-timer": pref * 4 / 5,
		"preferred-lifetime": pref, "valid-lifetime": o.ValidLifetime,
		"subnet6": []any{map[string]any{
			"id": 1, "subnet": s.Subnet.String(), "interface": s.ServerIf, "rapid-commit": o.RapidCommit,
			"pools": []any{map[string]any{"pool": fmt.Sprintf("%v-%v", o.PoolFirst, o.PoolLast)}},
		}},
		"loggers": []any{map[string]any{
			"name": "kea-dhcp6", "severity": "DEBUG", "debuglevel": 40,
			"output_options": []any{map[string]any{"output": "stdout"}},
		}},
	}}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	return b
}

// waitLinkLocal waits until both veth ends have their link-local address,
// which kea needs to open its socket.
func (s *Server) waitLinkLocal(t testing.TB) {
	t.Helper()
	netns.Eventually(t, 5*time.Second, func() error {
		for _, e := range []struct {
			ns  *netns.NS
			dev string
		}{{s.ClientNS, s.ClientIf}, {s.ServerNS, s.ServerIf}} {
			out, err := e.ns.Exec("ip", "-6", "addr", "show", "dev", e.dev, "scope", "link")
			if err != nil || !strings.Contains(out, "fe80::") || strings.Contains(out, "tentative") {
				return fmt.Errorf("%s has no usable link-local address yet: %v %s", e.dev, err, out)
			}
		}
		return nil
	})
}

// Restart starts kea-dhcp6 (again, after Stop) and waits until it serves.
// The lease file persists across restarts.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	env := []string{"KEA_PIDFILE_DIR=" + s.Dir, "KEA_LOCKFILE_DIR=" + s.Dir}
	s.proc = s.ServerNS.StartEnv(t, env, s.bin, "-c", s.conf)
	netns.Eventually(t, 10*time.Second, func() error {
		if done, err := s.proc.Exited(); done {
			t.Fatalf("kea: kea-dhcp6 exited: %v\n%s", err, s.proc.Output())
		}
		if !strings.Contains(s.proc.Output(), "DHCP6_STARTED") {
			return fmt.Errorf("kea-dhcp6 not started yet")
		}
		return nil
	})
}

// Stop stops kea-dhcp6 (a server that went away).
func (s *Server) Stop() { s.proc.Stop() }

// Log returns kea-dhcp6's output so far.
func (s *Server) Log() string { return s.proc.Output() }

// Leases returns the address -> DUID of each lease kea has on file with a
// non-zero valid lifetime (released leases are written with 0).
func (s *Server) Leases(t testing.TB) map[netip.Addr]string {
	t.Helper()
	b, err := os.ReadFile(s.LeaseFile)
	if err != nil {
		t.Fatalf("kea: %v", err)
	}
	m := map[netip.Addr]string{}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Split(line, ",")
		if len(f) < 4 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		if f[2] == "0" {
			delete(m, a)
			continue
		}
		m[a] = f[1]
	}
	return m
}
