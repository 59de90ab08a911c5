package eap

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// Milenage is the 3GPP authentication and key generation function set
// (TS 35.206) with the standard rotations and constants. It backs the
// software USIM and the local authentication centre used by tests and
// `mip6 demo`.
type Milenage struct {
	K   [16]byte
	OPc [16]byte
}

// NewMilenageOP derives OPc from the operator variant OP (OPc = E_K(OP) xor OP).
func NewMilenageOP(k, op [16]byte) Milenage {
	c, _ := aes.NewCipher(k[:])
	var opc [16]byte
	c.Encrypt(opc[:], op[:])
	subtle.XORBytes(opc[:], opc[:], op[:])
	return Milenage{K: k, OPc: opc}
}

// out computes OUTi = E_K(rot(x xor OPc, r) xor c) xor OPc for r in bytes.
func (m *Milenage) out(enc func(dst, src []byte), x [16]byte, r int, c byte) [16]byte {
	var in, rot, o [16]byte
	subtle.XORBytes(in[:], x[:], m.OPc[:])
	for i := range rot {
		rot[i] = in[(i+r)%16]
	}
	rot[15] ^= c
	enc(o[:], rot[:])
	subtle.XORBytes(o[:], o[:], m.OPc[:])
	return o
}

// Vector is one output of Milenage for a RAND.
type Vector struct {
	MACA, MACS [8]byte  // f1, f1*
	RES        [8]byte  // f2
	CK, IK     [16]byte // f3, f4
	AK, AKS    [6]byte  // f5, f5*
}

// Compute runs f1..f5* for rand, sqn (48 bits) and amf.
func (m *Milenage) Compute(rand [16]byte, sqn uint64, amf [2]byte) Vector {
	c, _ := aes.NewCipher(m.K[:])
	var temp, x [16]byte
	subtle.XORBytes(x[:], rand[:], m.OPc[:])
	c.Encrypt(temp[:], x[:])
	var sqnB [8]byte
	binary.BigEndian.PutUint64(sqnB[:], sqn)
	var in1 [16]byte
	for i := 0; i < 2; i++ {
		copy(in1[i*8:], sqnB[2:8])
		copy(in1[i*8+6:], amf[:])
	}
	// OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc, r1 = 64 bits.
	var in1x, rot1, out1 [16]byte
	subtle.XORBytes(in1x[:], in1[:], m.OPc[:])
	for i := range rot1 {
		rot1[i] = in1x[(i+8)%16] ^ temp[i]
	}
	c.Encrypt(out1[:], rot1[:])
	subtle.XORBytes(out1[:], out1[:], m.OPc[:])
	var v Vector
	copy(v.MACA[:], out1[:8])
	copy(v.MACS[:], out1[8:])
	out2 := m.out(c.Encrypt, temp, 0, 1)
	copy(v.AK[:], out2[:6])
	copy(v.RES[:], out2[8:])
	v.CK = m.out(c.Encrypt, temp, 4, 2)
	v.IK = m.out(c.Encrypt, temp, 8, 4)
	out5 := m.out(c.Encrypt, temp, 12, 8)
	copy(v.AKS[:], out5[:6])
	return v
}

// USIM answers AKA challenges (TS 33.102 §6.3.3).
type USIM interface {
	// Authenticate checks AUTN for RAND and returns RES, CK and IK; a
	// *SyncFailure when the sequence number is not fresh; ErrAUTNMismatch
	// when the network failed to authenticate.
	Authenticate(rand, autn []byte) (res, ck, ik []byte, err error)
}

// ErrAUTNMismatch is an AUTN whose MAC does not verify: the network is not
// who it claims to be.
var ErrAUTNMismatch = errors.New("eap: AKA: AUTN MAC does not verify")

// SyncFailure is a stale sequence number; AUTS lets the network resync.
type SyncFailure struct{ AUTS [14]byte }

func (e *SyncFailure) Error() string { return "eap: AKA: sequence number not fresh" }

// SoftUSIM is a USIM in software with Milenage; SQN is the highest
// sequence number accepted so far. Not safe for concurrent use.
type SoftUSIM struct {
	Milenage
	SQN uint64
}

// Authenticate implements USIM.
func (u *SoftUSIM) Authenticate(rand, autn []byte) (res, ck, ik []byte, err error) {
	if len(rand) != 16 || len(autn) != 16 {
		return nil, nil, nil, ErrAUTNMismatch
	}
	var r [16]byte
	copy(r[:], rand)
	v0 := u.Compute(r, 0, [2]byte{})
	var sqnB [8]byte
	subtle.XORBytes(sqnB[2:], autn[:6], v0.AK[:])
	sqn := binary.BigEndian.Uint64(sqnB[:])
	amf := [2]byte{autn[6], autn[7]}
	v := u.Compute(r, sqn, amf)
	if subtle.ConstantTimeCompare(v.MACA[:], autn[8:16]) != 1 {
		return nil, nil, nil, ErrAUTNMismatch
	}
	if sqn <= u.SQN {
		return nil, nil, nil, &SyncFailure{AUTS: u.auts(r)}
	}
	u.SQN = sqn
	return v.RES[:], v.CK[:], v.IK[:], nil
}

// auts is (SQN_MS xor AK*) || MAC-S with AMF 0 (TS 33.102 §6.3.3).
func (u *SoftUSIM) auts(rand [16]byte) [14]byte {
	v := u.Compute(rand, u.SQN, [2]byte{})
	var sqnB [8]byte
	binary.BigEndian.PutUint64(sqnB[:], u.SQN)
	var out [14]byte
	subtle.XORBytes(out[:6], sqnB[2:], v.AKS[:])
	copy(out[6:], v.MACS[:])
	return out
}

// AUTN builds the network's AUTN = SQN xor AK || AMF || MAC-A.
func AUTN(v Vector, sqn uint64, amf [2]byte) [16]byte {
	var sqnB [8]byte
	binary.BigEndian.PutUint64(sqnB[:], sqn)
	var a [16]byte
	subtle.XORBytes(a[:6], sqnB[2:], v.AK[:])
	copy(a[6:8], amf[:])
	copy(a[8:], v.MACA[:])
	return a
}

// ResyncSQN recovers the USIM's SQN from AUTS (AUTS check of TS 33.102
// §6.3.5); false if MAC-S does not verify.
func (m *Milenage) ResyncSQN(rand [16]byte, auts []byte) (uint64, bool) {
	if len(auts) != 14 {
		return 0, false
	}
	v0 := m.Compute(rand, 0, [2]byte{})
	var sqnB [8]byte
	subtle.XORBytes(sqnB[2:], auts[:6], v0.AKS[:])
	sqn := binary.BigEndian.Uint64(sqnB[:])
	v := m.Compute(rand, sqn, [2]byte{})
	return sqn, subtle.ConstantTimeCompare(v.MACS[:], auts[6:]) == 1
}
