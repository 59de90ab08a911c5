package ikev2

import (
	"bytes"
	"reflect"
	"testing"
)

func seedMessages(tb testing.TB) [][]byte {
	var out [][]byte
	ms := []*Message{sampleSAInit(), sampleAuth()}
	for _, p := range allPayloads() {
		ms = append(ms, &Message{Header: Header{Exchange: ExchangeInformational}, Payloads: Payloads{p}})
	}
	ms = append(ms,
		&Message{Payloads: Payloads{&VendorID{Data: []byte("v")}, &Encrypted{First: PayloadIDi, Body: make([]byte, 40)}}},
		&Message{Payloads: Payloads{&EncryptedFragment{First: PayloadIDi, Number: 1, Total: 2, Body: make([]byte, 40)}}})
	for _, m := range ms {
		b, err := m.Marshal(nil)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzParseMessage(f *testing.F) {
	for _, b := range seedMessages(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			return
		}
		b2, err := m.Marshal(nil)
		if err != nil {
			t.Fatalf("re-encoding a parsed message failed: %v", err)
		}
		m2, err := ParseMessage(b2)
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-parsed message differs:\n%#v\n%#v", m, m2)
		}
		if b3, err := m2.Marshal(nil); err != nil || !bytes.Equal(b2, b3) {
			t.Fatalf("encoding not canonical: %v", err)
		}
		if parts, err := SplitEncrypted(b, 8, 16); err == nil && len(parts.AAD)+len(parts.IV)+len(parts.Ciphertext)+len(parts.ICV) != len(b) {
			t.Fatalf("SplitEncrypted lost bytes")
		}
	})
}

func FuzzParsePayloads(f *testing.F) {
	for _, p := range allPayloads() {
		b, err := AppendPayloads(nil, []Payload{p, &Nonce{Data: make([]byte, 16)}})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(p.PayloadType()), b)
	}
	inner, _ := AppendPayloads(nil, sampleAuth().Payloads)
	f.Add(byte(PayloadIDi), inner)
	f.Fuzz(func(t *testing.T, first byte, b []byte) {
		ps, err := ParsePayloads(PayloadType(first), b)
		if err != nil {
			return
		}
		b2, err := AppendPayloads(nil, ps)
		if err != nil {
			t.Fatalf("re-encoding parsed payloads failed: %v", err)
		}
		f2 := PayloadNone
		if len(ps) > 0 {
			f2 = ps[0].PayloadType()
		}
		ps2, err := ParsePayloads(f2, b2)
		if err != nil {
			t.Fatalf("re-encoded payloads do not parse: %v", err)
		}
		if !reflect.DeepEqual(ps, ps2) {
			t.Fatalf("re-parsed payloads differ")
		}
	})
}
