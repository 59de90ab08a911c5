package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/config"
	"mip6/internal/control"
	"mip6/internal/daemon"
	"mip6/internal/netns"
	"mip6/internal/peers/etcd"
	"mip6/internal/peers/knot"
	"mip6/store"
)

// clusterLab: two home agents, ha1 (2001:db8:1::2) and ha2 (::3), on ONE
// home link, a bridge in the router's namespace (router ::1, where the
// shared etcd member listens too); alice on access network A, bob on D,
// the correspondent (and knot) on C.
type clusterLab struct {
	lab
	ha2, bob *netns.NS
}

func newClusterLab(t *testing.T) *clusterLab {
	l := &clusterLab{lab: lab{ha: netns.New(t, "ha1"), router: netns.New(t, "rt"), cn: netns.New(t, "cn"), mn: netns.New(t, "mn")},
		ha2: netns.New(t, "ha2"), bob: netns.New(t, "bob")}
	r := l.router
	r.Forwarding(t)
	r.Bridge(t, "br1")
	r.Sysctl(t, "net.ipv6.conf.br1.accept_dad", "0")
	for i, ns := range []*netns.NS{l.ha, l.ha2} {
		port := fmt.Sprintf("rhome%d", i+1)
		netns.Link(t, ns, "ha0", r, port)
		r.Run(t, "ip", "link", "set", port, "master", "br1")
	}
	netns.Link(t, l.cn, "c0", r, "rc")
	netns.Link(t, l.mn, "a0", r, "ra")
	netns.Link(t, l.bob, "d0", r, "rd")
	for dev, addr := range map[string]string{"br1": "2001:db8:1::1/64", "rc": "2001:db8:c::1/64",
		"ra": "2001:db8:a::1/64", "rd": "2001:db8:d::1/64"} {
		r.AddAddr(t, dev, addr)
	}
	for i, ns := range []*netns.NS{l.ha, l.ha2} {
		ns.AddAddr(t, "ha0", fmt.Sprintf("2001:db8:1::%d/64", i+2))
		ns.AddRoute(t, "default", "via", "2001:db8:1::1")
	}
	l.cn.AddAddr(t, "c0", "2001:db8:c::100/64")
	l.cn.AddAddr(t, "c0", "2001:db8:c::53/64")
	l.cn.AddRoute(t, "default", "via", "2001:db8:c::1")
	l.mn.AddAddr(t, "a0", "2001:db8:a::100/64")
	l.mn.AddRoute(t, "default", "via", "2001:db8:a::1")
	l.bob.AddAddr(t, "d0", "2001:db8:d::100/64")
	l.bob.AddRoute(t, "default", "via", "2001:db8:d::1")
	return l
}

// clusterZone lists the home agents' SRV records: ha1 first (priority 10),
// then ha2, or only ha2 once the operator took ha1 out.
func clusterZone(serial int, withHA1 bool) string {
	srv := "_mip6._ipv6 IN SRV 20 1 0 ha2.example.net.\n"
	if withHA1 {
		srv = "_mip6._ipv6 IN SRV 10 1 0 ha1.example.net.\n" + srv
	}
	return fmt.Sprintf(`$ORIGIN example.net.
$TTL 60
@ IN SOA ns.example.net. hostmaster.example.net. %d 3600 600 86400 60
@ IN NS ns.example.net.
ns IN AAAA 2001:db8:c::53
%sha1 IN AAAA 2001:db8:1::2
ha2 IN AAAA 2001:db8:1::3
`, serial, srv)
}

const clusterPSK = "cluster test pre-shared key"

// writeClusterHA writes home agent n's config: the same home link, pool,
// IKE identity and etcd prefix as the other; its own address and socket.
func writeClusterHA(t *testing.T, dir string, n int, endpoints []string) string {
	p := filepath.Join(dir, fmt.Sprintf("ha%d.conf", n))
	write(t, p, fmt.Sprintf(`
[home_agent]
address = "2001:db8:1::%d"
home_prefix = "2001:db8:1::/64"
home_interface = "ha0"
[ike]
listen = ["[2001:db8:1::%d]:500", "[2001:db8:1::%d]:4500"]
identity = "ha.example.net"
[addresses]
pool = "2001:db8:1::1000/116"
[[mobile_node]]
identity = "alice@example.net"
auth = "psk"
psk = %[4]q
[[mobile_node]]
identity = "bob@example.net"
auth = "psk"
psk = %[4]q
[store]
etcd_endpoints = ["%[5]s"]
etcd_prefix = "/mip6/homelink1"
etcd_request_timeout = "1s"
[daemon]
control_socket = "%[6]s/ha%[7]d.sock"
log_level = "debug"
`, n+1, n+1, n+1, clusterPSK, strings.Join(endpoints, `", "`), dir, n))
	return p
}

