package esp

import (
	"bytes"
	"errors"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	h := Header{SPI: 0xdeadbeef, Seq: 0x01020304}
	b := h.Append(nil)
	want := []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4}
	if !bytes.Equal(b, want) {
		t.Fatalf("Append = %x, want %x", b, want)
	}
	got, err := ParseHeader(b)
	if err != nil || got != h {
		t.Fatalf("ParseHeader = %+v, %v", got, err)
	}
	var put [HeaderLen]byte
	h.Put(put[:])
	if !bytes.Equal(put[:], want) {
		t.Fatalf("Put = %x", put)
	}
}

func TestHeaderErrors(t *testing.T) {
	var e *Error
	if _, err := ParseHeader([]byte{1, 2, 3}); !errors.As(err, &e) || e.Field != FieldHeader || e.Kind != KindShort {
		t.Fatalf("short header: %v", err)
	}
	if _, err := ParseHeader(make([]byte, 8)); !errors.As(err, &e) || e.Field != FieldSPI || e.Kind != KindReserved {
		t.Fatalf("SPI 0: %v", err)
	}
	if got := (&Error{Field: FieldHeader, Kind: KindShort, Got: 3, Want: 8}).Error(); got != "esp: header: length 3 shorter than minimum 8" {
		t.Fatalf("message %q", got)
	}
}

func TestPacketRoundTrip(t *testing.T) {
	p := Packet{
		Header:     Header{SPI: 0x1000, Seq: 7},
		IV:         bytes.Repeat([]byte{0xaa}, 8),
		Ciphertext: bytes.Repeat([]byte{0xbb}, 32),
		ICV:        bytes.Repeat([]byte{0xcc}, 16),
	}
	b := p.Append(nil)
	if len(b) != 8+8+32+16 {
		t.Fatalf("len %d", len(b))
	}
	q, err := Parse(b, 8, 16, 1)
	if err != nil {
		t.Fatal(err)
	}
	if q.Header != p.Header || !bytes.Equal(q.IV, p.IV) || !bytes.Equal(q.Ciphertext, p.Ciphertext) || !bytes.Equal(q.ICV, p.ICV) {
		t.Fatalf("round trip: %+v", q)
	}
	if !bytes.Equal(q.Append(nil), b) {
		t.Fatal("re-encoding differs")
	}
	// Appending to a view must not overwrite the next field.
	_ = append(q.IV, 0xff)
	if b[16] != 0xbb {
		t.Fatal("IV view has spare capacity over the ciphertext")
	}
}

func TestParseErrors(t *testing.T) {
	b := (&Packet{Header: Header{SPI: 9, Seq: 1}, IV: make([]byte, 16), Ciphertext: make([]byte, 30), ICV: make([]byte, 16)}).Append(nil)
	cases := []struct {
		name           string
		b              []byte
		iv, icv, block int
		field          Field
		kind           ErrorKind
	}{
		{"misaligned CBC", b, 16, 16, 16, FieldCiphertext, KindAlignment},
		{"misaligned 4", b[:len(b)-1], 16, 16, 1, FieldCiphertext, KindAlignment},
		{"too short", b[:8+16+1+16], 16, 16, 1, FieldPacket, KindShort},
		{"bad transform", b, -1, 16, 1, FieldTransform, KindInvalid},
	}
	for _, c := range cases {
		_, err := Parse(c.b, c.iv, c.icv, c.block)
		var e *Error
		if !errors.As(err, &e) || e.Field != c.field || e.Kind != c.kind {
			t.Errorf("%s: err = %v, want field %v kind %d", c.name, err, c.field, c.kind)
		}
	}
}

func TestTrailer(t *testing.T) {
	for n := 0; n < 40; n++ {
		for _, bs := range []int{1, 4, 16} {
			pad := PadLen(n, bs)
			payload := bytes.Repeat([]byte{0x42}, n)
			plain := AppendTrailer(append([]byte(nil), payload...), pad, 41)
			if len(plain)%4 != 0 || len(plain)%bs != 0 {
				t.Fatalf("n=%d bs=%d: length %d misaligned", n, bs, len(plain))
			}
			put := make([]byte, pad+TrailerLen)
			PutTrailer(put, 41)
			if !bytes.Equal(put, plain[n:]) {
				t.Fatalf("PutTrailer %x != AppendTrailer %x", put, plain[n:])
			}
			got, tr, err := ParseTrailer(plain)
			if err != nil || !bytes.Equal(got, payload) || tr.NextHeader != 41 || int(tr.PadLen) != pad {
				t.Fatalf("n=%d bs=%d: ParseTrailer = %x %+v %v", n, bs, got, tr, err)
			}
		}
	}
}

