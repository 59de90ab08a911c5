package esp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"sync"
	"testing"

	wire "mip6/wire/esp"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var allTransforms = []Transform{AESGCM128, AESGCM256, ChaCha20Poly1305, AESCBC128SHA256, AESCBC256SHA256, AESCBC256SHA512,
	{Encryption: EncrAESCBC, KeyBits: 192, Integrity: IntegHMACSHA2_384192}}

// pair returns an outbound and an inbound SA sharing keys.
func pair(t testing.TB, tr Transform, esn bool) (*SA, *SA) {
	t.Helper()
	key := make([]byte, tr.KeyLen())
	for i := range key {
		key[i] = byte(i*7 + 3)
	}
	out, err := New(Config{SPI: 0xc0000001, Direction: Outbound, Transform: tr, Key: key, ESN: esn})
	if err != nil {
		t.Fatal(err)
	}
	in, err := New(Config{SPI: 0xc0000001, Direction: Inbound, Transform: tr, Key: key, ESN: esn})
	if err != nil {
		t.Fatal(err)
	}
	return out, in
}

func TestSealOpenRoundTrip(t *testing.T) {
	for _, tr := range allTransforms {
		for _, esn := range []bool{false, true} {
			out, in := pair(t, tr, esn)
			for _, n := range []int{0, 1, 2, 3, 4, 15, 16, 17, 40, 1400} {
				pt := bytes.Repeat([]byte{byte(n)}, n)
				pkt, err := out.Seal([]byte("prefix"), pt, 41)
				if err != nil {
					t.Fatal(err)
				}
				if string(pkt[:6]) != "prefix" || len(pkt)-6 != n+out.Overhead(n) || out.Overhead(n) > out.MaxOverhead() {
					t.Fatalf("%v: bad framing, len %d for %d", tr, len(pkt), n)
				}
				got, nh, err := in.Open(pkt[6:])
				if err != nil || nh != 41 || !bytes.Equal(got, pt) {
					t.Fatalf("%v esn=%v n=%d: Open = %x %d %v", tr, esn, n, got, nh, err)
				}
			}
			if s := in.Stats(); s.Packets != 10 || s.Drops != [numDropReasons]uint64{} {
				t.Fatalf("%v: stats %+v", tr, s)
			}
		}
	}
}

func TestSealInPlace(t *testing.T) {
	for _, tr := range allTransforms {
		out, in := pair(t, tr, false)
		pt := bytes.Repeat([]byte{0x5a}, 1000)
		buf := make([]byte, 0, 2048)
		copy(buf[out.HeaderLen():out.HeaderLen()+len(pt)], pt)
		inPlace := buf[out.HeaderLen() : out.HeaderLen()+len(pt)]
		pkt, err := out.Seal(buf, inPlace, 4)
		if err != nil {
			t.Fatal(err)
		}
		if &pkt[0] != &buf[:1][0] {
			t.Fatal("Seal reallocated despite capacity")
		}
		got, nh, err := in.Open(pkt)
		if err != nil || nh != 4 || !bytes.Equal(got, pt) {
			t.Fatalf("%v: in-place round trip failed: %v", tr, err)
		}
		if &got[0] != &pkt[out.HeaderLen()] {
			t.Fatal("Open did not decrypt in place")
		}
	}
}

func TestOpenDrops(t *testing.T) {
	for _, tr := range allTransforms {
		out, in := pair(t, tr, true)
		seal := func() []byte {
			p, err := out.Seal(nil, []byte("hello, home agent"), 135)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		p1 := seal()
		tampered := append([]byte(nil), p1...)
		tampered[len(tampered)-20] ^= 1
		expectDrop(t, in, tampered, DropBadICV)
		// The failed packet must not have consumed its sequence number.
		if _, _, err := in.Open(append([]byte(nil), p1...)); err != nil {
			t.Fatalf("%v: authentic packet after forgery: %v", tr, err)
		}
		expectDrop(t, in, p1, DropReplay)
		expectDrop(t, in, p1[:10], DropMalformed)
		wrongSPI := append([]byte(nil), seal()...)
		wrongSPI[3] ^= 0xff
		if _, _, err := in.Open(wrongSPI); !isReason(err, ErrWrongSPI) {
			t.Fatalf("wrong SPI: %v", err)
		}
		s := in.Stats()
		if s.Drop(DropBadICV) != 1 || s.Drop(DropReplay) != 1 || s.Drop(DropMalformed) != 1 || s.Packets != 1 {
			t.Fatalf("%v: counters %+v", tr, s)
		}
		if _, err := in.Seal(nil, nil, 0); !isReason(err, ErrWrongDirection) {
			t.Fatalf("Seal on inbound: %v", err)
		}
		if _, _, err := out.Open(p1); !isReason(err, ErrWrongDirection) {
			t.Fatalf("Open on outbound: %v", err)
		}
	}
}

func isReason(err error, r DropReason) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == r
}

