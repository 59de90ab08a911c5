package esp

import (
	"bytes"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to Open for every transform: it must never
// panic, and whatever it accepts must be what a sealer produced. The seeds
// are genuine packets, so mutations explore the paths past the ICV too.
func FuzzOpen(f *testing.F) {
	for i, tr := range allTransforms {
		out, _ := pair(f, tr, i%2 == 0)
		p, _ := out.Seal(nil, []byte("seed payload"), 41)
		f.Add(uint8(i), p)
	}
	f.Add(uint8(0), []byte{})
	f.Add(uint8(3), bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, which uint8, pkt []byte) {
		tr := allTransforms[int(which)%len(allTransforms)]
		out, in := pair(t, tr, which%2 == 0)
		payload, nh, err := in.Open(append([]byte(nil), pkt...))
		if err == nil {
			// Only a packet the peer sealed can pass: re-seal and compare.
			again, serr := out.Seal(nil, payload, nh)
			if serr != nil || (tr.AEAD() && !bytes.Equal(again, pkt)) {
				t.Fatalf("%v: accepted a packet the sealer would not produce", tr)
			}
		}
		s := in.Stats()
		var drops uint64
		for _, d := range s.Drops {
			drops += d
		}
		if (err == nil) == (drops == 1) && !isReason(err, ErrWrongSPI) {
			t.Fatalf("drop counted %d times for err %v", drops, err)
		}
	})
}

func TestDropsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	out, in := pair(t, AESGCM128, true)
	p, _ := out.Seal(nil, make([]byte, 100), 41)
	bad := append([]byte(nil), p...)
	bad[30] ^= 1
	var err error
	n := testing.AllocsPerRun(100, func() { _, _, err = in.Open(bad) })
	if !isReason(err, DropBadICV) {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%v allocs per forged packet", n)
	}
}
