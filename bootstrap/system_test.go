package bootstrap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mip6/aaa"
	"mip6/discovery"
	"mip6/ike"
	"mip6/internal/netns"
	"mip6/internal/peers/freeradius"
	"mip6/internal/peers/kea"
	"mip6/internal/peers/knot"
	"mip6/ipsec"
	"mip6/lease"
	"mip6/store"
)

// RFC 4640 §7.1, mobility service subscription: the MN knows only its NAI
// and its EAP password. In the visited network namespace it finds the
// home agent through the home domain's SRV record on a real knotd, runs
// IKEv2 with the home agent in the home namespace, and is authenticated
// with EAP-MSCHAPv2 by a real FreeRADIUS through the home agent's RADIUS
// pass-through; its IDi is only a routing identity. The home agent leases
// the home address to the identity FreeRADIUS authenticated and reports
// the binding to FreeRADIUS accounting.
func TestSystemMSPSubscription(t *testing.T) {
	lab := newSystemLab(t, "example.net", nil)
	// FreeRADIUS answers on the host's loopback, where the HA's RADIUS
	// client lives; the HA's IKE socket is in the home namespace.
	fr := freeradius.Start(t, freeradius.Config{Secret: "ha-radius-secret",
		Users: []freeradius.User{{Name: alice, Password: "alice-secret"}}})
	radius := &aaa.Client{Servers: []aaa.Server{{Addr: fr.AuthAddr(), Secret: []byte(fr.Secret)}}, Timeout: time.Second, Retries: 1}
	acct := &aaa.Client{Servers: []aaa.Server{{Addr: fr.AcctAddr(), Secret: []byte(fr.Secret)}}, Timeout: time.Second, Retries: 1}
	pki := newPKI(t)
	th := systemHA(t, lab.home, pki, radius, acct, "example.net")
	tr, res := lab.tr, lab.res
	cfg := Config{Identity: alice, RoutingIdentity: "@example.net", EAP: &EAPCredential{Method: EAPMSCHAPv2, Password: "alice-secret"},
		HAIdentity: ike.FQDN(haName), HATrustRoots: pki.roots, Resolver: res, Local: tr.Local(), Transport: tr,
		IKE: ike.Config{Logger: quietLogger(), RetransmitBase: 500 * time.Millisecond, RetransmitTries: 3}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("%v\nFreeRADIUS:\n%s", err, fr.Log())
	}
	defer r.Close()
	if r.HomeAgent.Source != discovery.SourceSRV || r.HomeAgent.Addr != netip.MustParseAddr("2001:db8:1::1") {
		t.Fatalf("home agent %v", r.HomeAgent)
	}
	checkResult(t, r, th, alice)
	if !strings.Contains(r.Trace.String(), "EAP-Request/MSCHAPv2") {
		t.Fatalf("trace:\n%s", r.Trace)
	}
	t.Logf("bootstrap in %v, %d IKE round trips:\n%s", r.Total, r.Trace.RoundTrips(), r.Trace)

	hoa := r.HomeAddress.Addr()
	if err := th.ha.BindingStarted(ctx, alice, hoa, tr.Local().Addr()); err != nil {
		t.Fatal(err)
	}
	if err := th.ha.BindingEnded(ctx, hoa, aaa.CauseUserRequest); err != nil {
		t.Fatal(err)
	}
	netns.Eventually(t, 5*time.Second, func() error {
		d := fr.Detail()
		if !strings.Contains(d, alice) || !strings.Contains(d, "Stop") || !strings.Contains(d, hoa.String()) {
			return errorf("accounting detail so far:\n%s", d)
		}
		return nil
	})
	r.Close()

	// EAP-TLS on the same transport: carol's certificate, issued by the
	// AAA operator's CA; TLS records fragmented inside IKE_AUTH.
	cfg.Identity = "carol@example.net"
	cfg.EAP = &EAPCredential{Method: EAPTLS, TLS: &tls.Config{RootCAs: fr.PKI.Pool, ServerName: fr.Name,
		Certificates: []tls.Certificate{fr.PKI.ClientCertificate(t, "carol@example.net")}}}
	r, err = Run(ctx, cfg)
	if err != nil {
		t.Fatalf("EAP-TLS: %v\nFreeRADIUS:\n%s", err, fr.Log())
	}
	defer r.Close()
	checkResult(t, r, th, "carol@example.net")
	if !strings.Contains(r.Trace.String(), "EAP-Request/TLS") {
		t.Fatalf("trace:\n%s", r.Trace)
	}
	t.Logf("EAP-TLS bootstrap in %v, %d IKE round trips:\n%s", r.Total, r.Trace.RoundTrips(), r.Trace)
}