func expectDrop(t *testing.T, sa *SA, pkt []byte, r DropReason) {
	t.Helper()
	_, _, err := sa.Open(append([]byte(nil), pkt...))
	if !isReason(err, r) {
		t.Fatalf("%v: Open = %v, want drop %v", sa.Transform(), err, r)
	}
}

func TestReplayWindowOrder(t *testing.T) {
	out, in := pair(t, AESGCM128, false)
	var pkts [][]byte
	for range 3000 {
		p, _ := out.Seal(nil, []byte{1, 2, 3}, 59)
		pkts = append(pkts, p)
	}
	// Deliver the newest first, then older ones: those within the window are
	// accepted once, those beyond it are too old.
	if _, _, err := in.Open(pkts[2999]); err != nil {
		t.Fatal(err)
	}
	for i := 2998; i >= 0; i-- {
		_, nh, err := in.Open(append([]byte(nil), pkts[i]...))
		seq := uint64(i + 1)
		if 3000-seq < ReplayWindow {
			if err != nil || nh != wire.NextHeaderNone {
				t.Fatalf("seq %d inside window refused: %v", seq, err)
			}
		} else if !isReason(err, DropTooOld) {
			t.Fatalf("seq %d outside window: %v", seq, err)
		}
	}
	expectDrop(t, in, pkts[2000], DropReplay)
	if ReplayWindow < 1024 {
		t.Fatalf("window %d smaller than 1024", ReplayWindow)
	}
}

func TestReplayClearsOnJump(t *testing.T) {
	var r replayWindow
	for s := uint64(1); s <= 100; s++ {
		if r.update(s) != 0 {
			t.Fatal(s)
		}
	}
	// Jump by more than the ring: stale bits from the old rounds must not
	// reject new numbers that map to the same slots.
	base := uint64(replayBlocks * replayBlockBits * 3)
	if r.update(base+100) != 0 {
		t.Fatal("jump refused")
	}
	for s := base + 100 - ReplayWindow + 1; s < base+100; s++ {
		if _, reason := r.check(uint32(s), false); reason != 0 {
			t.Fatalf("seq %d wrongly %v after jump", s, reason)
		}
	}
}

func TestESNReconstruct(t *testing.T) {
	const w = ReplayWindow
	cases := []struct {
		top  uint64
		low  uint32
		want uint64
		ok   bool
	}{
		{0, 1, 1, true},
		{5, 3, 3, true},
		{1<<32 - 10, 5, 1<<32 + 5, true},           // Case A: wrapped forward
		{1<<32 - 10, 1<<32 - 20, 1<<32 - 20, true}, // Case A: inside window
		{1<<32 + 5, 1<<32 - 20, 1<<32 - 20, true},  // Case B: previous subspace
		{1<<32 + 5, 100, 1<<32 + 100, true},        // Case B: ahead
		{3<<32 + w + 7, 2, 4<<32 + 2, true},        // Case A: far ahead wraps
		{0xffffffff_fffffff0, 3, 0, false},         // would exceed 2^64-1
		{10, 1<<32 - 5, 0, false},                  // before the first subspace
	}
	for _, c := range cases {
		got, ok := reconstruct(c.top, c.low, true)
		if got != c.want || ok != c.ok {
			t.Errorf("reconstruct(%#x, %#x) = %#x %v, want %#x %v", c.top, c.low, got, ok, c.want, c.ok)
		}
	}
}

