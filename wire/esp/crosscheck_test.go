package esp_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"mip6/internal/tshark"
	"mip6/wire/esp"
	"mip6/wire/ipv6"
)

// TestTsharkUDPEncapsulation writes the three kinds of UDP port 4500
// payload (RFC 3948) and checks that tshark tells them apart as Classify
// does and reads the ESP header fields back.
func TestTsharkUDPEncapsulation(t *testing.T) {
	mn := netip.MustParseAddrPort("[2001:db8:c0a::10]:4500")
	ha := netip.MustParseAddrPort("[2001:db8:1::1]:4500")
	ike := esp.AppendNonESPMarker(nil)
	// IKE header (RFC 7296 §3.1): SPIi, SPIr = 0, no payload, version 2.0,
	// IKE_SA_INIT, Initiator flag, message ID 0, length 28.
	ike = append(ike, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 34, 0x08, 0, 0, 0, 0, 0, 0, 0, 28)
	pkt := esp.Packet{Header: esp.Header{SPI: 0xc2000001, Seq: 42}, IV: bytes.Repeat([]byte{0xaa}, 8),
		Ciphertext: bytes.Repeat([]byte{0xbb}, 32), ICV: bytes.Repeat([]byte{0xcc}, 16)}
	payloads := [][]byte{esp.AppendNATKeepalive(nil), ike, pkt.Append(nil)}
	want := []esp.Kind{esp.KindNATKeepalive, esp.KindIKEMessage, esp.KindESPPacket}
	var frames [][]byte
	for i, p := range payloads {
		if k, _, err := esp.Classify(p); err != nil || k != want[i] {
			t.Fatalf("payload %d: Classify = %v %v", i, k, err)
		}
		frames = append(frames, ipv6.AppendUDP(nil, mn, ha, p))
	}
	path := tshark.WritePcap(t, frames...)
	tshark.RequireClean(t, path, tshark.Options{})
	got := tshark.Run(t, path, tshark.Options{}, "udpencap.nat_keepalive", "udpencap.non_esp_marker", "isakmp.exchangetype", "esp.spi", "esp.sequence")
	if len(got) != 3 {
		t.Fatalf("%d packets", len(got))
	}
	if !got[0].Has("udpencap.nat_keepalive") || got[0].Has("esp.spi") {
		t.Errorf("keepalive: %v", got[0].Fields)
	}
	if !got[1].Has("udpencap.non_esp_marker") || got[1].Get("isakmp.exchangetype") != "34" {
		t.Errorf("IKE after the Non-ESP Marker: %v", got[1].Fields)
	}
	if got[2].Get("esp.spi") != fmt.Sprintf("0x%08x", pkt.SPI) || got[2].Get("esp.sequence") != "42" || got[2].Has("udpencap.non_esp_marker") {
		t.Errorf("ESP: %v", got[2].Fields)
	}
}
