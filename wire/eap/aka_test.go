package eap

import (
	"bytes"
	"errors"
	"testing"
)

func TestAKAChallengeRoundTrip(t *testing.T) {
	rand := bytes.Repeat([]byte{0x81}, 16)
	autn := bytes.Repeat([]byte{0xbb}, 16)
	var attrs []byte
	attrs = AppendAKAFixed(attrs, ATRand, rand)
	attrs = AppendAKAFixed(attrs, ATAutn, autn)
	attrs = AppendAKAUint16(attrs, ATKDF, 1)
	attrs = AppendAKALengthPrefixed(attrs, ATKDFInput, []byte("WLAN"))
	attrs = AppendAKALengthPrefixed(attrs, ATRes, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	attrs = AppendAKAFixed(attrs, ATMAC, make([]byte, 16))
	pkt, err := Append(nil, CodeRequest, 3, &AKA{Subtype: AKAChallenge, Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	// Type 50, Subtype 1, Reserved, AT_RAND of length 5 units.
	if !bytes.Equal(pkt[4:10], []byte{50, 1, 0, 0, 1, 5}) {
		t.Fatalf("header %x", pkt[:10])
	}
	var p Packet
	var m AKA
	if err := Parse(pkt, &p); err != nil || ParseAKA(p.Type, p.TypeData, &m) != nil {
		t.Fatalf("parse: %v", err)
	}
	get := func(at AKAAttrType) AKAAttribute {
		a, ok := m.Attr(at)
		if !ok {
			t.Fatalf("attribute %d missing", at)
		}
		return a
	}
	if v, err := AKAFixed(get(ATRand), 16); err != nil || !bytes.Equal(v, rand) {
		t.Fatalf("AT_RAND %x %v", v, err)
	}
	if v, err := AKALengthPrefixed(get(ATKDFInput)); err != nil || string(v) != "WLAN" {
		t.Fatalf("AT_KDF_INPUT %q %v", v, err)
	}
	if v, err := AKALengthPrefixed(get(ATRes)); err != nil || len(v) != 8 {
		t.Fatalf("AT_RES %x %v", v, err)
	}
	if v, err := AKAUint16(get(ATKDF)); err != nil || v != 1 {
		t.Fatalf("AT_KDF %d %v", v, err)
	}
	off := m.MACOffset()
	if off < 0 || !bytes.Equal(m.Attributes[off:off+16], make([]byte, 16)) || len(m.Attributes) != off+16 {
		t.Fatalf("MAC offset %d", off)
	}
	if u := m.UnknownNonSkippable(ATRand, ATAutn, ATKDF, ATKDFInput, ATRes); u != ATMAC {
		t.Fatalf("unknown non-skippable %d", u)
	}
	again, _ := Append(nil, CodeRequest, 3, &m)
	if !bytes.Equal(again, pkt) {
		t.Fatalf("re-encode %x", again)
	}
}

func TestAKAErrors(t *testing.T) {
	var m AKA
	for _, c := range []struct {
		data []byte
		want string
	}{
		{[]byte{1, 0}, "eap: AKA': Subtype: needs 3 bytes, 2 present"},
		{[]byte{1, 0, 0, 1, 0}, "eap: AKA': attribute Length: 0 shorter than minimum 1"},
		{[]byte{1, 0, 0, 1, 5, 0, 0}, "eap: AKA': attribute Length: needs 20 bytes, 4 present"},
		{[]byte{1, 0, 0, 1}, "eap: AKA': attribute Length: needs 2 bytes, 1 present"},
	} {
		err := ParseAKA(TypeAKAPrime, c.data, &m)
		var e *Error
		if !errors.As(err, &e) || err.Error() != c.want {
			t.Errorf("%x: %v, want %s", c.data, err, c.want)
		}
	}
	if _, err := AKALengthPrefixed(AKAAttribute{Type: ATIdentity, Value: []byte{0, 9, 'a', 'b'}}); err == nil {
		t.Error("identity longer than attribute accepted")
	}
	if _, err := AKAFixed(AKAAttribute{Type: ATRand, Value: make([]byte, 10)}, 16); err == nil {
		t.Error("short AT_RAND accepted")
	}
}
