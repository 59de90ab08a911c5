package ipv6

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

var (
	addrA = netip.MustParseAddr("2001:db8::1")
	addrB = netip.MustParseAddr("2001:db8:1::2")
)

func TestHeaderRoundTrip(t *testing.T) {
	h := Header{TrafficClass: 0xb8, FlowLabel: 0xabcde, PayloadLength: 3, NextHeader: ProtoMobility, HopLimit: 255, Src: addrA, Dst: addrB}
	b := append(h.Append(nil), 1, 2, 3)
	if len(b) != HeaderLen+3 || b[0] != 0x6b || b[1] != 0x8a {
		t.Fatalf("encoding % x", b[:4])
	}
	got, err := ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	if got != h {
		t.Fatalf("got %+v, want %+v", got, h)
	}
}

func TestHeaderErrors(t *testing.T) {
	h := Header{PayloadLength: 10, NextHeader: ProtoUDP, Src: addrA, Dst: addrB}
	good := append(h.Append(nil), make([]byte, 10)...)
	v4 := bytes.Clone(good)
	v4[0] = 0x45
	cases := []struct {
		name, field string
		b           []byte
	}{
		{"short", "length", good[:39]},
		{"version", "version", v4},
		{"payload length", "payload length", good[:45]},
	}
	for _, c := range cases {
		_, err := ParseHeader(c.b)
		var e *Error
		if !errors.As(err, &e) || e.Field != c.field || e.Msg != "header" {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestChecksumVector checks against a hand-computed sum: with all-zero
// addresses and an empty payload the pseudo-header sums to Next Header.
func TestChecksumVector(t *testing.T) {
	zero := netip.IPv6Unspecified()
	if got := Checksum(zero, zero, 17, nil); got != ^uint16(17) {
		t.Fatalf("got %#04x", got)
	}
	// Odd length payload: trailing byte padded on the right.
	if got := Checksum(zero, zero, 0, []byte{0x01}); got != ^uint16(0x0100+1) {
		t.Fatalf("odd: got %#04x", got)
	}
	// Carries fold around.
	p := bytes.Repeat([]byte{0xff}, 64)
	if got := Checksum(zero, zero, 0, p); got != ^uint16(64) {
		t.Fatalf("fold: got %#04x", got)
	}
}

func TestUDP(t *testing.T) {
	src := netip.AddrPortFrom(addrA, 4500)
	dst := netip.AddrPortFrom(addrB, 4500)
	for _, payload := range [][]byte{nil, {0xff}, []byte("hello, world")} {
		pkt := AppendUDP([]byte{0xee}, src, dst, payload)[1:]
		h, err := ParseHeader(pkt)
		if err != nil {
			t.Fatal(err)
		}
		if h.NextHeader != ProtoUDP || int(h.PayloadLength) != UDPHeaderLen+len(payload) {
			t.Fatalf("header %+v", h)
		}
		dgram := pkt[HeaderLen:]
		if err := VerifyUDP(h.Src, h.Dst, dgram); err != nil {
			t.Fatal(err)
		}
		u, body, err := ParseUDP(dgram)
		if err != nil {
			t.Fatal(err)
		}
		if u.SrcPort != 4500 || u.DstPort != 4500 || !bytes.Equal(body, payload) {
			t.Fatalf("udp %+v body %q", u, body)
		}
		dgram[len(dgram)-1] ^= 0x40
		if err := VerifyUDP(h.Src, h.Dst, dgram); err == nil {
			t.Fatal("corrupted datagram verified")
		}
	}
}

func TestUDPErrors(t *testing.T) {
	d := AppendUDPDatagram(nil, netip.AddrPortFrom(addrA, 1), netip.AddrPortFrom(addrB, 2), []byte("abcd"))
	if _, _, err := ParseUDP(d[:7]); err == nil {
		t.Error("short header accepted")
	}
	if _, _, err := ParseUDP(d[:11]); err == nil {
		t.Error("length beyond data accepted")
	}
	z := bytes.Clone(d)
	z[6], z[7] = 0, 0
	if err := VerifyUDP(addrA, addrB, z); err == nil {
		t.Error("zero checksum accepted")
	}
}
