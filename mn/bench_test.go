package mn

import (
	"testing"
	"time"
)

// BenchmarkHandover: the mobile node's processing for one movement, the
// new care-of address to the accepted binding (Attach, then HandleAck).
func BenchmarkHandover(b *testing.B) {
	m, err := New(Config{HomeAddress: hoa, HomeAgent: haA, HomePrefix: pfx, KeyMgmt: true})
	if err != nil {
		b.Fatal(err)
	}
	now := t0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		coa := coaA
		if i&1 == 1 {
			coa = coaB
		}
		acts := m.Attach(now, coa)
		bu := acts[1].(SendBindingUpdate)
		m.HandleAck(now, BindingAck{Sequence: bu.Sequence, Lifetime: 900, KeyMgmt: true})
		now = now.Add(time.Millisecond)
	}
}
