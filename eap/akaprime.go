package eap

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"hash"

	wire "mip6/wire/eap"
)

// EAP-AKA' key derivation (RFC 9048 §3.3, §3.4; 3GPP TS 33.402 Annex A.2).

// akaPrimeKeys are the keys of one EAP-AKA' authentication.
type akaPrimeKeys struct {
	kEncr [16]byte
	kAut  [32]byte
	kRe   [32]byte
	msk   [64]byte
	emsk  [64]byte
}

// ckIKPrime derives CK' and IK' from CK, IK, the access network name and
// SQN xor AK (the first 6 bytes of AUTN).
func ckIKPrime(ck, ik []byte, network string, sqnXorAK []byte) (ckp, ikp [16]byte) {
	h := hmac.New(sha256.New, append(append([]byte(nil), ck...), ik...))
	h.Write([]byte{0x20})
	h.Write([]byte(network))
	h.Write([]byte{byte(len(network) >> 8), byte(len(network))})
	h.Write(sqnXorAK)
	h.Write([]byte{0, 6})
	out := h.Sum(nil)
	copy(ckp[:], out[:16])
	copy(ikp[:], out[16:])
	return ckp, ikp
}

// prfPrime is PRF'(K, S) = T1 | T2 | ..., Ti = HMAC-SHA-256(K, Ti-1 | S | i).
func prfPrime(key, s []byte, n int) []byte {
	h := hmac.New(sha256.New, key)
	var out, t []byte
	for i := byte(1); len(out) < n; i++ {
		h.Reset()
		h.Write(t)
		h.Write(s)
		h.Write([]byte{i})
		t = h.Sum(nil)
		out = append(out, t...)
	}
	return out[:n]
}

// deriveAKAPrime computes MK = PRF'(IK'|CK', "EAP-AKA'"|Identity) and
// splits it into K_encr, K_aut, K_re, MSK and EMSK.
func deriveAKAPrime(identity string, ckp, ikp [16]byte) *akaPrimeKeys {
	key := append(append([]byte(nil), ikp[:]...), ckp[:]...)
	mk := prfPrime(key, append([]byte("EAP-AKA'"), identity...), 208)
	k := &akaPrimeKeys{}
	copy(k.kEncr[:], mk[0:16])
	copy(k.kAut[:], mk[16:48])
	copy(k.kRe[:], mk[48:80])
	copy(k.msk[:], mk[80:144])
	copy(k.emsk[:], mk[144:208])
	return k
}

// akaMAC is AT_MAC: HMAC-SHA-256-128 over the EAP packet with the MAC
// value zeroed (RFC 9048 §3.4, RFC 4187 §10.15).
func akaMAC(kAut []byte, pkt []byte, macOff int) []byte {
	c := append([]byte(nil), pkt...)
	clear(c[macOff : macOff+16])
	h := hmac.New(sha256.New, kAut)
	h.Write(c)
	return h.Sum(nil)[:16]
}

// akaPacketMACOffset is the AT_MAC value's offset in a whole EAP packet:
// Code, Identifier, Length, Type, Subtype, Reserved come first.
const akaPacketHeader = 8

// verifyAKAMAC checks the AT_MAC of a parsed EAP-AKA' packet.
func verifyAKAMAC(kAut []byte, p *wire.Packet, m *wire.AKA) bool {
	off := m.MACOffset()
	if off < 0 {
		return false
	}
	pkt, err := p.Append(nil)
	if err != nil {
		return false
	}
	want := akaMAC(kAut, pkt, akaPacketHeader+off)
	return subtle.ConstantTimeCompare(want, m.Attributes[off:off+16]) == 1
}

// signedAKA is an EAP-AKA' body whose AT_MAC (the last attribute, zero in
// Attributes) is computed over the finished packet. wire.Append calls
// AppendTypeData with b ending in the 4-byte header and the Type octet.
type signedAKA struct {
	wire.AKA
	kAut []byte
}

func (s *signedAKA) AppendTypeData(b []byte) []byte {
	start := len(b) - 5
	b = s.AKA.AppendTypeData(b)
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	macOff := len(b) - 16
	copy(b[macOff:], akaMAC(s.kAut, b[start:], macOff-start))
	return b
}

// checkcodeHash accumulates AT_CHECKCODE input: every AKA-Identity
// request and response, whole EAP packets, in order (SHA-256 for AKA').
type checkcodeHash struct {
	h    hash.Hash
	used bool
}

func (c *checkcodeHash) add(pkt []byte) {
	if c.h == nil {
		c.h = sha256.New()
	}
	c.h.Write(pkt)
	c.used = true
}

// value is the AT_CHECKCODE content: empty when no identity round happened.
func (c *checkcodeHash) value() []byte {
	if !c.used {
		return nil
	}
	return c.h.Sum(nil)
}

// appendCheckcode appends AT_CHECKCODE with reserved bytes and the hash (if any).
func appendCheckcode(b []byte, v []byte) []byte {
	return wire.AppendAKAAttr(b, wire.ATCheckcode, []byte{0, 0}, v)
}

// checkcodeOK compares a received AT_CHECKCODE with ours (RFC 4187 §10.13).
func checkcodeOK(m *wire.AKA, ours []byte) bool {
	a, ok := m.Attr(wire.ATCheckcode)
	if !ok {
		return true // optional
	}
	if len(a.Value) < 2 {
		return false
	}
	return subtle.ConstantTimeCompare(a.Value[2:], ours) == 1 || (len(ours) == 0 && len(a.Value) == 2)
}