// TestESNAcrossWrap seals and opens across the 2^32 boundary: the low bits
// on the wire wrap, the ICV covers the high bits, the receiver rebuilds them.
func TestESNAcrossWrap(t *testing.T) {
	for _, tr := range allTransforms {
		out, in := pair(t, tr, true)
		out.seq.Store(1<<32 - 3)
		in.in.replay.top.Store(1<<32 - 4)
		var pkts [][]byte
		for range 6 {
			p, err := out.Seal(nil, []byte("across"), 41)
			if err != nil {
				t.Fatal(err)
			}
			pkts = append(pkts, p)
		}
		if binary.BigEndian.Uint32(pkts[5][4:]) != 3 {
			t.Fatalf("low bits on the wire: %x", pkts[5][4:8])
		}
		for _, i := range []int{5, 0, 3, 1, 4, 2} { // out of order across the wrap
			if _, _, err := in.Open(pkts[i]); err != nil {
				t.Fatalf("%v: packet %d: %v", tr, i, err)
			}
		}
		if in.in.replay.top.Load() != 1<<32+3 {
			t.Fatalf("top %#x", in.in.replay.top.Load())
		}
		// A receiver that guesses the wrong high bits must fail the ICV.
		_, in2 := pair(t, tr, true)
		in2.in.replay.top.Store(1<<33 + 100)
		expectDrop(t, in2, pkts[5], DropBadICV)
	}
}

func TestSequenceExhausted(t *testing.T) {
	out, _ := pair(t, AESGCM128, false)
	out.seq.Store(1<<32 - 1)
	if _, err := out.Seal(nil, nil, 59); !isReason(err, ErrSequenceExhausted) {
		t.Fatalf("no rekey error at 2^32: %v", err)
	}
}

func TestBadPadding(t *testing.T) {
	_, in := pair(t, AESGCM128, false)
	// Hand-build an authentic packet whose padding is 1, 3 instead of 1, 2.
	key := make([]byte, AESGCM128.KeyLen())
	for i := range key {
		key[i] = byte(i*7 + 3)
	}
	b, _ := aes.NewCipher(key[:16])
	g, _ := cipher.NewGCM(b)
	pkt := wire.Header{SPI: 0xc0000001, Seq: 1}.Append(nil)
	iv := []byte{0, 0, 0, 0, 0, 0, 0, 1}
	pkt = append(pkt, iv...)
	plain := []byte{0xaa, 0xbb, 0xcc, 0xdd, 1, 3, 2, 41}
	pkt = g.Seal(pkt, append(key[16:20:20], iv...), plain, pkt[:8])
	expectDrop(t, in, pkt, DropBadPadding)
	// The ICV verified, so the sequence number is consumed.
	expectDrop(t, in, pkt, DropReplay)
}

func TestConfigErrors(t *testing.T) {
	bad := []Config{
		{SPI: 0x1000, Direction: Outbound, Transform: AESGCM128, Key: make([]byte, 16)},
		{SPI: 0x10, Direction: Outbound, Transform: AESGCM128, Key: make([]byte, 20)},
		{SPI: 0x1000, Transform: AESGCM128, Key: make([]byte, 20)},
		{SPI: 0x1000, Direction: Inbound, Transform: Transform{Encryption: EncrAESGCM16, KeyBits: 100}, Key: make([]byte, 16)},
		{SPI: 0x1000, Direction: Inbound, Transform: Transform{Encryption: EncrAESCBC, KeyBits: 128}, Key: make([]byte, 16)},
	}
	for i, c := range bad {
		var ce *ConfigError
		if _, err := New(c); !errors.As(err, &ce) {
			t.Errorf("config %d: err = %v", i, err)
		}
	}
}

func TestEndpointsMove(t *testing.T) {
	ep := Endpoints{Local: netip.MustParseAddrPort("[2001:db8:1::1]:4500"), Remote: netip.MustParseAddrPort("[2001:db8:2::5]:4500"), Carrier: CarrierUDP}
	sa, err := New(Config{SPI: 0x1234, Direction: Outbound, Transform: AESGCM128, Key: make([]byte, 20), Endpoints: ep})
	if err != nil {
		t.Fatal(err)
	}
	if sa.Endpoints() != ep {
		t.Fatal("endpoints not stored")
	}
	moved := ep
	moved.Remote = netip.MustParseAddrPort("[2001:db8:3::5]:4500")
	sa.MoveEndpoints(moved)
	if sa.Endpoints() != moved {
		t.Fatal("endpoints not moved")
	}
}

