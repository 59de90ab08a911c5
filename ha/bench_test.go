package ha

import (
	"fmt"
	"mip6/esp"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// allowAll is a PAD for benchmarks: identity i owns home address i.
type allowAll struct{}

func (allowAll) Authorized(string, netip.Addr) bool { return true }

const benchMNs = 100_000

func benchSecs() []SecurityContext {
	secs := make([]SecurityContext, benchMNs)
	for i := range secs {
		secs[i] = SecurityContext{SA: SAID(i + 1), IKESA: uint64(i + 1), Identity: fmt.Sprintf("mn%d@example.net", i),
			HomeAddress: hoaN(i), OuterSource: coa1}
	}
	return secs
}

func benchHA(b *testing.B, secs []SecurityContext) *HomeAgent {
	h, err := New(Config{Address: haAddr, HomePrefixes: []netip.Prefix{home}, KeyMgmtMobility: true}, allowAll{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range secs {
		if r := h.ProcessBU(t0, secs[i], buFor(hoaN(i), coa1, 1, 1000)); r.Verdict != Accepted {
			b.Fatal(r)
		}
	}
	return h
}

// BenchmarkProcessBU: refresh and move BUs against a cache holding 100,000
// registered MNs, spread over all of them; reports BUs per CPU-second.
func BenchmarkProcessBU(b *testing.B) {
	secs := benchSecs()
	h := benchHA(b, secs)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		bu := BindingUpdate{Acknowledge: true, Home: true, KeyMgmt: true, Lifetime: 1000}
		i := 0
		for pb.Next() {
			i = (i + 7919) % benchMNs
			sec := secs[i]
			if i&1 == 1 {
				sec.OuterSource = coa2
			}
			bu.HomeAddress, bu.AltCoA = sec.HomeAddress, sec.OuterSource
			bu.Sequence = uint16(time.Now().UnixNano()>>10) | 1 // mostly newer; 135 otherwise, also a full path
			h.ProcessBU(t0, sec, &bu)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/float64(runtime.GOMAXPROCS(0)), "BU/s/core")
}

// BenchmarkBindingMemory measures heap bytes per registered MN in the
// binding cache. Identity strings are shared with the PAD (allocated before
// the measurement); the SAs live in the IPsec layer and are measured there.
func BenchmarkBindingMemory(b *testing.B) {
	secs := benchSecs()
	for n := 0; n < b.N; n++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		h := benchHA(b, secs)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchMNs, "B/binding")
		runtime.KeepAlive(h)
	}
}

// BenchmarkMemoryPerMN measures a registered MN's share of the home agent's
// heap: its binding plus four ESP SAs (AES-GCM-128; inbound and outbound for
// BU/BA and for the tunnel), 10,000 MNs. SAD/SPD index entries and the IKE
// SA are not included (other packages).
func BenchmarkMemoryPerMN(b *testing.B) {
	const n = 10_000
	secs := benchSecs()[:n]
	key := make([]byte, esp.AESGCM128.KeyLen())
	for it := 0; it < b.N; it++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		h, err := New(Config{Address: haAddr, HomePrefixes: []netip.Prefix{home}}, allowAll{})
		if err != nil {
			b.Fatal(err)
		}
		sas := make([]*esp.SA, 0, 4*n)
		for i := range secs {
			h.ProcessBU(t0, secs[i], buFor(hoaN(i), coa1, 1, 1000))
			for d := 0; d < 4; d++ {
				dir := esp.Inbound
				if d&1 == 1 {
					dir = esp.Outbound
				}
				sa, err := esp.New(esp.Config{SPI: uint32(4*i + d + 256), Direction: dir, Transform: esp.AESGCM128, Key: key})
				if err != nil {
					b.Fatal(err)
				}
				sas = append(sas, sa)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/MN")
		runtime.KeepAlive(h)
		runtime.KeepAlive(sas)
	}
}

// BenchmarkExpireNothingDue: the periodic expiry call with 100,000 bindings
// and none due.
func BenchmarkExpireNothingDue(b *testing.B) {
	h := benchHA(b, benchSecs())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res, _ := h.Expire(t0.Add(time.Minute)); len(res) != 0 {
			b.Fatal("expired")
		}
	}
}