// systemLab is the visited network (the MN's namespace) and the home or
// serving network (HA and knotd serving domain's SRV record), linked.
type systemLab struct {
	visited, home *netns.NS
	tr            *UDP                // the MN's IKE socket, in visited
	res           *discovery.Resolver // the MN's DNS client, in visited
}

// home, when given, already has the HA's address 2001:db8:1::1.
func newSystemLab(t testing.TB, domain string, home *netns.NS) *systemLab {
	netns.Require(t, "knotd", "kdig", freeradius.Binary)
	visited := netns.New(t, "visited")
	if home == nil {
		home = netns.New(t, "home")
		home.AddAddr(t, "lo", "2001:db8:1::1/128")
	}
	netns.Link(t, visited, "eth0", home, "eth0")
	visited.AddAddr(t, "eth0", "2001:db8:a::100/64")
	home.AddAddr(t, "eth0", "2001:db8:a::1/64")
	visited.AddRoute(t, "2001:db8:1::/64", "via", "2001:db8:a::1")
	home.Forwarding(t)
	k := knot.Start(t, knot.Options{NS: home, Addr: netip.MustParseAddr("2001:db8:1::53"), Zones: map[string]string{
		domain: strings.ReplaceAll(`$TTL 60
@            IN SOA ns.DOMAIN. hostmaster.DOMAIN. 1 3600 600 86400 60
@            IN NS  ns.DOMAIN.
ns           IN AAAA 2001:db8:1::53
_mip6._ipv6  IN SRV 10 1 0 ha1.DOMAIN.
ha1          IN AAAA 2001:db8:1::1
`, "DOMAIN", domain)}})
	lab := &systemLab{visited: visited, home: home}
	if err := visited.Do(func() (err error) {
		lab.tr, err = ListenUDP(netip.MustParseAddrPort("[2001:db8:a::100]:500"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.tr.Close() })
	lab.res = &discovery.Resolver{Servers: []netip.AddrPort{k.Addr}, Timeout: time.Second,
		Listen: func() (discovery.UDPConn, error) {
			var c *net.UDPConn
			err := visited.Do(func() (err error) {
				c, err = net.ListenUDP("udp6", &net.UDPAddr{IP: net.ParseIP("2001:db8:a::100")})
				return err
			})
			return c, err
		}}
	return lab
}

// RFC 4640 §7.3, third-party mobility service provider: carol subscribes
// to the mobility service authorizer msa.example; the serving provider
// msp.example (whose domain the MN was given) runs the home agent and a
// FreeRADIUS that proxies the realm msa.example to the authorizer's
// FreeRADIUS, which alone knows carol's password.
func TestSystemThirdPartyMSP(t *testing.T) {
	const carol = "carol@msa.example"
	lab := newSystemLab(t, "msp.example", nil)
	msa := freeradius.Start(t, freeradius.Config{Secret: "msa-secret",
		Users: []freeradius.User{{Name: carol, Password: "carol-secret"}}})
	msp := freeradius.Start(t, freeradius.Config{Secret: "msp-secret",
		Realms: []freeradius.Realm{{Name: "msa.example", Server: msa}}})
	radius := &aaa.Client{Servers: []aaa.Server{{Addr: msp.AuthAddr(), Secret: []byte(msp.Secret)}}, Timeout: 2 * time.Second, Retries: 1}
	pki := newPKI(t)
	th := systemHA(t, lab.home, pki, radius, nil, "msa.example")
	// IKE on the NAT-T port from the start (RFC 7296 §2.23), as an MN
	// behind a NAT would.
	var tr *UDP
	if err := lab.visited.Do(func() (err error) {
		tr, err = ListenUDP(netip.MustParseAddrPort("[2001:db8:a::100]:4500"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	cfg := Config{Identity: carol, Domain: "msp.example", EAP: &EAPCredential{Method: EAPMSCHAPv2, Password: "carol-secret"},
		HAIdentity: ike.FQDN(haName), HATrustRoots: pki.roots, Resolver: lab.res, Local: tr.Local(), Transport: tr,
		IKE: ike.Config{Logger: quietLogger(), RetransmitBase: 500 * time.Millisecond, RetransmitTries: 3}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("%v\nserving FreeRADIUS:\n%s", err, msp.Log())
	}
	defer r.Close()
	if r.HomeAgent.Name != "ha1.msp.example." {
		t.Fatalf("home agent %v", r.HomeAgent)
	}
	checkResult(t, r, th, carol)
	if r.IKESA.Remote.Port() != ike.PortNATT || r.Trace.RoundTrips() < 4 {
		t.Fatalf("IKE SA with %s, trace:\n%s", r.IKESA.Remote, r.Trace)
	}
	if len(msa.TranscriptLines(carol)) == 0 {
		t.Fatal("the authorizer's FreeRADIUS never saw carol: not proxied")
	}
	t.Logf("third-party MSP bootstrap in %v, %d IKE round trips:\n%s", r.Total, r.Trace.RoundTrips(), r.Trace)
}

// systemHA runs the home agent's IKE responder in the home namespace.
func systemHA(t testing.TB, home *netns.NS, pki *testPKI, radius, acct *aaa.Client, realm string) *testHA {
	t.Helper()
	h, st := systemHomeAgent(t, pki)
	h.AAA = &aaa.EAPAuthenticator{Client: radius, CalledStationID: "2001:db8:1::1"}
	h.AAARealms, h.Accounting = []string{realm}, acct
	return serveSystemHA(t, home, h, st)
}

// systemPool gives h a home address pool in st.
func systemPool(t testing.TB, h *HomeAgent, st *store.Store) {
	pool, err := lease.NewPool(lease.PoolConfig{Policy: lease.Policy{Store: st, HomePrefix: homePrefix, Authorize: h.Authorize},
		First: netip.MustParseAddr("2001:db8:1::1000"), Last: netip.MustParseAddr("2001:db8:1::1fff"), Exclude: []netip.Addr{netip.MustParseAddr("2001:db8:1::1")}})
	if err != nil {
		t.Fatal(err)
	}
	h.Addresses = pool
}

func systemHomeAgent(t testing.TB, pki *testPKI) (*HomeAgent, *store.Store) {
	st, err := store.Open(t.TempDir()+"/ha.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &HomeAgent{ID: ike.FQDN(haName), PAD: ipsec.NewPAD(), Store: st, Logger: quietLogger(),
		Certificates: pki.haCertChain(), PrivateKey: pki.haKey}, st
}

// serveSystemHA runs h's IKE responder on 2001:db8:1::1 in home.
func serveSystemHA(t testing.TB, home *netns.NS, h *HomeAgent, st *store.Store) *testHA {
	haAddr := netip.MustParseAddr("2001:db8:1::1")
	if h.Addresses == nil {
		systemPool(t, h, st)
	}
	cfg, err := h.Configure(ike.Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var u *ike.UDPTransport
	if err := home.Do(func() (err error) {
		u, err = ike.ListenUDP(netip.AddrPortFrom(haAddr, ike.PortIKE), netip.AddrPortFrom(haAddr, ike.PortNATT))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	th := &testHA{addr: haAddr, ha: h, st: st, pad: h.PAD}
	th.ep = ike.NewEndpoint(cfg, u, h.OnEvent)
	u.Serve(th.ep, nil)
	t.Cleanup(func() { th.ep.Close(); u.Close() })
	return th
}

// The home agent asks a real Kea on the home link for the home address
// (RFC 4877 §9 with DHCPv6): the PSK MN gets an address from Kea's pool,
// Kea holds the lease while the IKE SA lives and sees it released after.
func TestSystemDHCPv6HomeAddress(t *testing.T) {
	k := kea.Start(t, kea.Options{Subnet: homePrefix})
	lab := newSystemLab(t, "example.net", k.ClientNS)
	h, st := systemHomeAgent(t, newPKI(t))
	h.Subscribers = []Subscriber{{Identity: alice, Auth: ike.AuthPSK, PSK: alicePSK}}
	var d *lease.DHCPv6
	if err := k.ClientNS.Do(func() (err error) {
		d, err = lease.NewDHCPv6(lease.DHCPv6Config{Policy: lease.Policy{Store: st, HomePrefix: homePrefix, Authorize: h.Authorize},
			Interface: k.ClientIf, Timeout: 500 * time.Millisecond, Tries: 3})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	h.Addresses = d
	th := serveSystemHA(t, k.ClientNS, h, st)

	cfg := Config{Identity: alice, PSK: alicePSK, HAIdentity: ike.FQDN(haName), Resolver: lab.res, Local: lab.tr.Local(), Transport: lab.tr,
		IKE: ike.Config{Logger: quietLogger(), RetransmitBase: 500 * time.Millisecond, RetransmitTries: 3}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("%v\nKea:\n%s", err, k.Log())
	}
	checkResult(t, r, th, alice)
	hoa := r.HomeAddress.Addr()
	if hoa.Less(netip.MustParseAddr("2001:db8:1::100")) || netip.MustParseAddr("2001:db8:1::103").Less(hoa) {
		t.Fatalf("home address %s not from Kea's pool", hoa)
	}
	if _, ok := k.Leases(t)[hoa]; !ok {
		t.Fatalf("Kea has no lease for %s: %v", hoa, k.Leases(t))
	}
	t.Logf("DHCPv6 bootstrap in %v:\n%s", r.Total, r.Trace)
	r.Close()
	netns.Eventually(t, 5*time.Second, func() error {
		if _, ok := k.Leases(t)[hoa]; ok {
			return errorf("Kea still leases %s", hoa)
		}
		return nil
	})
}

// BenchmarkSystemBootstrap: a cold MN (SRV discovery on knotd, nothing
// cached) to its first CHILD_SA across network namespaces, with PSK,
// certificates, and EAP-MSCHAPv2 checked by FreeRADIUS through the HA.
func BenchmarkSystemBootstrap(b *testing.B) {
	for _, kind := range []string{"PSK", "Certificate", "EAP-MSCHAPv2-FreeRADIUS"} {
		b.Run(kind, func(b *testing.B) {
			lab := newSystemLab(b, "example.net", nil)
			pki := newPKI(b)
			cfg := Config{Identity: alice, HAIdentity: ike.FQDN(haName), HATrustRoots: pki.roots, Resolver: lab.res,
				Local: lab.tr.Local(), Transport: lab.tr, IKE: ike.Config{Logger: quietLogger(), RetransmitBase: 500 * time.Millisecond, RetransmitTries: 3}}
			switch kind {
			case "PSK":
				h, st := systemHomeAgent(b, pki)
				h.Subscribers = []Subscriber{{Identity: alice, Auth: ike.AuthPSK, PSK: alicePSK}}
				serveSystemHA(b, lab.home, h, st)
				cfg.PSK = alicePSK
			case "Certificate":
				h, st := systemHomeAgent(b, pki)
				h.Subscribers, h.TrustRoots = []Subscriber{{Identity: alice, Auth: ike.AuthCert}}, pki.roots
				serveSystemHA(b, lab.home, h, st)
				cfg.Certificate = &Certificate{Chain: []*x509.Certificate{pki.mnCert}, Key: pki.mnKey}
			default:
				fr := freeradius.Start(b, freeradius.Config{Secret: "ha-radius-secret",
					Users: []freeradius.User{{Name: alice, Password: "alice-secret"}}})
				radius := &aaa.Client{Servers: []aaa.Server{{Addr: fr.AuthAddr(), Secret: []byte(fr.Secret)}}, Timeout: time.Second, Retries: 1}
				systemHA(b, lab.home, pki, radius, nil, "example.net")
				cfg.EAP = &EAPCredential{Method: EAPMSCHAPv2, Password: "alice-secret"}
			}
			rtts := 0
			for b.Loop() {
				r, err := Run(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				rtts = r.Trace.RoundTrips()
				r.Close()
			}
			b.ReportMetric(float64(rtts), "round-trips")
		})
	}
}
