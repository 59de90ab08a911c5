package ipv6

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
)

func TestPacketRoundTrip(t *testing.T) {
	payload := []byte{59, 1, 5, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}
	cases := []Packet{
		{Header: Header{HopLimit: 64, Src: careOf, Dst: agent}, HomeAddress: home, Proto: ProtoMobility},
		{Header: Header{HopLimit: 64, Src: agent, Dst: careOf}, RoutingHomeAddress: home, SegmentsLeft: 1, Proto: ProtoMobility},
		{Header: Header{HopLimit: 1, TrafficClass: 3, FlowLabel: 7, Src: careOf, Dst: careOf}, HomeAddress: home, RoutingHomeAddress: home, SegmentsLeft: 1, Proto: ProtoICMPv6},
		{Header: Header{HopLimit: 64, Src: agent, Dst: home}, Proto: ProtoUDP},
	}
	for i, p := range cases {
		b := p.Append(nil, payload)
		var got Packet
		if err := ParsePacket(b, &got); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !bytes.Equal(got.Payload, payload) || !bytes.Equal(b[got.PayloadOffset:], payload) {
			t.Fatalf("case %d: payload % x", i, got.Payload)
		}
		want := p
		want.Header.PayloadLength, want.Header.NextHeader = got.Header.PayloadLength, got.Header.NextHeader
		got.Payload, got.PayloadOffset = nil, 0
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d:\ngot  %+v\nwant %+v", i, got, want)
		}
	}
	p := cases[2]
	if p.PseudoSrc() != home || p.PseudoDst() != home {
		t.Fatal("pseudo-header addresses")
	}
	if p := cases[3]; p.PseudoSrc() != agent || p.PseudoDst() != home {
		t.Fatal("pseudo-header addresses without MIPv6 headers")
	}
}

func TestParsePacketErrors(t *testing.T) {
	base := Packet{Header: Header{HopLimit: 64, Src: careOf, Dst: agent}, HomeAddress: home, Proto: ProtoNoNext}
	good := base.Append(nil, nil)
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	fix := func(b []byte) []byte { b[5] = byte(len(b) - HeaderLen); return b }
	cases := []struct {
		name, msg, field string
		offset           int
		b                []byte
	}{
		{"short ext", "Destination Options header", "length", HeaderLen, mod(func(b []byte) []byte { return fix(b[:HeaderLen+4]) })},
		{"ext len", "Destination Options header", "header length", HeaderLen + 1, mod(func(b []byte) []byte { b[HeaderLen+1] = 9; return b })},
		{"HAO alignment", "Home Address option", "alignment", HeaderLen + 5, mod(func(b []byte) []byte {
			copy(b[HeaderLen+2:], []byte{OptPadN, 1, 0, OptHomeAddress, 16})
			copy(b[HeaderLen+7:], home.AsSlice())
			b[HeaderLen+23] = OptPad1
			return b
		})},
		{"two HAOs", "Home Address option", "count", HeaderLen + 30, fix(append(mod(func(b []byte) []byte { b[HeaderLen] = ProtoDstOpts; return b }), AppendDestOptsHAO(nil, ProtoNoNext, home)...))},
		{"unknown option must discard", "Destination Options header", "option type", HeaderLen + 6, mod(func(b []byte) []byte { b[HeaderLen+6] = 0x85; return b })},
		{"routing type 0", "Routing header", "routing type", HeaderLen + 2, fix(append(mod(func(b []byte) []byte { b[6] = ProtoRouting; return b[:HeaderLen] }), ProtoNoNext, 0, 0, 1, 0, 0, 0, 0))},
		{"two type 2", "Type 2 Routing header", "count", HeaderLen + 24, func() []byte {
			r := Type2Routing{NextHeader: ProtoRouting, SegmentsLeft: 1, HomeAddress: home}
			b := build(Packet{Header: Header{Src: agent, Dst: careOf}, RoutingHomeAddress: home, SegmentsLeft: 1, Proto: ProtoNoNext}, nil)
			b = r.Append(b[:HeaderLen])
			r.NextHeader = ProtoNoNext
			return fix(r.Append(b))
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			err := ParsePacket(c.b, &p)
			wantErr(t, err, c.msg, c.field)
			if e := err.(*Error); e.Offset != c.offset {
				t.Fatalf("offset %d, want %d (%v)", e.Offset, c.offset, err)
			}
		})
	}
	// An unknown routing type with no segments left is skipped.
	b := append(bytes.Clone(good[:HeaderLen]), ProtoNoNext, 0, 0, 0, 0, 0, 0, 0)
	b[6] = ProtoRouting
	var p Packet
	if err := ParsePacket(fix(b), &p); err != nil || p.Proto != ProtoNoNext {
		t.Fatalf("routing type 0 with 0 segments: %v", err)
	}
}

func TestParsePacketNoAlloc(t *testing.T) {
	pkt := Packet{Header: Header{HopLimit: 64, Src: careOf, Dst: agent}, HomeAddress: home, Proto: ProtoMobility}
	b := pkt.Append(nil, make([]byte, 32))
	var p Packet
	if n := testing.AllocsPerRun(100, func() { _ = ParsePacket(b, &p) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func BenchmarkParsePacket(b *testing.B) {
	pkt := Packet{Header: Header{HopLimit: 64, Src: careOf, Dst: agent}, HomeAddress: home, Proto: ProtoMobility}
	buf := pkt.Append(nil, make([]byte, 32))
	var p Packet
	b.ReportAllocs()
	for b.Loop() {
		if err := ParsePacket(buf, &p); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParsePacket(f *testing.F) {
	f.Add(build(Packet{Header: Header{Src: careOf, Dst: agent}, HomeAddress: home, Proto: ProtoMobility}, []byte{59, 0, 0, 0}))
	f.Add(build(Packet{Header: Header{Src: agent, Dst: careOf}, RoutingHomeAddress: home, SegmentsLeft: 1, Proto: ProtoICMPv6}, nil))
	f.Add(AppendUDP(nil, netip.AddrPortFrom(agent, 500), netip.AddrPortFrom(home, 500), []byte("x")))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if err := ParsePacket(b, &p); err != nil {
			return
		}
		if p.PayloadOffset+len(p.Payload) > len(b) || p.PayloadOffset < HeaderLen {
			t.Fatalf("payload %d+%d outside %d", p.PayloadOffset, len(p.Payload), len(b))
		}
		if !p.Fragmented {
			// Re-encoding what was understood must parse to the same view.
			again := p.Append(nil, p.Payload)
			var q Packet
			if err := ParsePacket(again, &q); err != nil {
				t.Fatalf("re-encoded packet: %v", err)
			}
			if q.HomeAddress != p.HomeAddress || q.RoutingHomeAddress != p.RoutingHomeAddress || q.Proto != p.Proto {
				t.Fatalf("re-encoded packet differs: %+v vs %+v", q, p)
			}
		}
	})
}

func build(p Packet, payload []byte) []byte { return p.Append(nil, payload) }
