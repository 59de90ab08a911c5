package ipv6

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

var (
	home   = netip.MustParseAddr("2001:db8:1::100")
	careOf = netip.MustParseAddr("2001:db8:2::200")
	agent  = netip.MustParseAddr("2001:db8:1::1")
)

func wantErr(t *testing.T, err error, msg, field string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *ipv6.Error", err, err)
	}
	if e.Field != field || (msg != "" && e.Msg != msg) {
		t.Fatalf("error %q: msg %q field %q, want %q %q", err, e.Msg, e.Field, msg, field)
	}
}

func TestDestOptsHAO(t *testing.T) {
	b := AppendDestOptsHAO(nil, ProtoMobility, home)
	if len(b) != DestOptsHAOLen || b[1] != 2 || b[6] != OptHomeAddress || b[7] != 16 {
		t.Fatalf("encoding % x", b)
	}
	h, err := ParseOptionsHeader(b, ProtoDstOpts)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := h.HomeAddress(); !ok || a != home || h.NextHeader != ProtoMobility {
		t.Fatalf("home %v %v next %d", a, ok, h.NextHeader)
	}
	// The generic builder lays the option out identically.
	g := AppendOptionsHeader(nil, ProtoMobility, []Option{{Type: OptHomeAddress, Data: b[8:24]}})
	if !bytes.Equal(g, b) {
		t.Fatalf("generic builder\n% x\nwant\n% x", g, b)
	}
}

func TestOptionsHeaderGeneric(t *testing.T) {
	opts := []Option{{Type: 0x1e, Data: []byte{1, 2, 3}}, {Type: OptPad1}, {Type: OptHomeAddress, Data: home.AsSlice()}}
	b := AppendOptionsHeader(nil, ProtoNoNext, opts)
	if len(b)%8 != 0 {
		t.Fatalf("length %d", len(b))
	}
	h, err := ParseOptionsHeader(b, ProtoDstOpts)
	if err != nil {
		t.Fatal(err)
	}
	var got []Option
	it := h.Options()
	for it.Next() {
		if o := it.Option(); o.Type != OptPadN && (o.Type != OptPad1 || o.Offset == 7) {
			got = append(got, Option{Type: o.Type, Data: o.Data})
		}
	}
	if it.Err() != nil || len(got) != 3 || got[0].Type != 0x1e || got[1].Type != OptPad1 || got[2].Type != OptHomeAddress {
		t.Fatalf("options %+v err %v", got, it.Err())
	}
}

func TestOptionsHeaderErrors(t *testing.T) {
	good := AppendDestOptsHAO(nil, ProtoNoNext, home)
	mod := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	cases := []struct {
		name, msg, field string
		b                []byte
	}{
		{"short", "Destination Options header", "length", good[:7]},
		{"ext len", "Destination Options header", "header length", mod(func(b []byte) { b[1] = 3 })},
		{"option overrun", "option", "length", mod(func(b []byte) { b[7] = 17 })},
		{"HAO length", "Home Address option", "length", mod(func(b []byte) { b[7] = 15; b[23] = OptPad1 })},
		// PadN of 3 bytes (one data byte), HAO at offset 5.
		{"HAO alignment", "Home Address option", "alignment", append([]byte{59, 2, OptPadN, 1, 0, OptHomeAddress, 16}, append(home.AsSlice(), OptPad1)...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseOptionsHeader(c.b, ProtoDstOpts)
			wantErr(t, err, c.msg, c.field)
		})
	}
}

func TestType2Routing(t *testing.T) {
	r := Type2Routing{NextHeader: ProtoMobility, SegmentsLeft: 1, HomeAddress: home}
	b := r.Append(nil)
	if len(b) != Type2RoutingLen || b[1] != 2 || b[2] != 2 || b[3] != 1 {
		t.Fatalf("encoding % x", b)
	}
	got, err := ParseType2Routing(b)
	if err != nil || got != r {
		t.Fatalf("got %+v, %v", got, err)
	}
	mod := func(f func(b []byte)) []byte { c := bytes.Clone(b); f(c); return c }
	for _, c := range []struct {
		name, field string
		b           []byte
	}{
		{"short", "length", b[:6]},
		{"type", "routing type", mod(func(b []byte) { b[2] = 0 })},
		{"segments", "segments left", mod(func(b []byte) { b[3] = 2 })},
		{"ext len", "header length", append(mod(func(b []byte) { b[1] = 3 }), make([]byte, 8)...)},
		{"truncated", "header length", b[:16]},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseType2Routing(c.b)
			wantErr(t, err, "", c.field)
		})
	}
}

