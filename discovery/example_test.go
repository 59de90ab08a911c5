package discovery_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"mip6/discovery"
)

// A home domain served by the embedded DNS server; the MN knows only its
// NAI.
func Example() {
	zone, err := discovery.ParseZone("example.net", `
$TTL 60
_mip6._ipv6  IN SRV 10 1 0 ha1.example.net.
_mip6._ipv6  IN SRV 20 1 0 ha2.example.net.
ha1          IN AAAA 2001:db8:1::1
ha2          IN AAAA 2001:db8:2::1
`)
	if err != nil {
		panic(err)
	}
	srv, err := discovery.Serve("[::1]:0", zone)
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	l, err := discovery.Discover(context.Background(), discovery.Config{
		Identity: "alice@example.net",
		Resolver: &discovery.Resolver{Servers: []netip.AddrPort{srv.Addr()}, Timeout: time.Second},
	})
	if err != nil {
		panic(err)
	}
	c, _ := l.Current()
	fmt.Println("try", c)
	c, _ = l.Failed(discovery.FailAuthRefused, nil) // IKE_AUTH refused by ha1
	fmt.Println("then", c)
	_, err = l.Failed(discovery.FailNoAnswer, nil)
	fmt.Println(err)
	// Output:
	// try 2001:db8:1::1 (dns-srv ha1.example.net.)
	// then 2001:db8:2::1 (dns-srv ha2.example.net.)
	// discovery: all 2 home agent candidates failed: 2001:db8:1::1 (dns-srv ha1.example.net.): authentication refused; 2001:db8:2::1 (dns-srv ha2.example.net.): no answer
}

// BenchmarkDiscoverSRV is one DNS discovery (SRV with the AAAA records in
// the additional section) against the embedded server on loopback.
func BenchmarkDiscoverSRV(b *testing.B) {
	zone, err := discovery.ParseZone("example.net", "_mip6._ipv6 60 IN SRV 10 1 0 ha1.example.net.\nha1 60 IN AAAA 2001:db8:1::1\n")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := discovery.Serve("[::1]:0", zone)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	cfg := discovery.Config{Identity: "alice@example.net", Resolver: &discovery.Resolver{Servers: []netip.AddrPort{srv.Addr()}}}
	for b.Loop() {
		if _, err := discovery.Discover(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
}
