package ikev2

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"reflect"
	"testing"
)

// sealSK builds a protected message the way an engine would with
// AES-GCM-16 (8-octet IV, 16-octet ICV, RFC 5282).
func sealSK(t *testing.T, aead cipher.AEAD, h Header, inner []Payload, frag, total uint16) []byte {
	t.Helper()
	plain, err := AppendPayloads(nil, inner)
	if err != nil {
		t.Fatal(err)
	}
	first := PayloadNone
	if len(inner) > 0 && frag <= 1 {
		first = inner[0].PayloadType()
	}
	plain = AppendPadding(plain, 0, 4)
	iv := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	bodyLen := len(iv) + len(plain) + aead.Overhead()
	var b []byte
	if total == 0 {
		b, err = AppendEncryptedHeader(nil, h, first, bodyLen)
	} else {
		b, err = AppendEncryptedFragmentHeader(nil, h, first, frag, total, bodyLen)
	}
	if err != nil {
		t.Fatal(err)
	}
	aad := bytes.Clone(b)
	b = append(b, iv...)
	nonce := append([]byte{9, 9, 9, 9}, iv...)
	return aead.Seal(b, nonce, plain, aad)
}

func openSK(t *testing.T, aead cipher.AEAD, msg []byte) (EncryptedParts, []byte) {
	t.Helper()
	parts, err := SplitEncrypted(msg, 8, aead.Overhead())
	if err != nil {
		t.Fatal(err)
	}
	nonce := append([]byte{9, 9, 9, 9}, parts.IV...)
	ct := append(bytes.Clone(parts.Ciphertext), parts.ICV...)
	plain, err := aead.Open(nil, nonce, ct, parts.AAD)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	body, err := TrimPadding(plain)
	if err != nil {
		t.Fatal(err)
	}
	return parts, body
}

