package eap

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Known bytes, laid out by hand from RFC 3748 §4/§5 and checked against
// what FreeRADIUS and wpa_supplicant send.
func TestKnownBytes(t *testing.T) {
	cases := []struct {
		name string
		hex  string
		code Code
		id   uint8
		body Body
	}{
		{"identity request", "01 01 0005 01", CodeRequest, 1, Identity(nil)},
		{"identity response", "02 01 000a 01 616c696365", CodeResponse, 1, Identity("alice")},
		{"nak to md5", "02 07 0006 03 1a", CodeResponse, 7, Nak{byte(TypeMSCHAPv2)}},
		{"md5 challenge", "01 02 0016 04 10 000102030405060708090a0b0c0d0e0f", CodeRequest, 2,
			&MD5Challenge{Value: mustHex(t, "000102030405060708090a0b0c0d0e0f")}},
		{"tls start", "01 03 0006 0d 20", CodeRequest, 3, &TLS{Flags: TLSStart}},
		{"tls first fragment", "02 04 000e 0d c0 00000800 16030100", CodeResponse, 4,
			&TLS{Flags: TLSLengthIncluded | TLSMoreFragments, MessageLength: 0x800, Data: mustHex(t, "16030100")}},
		{"peap start v0", "01 05 0006 19 20", CodeRequest, 5, &TLS{Type: TypePEAP, Flags: TLSStart}},
		{"mschapv2 success response", "02 09 0006 1a 03", CodeResponse, 9,
			&MSCHAPv2{OpCode: MSCHAPv2Success, OpCodeOnly: true}},
		{"mschapv2 challenge", "01 08 001c 1a 01 08 0017 10 5b5d7c7d7b3f2f3e3c2c602132262628 6869", CodeRequest, 8,
			&MSCHAPv2{OpCode: MSCHAPv2Challenge, MSCHAPv2ID: 8, Challenge: mustHex(t, "5b5d7c7d7b3f2f3e3c2c602132262628"), Name: []byte("hi")}},
		{"expanded", "01 0a 000f fe 00 28af 00000001 aabbcc", CodeRequest, 10,
			&Expanded{VendorID: 0x28af, VendorType: 1, Data: mustHex(t, "aabbcc")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := mustHex(t, c.hex)
			got, err := Append([]byte{0xee}, c.code, c.id, c.body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[1:], want) {
				t.Fatalf("encode:\n got %x\nwant %x", got[1:], want)
			}
			var p Packet
			if err := Parse(want, &p); err != nil {
				t.Fatal(err)
			}
			if p.Code != c.code || p.Identifier != c.id || p.Type != c.body.EAPType() || p.Len() != len(want) {
				t.Fatalf("header %+v", p)
			}
			again, err := p.Append(nil)
			if err != nil || !bytes.Equal(again, want) {
				t.Fatalf("re-encode %x %v", again, err)
			}
			roundTripBody(t, &p, c.body)
		})
	}
}

