// Package tshark runs Wireshark's tshark on pcap files from tests, as an
// independent check of the bytes this project emits.
//
//	path := tshark.WritePcap(t, pkt1, pkt2)         // raw IPv6 packets into t.TempDir()
//	pkts := tshark.Run(t, path, tshark.Options{}, "mip6.bu.seqnr", "mip6.acoa.acoa")
//	if got := pkts[0].Get("mip6.bu.seqnr"); got != "7" { ... }
//	tshark.RequireClean(t, path, tshark.Options{}) // no malformed packets, no expert errors
//
// Options carry -o preferences, UAT rows (e.g. esp_sa, ikev2_decryption_table,
// passed as -o uat:<table>:"f1","f2",...), decode-as rules and a display
// filter. Every run uses a fresh, empty WIRESHARK_CONFIG_DIR unless
// Options.ConfigDir is set, and UDP checksum validation is switched on.
// tshark does not verify Mobility Header checksums; check them in Go.
//
// A missing tshark fails the test (t.Fatal); it never skips.
package tshark