func TestTrailerErrors(t *testing.T) {
	var e *Error
	if _, _, err := ParseTrailer([]byte{1}); !errors.As(err, &e) || e.Field != FieldTrailer {
		t.Fatalf("short: %v", err)
	}
	if _, _, err := ParseTrailer([]byte{1, 2, 3, 4, 41}); !errors.As(err, &e) || e.Field != FieldPadLength || e.Kind != KindTooLong {
		t.Fatalf("pad length: %v", err)
	}
	_, _, err := ParseTrailer([]byte{0x42, 1, 3, 2, 41})
	if !errors.As(err, &e) || e.Field != FieldPadding || e.Index != 1 || e.Got != 3 || e.Want != 2 {
		t.Fatalf("padding: %v", err)
	}
	if err.Error() != "esp: padding: byte 1 is 3, want 2" {
		t.Fatalf("message %q", err)
	}
}

func TestClassify(t *testing.T) {
	esp := Header{SPI: 0xc0ffee, Seq: 1}.Append(nil)
	ike := AppendNonESPMarker(nil)
	ike = append(ike, bytes.Repeat([]byte{0x11}, 28)...)
	cases := []struct {
		name string
		in   []byte
		kind Kind
		rest []byte
		err  bool
	}{
		{"keepalive", AppendNATKeepalive(nil), KindNATKeepalive, nil, false},
		{"ike", ike, KindIKEMessage, ike[4:], false},
		{"esp", esp, KindESPPacket, esp, false},
		{"one other byte", []byte{0xfe}, 0, nil, true},
		{"short esp", esp[:6], 0, nil, true},
		{"empty", nil, 0, nil, true},
	}
	for _, c := range cases {
		k, rest, err := Classify(c.in)
		if (err != nil) != c.err || k != c.kind || !bytes.Equal(rest, c.rest) {
			t.Errorf("%s: Classify = %v %x %v", c.name, k, rest, err)
		}
	}
	if KindNATKeepalive.String() != "NAT-keepalive" || Kind(0).String() != "unknown" {
		t.Fatal("Kind.String")
	}
}

func TestParseNoAllocs(t *testing.T) {
	b := (&Packet{Header: Header{SPI: 9, Seq: 1}, IV: make([]byte, 8), Ciphertext: make([]byte, 1400), ICV: make([]byte, 16)}).Append(nil)
	n := testing.AllocsPerRun(100, func() {
		if _, err := Parse(b, 8, 16, 1); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Classify(b); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocs per parse", n)
	}
}

func FuzzParse(f *testing.F) {
	f.Add((&Packet{Header: Header{SPI: 9, Seq: 1}, IV: make([]byte, 8), Ciphertext: AppendTrailer([]byte{1, 2}, 0, 4), ICV: make([]byte, 16)}).Append(nil), uint8(8), uint8(16), uint8(1))
	f.Add(AppendTrailer([]byte{0x60, 0, 0, 0}, 2, 41), uint8(0), uint8(0), uint8(4))
	f.Add([]byte{0, 0, 0, 0, 1}, uint8(0), uint8(12), uint8(16))
	f.Add([]byte{0xff}, uint8(0), uint8(0), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, ivLen, icvLen, block uint8) {
		bs := 1 << (block % 6)
		p, err := Parse(b, int(ivLen), int(icvLen), bs)
		if err == nil {
			if !bytes.Equal(p.Append(nil), b) {
				t.Fatal("Parse/Append round trip differs")
			}
			if len(p.Ciphertext)%4 != 0 || len(p.Ciphertext)%bs != 0 {
				t.Fatal("misaligned ciphertext accepted")
			}
		}
		if payload, tr, err := ParseTrailer(b); err == nil {
			again := AppendTrailer(append([]byte(nil), payload...), int(tr.PadLen), tr.NextHeader)
			if !bytes.Equal(again, b) {
				t.Fatalf("trailer round trip %x != %x", again, b)
			}
		}
		if k, rest, err := Classify(b); err == nil && k == KindESPPacket {
			if _, err := ParseHeader(rest); err != nil {
				t.Fatalf("classified as ESP but header fails: %v", err)
			}
		}
	})
}

func BenchmarkParseHeader(b *testing.B) {
	pkt := (&Packet{Header: Header{SPI: 9, Seq: 1}, IV: make([]byte, 8), Ciphertext: make([]byte, 1400), ICV: make([]byte, 16)}).Append(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, err := Parse(pkt, 8, 16, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTrailer(b *testing.B) {
	plain := AppendTrailer(make([]byte, 1400), PadLen(1400, 16), 41)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseTrailer(plain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendHeader(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = Header{SPI: 9, Seq: 1}.Append(buf[:0])
	}
}
