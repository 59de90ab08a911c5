package freeradius_test

import (
	"context"
	"testing"
	"time"

	"mip6/aaa"
	"mip6/eap"
	"mip6/internal/peers/freeradius"
)

// BenchmarkFreeRADIUSMSCHAPv2 is one EAP-MSCHAPv2 authentication of our
// peer through our RADIUS client against FreeRADIUS (-X, single thread) on
// loopback: the AAA share of an EAP bootstrap.
func BenchmarkFreeRADIUSMSCHAPv2(b *testing.B) {
	s := freeradius.Start(b, freeradius.Config{Secret: "bench", Users: users})
	benchAuth(b, &aaa.EAPAuthenticator{Client: &aaa.Client{
		Servers: []aaa.Server{{Addr: s.AuthAddr(), Secret: []byte("bench")}}, Timeout: 2 * time.Second}})
}

// BenchmarkLocalServerMSCHAPv2 is the same against aaa.LocalServer.
func BenchmarkLocalServerMSCHAPv2(b *testing.B) {
	addr := startLocalB(b, "bench")
	benchAuth(b, &aaa.EAPAuthenticator{Client: &aaa.Client{
		Servers: []aaa.Server{{Addr: addr, Secret: []byte("bench")}}, Timeout: 2 * time.Second}})
}

func benchAuth(b *testing.B, a *aaa.EAPAuthenticator) {
	ctx := context.Background()
	rounds := 0
	for b.Loop() {
		peer := eap.NewPeer("bob@example.net", eap.NewMSCHAPv2("bob@example.net", "bob-secret"))
		conv, _ := a.Start(ctx, peer.Identity())
		var resp []byte
		for i := 0; i < 10; i++ {
			out, err := conv.Next(ctx, resp)
			if err != nil {
				b.Fatal(err)
			}
			rounds++
			if out.Done {
				if !out.Accepted {
					b.Fatal("rejected")
				}
				break
			}
			if resp, err = peer.Handle(out.Message); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(rounds)/float64(b.N), "RADIUS-round-trips/op")
}
