package eap

import (
	"crypto/des"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/md4"
)

// RFC 2759 §8 and RFC 3079 §3 computations. Names follow the RFCs'
// pseudo-code so the known-answer tests read like RFC 2759 §9.

// ntPasswordHash is MD4 over the password in UTF-16LE (RFC 2759 §8.3).
func ntPasswordHash(password string) [16]byte {
	h := md4.New()
	var u [2]byte
	for _, r := range utf16.Encode([]rune(password)) {
		binary.LittleEndian.PutUint16(u[:], r)
		h.Write(u[:])
	}
	var out [16]byte
	h.Sum(out[:0])
	return out
}

func hashNTPasswordHash(hash [16]byte) [16]byte {
	h := md4.New()
	h.Write(hash[:])
	var out [16]byte
	h.Sum(out[:0])
	return out
}

// mschapUserName is the user name without a leading "DOMAIN\" (RFC 2759 §4).
func mschapUserName(name string) string {
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// challengeHash is RFC 2759 §8.2.
func challengeHash(peerChallenge, authChallenge []byte, userName string) [8]byte {
	h := sha1.New()
	h.Write(peerChallenge)
	h.Write(authChallenge)
	h.Write([]byte(mschapUserName(userName)))
	var out [8]byte
	copy(out[:], h.Sum(nil))
	return out
}

// challengeResponse is RFC 2759 §8.5: three DES encryptions of the
// challenge under 7-byte slices of the zero-padded password hash.
func challengeResponse(challenge [8]byte, pwHash [16]byte) [24]byte {
	var z [21]byte
	copy(z[:], pwHash[:])
	var out [24]byte
	for i := 0; i < 3; i++ {
		c, err := des.NewCipher(desKey(z[i*7 : i*7+7]))
		if err != nil {
			panic(err) // unreachable: the key is always 8 bytes
		}
		c.Encrypt(out[i*8:], challenge[:])
	}
	return out
}

// desKey spreads 56 key bits over 8 bytes (RFC 2759 §8.6; parity ignored).
func desKey(k []byte) []byte {
	var in uint64
	for _, b := range k {
		in = in<<8 | uint64(b)
	}
	out := make([]byte, 8)
	for i := 0; i < 8; i++ {
		out[i] = byte(in>>(49-7*i)) << 1
	}
	return out
}

// generateNTResponse is RFC 2759 §8.1.
func generateNTResponse(authChallenge, peerChallenge []byte, userName, password string) [24]byte {
	return challengeResponse(challengeHash(peerChallenge, authChallenge, userName), ntPasswordHash(password))
}

var (
	authMagic1 = []byte("Magic server to client signing constant")
	authMagic2 = []byte("Pad to make it do more than one iteration")
)

// generateAuthenticatorResponse is RFC 2759 §8.7: the "S=" string the
// server proves knowledge of the password with, as 40 upper-case hex digits.
func generateAuthenticatorResponse(password string, ntResponse [24]byte, peerChallenge, authChallenge []byte, userName string) string {
	hh := hashNTPasswordHash(ntPasswordHash(password))
	h := sha1.New()
	h.Write(hh[:])
	h.Write(ntResponse[:])
	h.Write(authMagic1)
	digest := h.Sum(nil)
	ch := challengeHash(peerChallenge, authChallenge, userName)
	h.Reset()
	h.Write(digest)
	h.Write(ch[:])
	h.Write(authMagic2)
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

var (
	mppeMagic1 = []byte("This is the MPPE Master Key")
	mppeMagic2 = []byte("On the client side, this is the send key; on the server side, it is the receive key.")
	mppeMagic3 = []byte("On the client side, this is the receive key; on the server side, it is the send key.")
	shsPad1    = make([]byte, 40)
	shsPad2    = []byte(strings.Repeat("\xf2", 40))
)

// masterKey is GetMasterKey of RFC 3079 §3.4.
func masterKey(password string, ntResponse [24]byte) [16]byte {
	hh := hashNTPasswordHash(ntPasswordHash(password))
	h := sha1.New()
	h.Write(hh[:])
	h.Write(ntResponse[:])
	h.Write(mppeMagic1)
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return out
}

// asymmetricStartKey is GetAsymmetricStartKey of RFC 3079 §3.4 for 128-bit keys.
func asymmetricStartKey(master [16]byte, magic []byte) [16]byte {
	h := sha1.New()
	h.Write(master[:])
	h.Write(shsPad1)
	h.Write(magic)
	h.Write(shsPad2)
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return out
}

// mschapv2MSK is the EAP-MSCHAPv2 MSK as hostapd, strongSwan and FreeRADIUS
// agree on it: the server's MS-MPPE-Recv-Key (the peer's send key, magic 2)
// then its MS-MPPE-Send-Key (magic 3), zero-padded to 64 bytes. The padding
// leaves HMAC-based IKE prfs unchanged against a 32-byte MSK.
func mschapv2MSK(password string, ntResponse [24]byte) []byte {
	mk := masterKey(password, ntResponse)
	recv := asymmetricStartKey(mk, mppeMagic2)
	send := asymmetricStartKey(mk, mppeMagic3)
	msk := make([]byte, MSKLen)
	copy(msk, recv[:])
	copy(msk[16:], send[:])
	return msk
}

// MSKLen is the length of every MSK this package hands out (RFC 3748 §7.10: at least 64).
const MSKLen = 64