// roundTripBody parses p's Type-Data into the body's type and compares.
func roundTripBody(t *testing.T, p *Packet, want Body) {
	t.Helper()
	var got Body
	var err error
	switch w := want.(type) {
	case Identity:
		got = Identity(p.TypeData)
		if len(w) == 0 {
			want = Identity(p.TypeData[:0])
		}
	case Nak:
		got, err = ParseNak(p.TypeData)
	case *MD5Challenge:
		var m MD5Challenge
		err = ParseMD5Challenge(p.TypeData, &m)
		got = &m
	case *TLS:
		var m TLS
		err = ParseTLS(p.Type, p.TypeData, &m)
		if w.Type == 0 {
			m.Type = 0
		}
		got = &m
	case *MSCHAPv2:
		var m MSCHAPv2
		err = ParseMSCHAPv2(p.TypeData, &m)
		got = &m
	case *Expanded:
		var m Expanded
		err = ParseExpanded(p.TypeData, &m)
		got = &m
	}
	if err != nil {
		t.Fatal(err)
	}
	if !equalBody(got, want) {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
}

// equalBody compares treating nil and empty slices alike.
func equalBody(a, b Body) bool {
	ea := a.AppendTypeData(nil)
	eb := b.AppendTypeData(nil)
	if !bytes.Equal(ea, eb) {
		return false
	}
	norm := func(v Body) any {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Pointer {
			return string(rv.Bytes())
		}
		c := reflect.New(rv.Elem().Type()).Elem()
		c.Set(rv.Elem())
		for i := 0; i < c.NumField(); i++ {
			if f := c.Field(i); f.Kind() == reflect.Slice && f.Len() == 0 {
				f.Set(reflect.Zero(f.Type()))
			}
		}
		return c.Interface()
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestMSCHAPv2RoundTrips(t *testing.T) {
	pc := bytes.Repeat([]byte{0x21}, 16)
	nt := bytes.Repeat([]byte{0x82}, 24)
	bodies := []*MSCHAPv2{
		{OpCode: MSCHAPv2Challenge, MSCHAPv2ID: 1, Challenge: bytes.Repeat([]byte{7}, 16), Name: []byte("radius")},
		{OpCode: MSCHAPv2Response, MSCHAPv2ID: 1, PeerChallenge: pc, NTResponse: nt, Name: []byte("User")},
		{OpCode: MSCHAPv2Success, MSCHAPv2ID: 1, Message: []byte("S=407A5589115FD0D6209F510FE9C04566932CDA56 M=ok")},
		{OpCode: MSCHAPv2Failure, MSCHAPv2ID: 2, Message: []byte("E=691 R=1 C=00000000000000000000000000000000 V=3 M=no")},
		{OpCode: MSCHAPv2Failure, OpCodeOnly: true},
		{OpCode: MSCHAPv2ChangePassword, MSCHAPv2ID: 3, EncryptedPassword: bytes.Repeat([]byte{1}, 516),
			EncryptedHash: bytes.Repeat([]byte{2}, 16), PeerChallenge: pc, NTResponse: nt, Flags: 0x0102},
	}
	for _, m := range bodies {
		b, err := Append(nil, CodeResponse, 42, m)
		if err != nil {
			t.Fatal(err)
		}
		var p Packet
		if err := Parse(b, &p); err != nil {
			t.Fatal(err)
		}
		roundTripBody(t, &p, m)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name, hex, want string
		parse           func([]byte) error
	}{
		{"short header", "0101", "eap: EAP: header: needs 4 bytes, 2 present", nil},
		{"length beyond data", "01010010 01", "eap: EAP: Length: needs 16 bytes, 5 present", nil},
		{"bad code", "09010004", "eap: EAP: Code: value 9 not allowed", nil},
		{"success with data", "0301000500", "eap: EAP Success: Length: 5 does not match expected 4", nil},
		{"request without type", "01010004", "eap: EAP Request: Length: 4 shorter than minimum 5", nil},
		{"type zero", "0101000500", "eap: EAP Request: Type: value 0 not allowed", nil},
		{"md5 value beyond data", "14 0102", "eap: MD5-Challenge: Value: needs 20 bytes, 2 present",
			func(b []byte) error { var m MD5Challenge; return ParseMD5Challenge(b, &m) }},
		{"md5 empty value", "00", "eap: MD5-Challenge: Value-Size: 0 shorter than minimum 1",
			func(b []byte) error { var m MD5Challenge; return ParseMD5Challenge(b, &m) }},
		{"tls length cut", "80 0000", "eap: TLS: TLS Message Length: needs 4 bytes, 2 present",
			func(b []byte) error { var m TLS; return ParseTLS(TypeTLS, b, &m) }},
		{"tls fragment longer than message", "80 00000001 aabb", "eap: TLS: TLS Message Length: 1 shorter than minimum 2",
			func(b []byte) error { var m TLS; return ParseTLS(TypeTLS, b, &m) }},
		{"tls reserved flag", "01", "eap: TLS: Flags: value 1 not allowed",
			func(b []byte) error { var m TLS; return ParseTLS(TypeTLS, b, &m) }},
		{"mschapv2 ms-length", "01 01 0009 10", "eap: MSCHAPv2 Challenge: MS-Length: 9 does not match expected 5",
			func(b []byte) error { var m MSCHAPv2; return ParseMSCHAPv2(b, &m) }},
		{"mschapv2 value-size", "02 01 0005 10", "eap: MSCHAPv2 Response: Value-Size: 16 does not match expected 49",
			func(b []byte) error { var m MSCHAPv2; return ParseMSCHAPv2(b, &m) }},
		{"mschapv2 short challenge", "01 01 0007 10 0102", "eap: MSCHAPv2 Challenge: Challenge: needs 16 bytes, 2 present",
			func(b []byte) error { var m MSCHAPv2; return ParseMSCHAPv2(b, &m) }},
		{"mschapv2 opcode", "05", "eap: MSCHAPv2: OpCode: value 5 not allowed",
			func(b []byte) error { var m MSCHAPv2; return ParseMSCHAPv2(b, &m) }},
		{"nak empty", "", "eap: Nak: Type-Data: 0 shorter than minimum 1",
			func(b []byte) error { _, err := ParseNak(b); return err }},
		{"nak identity", "01", "eap: Nak: desired Type: value 1 not allowed",
			func(b []byte) error { _, err := ParseNak(b); return err }},
		{"expanded short", "0000", "eap: Expanded: Vendor-Type: needs 7 bytes, 2 present",
			func(b []byte) error { var m Expanded; return ParseExpanded(b, &m) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parse := c.parse
			if parse == nil {
				parse = func(b []byte) error { var p Packet; return Parse(b, &p) }
			}
			err := parse(mustHex(t, c.hex))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not *Error", err)
			}
			if err.Error() != c.want {
				t.Fatalf("error %q, want %q", err, c.want)
			}
		})
	}
}

func TestAppendRejects(t *testing.T) {
	if _, err := Append(nil, CodeSuccess, 1, Identity("x")); err == nil {
		t.Fatal("Success with a body accepted")
	}
	if _, err := Append(nil, CodeRequest, 1, nil); err == nil {
		t.Fatal("Request without a body accepted")
	}
	b, err := Append([]byte{1, 2}, CodeRequest, 1, Raw{T: TypeTLS, Data: make([]byte, MaxLen)})
	if err == nil || !bytes.Equal(b, []byte{1, 2}) {
		t.Fatalf("oversized packet: %v, buffer %d bytes", err, len(b))
	}
}

func TestTrailingPaddingIgnored(t *testing.T) {
	b := mustHex(t, "02 01 0006 01 61 000000")
	var p Packet
	if err := Parse(b, &p); err != nil {
		t.Fatal(err)
	}
	if string(p.TypeData) != "a" || p.Len() != 6 {
		t.Fatalf("%+v", p)
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	b, _ := Append(nil, CodeResponse, 1, &MSCHAPv2{OpCode: MSCHAPv2Response, MSCHAPv2ID: 1,
		PeerChallenge: make([]byte, 16), NTResponse: make([]byte, 24), Name: []byte("alice")})
	var p Packet
	var m MSCHAPv2
	n := testing.AllocsPerRun(100, func() {
		if Parse(b, &p) != nil || ParseMSCHAPv2(p.TypeData, &m) != nil {
			t.Fatal("parse failed")
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per parse", n)
	}
}

func BenchmarkParseTLS(b *testing.B) {
	pkt, _ := Append(nil, CodeRequest, 1, &TLS{Flags: TLSLengthIncluded, MessageLength: 1000, Data: make([]byte, 1000)})
	var p Packet
	var m TLS
	b.ReportAllocs()
	for b.Loop() {
		if Parse(pkt, &p) != nil || ParseTLS(p.Type, p.TypeData, &m) != nil {
			b.Fatal("parse")
		}
	}
}

func BenchmarkAppendMSCHAPv2Response(b *testing.B) {
	m := &MSCHAPv2{OpCode: MSCHAPv2Response, MSCHAPv2ID: 1, PeerChallenge: make([]byte, 16), NTResponse: make([]byte, 24), Name: []byte("alice")}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = Append(buf[:0], CodeResponse, 1, m)
	}
}