// bindingOf returns identity's binding in the status of the daemon at
// sock, or an error.
func bindingOf(t testing.TB, bin, sock, identity string) (control.Binding, error) {
	s, err := status(t, bin, sock)
	if err != nil {
		return control.Binding{}, err
	}
	for _, b := range s.Bindings {
		if b.Identity == identity {
			return b, nil
		}
	}
	return control.Binding{}, fmt.Errorf("no binding of %s: %+v", identity, s.Bindings)
}

// Two home agents on one home link share their leases through etcd. alice
// bootstraps with ha1 (first in DNS SRV) and gets home address H; bob,
// bootstrapping with ha2 and asking for H, gets another address. ha1
// crashes (SIGKILL, its host leaves the link); alice bootstraps with ha2
// and gets H again, because the lease is alice's in the shared store
// (lease.Pool.Assign returns an identity's live lease first); the
// correspondent reaches H again, now through ha2.
//
// How alice notices: the operator's health check takes ha1 out of DNS and
// alice, re-running discovery every reanchor_interval (RFC 4640 §5.3),
// leaves for ha2. Her own detection without that is far too slow for a
// test: nothing tells the mobile node daemon that a silent home agent is
// gone before the binding refresh (0.8 of mobility.lifetime) and eight
// unanswered Binding Updates (mn.Config.MaxAttempts, 1 s doubling to
// 32 s: 127 s); the daemon sets no IKE liveness check (DPD) and exposes
// neither in its config. The cache keeps only the home address: a cached
// home agent is tried first at every bootstrap, so a dead ha1 would cost
// bootstrap.Config.AttemptTimeout (30 s) more.
func TestDaemonsHomeAgentFailover(t *testing.T) {
	netns.Require(t, "ping", "knotd", "kdig", "etcd")
	bin := buildMIP6(t)
	dir := t.TempDir()
	l := newClusterLab(t)
	kv := etcd.Start(t, etcd.Options{NS: l.router, Addr: netip.MustParseAddr("2001:db8:1::1")})
	dns := knot.Start(t, knot.Options{NS: l.cn, Addr: netip.MustParseAddr("2001:db8:c::53"),
		Zones: map[string]string{"example.net": clusterZone(1, true)}})
	h1 := l.ha.Start(t, bin, "ha", "-c", writeClusterHA(t, dir, 1, kv.Endpoints()))
	h2 := l.ha2.Start(t, bin, "ha", "-c", writeClusterHA(t, dir, 2, kv.Endpoints()))
	sock1, sock2 := filepath.Join(dir, "ha1.sock"), filepath.Join(dir, "ha2.sock")
	for _, s := range []string{sock1, sock2} {
		netns.Eventually(t, 10*time.Second, func() error { _, err := status(t, bin, s); return err })
	}
	aliceConf := filepath.Join(dir, "alice.conf")
	write(t, aliceConf, fmt.Sprintf(`
identity = "alice@example.net"
[credential]
psk = %q
[home_agent]
dns_server = "[2001:db8:c::53]:53"
identity = "ha.example.net"
reanchor_interval = "1s"
[mobility]
interfaces = ["a0"]
[cache]
path = "%s/alice.cache"
items = ["home_address"]
[daemon]
control_socket = "%s/alice.sock"
log_level = "debug"
`, clusterPSK, dir, dir))
	alice := l.mn.Start(t, bin, "mn", "-c", aliceConf)
	var bob *netns.Proc
	defer func() {
		if t.Failed() {
			t.Logf("ha1:\n%s\nha2:\n%s\nalice:\n%s", h1.Output(), h2.Output(), alice.Output())
			if bob != nil {
				t.Logf("bob:\n%s", bob.Output())
			}
		}
	}()
	for i, h := range []*netns.Proc{h1, h2} {
		if !strings.Contains(h.Output(), "store: etcd") || !strings.Contains(h.Output(), "prefix=/mip6/homelink1") {
			t.Fatalf("ha%d does not say it uses the shared etcd store:\n%s", i+1, h.Output())
		}
	}

	netns.Eventually(t, 20*time.Second, bindingTo(t, bin, sock1, "2001:db8:a::100"))
	b, err := bindingOf(t, bin, sock1, "alice@example.net")
	if err != nil {
		t.Fatal(err)
	}
	hoa := b.HomeAddress
	if !netip.MustParsePrefix("2001:db8:1::1000/116").Contains(netip.MustParseAddr(hoa)) {
		t.Fatalf("alice's home address %s is outside the pool", hoa)
	}
	l.cn.Run(t, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", hoa)

	// Uniqueness across home agents: bob asks ha2 for alice's address.
	bobConf := filepath.Join(dir, "bob.conf")
	write(t, bobConf, fmt.Sprintf(`
identity = "bob@example.net"
home_address = %q
[credential]
psk = %q
[home_agent]
address = "2001:db8:1::3"
identity = "ha.example.net"
[mobility]
interfaces = ["d0"]
[daemon]
control_socket = "%s/bob.sock"
`, hoa, clusterPSK, dir))
	bob = l.bob.Start(t, bin, "mn", "-c", bobConf)
	netns.Eventually(t, 20*time.Second, bindingTo(t, bin, sock2, "2001:db8:d::100"))
	bb, err := bindingOf(t, bin, sock2, "bob@example.net")
	if err != nil || bb.HomeAddress == hoa {
		t.Fatalf("bob at ha2: %+v %v: alice holds %s at ha1", bb, err, hoa)
	}

	// ha1 crashes: no Delete, no de-registration; its host leaves the link
	// (its kernel would otherwise still answer for H from the proxy ND
	// entry the dead daemon left).
	killed := time.Now()
	h1.Kill()
	l.ha.Run(t, "ip", "link", "set", "ha0", "down")
	dns.SetZone(t, "example.net", clusterZone(2, false))
	var left time.Duration // alice gave ha1 up (her status no longer shows it)
	netns.Eventually(t, 40*time.Second, func() error {
		if left == 0 {
			if s, err := status(t, bin, filepath.Join(dir, "alice.sock")); err == nil &&
				(len(s.Bindings) == 0 || s.Bindings[0].HomeAgent != "2001:db8:1::2") {
				left = time.Since(killed)
			}
		}
		return bindingTo(t, bin, sock2, "2001:db8:a::100")()
	})
	bound := time.Since(killed)
	b2, err := bindingOf(t, bin, sock2, "alice@example.net")
	if err != nil {
		t.Fatal(err)
	}
	if b2.HomeAddress != hoa {
		t.Fatalf("alice got %s from ha2, want her lease %s back", b2.HomeAddress, hoa)
	}
	var back time.Duration
	netns.Eventually(t, 10*time.Second, func() error {
		_, err := l.cn.ExecWithin(3*time.Second, "ping", "-6", "-c", "1", "-W", "1", hoa)
		back = time.Since(killed)
		return err
	})
	l.cn.Run(t, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", hoa)
	if bb2, err := bindingOf(t, bin, sock2, "bob@example.net"); err != nil || bb2.HomeAddress != bb.HomeAddress {
		t.Fatalf("bob after the failover: %+v %v, want %s still", bb2, err, bb.HomeAddress)
	}
	t.Logf("failover: alice left ha1 %v after the crash, registered with ha2 (same home address %s) after %v, correspondent reached it after %v",
		left.Round(10*time.Millisecond), hoa, bound.Round(10*time.Millisecond), back.Round(10*time.Millisecond))
}

// A home agent whose etcd does not answer does not start, and says which
// endpoints it tried and what to check (the store opens before anything
// that needs privileges).
func TestHomeAgentEtcdUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	ep := ln.Addr().String()
	ln.Close() // nothing listens there now
	dir := t.TempDir()
	p := etcdHAConf(t, dir, "ha", ep, "etcd_prefix = \"/mip6/homelink1\"\netcd_dial_timeout = \"300ms\"")
	cfg, err := config.LoadHA(p)
	if err != nil {
		t.Fatal(err)
	}
	h, err := daemon.StartHomeAgent(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var ee *store.EtcdError
	if h != nil || !errors.As(err, &ee) || ee.Cause != store.EtcdUnreachable ||
		!strings.Contains(err.Error(), ep) || !strings.Contains(err.Error(), "/mip6/homelink1") ||
		!strings.Contains(err.Error(), "check that etcd runs") {
		t.Fatalf("StartHomeAgent = %v, %v; want an unreachable etcd error naming %s", h, err, ep)
	}
}

// The home agent reaches etcd over TLS with the files of [store]: the
// servers' CA and its client certificate. Without the certificate etcd
// refuses it, and it says where it tried.
func TestDaemonsHomeAgentEtcdTLS(t *testing.T) {
	netns.Require(t, "etcd")
	bin := buildMIP6(t)
	dir := t.TempDir()
	ns := netns.New(t, "ha")
	netns.Link(t, ns, "ha0", netns.New(t, "rt"), "rhome")
	ns.AddAddr(t, "ha0", "2001:db8:1::2/64")
	// The test CA's server certificate names ::1: etcd listens on the
	// namespace's loopback.
	kv := etcd.Start(t, etcd.Options{NS: ns, TLS: true})
	conf := func(name, tls string) string {
		return etcdHAConf(t, dir, name, kv.Endpoint, "etcd_prefix = \"/mip6/tls\"\netcd_dial_timeout = \"1s\"\n"+tls)
	}
	f := kv.ClientTLS
	noCert := ns.Start(t, bin, "ha", "-c", conf("nocert", fmt.Sprintf("etcd_ca = %q", f.CA)))
	if err := noCert.Wait(20 * time.Second); err == nil || !strings.Contains(noCert.Output(), "store: etcd "+kv.Endpoint) ||
		!strings.Contains(noCert.Output(), "unavailable") {
		t.Fatalf("a home agent without a client certificate: %v\n%s", err, noCert.Output())
	}
	good := ns.Start(t, bin, "ha", "-c", conf("ha", fmt.Sprintf("etcd_ca = %q\netcd_cert = %q\netcd_key = %q", f.CA, f.Cert, f.Key)))
	netns.Eventually(t, 10*time.Second, func() error { _, err := status(t, bin, filepath.Join(dir, "ha.sock")); return err })
	if out := good.Output(); !strings.Contains(out, "store: etcd") || !strings.Contains(out, "tls=true") ||
		!strings.Contains(out, "store=etcd:"+kv.Endpoint+"/mip6/tls") {
		t.Fatalf("the home agent does not say it uses etcd over TLS:\n%s", out)
	}
}

// The home agent authenticates to an etcd with auth on as etcd_username,
// with the password from etcd_password_file; a wrong password stops its
// start with an error that says to check the user and password.
func TestDaemonsHomeAgentEtcdAuth(t *testing.T) {
	netns.Require(t, "etcd")
	bin := buildMIP6(t)
	dir := t.TempDir()
	ns := netns.New(t, "ha")
	netns.Link(t, ns, "ha0", netns.New(t, "rt"), "rhome")
	ns.AddAddr(t, "ha0", "2001:db8:1::2/64")
	kv := etcd.Start(t, etcd.Options{NS: ns})
	enableEtcdAuth(t, ns, kv.Endpoint, "root", "etcd root password")
	conf := func(name, password string) string {
		pw := filepath.Join(dir, name+".pw")
		write(t, pw, password+"\n")
		return etcdHAConf(t, dir, name, kv.Endpoint, fmt.Sprintf("etcd_dial_timeout = \"1s\"\netcd_username = \"root\"\netcd_password_file = %q", pw))
	}
	wrong := ns.Start(t, bin, "ha", "-c", conf("wrong", "not the password"))
	if err := wrong.Wait(20 * time.Second); err == nil || !strings.Contains(wrong.Output(), "check the etcd user, password") {
		t.Fatalf("a home agent with a wrong etcd password: %v\n%s", err, wrong.Output())
	}
	if strings.Contains(wrong.Output(), "not the password") {
		t.Fatalf("the password reached the log:\n%s", wrong.Output())
	}
	good := ns.Start(t, bin, "ha", "-c", conf("ha", "etcd root password"))
	netns.Eventually(t, 10*time.Second, func() error { _, err := status(t, bin, filepath.Join(dir, "ha.sock")); return err })
	if out := good.Output(); !strings.Contains(out, "user=root") || strings.Contains(out, "etcd root password") {
		t.Fatalf("the home agent's log:\n%s", out)
	}
}

// enableEtcdAuth adds user with the root role and turns authentication
// on, through etcd's JSON gateway inside ns.
func enableEtcdAuth(t *testing.T, ns *netns.NS, endpoint, user, password string) {
	t.Helper()
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := ns.Do(func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	hc := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DialContext: dial}}
	for _, step := range []struct{ path, body string }{
		{"/v3/auth/user/add", fmt.Sprintf(`{"name":%q,"password":%q}`, user, password)},
		{"/v3/auth/role/add", `{"name":"root"}`},
		{"/v3/auth/user/grant", fmt.Sprintf(`{"user":%q,"role":"root"}`, user)},
		{"/v3/auth/enable", `{}`},
	} {
		r, err := hc.Post(endpoint+step.path, "application/json", strings.NewReader(step.body))
		if err != nil {
			t.Fatalf("etcd %s: %v", step.path, err)
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Fatalf("etcd %s: %s: %s", step.path, r.Status, b)
		}
	}
}

// etcdHAConf writes dir/name.conf: a home agent at 2001:db8:1::2 on ha0
// whose store is the etcd at endpoint, with storeLines in [store].
func etcdHAConf(t *testing.T, dir, name, endpoint, storeLines string) string {
	p := filepath.Join(dir, name+".conf")
	write(t, p, fmt.Sprintf(`
[home_agent]
address = "2001:db8:1::2"
home_prefix = "2001:db8:1::/64"
home_interface = "ha0"
[ike]
listen = ["[2001:db8:1::2]:4500"]
[store]
etcd_endpoints = [%q]
%s
[daemon]
control_socket = "%s/%s.sock"
`, endpoint, storeLines, dir, name))
	return p
}
