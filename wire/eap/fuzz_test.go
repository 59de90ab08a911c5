package eap

import (
	"bytes"
	"testing"
)

// FuzzParse decodes arbitrary bytes as an EAP packet and its Type-Data; a
// successful decode must re-encode to bytes that decode to the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"0101000501", "02010006016100", "03010004", "0201000603 1a",
		"010200160410000102030405060708090a0b0c0d0e0f", "0103000e0dc00000080016030100",
		"0108001c 1a 01 08 0017 10 5b5d7c7d7b3f2f3e3c2c602132262628 6869", "01 0a 000f fe 00 28af 00000001 aabbcc",
		"0209 0006 1a 03",
		"0103 0014 32 01 0000 0105 0000 8181818181818181 81818181",
	} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if Parse(b, &p) != nil {
			return
		}
		enc, err := p.Append(nil)
		if err != nil || !bytes.Equal(enc, b[:p.Len()]) {
			t.Fatalf("packet re-encode %x (%v), input %x", enc, err, b)
		}
		body := parseBody(&p)
		if body == nil {
			return
		}
		enc, err = Append(nil, p.Code, p.Identifier, body)
		if err != nil {
			t.Fatal(err)
		}
		var q Packet
		if err := Parse(enc, &q); err != nil {
			t.Fatalf("re-parse %x: %v", enc, err)
		}
		again := parseBody(&q)
		if again == nil || !equalBody(body, again) {
			t.Fatalf("body round trip: %+v != %+v", body, again)
		}
	})
}

func parseBody(p *Packet) Body {
	switch p.Type {
	case TypeNak:
		if n, err := ParseNak(p.TypeData); err == nil {
			return n
		}
	case TypeMD5Challenge:
		var m MD5Challenge
		if ParseMD5Challenge(p.TypeData, &m) == nil {
			return &m
		}
	case TypeTLS, TypeTTLS, TypePEAP:
		var m TLS
		if ParseTLS(p.Type, p.TypeData, &m) == nil {
			return &m
		}
	case TypeMSCHAPv2:
		var m MSCHAPv2
		if ParseMSCHAPv2(p.TypeData, &m) == nil {
			return &m
		}
	case TypeAKA, TypeAKAPrime:
		var m AKA
		if ParseAKA(p.Type, p.TypeData, &m) == nil {
			m.MACOffset()
			return &m
		}
	case TypeExpanded:
		var m Expanded
		if ParseExpanded(p.TypeData, &m) == nil {
			return &m
		}
	}
	return nil
}
