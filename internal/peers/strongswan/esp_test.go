package strongswan

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"mip6/esp"
)

// An SA built from the outbound half of charon's key log opens with the
// SA built from the inbound half (the peer's view), for each algorithm
// charon names.
func TestESPKeysSA(t *testing.T) {
	a := netip.MustParseAddrPort("[2001:db8:a::1]:4500")
	b := netip.MustParseAddrPort("[2001:db8:b::1]:4500")
	for _, k := range []ESPKeys{
		{Encr: "AES_GCM_16", EncKey: bytes.Repeat([]byte{1}, 20)},
		{Encr: "AES_GCM_16", EncKey: bytes.Repeat([]byte{2}, 36)},
		{Encr: "CHACHA20_POLY1305", EncKey: bytes.Repeat([]byte{3}, 36)},
		{Encr: "AES_CBC", EncKey: bytes.Repeat([]byte{4}, 16), IntegKey: bytes.Repeat([]byte{5}, 32)},
		{Encr: "AES_CBC", EncKey: bytes.Repeat([]byte{6}, 32), IntegKey: bytes.Repeat([]byte{7}, 64)},
	} {
		k.SPI = 0xc0ffee01
		out, err := k.SA(a, b)
		if err != nil {
			t.Fatalf("%s: %v", k.Encr, err)
		}
		k.Inbound = true
		in, err := k.SA(b, a)
		if err != nil {
			t.Fatalf("%s: %v", k.Encr, err)
		}
		if out.Direction() != esp.Outbound || in.Direction() != esp.Inbound || out.SPI() != k.SPI {
			t.Fatalf("%s: directions %v %v", k.Encr, out.Direction(), in.Direction())
		}
		msg := []byte("a tunnelled Binding Update")
		pkt, err := out.Seal(nil, msg, 41)
		if err != nil {
			t.Fatal(err)
		}
		got, nh, err := in.Open(pkt)
		if err != nil || nh != 41 || !bytes.Equal(got, msg) {
			t.Fatalf("%s: open: %q %d %v", k.Encr, got, nh, err)
		}
	}
}

func TestESPKeysUnmapped(t *testing.T) {
	for _, k := range []ESPKeys{
		{Encr: "3DES_CBC", EncKey: make([]byte, 24)},
		{Encr: "AES_GCM_16", EncKey: make([]byte, 16)},
		{Encr: "AES_CBC", EncKey: make([]byte, 16), IntegKey: make([]byte, 20)},
	} {
		_, err := k.SA(netip.AddrPort{}, netip.AddrPort{})
		if err == nil || !strings.Contains(err.Error(), "strongswan: SPI 00000000") {
			t.Errorf("%s: %v", k.Encr, err)
		}
	}
}