func newGCM(t *testing.T) cipher.AEAD {
	blk, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

func TestEncryptedRoundTrip(t *testing.T) {
	aead := newGCM(t)
	auth := sampleAuth()
	msg := sealSK(t, aead, auth.Header, auth.Payloads, 0, 0)

	m, err := ParseMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	sk, ok := m.Payloads[0].(*Encrypted)
	if !ok || len(m.Payloads) != 1 || sk.First != PayloadIDi {
		t.Fatalf("payloads %#v", m.Payloads)
	}
	if m.Header.NextPayload != PayloadSK || int(m.Header.Length) != len(msg) {
		t.Fatalf("header %+v", m.Header)
	}
	if again, err := m.Marshal(nil); err != nil || !bytes.Equal(again, msg) {
		t.Fatalf("re-marshal differs: %v", err)
	}

	parts, body := openSK(t, aead, msg)
	if len(parts.AAD) != HeaderLen+4 || len(parts.ICV) != 16 || !bytes.Equal(parts.Authenticated, msg[:len(msg)-16]) {
		t.Fatalf("parts %d %d", len(parts.AAD), len(parts.ICV))
	}
	inner, err := ParsePayloads(parts.First, body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(inner, auth.Payloads) {
		t.Fatalf("inner payloads differ")
	}
}

func TestEncryptedFragments(t *testing.T) {
	aead := newGCM(t)
	auth := sampleAuth()
	h := auth.Header
	whole, err := AppendPayloads(nil, auth.Payloads)
	if err != nil {
		t.Fatal(err)
	}
	// Split the inner chain into three fragments as RFC 7383 §2.5 does.
	cut := []int{0, 100, 200, len(whole)}
	var got []byte
	for i := 1; i <= 3; i++ {
		piece := &UnknownPayload{Type: 250, Body: whole[cut[i-1]:cut[i]]}
		first := PayloadNone
		if i == 1 {
			first = PayloadIDi
		}
		plain := AppendPadding(bytes.Clone(piece.Body), 0, 4)
		bodyLen := 8 + len(plain) + aead.Overhead()
		b, err := AppendEncryptedFragmentHeader(nil, h, first, uint16(i), 3, bodyLen)
		if err != nil {
			t.Fatal(err)
		}
		aad := bytes.Clone(b)
		b = append(b, 1, 2, 3, 4, 5, 6, 7, 8)
		msg := aead.Seal(b, []byte{9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8}, plain, aad)

		m, err := ParseMessage(msg)
		if err != nil {
			t.Fatal(err)
		}
		skf := m.Payloads[0].(*EncryptedFragment)
		if skf.Number != uint16(i) || skf.Total != 3 || skf.First != first {
			t.Fatalf("fragment %+v", skf)
		}
		parts, body := openSK(t, aead, msg)
		if parts.Type != PayloadSKF || parts.Number != uint16(i) || len(parts.AAD) != HeaderLen+8 {
			t.Fatalf("parts %+v", parts)
		}
		got = append(got, body...)
	}
	inner, err := ParsePayloads(PayloadIDi, got)
	if err != nil || !reflect.DeepEqual(inner, auth.Payloads) {
		t.Fatalf("reassembled: %v", err)
	}
}

func TestSplitEncryptedErrors(t *testing.T) {
	noSK, _ := sampleSAInit().Marshal(nil)
	withVID := rawMsg(PayloadVendorID, cat(gen(PayloadSK, false, []byte("v")), gen(PayloadIDi, false, make([]byte, 30))))
	tests := []struct {
		name       string
		in         []byte
		iv, icv    int
		want       string
		wantIVLen  int
		wantCTLen  int
		wantAADLen int
	}{
		{"no SK", noSK, 8, 16, "ikev2: message: encrypted payload missing", 0, 0, 0},
		{"short body", one(PayloadSK, make([]byte, 24)), 8, 16, "ikev2: SK: encrypted data length 24 shorter than minimum 25", 0, 0, 0},
		{"SK length", rawMsg(PayloadSK, cat([]byte{PayloadIDi.byte(), 0}, u16(20), make([]byte, 20))), 0, 0, "ikev2: SK: length 20 does not match 24", 0, 0, 0},
		{"SKF number", one(PayloadSKF, []byte{0, 0, 0, 1, 1}), 0, 0, "ikev2: SKF: fragment number 0 invalid", 0, 0, 0},
		{"truncated before SK", rawMsg(PayloadVendorID, []byte{0, 0, 0, 40}), 0, 0, "ikev2: VendorID: length 40 exceeds the 4 bytes present", 0, 0, 0},
		{"header", make([]byte, 10), 0, 0, "ikev2: header: length 10 shorter than minimum 28", 0, 0, 0},
		{"VID then SK", withVID, 8, 16, "", 8, 6, HeaderLen + 5 + 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := SplitEncrypted(tc.in, tc.iv, tc.icv)
			if tc.want == "" {
				if err != nil || len(p.IV) != tc.wantIVLen || len(p.Ciphertext) != tc.wantCTLen || len(p.AAD) != tc.wantAADLen {
					t.Fatalf("got %v %+v", err, p)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func (t PayloadType) byte() byte { return byte(t) }

func TestPadding(t *testing.T) {
	for _, bs := range []int{0, 1, 4, 8, 16} {
		for n := 0; n < 40; n++ {
			b := AppendPadding(append([]byte{0xee}, make([]byte, n)...), 1, bs)
			if bs > 1 && (len(b)-1)%bs != 0 {
				t.Fatalf("bs %d n %d: padded length %d", bs, n, len(b)-1)
			}
			got, err := TrimPadding(b[1:])
			if err != nil || len(got) != n {
				t.Fatalf("bs %d n %d: trim %d %v", bs, n, len(got), err)
			}
		}
	}
	if _, err := TrimPadding([]byte{1, 2, 5}); err == nil || err.Error() != "ikev2: SK: pad length 5 exceeds the 2 bytes present" {
		t.Fatalf("got %v", err)
	}
	if _, err := TrimPadding(nil); err == nil || err.Error() != "ikev2: SK: pad length missing" {
		t.Fatalf("got %v", err)
	}
}

func TestNonESPMarker(t *testing.T) {
	m, _ := sampleSAInit().Marshal(nil)
	b := append(AppendNonESPMarker(nil), m...)
	got, ok := StripNonESPMarker(b)
	if !ok || !bytes.Equal(got, m) {
		t.Fatal("marker not stripped")
	}
	esp := []byte{0, 0, 1, 0, 0, 0, 0, 1}
	if got, ok := StripNonESPMarker(esp); ok || !bytes.Equal(got, esp) {
		t.Fatal("ESP taken for IKE")
	}
	if _, ok := StripNonESPMarker([]byte{0xff}); ok {
		t.Fatal("keepalive taken for IKE")
	}
}
