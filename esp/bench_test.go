package esp

import (
	"crypto/aes"
	"crypto/cipher"
	"testing"
)

const benchSize = 1400

// BenchmarkBareAESGCM128 is the baseline: crypto/cipher sealing the same
// payload with no ESP around it. Compare Seal/Open throughput to it.
func BenchmarkBareAESGCM128(b *testing.B) {
	blk, _ := aes.NewCipher(make([]byte, 16))
	g, _ := cipher.NewGCM(blk)
	buf := make([]byte, benchSize, benchSize+16)
	nonce := make([]byte, 12)
	aad := make([]byte, 8)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		g.Seal(buf[:0], nonce, buf[:benchSize], aad)
	}
}

func benchTransforms() []Transform {
	return []Transform{AESGCM128, AESGCM256, ChaCha20Poly1305, AESCBC128SHA256, AESCBC256SHA512}
}

func BenchmarkSeal(b *testing.B) {
	for _, tr := range benchTransforms() {
		b.Run(tr.String(), func(b *testing.B) {
			out, _ := pair(b, tr, true)
			buf := make([]byte, 0, 2048)
			pt := buf[out.HeaderLen() : out.HeaderLen()+benchSize] // in place
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := out.Seal(buf, pt, 41); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, tr := range benchTransforms() {
		b.Run(tr.String(), func(b *testing.B) {
			out, in := pair(b, tr, true)
			// Pre-seal distinct packets: each Open consumes its sequence number.
			const ring = 1024
			pkts := make([][]byte, ring)
			orig := make([][]byte, ring)
			for i := range pkts {
				p, _ := out.Seal(nil, make([]byte, benchSize), 41)
				orig[i] = p
				pkts[i] = make([]byte, len(p))
			}
			b.SetBytes(benchSize)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i%ring == 0 && i > 0 {
					// Re-seal a fresh batch outside the timer: new sequence numbers.
					b.StopTimer()
					for j := range orig {
						orig[j], _ = out.Seal(orig[j][:0], make([]byte, benchSize), 41)
					}
					b.StartTimer()
				}
				p := pkts[i%ring]
				copy(p, orig[i%ring])
				if _, _, err := in.Open(p); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