func TestConcurrentSealOpen(t *testing.T) {
	for _, tr := range []Transform{AESGCM128, AESCBC128SHA256} {
		out, in := pair(t, tr, true)
		const workers, per = 4, 200
		ch := make(chan []byte, workers*per)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range per {
					p, err := out.Seal(nil, make([]byte, 100), 41)
					if err != nil {
						t.Error(err)
						return
					}
					ch <- p
				}
			})
		}
		wg.Wait()
		close(ch)
		var pkts [][]byte
		for p := range ch {
			pkts = append(pkts, p, append([]byte(nil), p...)) // each twice
		}
		var ok sync.WaitGroup
		var mu sync.Mutex
		accepted := 0
		for w := range workers {
			ok.Go(func() {
				for i := w; i < len(pkts); i += workers {
					if _, _, err := in.Open(pkts[i]); err == nil {
						mu.Lock()
						accepted++
						mu.Unlock()
					}
				}
			})
		}
		ok.Wait()
		if accepted != workers*per || in.Stats().Drop(DropReplay) != workers*per {
			t.Fatalf("%v: accepted %d, replays %d", tr, accepted, in.Stats().Drop(DropReplay))
		}
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, tr := range allTransforms {
		out, in := pair(t, tr, true)
		buf := make([]byte, 0, 2048)
		pt := make([]byte, 1400)
		n := testing.AllocsPerRun(50, func() {
			pkt, err := out.Seal(buf, pt, 41)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := in.Open(pkt); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%v: %v allocs per Seal+Open", tr, n)
		}
	}
}

func TestLifetime(t *testing.T) {
	key := make([]byte, AESGCM128.KeyLen())
	life := Lifetime{SoftPackets: 2, HardPackets: 3, HardBytes: 1000}
	out, _ := New(Config{SPI: 0x777, Direction: Outbound, Transform: AESGCM128, Key: key, Lifetime: life})
	in, _ := New(Config{SPI: 0x777, Direction: Inbound, Transform: AESGCM128, Key: key, Lifetime: Lifetime{HardPackets: 2}})
	var pkts [][]byte
	for i := range 3 {
		p, err := out.Seal(nil, []byte("x"), 59)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		pkts = append(pkts, p)
		soft, hard := out.Expired()
		if soft != (i >= 1) || hard != (i >= 2) {
			t.Fatalf("after %d packets: soft %v hard %v", i+1, soft, hard)
		}
	}
	if _, err := out.Seal(nil, []byte("x"), 59); !isReason(err, ErrLifetimeExpired) {
		t.Fatalf("past the hard limit: %v", err)
	}
	if s := out.Stats(); s.Packets != 3 || s.Bytes != 3 {
		t.Fatalf("refused packet counted: %+v", s)
	}
	big, _ := New(Config{SPI: 0x778, Direction: Outbound, Transform: AESGCM128, Key: key, Lifetime: life})
	if _, err := big.Seal(nil, make([]byte, 1001), 59); !isReason(err, ErrLifetimeExpired) {
		t.Fatalf("byte limit: %v", err)
	}
	for i, p := range pkts {
		_, _, err := in.Open(p)
		if (i < 2) != (err == nil) {
			t.Fatalf("inbound packet %d: %v", i, err)
		}
	}
	if in.Stats().Drop(DropExpired) != 1 {
		t.Fatal("expired drop not counted")
	}
}

func TestOpenTo(t *testing.T) {
	for _, tr := range allTransforms {
		out, in := pair(t, tr, true)
		pt := bytes.Repeat([]byte{0x33}, 333)
		pkt, err := out.Seal(nil, pt, 41)
		if err != nil {
			t.Fatal(err)
		}
		orig := append([]byte(nil), pkt...)
		dst := append(make([]byte, 0, 1024), "hdr"...)
		got, nh, err := in.OpenTo(dst, pkt)
		if err != nil || nh != 41 || string(got[:3]) != "hdr" || !bytes.Equal(got[3:], pt) {
			t.Fatalf("%v: OpenTo = %d %v", tr, nh, err)
		}
		if !bytes.Equal(pkt, orig) {
			t.Fatalf("%v: OpenTo modified the packet", tr)
		}
		if _, _, err := in.OpenTo(pkt[:0], pkt); !isReason(err, ErrOverlap) {
			t.Fatalf("%v: overlapping dst: %v", tr, err)
		}
		if _, _, err := in.OpenTo(nil, pkt); !isReason(err, DropReplay) {
			t.Fatalf("%v: replay through OpenTo: %v", tr, err)
		}
	}
}
