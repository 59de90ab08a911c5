package dataplane

import (
	"encoding/binary"
	"testing"

	"mip6/ipsec"
)

// planes without goroutines: seal/open called directly, as workers do.
func benchPlanes(t testing.TB) (a, b *Plane) {
	ba, bb := memBindPair(outerA, outerB) // never used: seal and open only check a bind is there
	a = &Plane{spd: ipsec.NewSPD(), sad: ipsec.NewSAD(), binds: [numCarriers]Bind{ba}}
	b = &Plane{spd: ipsec.NewSPD(), sad: ipsec.NewSAD(), binds: [numCarriers]Bind{bb}}
	ta, tb := tunnelPair()
	if _, err := a.InstallTunnel(ta); err != nil {
		t.Fatal(err)
	}
	if _, err := b.InstallTunnel(tb); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// roundTrip seals packet pkt in a's batch out and opens it in b's batch in.
func roundTrip(a, b *Plane, out, in *batch, pkt []byte) bool {
	out.sizes[0] = copy(out.bufs[0][txHead:], pkt)
	var cache sealCache
	if !a.seal(out, 0, &cache) {
		return false
	}
	in.dgs[0].Buf = in.bufs[0][rxHead : rxHead+copy(in.bufs[0][rxHead:], out.pkts[0])]
	return b.open(in, 0)
}

func TestNoAllocationPerPacket(t *testing.T) {
	a, b := benchPlanes(t)
	out, in := newBatch(1, txBufSize), newBatch(1, rxBufSize)
	pkt := udpPacket(hoaA, hostB, 1)
	if !roundTrip(a, b, out, in, pkt) {
		t.Fatalf("round trip failed: %v / %v", a.Stats(), b.Stats())
	}
	if n := testing.AllocsPerRun(1000, func() { roundTrip(a, b, out, in, pkt) }); n != 0 {
		t.Fatalf("%v allocations per packet", n)
	}
	// Drops do not allocate either.
	out.sizes[0] = copy(out.bufs[0][txHead:], pkt)
	a.seal(out, 0, &sealCache{})
	replay := append([]byte(nil), out.pkts[0]...)
	if n := testing.AllocsPerRun(1000, func() {
		in.dgs[0].Buf = in.bufs[0][rxHead : rxHead+copy(in.bufs[0][rxHead:], replay)]
		b.open(in, 0)
	}); n != 0 {
		t.Fatalf("%v allocations per dropped packet", n)
	}
}

// BenchmarkSealOpen1400 is the per-packet work of both directions (policy
// lookup, AES-GCM-128 seal, SA lookup, open, selector check) for
// 1400-byte packets, without I/O.
func BenchmarkSealOpen1400(b *testing.B) {
	pa, pb := benchPlanes(b)
	out, in := newBatch(1, txBufSize), newBatch(1, rxBufSize)
	pkt := udpPacket(hoaA, hostB, 1)
	pkt = append(pkt, make([]byte, 1400-len(pkt))...)
	binary.BigEndian.PutUint16(pkt[4:], 1400-40)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if !roundTrip(pa, pb, out, in, pkt) {
			b.Fatalf("round trip failed: %v", pb.Stats())
		}
	}
}
