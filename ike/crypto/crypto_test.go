package crypto

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"testing"

	"golang.org/x/crypto/hkdf"
)

// prf+ is HKDF-Expand (RFC 5869 §2.3) under another name: check against an
// independent implementation and RFC 5869's test case 1.
func TestPRFPlusMatchesHKDFExpand(t *testing.T) {
	for _, id := range []PRFID{PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384, PRF_HMAC_SHA2_512} {
		p, err := LookupPRF(id)
		if err != nil {
			t.Fatal(err)
		}
		key := bytes.Repeat([]byte{0x0b}, 37)
		seed := []byte("Ni | Nr | SPIi | SPIr")
		for _, n := range []int{1, 31, 32, 33, 200, 1000} {
			want := make([]byte, n)
			if _, err := io.ReadFull(hkdf.Expand(p.hash, key, seed), want); err != nil {
				t.Fatal(err)
			}
			if got := p.Plus(key, seed, n); !bytes.Equal(got, want) {
				t.Fatalf("%s prf+ %d octets: got %x want %x", id, n, got, want)
			}
		}
	}
	// RFC 5869 A.1: PRK and OKM.
	prk, _ := hex.DecodeString("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
	info, _ := hex.DecodeString("f0f1f2f3f4f5f6f7f8f9")
	okm, _ := hex.DecodeString("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
	if got := prfSHA256.Plus(prk, info, 42); !bytes.Equal(got, okm) {
		t.Fatalf("RFC 5869 A.1: got %x", got)
	}
}

func TestDeriveIKEKeysLayout(t *testing.T) {
	s := Suite{Encr: Encr{ENCR_AES_CBC, 256}, Integ: AUTH_HMAC_SHA2_256_128, PRF: PRF_HMAC_SHA2_256, DH: Curve25519}
	ni, nr, seed := []byte("nonce-i-32-octets..............."), []byte("nonce-r"), []byte("skeyseed")
	k, err := DeriveIKEKeys(s, seed, ni, nr, 0x0102030405060708, 0x1112131415161718)
	if err != nil {
		t.Fatal(err)
	}
	stream := prfSHA256.Plus(seed, append(append(append([]byte{}, ni...), nr...),
		1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18), 32*3+32*2+32*2)
	got := bytes.Join([][]byte{k.SKd, k.SKai, k.SKar, k.SKei, k.SKer, k.SKpi, k.SKpr}, nil)
	if !bytes.Equal(got, stream) {
		t.Fatal("keys are not the prf+ stream in §2.14 order")
	}
	if len(k.SKd) != 32 || len(k.SKai) != 32 || len(k.SKei) != 32 || len(k.SKpr) != 32 {
		t.Fatalf("key lengths %d %d %d %d", len(k.SKd), len(k.SKai), len(k.SKei), len(k.SKpr))
	}
	gcm := Suite{Encr: Encr{ENCR_AES_GCM_16, 128}, PRF: PRF_HMAC_SHA2_512, DH: ECP_256}
	k2, err := DeriveIKEKeys(gcm, seed, ni, nr, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(k2.SKei) != 20 || len(k2.SKai) != 0 || len(k2.SKd) != 64 {
		t.Fatalf("GCM key lengths ei=%d ai=%d d=%d", len(k2.SKei), len(k2.SKai), len(k2.SKd))
	}
	if !bytes.Equal(SKEYSEED(&prfSHA256, ni, nr, []byte("gir")), hmacSHA256(append(append([]byte{}, ni...), nr...), []byte("gir"))) {
		t.Fatal("SKEYSEED is not prf(Ni | Nr, g^ir)")
	}
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func TestChildKeysPFS(t *testing.T) {
	e := Encr{ENCR_AES_GCM_16, 256}
	a := DeriveChildKeys(&prfSHA256, []byte("skd"), nil, []byte("ni"), []byte("nr"), e, AUTH_NONE)
	b := DeriveChildKeys(&prfSHA256, []byte("skd"), []byte("gir"), []byte("ni"), []byte("nr"), e, AUTH_NONE)
	if len(a.EncrI) != 36 || len(a.EncrR) != 36 || len(a.IntegI) != 0 {
		t.Fatalf("lengths %d %d %d", len(a.EncrI), len(a.EncrR), len(a.IntegI))
	}
	if bytes.Equal(a.EncrI, b.EncrI) {
		t.Fatal("PFS g^ir not mixed in")
	}
	want := prfSHA256.Plus([]byte("skd"), []byte("girninr"), 72)
	if !bytes.Equal(append(append([]byte{}, b.EncrI...), b.EncrR...), want) {
		t.Fatal("KEYMAT not prf+(SK_d, g^ir | Ni | Nr)")
	}
}

func TestDHAgreement(t *testing.T) {
	for _, g := range []DHGroup{MODP_2048, ECP_256, ECP_384, Curve25519} {
		a, err := GenerateKeyShare(g, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := GenerateKeyShare(g, rand.Reader)
		if len(a.Public()) != g.PublicLen() {
			t.Fatalf("%s public %d octets", g, len(a.Public()))
		}
		za, err := a.Shared(b.Public())
		if err != nil {
			t.Fatal(g, err)
		}
		zb, _ := b.Shared(a.Public())
		if !bytes.Equal(za, zb) {
			t.Fatalf("%s: shared secrets differ", g)
		}
		if _, err := a.Shared(b.Public()[1:]); !errors.Is(err, ErrBadPublic) {
			t.Fatalf("%s: short public accepted", g)
		}
		if _, err := a.Shared(make([]byte, g.PublicLen())); !errors.Is(err, ErrBadPublic) {
			t.Fatalf("%s: zero public accepted", g)
		}
	}
	m, _ := GenerateKeyShare(MODP_2048, rand.Reader)
	if _, err := m.Shared(pMinus1.FillBytes(make([]byte, 256))); !errors.Is(err, ErrBadPublic) {
		t.Fatal("MODP p-1 accepted")
	}
	one := big.NewInt(1).FillBytes(make([]byte, 256))
	if _, err := m.Shared(one); !errors.Is(err, ErrBadPublic) {
		t.Fatal("MODP 1 accepted")
	}
}

func TestSKRoundTripAndTamper(t *testing.T) {
	cases := []struct {
		e     Encr
		integ IntegID
	}{
		{Encr{ENCR_AES_GCM_16, 128}, AUTH_NONE},
		{Encr{ENCR_AES_GCM_16, 256}, AUTH_NONE},
		{Encr{ENCR_CHACHA20_POLY1305, 0}, AUTH_NONE},
		{Encr{ENCR_AES_CBC, 128}, AUTH_HMAC_SHA2_256_128},
		{Encr{ENCR_AES_CBC, 256}, AUTH_HMAC_SHA2_512_256},
	}
	for _, c := range cases {
		ek := bytes.Repeat([]byte{7}, c.e.KeymatLen())
		ik := bytes.Repeat([]byte{9}, c.integ.KeyLen())
		out, err := NewSK(c.e, c.integ, ek, ik, rand.Reader)
		if err != nil {
			t.Fatal(c.e, err)
		}
		in, _ := NewSK(c.e, c.integ, ek, ik, rand.Reader)
		for _, n := range []int{0, 1, 15, 16, 100} {
			payloads := bytes.Repeat([]byte{0xab}, n)
			hdr := bytes.Repeat([]byte{0x11}, 32)
			msg, err := out.Seal(append([]byte{}, hdr...), payloads)
			if err != nil {
				t.Fatal(err)
			}
			if len(msg) != len(hdr)+out.BodyLen(n) {
				t.Fatalf("%s: sealed %d octets, BodyLen says %d", c.e, len(msg)-len(hdr), out.BodyLen(n))
			}
			tampered := append([]byte{}, msg...)
			got, err := in.Open(msg, len(hdr))
			if err != nil || !bytes.Equal(got, payloads) {
				t.Fatalf("%s n=%d: open: %v %x", c.e, n, err, got)
			}
			for _, i := range []int{0, len(hdr), len(tampered) - 1} {
				x := append([]byte{}, tampered...)
				x[i] ^= 1
				if _, err := in.Open(x, len(hdr)); !errors.Is(err, ErrIntegrity) {
					t.Fatalf("%s: flipped octet %d accepted", c.e, i)
				}
			}
			if _, err := in.Open(tampered[:len(hdr)+3], len(hdr)); !errors.Is(err, ErrIntegrity) {
				t.Fatalf("%s: truncated body accepted", c.e)
			}
		}
	}
}

func TestSharedKeyAuth(t *testing.T) {
	signed := []byte("message | nonce | prf(SK_pi, ID)")
	want := hmacSHA256(hmacSHA256([]byte("secret"), []byte("Key Pad for IKEv2")), signed)
	got := SharedKeyAuth(&prfSHA256, []byte("secret"), signed)
	if !bytes.Equal(got, want) {
		t.Fatal("PSK AUTH formula")
	}
	if !VerifySharedKeyAuth(&prfSHA256, []byte("secret"), signed, want) || VerifySharedKeyAuth(&prfSHA256, []byte("secreT"), signed, want) {
		t.Fatal("VerifySharedKeyAuth")
	}
	so := SignedOctets(&prfSHA256, []byte("msg"), []byte("nonce"), []byte("skp"), []byte{2, 0, 0, 0, 'a'})
	if !bytes.Equal(so, append([]byte("msgnonce"), hmacSHA256([]byte("skp"), []byte{2, 0, 0, 0, 'a'})...)) {
		t.Fatal("SignedOctets layout")
	}
}

func TestSignatures(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	signed := []byte("octets to sign")
	all := SupportedHashes
	cases := []struct {
		name   string
		key    crypto.Signer
		scheme SignatureScheme
		hashes []HashAlgorithm
		method AuthMethod
	}{
		{"ecdsa256-7427", p256, SignatureScheme{}, all, AuthDigitalSignature},
		{"ecdsa384-7427", p384, SignatureScheme{}, all, AuthDigitalSignature},
		{"ecdsa256-classic", p256, SignatureScheme{}, nil, AuthECDSA256},
		{"ecdsa384-classic", p384, SignatureScheme{}, nil, AuthECDSA384},
		{"rsa-pkcs1", rk, SignatureScheme{}, all, AuthDigitalSignature},
		{"rsa-pkcs1-sha512", rk, SignatureScheme{Hash: HashSHA2_512}, all, AuthDigitalSignature},
		{"rsa-pss", rk, SignatureScheme{PSS: true}, all, AuthDigitalSignature},
		{"rsa-classic", rk, SignatureScheme{}, nil, AuthRSASignature},
	}
	for _, c := range cases {
		cs := c.key
		m, data, err := Sign(cs, c.scheme, c.hashes, signed, rand.Reader)
		if err != nil {
			t.Fatal(c.name, err)
		}
		if m != c.method {
			t.Fatalf("%s: method %s want %s", c.name, m, c.method)
		}
		if err := VerifySignature(cs.Public(), m, data, signed); err != nil {
			t.Fatalf("%s: verify: %v", c.name, err)
		}
		if err := VerifySignature(cs.Public(), m, data, []byte("other octets")); !errors.Is(err, ErrSignature) {
			t.Fatalf("%s: wrong octets verified", c.name)
		}
		var other crypto.PublicKey = &p384.PublicKey
		if c.key == crypto.Signer(p384) {
			other = &p256.PublicKey
		}
		if err := VerifySignature(other, m, data, signed); err == nil {
			t.Fatalf("%s: verified with the wrong key", c.name)
		}
		for _, cut := range []int{0, 1, len(data) / 2} {
			if err := VerifySignature(cs.Public(), m, data[:cut], signed); err == nil {
				t.Fatalf("%s: truncated AUTH data (%d) verified", c.name, cut)
			}
		}
	}
}
