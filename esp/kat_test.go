package esp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
)

// Known-answer tests from published vectors.

// draft-mcgrew-gcm-test-01 §4, the ESP test cases for AES-GCM: whole ESP
// packets, one with a 64-bit extended sequence number in the AAD.
func TestKATGCMESP(t *testing.T) {
	cases := []struct {
		name    string
		tr      Transform
		keySalt string
		spi     uint32
		esn     bool
		top     uint64 // replay window state so the sequence number is new
		packet  string // SPI || seq || IV || ciphertext || ICV
		plain   string // payload || padding || pad length || next header
	}{
		{
			name: "AES-128 ESN", tr: AESGCM128, esn: true,
			keySalt: "4c80cdefbb5d10da906ac73c3613a634" + "2e443b68",
			spi:     0x4321, top: 0x87654320_ffffffff,
			packet: "00004321" + "00000000" + "4956ed7e3b244cfe" +
				"fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34" +
				"cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce" +
				"61bc17d768fd9732" + "459018148f6cbe722fd04796562dfdb4",
			plain: "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000" +
				"00000000045f736970045f756470037369700963796265726369747902646b00" +
				"0021000101020201",
		},
		{
			name: "AES-256", tr: AESGCM256,
			keySalt: "abbccddef00112233445566778899aababbccddef00112233445566778899aab" + "11223344",
			spi:     0x4a2cbfe3,
			packet: "4a2cbfe3" + "00000002" + "0102030405060708" +
				"ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763" +
				"748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49" +
				"15956c96",
			plain: "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000" +
				"7002400020bf0000020405b40101040201020201",
		},
	}
	for _, c := range cases {
		sa, err := New(Config{SPI: c.spi, Direction: Inbound, Transform: c.tr, Key: unhex(t, c.keySalt), ESN: c.esn})
		if err != nil {
			t.Fatal(err)
		}
		sa.in.replay.top.Store(c.top)
		plain := unhex(t, c.plain)
		payload, nh, err := sa.Open(unhex(t, c.packet))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		// The vectors end in padding 1, 2, pad length 2, next header 1.
		if nh != plain[len(plain)-1] || !bytes.Equal(payload, plain[:len(plain)-4]) {
			t.Fatalf("%s: payload %x nh %d", c.name, payload, nh)
		}
	}
}

// RFC 8439 §2.8.2 (= RFC 7539): its AAD 50515253 c0c1c2c3 c4c5c6c7 has
// exactly the ESN form SPI || seq high || seq low of RFC 7634 §2.1, and its
// nonce 07000000 || 4041424344454647 is salt || IV. The 114-byte payload is
// not 4-aligned, so the vector goes through the SA's AEAD step directly.
func TestKATChaCha20Poly1305ESN(t *testing.T) {
	key := unhex(t, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"+"07000000")
	sa, err := New(Config{SPI: 0x50515253, Direction: Inbound, Transform: ChaCha20Poly1305, Key: key, ESN: true})
	if err != nil {
		t.Fatal(err)
	}
	ct := unhex(t, "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"+
		"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"+
		"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"+
		"3ff4def08e4b7a9de576d26586cec64b6116"+"1ae10b594f09e26a7e902ecbd0600691")
	s := sa.pool.Get().(*scratch)
	nonce := sa.nonce(s, unhex(t, "4041424344454647"))
	aad := sa.aad(s, 0xc0c1c2c3_c4c5c6c7)
	pt, err := sa.aead.Open(nil, nonce, ct, aad)
	if err != nil {
		t.Fatalf("RFC 8439 vector does not verify through the SA's nonce/AAD: %v", err)
	}
	want := "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
	if string(pt) != want {
		t.Fatalf("plaintext %q", pt)
	}
}

// RFC 4868 §2.7.2 test case 1 ("Hi There") for the truncated HMACs.
func TestKATHMAC(t *testing.T) {
	cases := []struct {
		tr  Transform
		key byte
		icv string
	}{
		{AESCBC128SHA256, 0x0b, "198a607eb44bfbc69903a0f1cf2bbdc5"},
		{AESCBC256SHA512, 0x0b, "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"},
	}
	for _, c := range cases {
		key := make([]byte, c.tr.KeyLen())
		ik := key[c.tr.KeyBits/8:]
		for i := range ik {
			ik[i] = c.key
		}
		sa, err := New(Config{SPI: 0x1000, Direction: Inbound, Transform: c.tr, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		s := sa.pool.Get().(*scratch)
		got := sa.mac(s, []byte("Hi There"), 0)
		if !bytes.Equal(got, unhex(t, c.icv)) {
			t.Fatalf("%v: ICV %x, want %s", c.tr, got, c.icv)
		}
	}
}

// TestESNIndependent rebuilds the ICV of ESN packets with the standard
// library alone, following RFC 4303 §2.2.1 / RFC 4106 §5 literally: for
// HMAC the high-order 32 bits follow the packet for the ICV only; for GCM
// the AAD is SPI || high || low.
func TestESNIndependent(t *testing.T) {
	const seq = 5<<32 | 7
	key := make([]byte, AESCBC128SHA256.KeyLen())
	for i := range key {
		key[i] = byte(i + 1)
	}
	out, _ := New(Config{SPI: 0x4242, Direction: Outbound, Transform: AESCBC128SHA256, Key: key, ESN: true})
	out.seq.Store(seq - 1)
	pkt, err := out.Seal(nil, []byte("esn"), 59)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key[16:])
	m.Write(pkt[:len(pkt)-16])
	m.Write([]byte{0, 0, 0, 5})
	if want := m.Sum(nil)[:16]; !bytes.Equal(pkt[len(pkt)-16:], want) {
		t.Fatalf("HMAC ICV %x, independent %x", pkt[len(pkt)-16:], want)
	}

	gkey := key[:20]
	gout, _ := New(Config{SPI: 0x4343, Direction: Outbound, Transform: AESGCM128, Key: gkey, ESN: true})
	gout.seq.Store(seq - 1)
	gpkt, err := gout.Seal(nil, []byte("esn"), 59)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := aes.NewCipher(gkey[:16])
	g, _ := cipher.NewGCM(blk)
	nonce := append(append([]byte(nil), gkey[16:20]...), gpkt[8:16]...)
	aad := []byte{0, 0, 0x43, 0x43, 0, 0, 0, 5, 0, 0, 0, 7}
	plain, err := g.Open(nil, nonce, gpkt[16:], aad)
	if err != nil || string(plain[:3]) != "esn" || !bytes.Equal(gpkt[4:8], []byte{0, 0, 0, 7}) {
		t.Fatalf("independent GCM open: %x %v", plain, err)
	}
}
