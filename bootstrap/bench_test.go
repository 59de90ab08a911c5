package bootstrap

import (
	"context"
	"crypto/x509"
	"testing"

	"mip6/ike"
	"mip6/lease"
)

// Bootstrap latency from a cold MN (static HA, nothing cached) to the
// first CHILD_SA, in-process over the memNet; EAP through the in-process
// RADIUS server on ::1. Reports the IKE round trips next to the time.
func BenchmarkBootstrap(b *testing.B) {
	for _, kind := range []string{"PSK", "Certificate", "EAP-MSCHAPv2"} {
		b.Run(kind, func(b *testing.B) {
			n := newMemNet()
			pki := newPKI(b)
			var cfg Config
			switch kind {
			case "PSK":
				newTestHA(b, n, ha1Addr, pki)
				cfg = mnConfig(n, ha1Addr)
			case "Certificate":
				newTestHA(b, n, ha1Addr, pki, func(h *HomeAgent, _ *lease.PoolConfig) {
					h.Subscribers = []Subscriber{{Identity: alice, Auth: ike.AuthCert}}
				})
				cfg = mnConfig(n, ha1Addr)
				cfg.PSK = nil
				cfg.Certificate = &Certificate{Chain: []*x509.Certificate{pki.mnCert}, Key: pki.mnKey}
				cfg.HATrustRoots = pki.roots
			default:
				eapHA(b, n, pki, localAAA(b, nil))
				cfg = eapConfig(n, pki, "alice's password")
			}
			rtts := 0
			for b.Loop() {
				res, err := Run(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				rtts = res.Trace.RoundTrips()
				res.Close()
			}
			b.ReportMetric(float64(rtts), "round-trips")
		})
	}
}
