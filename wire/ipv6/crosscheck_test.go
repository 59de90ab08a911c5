package ipv6_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mip6/internal/tshark"
	"mip6/wire/ipv6"
	"mip6/wire/pcap"
)

// writePcap stores raw IPv6 packets in a capture file for tshark.
func writePcap(t *testing.T, name string, pkts ...[]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcap.NewWriter(f, pcap.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		if err := w.WritePacket(time.Unix(int64(1_700_000_000+i), 0), p); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestTsharkUDP(t *testing.T) {
	src := netip.MustParseAddrPort("[2001:db8::10]:49152")
	dst := netip.MustParseAddrPort("[2001:db8:2::20]:9")
	path := writePcap(t, "udp.pcap", ipv6.AppendUDP(nil, src, dst, []byte("odd")))
	tshark.RequireClean(t, path, tshark.Options{})
	p := tshark.Run(t, path, tshark.Options{}, "ipv6.dst", "udp.dstport", "udp.checksum.status")[0]
	if p.Get("ipv6.dst") != "2001:db8:2::20" || p.Get("udp.dstport") != "9" || p.Get("udp.checksum.status") != "1" {
		t.Fatalf("tshark read %v", p.Fields)
	}
}
