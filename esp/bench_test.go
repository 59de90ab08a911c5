package esp

import (
	"crypto/aes"
	"crypto/cipher"
	"testing"
	"time"
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

// BenchmarkSealVsBare interleaves batches of bare crypto/cipher AES-128-GCM
// seals and ESP Seals of the same 1400 bytes, so both see the same machine
// load, and reports ESP throughput as a fraction of bare (goal >= 0.8).
func BenchmarkSealVsBare(b *testing.B) {
	blk, _ := aes.NewCipher(make([]byte, 16))
	g, _ := cipher.NewGCM(blk)
	bare := make([]byte, benchSize, benchSize+16)
	nonce, aad := make([]byte, 12), make([]byte, 8)
	out, _ := pair(b, AESGCM128, true)
	buf := make([]byte, 0, 2048)
	pt := buf[out.HeaderLen() : out.HeaderLen()+benchSize]
	const batch = 256
	var tBare, tESP time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		for range batch {
			g.Seal(bare[:0], nonce, bare[:benchSize], aad)
		}
		mid := time.Now()
		for range batch {
			if _, err := out.Seal(buf, pt, 41); err != nil {
				b.Fatal(err)
			}
		}
		tBare += mid.Sub(start)
		tESP += time.Since(mid)
	}
	b.ReportMetric(float64(tBare)/float64(tESP), "esp/bare")
}

// BenchmarkOpenVsBare does the same for decryption: bare AES-128-GCM Open
// against ESP OpenTo (replay check, ICV, padding), both into a separate
// buffer. Packets are sealed outside the timed batches.
func BenchmarkOpenVsBare(b *testing.B) {
	blk, _ := aes.NewCipher(make([]byte, 16))
	g, _ := cipher.NewGCM(blk)
	nonce, aad := make([]byte, 12), make([]byte, 8)
	sealed := g.Seal(nil, nonce, make([]byte, benchSize), aad)
	out, in := pair(b, AESGCM128, true)
	const batch = 256
	pkts := make([][]byte, batch)
	for i := range pkts {
		pkts[i] = make([]byte, 0, 2048)
	}
	plain := make([]byte, 0, 2048)
	var tBare, tESP time.Duration
	b.ReportAllocs()
	for b.Loop() {
		for i := range pkts {
			pkts[i], _ = out.Seal(pkts[i][:0], plain[:benchSize], 41)
		}
		start := time.Now()
		for range batch {
			if _, err := g.Open(plain[:0], nonce, sealed, aad); err != nil {
				b.Fatal(err)
			}
		}
		mid := time.Now()
		for _, p := range pkts {
			if _, _, err := in.OpenTo(plain[:0], p); err != nil {
				b.Fatal(err)
			}
		}
		tBare += mid.Sub(start)
		tESP += time.Since(mid)
	}
	b.ReportMetric(float64(tBare)/float64(tESP), "esp/bare")
}
