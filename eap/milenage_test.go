package eap

import (
	"bytes"
	"testing"
)

func arr16(t *testing.T, s string) (a [16]byte) {
	copy(a[:], unhex(t, s))
	return
}

// 3GPP TS 35.207 / 35.208 test set 1.
func TestMilenageTestSet1(t *testing.T) {
	m := NewMilenageOP(arr16(t, "465b5ce8b199b49faa5f0a2ee238a6bc"), arr16(t, "cdc202d5123e20f62b6d676ac72cb318"))
	if !bytes.Equal(m.OPc[:], unhex(t, "cd63cb71954a9f4e48a5994e37a02baf")) {
		t.Fatalf("OPc %x", m.OPc)
	}
	v := m.Compute(arr16(t, "23553cbe9637a89d218ae64dae47bf35"), 0xff9bb4d0b607, [2]byte{0xb9, 0xb9})
	for _, c := range []struct {
		name      string
		got, want []byte
	}{
		{"f1", v.MACA[:], unhex(t, "4a9ffac354dfafb3")},
		{"f1*", v.MACS[:], unhex(t, "01cfaf9ec4e871e9")},
		{"f2", v.RES[:], unhex(t, "a54211d5e3ba50bf")},
		{"f3", v.CK[:], unhex(t, "b40ba9a3c58b2a05bbf0d987b21bf8cb")},
		{"f4", v.IK[:], unhex(t, "f769bcd751044604127672711c6d3441")},
		{"f5", v.AK[:], unhex(t, "aa689c648370")},
		{"f5*", v.AKS[:], unhex(t, "451e8beca43b")},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s = %x, want %x", c.name, c.got, c.want)
		}
	}
}

func TestSoftUSIMAndResync(t *testing.T) {
	m := NewMilenageOP(arr16(t, "465b5ce8b199b49faa5f0a2ee238a6bc"), arr16(t, "cdc202d5123e20f62b6d676ac72cb318"))
	usim := &SoftUSIM{Milenage: m, SQN: 100}
	rand := arr16(t, "23553cbe9637a89d218ae64dae47bf35")
	amf := [2]byte{0x80, 0}
	autn := AUTN(m.Compute(rand, 101, amf), 101, amf)
	res, _, _, err := usim.Authenticate(rand[:], autn[:])
	want := m.Compute(rand, 101, amf)
	if err != nil || !bytes.Equal(res, want.RES[:]) || usim.SQN != 101 {
		t.Fatalf("fresh challenge: %v", err)
	}
	// Replay: sync failure with AUTS that lets the network recover SQN 101.
	_, _, _, err = usim.Authenticate(rand[:], autn[:])
	sf, ok := err.(*SyncFailure)
	if !ok {
		t.Fatalf("replay: %v", err)
	}
	if sqn, ok := m.ResyncSQN(rand, sf.AUTS[:]); !ok || sqn != 101 {
		t.Fatalf("resync %d %v", sqn, ok)
	}
	autn[9] ^= 1
	if _, _, _, err := usim.Authenticate(rand[:], autn[:]); err != ErrAUTNMismatch {
		t.Fatalf("forged AUTN: %v", err)
	}
}
