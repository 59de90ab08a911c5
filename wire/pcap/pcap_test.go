package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	pkts := [][]byte{{0x60, 1, 2, 3}, {}, bytes.Repeat([]byte{0xab}, 1500)}
	for i, p := range pkts {
		if err := w.WritePacket(t0.Add(time.Duration(i)*time.Second), p); err != nil {
			t.Fatal(err)
		}
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != LinkTypeRaw || r.SnapLen() != DefaultSnapLen {
		t.Fatalf("link type %d snaplen %d", r.LinkType(), r.SnapLen())
	}
	for i, p := range pkts {
		ts, data, err := r.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !ts.Equal(t0.Add(time.Duration(i) * time.Second)) {
			t.Errorf("record %d: ts %v", i, ts)
		}
		if !bytes.Equal(data, p) {
			t.Errorf("record %d: data differs", i)
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("after last record: %v, want io.EOF", err)
	}
}

func TestWriterRejects(t *testing.T) {
	w, err := NewWriter(io.Discard, LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(time.Unix(0, 0), make([]byte, DefaultSnapLen+1)); err == nil {
		t.Error("oversized packet accepted")
	}
	if err := w.WritePacket(time.Unix(-1, 0), nil); err == nil {
		t.Error("negative timestamp accepted")
	}
}

// file builds a pcap file by hand so the reader is tested against bytes the
// writer would never produce (big endian, nanoseconds, bad lengths).
func file(order binary.AppendByteOrder, magic, snap uint32, recs ...[4]uint32) []byte {
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = order.AppendUint32(b, snap)
	b = order.AppendUint32(b, LinkTypeRaw)
	for _, r := range recs {
		for _, v := range r {
			b = order.AppendUint32(b, v)
		}
		b = append(b, make([]byte, min(r[2], 64))...)
	}
	return b
}

func TestReaderVariants(t *testing.T) {
	b := file(binary.BigEndian, magicNano, 65535, [4]uint32{10, 999_999_999, 4, 40})
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	ts, data, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if ts.Unix() != 10 || ts.Nanosecond() != 999_999_999 || len(data) != 4 {
		t.Fatalf("ts %v len %d", ts, len(data))
	}
}

func TestReaderErrors(t *testing.T) {
	le := binary.LittleEndian
	cases := []struct {
		name   string
		b      []byte
		header bool // error from NewReader
		field  string
	}{
		{"short header", make([]byte, 10), true, "length"},
		{"bad magic", file(le, 0x12345678, 100), true, "magic"},
		{"zero snaplen", file(le, magicMicro, 0), true, "snaplen"},
		{"huge snaplen", file(le, magicMicro, 1<<30), true, "snaplen"},
		{"caplen over snaplen", file(le, magicMicro, 32, [4]uint32{0, 0, 33, 33}), false, "caplen"},
		{"caplen over origlen", file(le, magicMicro, 100, [4]uint32{0, 0, 20, 10}), false, "caplen"},
		{"usec too big", file(le, magicMicro, 100, [4]uint32{0, 1_000_000, 0, 0}), false, "timestamp"},
		{"truncated data", file(le, magicMicro, 1000, [4]uint32{0, 0, 100, 100})[:24+16+10], false, "data"},
		{"truncated record header", file(le, magicMicro, 1000, [4]uint32{0, 0, 1, 1})[:24+5], false, "header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(c.b))
			if !c.header {
				if err != nil {
					t.Fatalf("NewReader: %v", err)
				}
				_, _, err = r.Next()
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if pe.Field != c.field {
				t.Fatalf("field %q, want %q (%v)", pe.Field, c.field, err)
			}
		})
	}
	// Wrong major version.
	b := file(le, magicMicro, 100)
	b[4] = 3
	if _, err := NewReader(bytes.NewReader(b)); err == nil {
		t.Fatal("major version 3 accepted")
	}
}

func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, LinkTypeRaw)
	_ = w.WritePacket(time.Unix(1, 2000), []byte{0x60, 0, 0, 0})
	_ = w.WritePacket(time.Unix(2, 0), make([]byte, 100))
	f.Add(buf.Bytes())
	f.Add(file(binary.BigEndian, magicNano, 65535, [4]uint32{10, 5, 4, 40}))
	f.Add(file(binary.LittleEndian, magicMicro, 32, [4]uint32{0, 0, 33, 33}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for i := 0; i < 1000; i++ {
			_, data, err := r.Next()
			if err != nil {
				return
			}
			if uint32(len(data)) > r.SnapLen() {
				t.Fatalf("record longer than snaplen")
			}
		}
	})
}