func TestFragment(t *testing.T) {
	f := Fragment{NextHeader: ProtoUDP, Offset: 0x1abc, More: true, Identification: 0xdeadbeef}
	got, err := ParseFragment(f.Append(nil))
	if err != nil || got != f {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := ParseFragment(make([]byte, 7)); err == nil {
		t.Fatal("short fragment header accepted")
	}
}

func TestChain(t *testing.T) {
	// Hop-by-hop, routing type 2, dest opts (HAO), fragment, AH, then ESP.
	var b []byte
	b = AppendOptionsHeader(b, ProtoRouting, []Option{{Type: 5, Data: []byte{0, 0}}})
	r := Type2Routing{NextHeader: ProtoDstOpts, SegmentsLeft: 1, HomeAddress: home}
	b = r.Append(b)
	b = AppendDestOptsHAO(b, ProtoFragment, home)
	f := Fragment{NextHeader: ProtoAH}
	b = f.Append(b)
	b = append(b, ProtoESP, 4, 0, 0) // AH: (4+2)*4 = 24 bytes
	b = append(b, make([]byte, 20)...)
	upper := len(b)
	b = append(b, 1, 2, 3, 4)
	c := NewChain(ProtoHopByHop, b)
	var protos []uint8
	for c.Next() {
		protos = append(protos, c.Header().Proto)
	}
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
	want := []uint8{ProtoHopByHop, ProtoRouting, ProtoDstOpts, ProtoFragment, ProtoAH}
	if !reflect.DeepEqual(protos, want) {
		t.Fatalf("walked %v, want %v", protos, want)
	}
	proto, rest := c.Upper()
	if proto != ProtoESP || c.UpperOffset() != upper || !bytes.Equal(rest, []byte{1, 2, 3, 4}) {
		t.Fatalf("upper %d at %d", proto, c.UpperOffset())
	}
	if p, off, err := UpperLayer(ProtoHopByHop, b); p != ProtoESP || off != upper || err != nil {
		t.Fatalf("UpperLayer %d %d %v", p, off, err)
	}
	if _, _, err := UpperLayer(ProtoHopByHop, b[:upper-1]); err == nil {
		t.Fatal("truncated AH accepted")
	}
	// A non-first fragment stops the walk.
	f = Fragment{NextHeader: ProtoDstOpts, Offset: 8}
	nf := append(f.Append(nil), 0xff, 0xff)
	if p, off, err := UpperLayer(ProtoFragment, nf); p != ProtoDstOpts || off != 8 || err != nil {
		t.Fatalf("non-first fragment: %d %d %v", p, off, err)
	}
}

func TestHopByHopFirstOnly(t *testing.T) {
	b := AppendOptionsHeader(nil, ProtoHopByHop, nil)
	b = AppendOptionsHeader(b, ProtoNoNext, nil)
	_, _, err := UpperLayer(ProtoDstOpts, b)
	wantErr(t, err, "Hop-by-Hop Options header", "position")
	if p, _, err := UpperLayer(ProtoHopByHop, b[8:]); err != nil || p != ProtoNoNext {
		t.Fatalf("leading Hop-by-Hop header: %v", err)
	}
}

func TestChainLimit(t *testing.T) {
	var b []byte
	for range 40 {
		b = AppendOptionsHeader(b, ProtoDstOpts, nil)
	}
	_, _, err := UpperLayer(ProtoDstOpts, b)
	wantErr(t, err, "extension headers", "count")
}

func TestPadTo(t *testing.T) {
	for off := range 16 {
		for _, a := range [][2]int{{8, 6}, {8, 2}, {2, 0}, {8, 0}, {4, 2}} {
			n := PadTo(off, a[0], a[1])
			if n < 0 || n >= a[0] || (off+n)%a[0] != a[1] {
				t.Fatalf("PadTo(%d, %d, %d) = %d", off, a[0], a[1], n)
			}
		}
	}
	for n := range 10 {
		if got := AppendPadding(nil, n); len(got) != n || (n == 1 && got[0] != OptPad1) || (n > 1 && (got[0] != OptPadN || int(got[1]) != n-2)) {
			t.Fatalf("AppendPadding(%d) = % x", n, got)
		}
	}
}

// FuzzChain walks arbitrary chains: no panics, headers tile the buffer.
func FuzzChain(f *testing.F) {
	var b []byte
	b = AppendOptionsHeader(b, ProtoRouting, nil)
	r := Type2Routing{NextHeader: ProtoFragment, SegmentsLeft: 1, HomeAddress: home}
	b = r.Append(b)
	fr := Fragment{NextHeader: ProtoAH}
	b = fr.Append(b)
	b = append(b, ProtoNoNext, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	f.Add(ProtoHopByHop, b)
	f.Add(ProtoDstOpts, AppendDestOptsHAO(nil, ProtoMobility, home))
	f.Fuzz(func(t *testing.T, first uint8, b []byte) {
		c := NewChain(first, b)
		end := 0
		for c.Next() {
			h := c.Header()
			if h.Offset != end || len(h.Data) < 8 || h.Offset+len(h.Data) > len(b) {
				t.Fatalf("header %d at %d+%d, previous ended at %d", h.Proto, h.Offset, len(h.Data), end)
			}
			end = h.Offset + len(h.Data)
		}
		if c.Err() == nil && c.UpperOffset() != end {
			t.Fatalf("upper at %d, last header ended at %d", c.UpperOffset(), end)
		}
	})
}
