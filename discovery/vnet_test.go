package discovery

import (
	"context"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"mip6/vnet"
	"mip6/wire/ipv6"
)

// The whole discovery on the demo's simulated network, as `mip6 demo` runs
// it: DHAAD from access network A to the home link's Home-Agents anycast
// address, then DNS (SRV and AAAA) to a server on the correspondent link.
func TestVnetDemo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := vnet.NewDemo()
		defer d.Net.Close()
		ha2 := netip.MustParseAddr("2001:db8:1::3")

		// DNS server for example.net on the correspondent's node.
		zone, err := ParseZone("example.net", "_mip6._ipv6 60 IN SRV 10 1 0 ha2.example.net.\nha2 60 IN AAAA "+ha2.String()+"\n")
		if err != nil {
			t.Fatal(err)
		}
		dnsAddr := netip.AddrPortFrom(vnet.CNAddr, 53)
		sc, err := d.CN.ListenUDP(dnsAddr)
		if err != nil {
			t.Fatal(err)
		}
		srv := ServeUDP(sc, dnsAddr, zone)
		defer srv.Close()

		// The home agent answers DHAAD on the anycast address.
		anycast, _ := HomeAgentsAnycast(vnet.HomePrefix)
		d.HA.AddLocalAddr(anycast)
		d.Home.Claim(anycast, d.HAIfc)
		in, _ := d.HA.ListenICMP(anycast, ipv6.ICMPv6DHAADRequest)
		out, _ := d.HA.ListenICMP(vnet.HAAddr)
		defer in.Close()
		go func() {
			buf := make([]byte, 1500)
			for {
				n, from, err := in.ReadFrom(buf)
				if err != nil {
					return
				}
				if rep, err := AppendDHAADReply(nil, buf[:n], from, anycast, vnet.HAAddr, []netip.Addr{vnet.HAAddr}); err == nil {
					out.WriteTo(rep, from)
				}
			}
		}()

		mn := d.Net.NewNode("mn")
		coa := vnet.AddrOn(vnet.APrefix, 7)
		mn.Attach(d.A, coa)
		icmp, _ := mn.ListenICMP(coa, ipv6.ICMPv6DHAADReply)
		defer icmp.Close()
		start := time.Now()
		l, err := Discover(context.Background(), Config{
			Identity:   "alice@example.net",
			Domain:     "example.net",
			HomePrefix: vnet.HomePrefix,
			DHAAD:      &DHAADClient{Conn: icmp},
			Resolver: &Resolver{Servers: []netip.AddrPort{dnsAddr},
				Listen: func() (UDPConn, error) { return mn.ListenUDP(netip.AddrPortFrom(coa, 0)) }},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := addrs(l); got != vnet.HAAddr.String()+"/dhaad "+ha2.String()+"/dns-srv" {
			t.Fatalf("candidates %s", got)
		}
		t.Logf("discovery took %v of virtual time", time.Since(start))
	})
}
