package tshark

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"mip6/wire/pcap"
)

// WritePcap writes raw IPv6 packets (link type RAW) to a new capture file
// in the test's temporary directory and returns its path. Packets get
// timestamps one second apart.
func WritePcap(t testing.TB, pkts ...[]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcap.NewWriter(f, pcap.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		if err := w.WritePacket(time.Unix(int64(1_700_000_000+i), 0), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
