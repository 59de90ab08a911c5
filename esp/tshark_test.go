package esp_test

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mip6/esp"
	"mip6/internal/tshark"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
	"mip6/wire/pcap"
)

// RFC 4877 §3 addresses from the documentation prefix: the mobile node's
// care-of and home addresses and its home agent.
var (
	careOf   = netip.MustParseAddr("2001:db8:c0a::10")
	homeAddr = netip.MustParseAddr("2001:db8:1::100")
	homeAgt  = netip.MustParseAddr("2001:db8:1::1")
)

// bindingUpdate builds the inner packet of RFC 4877 §3's tunnelled
// Binding Update: HoA -> HA, Mobility Header BU with the Alternate Care-of
// Address option.
func bindingUpdate(seq uint16) []byte {
	bu := mh.BindingUpdate{Sequence: seq, Acknowledge: true, HomeRegistration: true,
		KeyManagementMobilityCapability: true, Lifetime: 60}
	bu.Options.Present = mh.HasAlternateCareOfAddress
	bu.Options.AlternateCareOfAddress = careOf
	return ipv6.AppendPacket(nil, homeAddr, homeAgt, ipv6.ProtoMobility, bu.Append(nil, homeAddr, homeAgt))
}

// checkOpen decrypts a frame with our own inbound SA and checks the inner BU,
// including the MH checksum tshark does not verify.
func checkOpen(t *testing.T, in *esp.SA, frame []byte, seq uint16) {
	t.Helper()
	_, udpPayload, err := ipv6.ParseUDP(frame[ipv6.HeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	inner, nh, err := in.Open(append([]byte(nil), udpPayload...))
	if err != nil || nh != ipv6.ProtoIPv6 {
		t.Fatalf("open: %v (next header %d)", err, nh)
	}
	var p ipv6.Packet
	if err := ipv6.ParsePacket(inner, &p); err != nil || p.Proto != ipv6.ProtoMobility || p.Header.Src != homeAddr {
		t.Fatalf("inner packet: %+v %v", p, err)
	}
	bu, err := mh.ParseBindingUpdate(p.Payload)
	if err != nil || bu.Sequence != seq || bu.Options.AlternateCareOfAddress != careOf {
		t.Fatalf("inner BU %+v %v", bu, err)
	}
	if err := mh.VerifyChecksum(p.PseudoSrc(), p.PseudoDst(), p.Payload); err != nil {
		t.Fatal(err)
	}
}

type tsharkCase struct {
	tr   esp.Transform
	encr string // Wireshark's name for the encryption algorithm
	auth string
	spi  uint32
}

// TestTsharkDecryptsESPInUDP seals tunnel-mode ESP (the inner HoA -> HA
// Binding Update of RFC 4877 §3, next header 41) in UDP port 4500 and lets tshark, an independent
// implementation, decrypt it with the same keys and dissect the inner
// packet without errors. tshark 4.0 knows neither ChaCha20-Poly1305 for
// ESP nor extended sequence numbers: those are covered by the RFC 8439 and
// draft-mcgrew-gcm-test known-answer tests instead.
func TestTsharkDecryptsESPInUDP(t *testing.T) {
	cases := []tsharkCase{
		{esp.AESGCM128, "AES-GCM with 16 octet ICV [RFC4106]", "NULL", 0xc1000001},
		{esp.AESGCM256, "AES-GCM with 16 octet ICV [RFC4106]", "NULL", 0xc1000002},
		{esp.AESCBC128SHA256, "AES-CBC [RFC3602]", "HMAC-SHA-256-128 [RFC4868]", 0xc1000003},
		{esp.AESCBC256SHA512, "AES-CBC [RFC3602]", "HMAC-SHA-512-256 [RFC4868]", 0xc1000004},
	}
	var frames [][]byte
	var opts tshark.Options
	opts.Prefs = []string{"esp.enable_encryption_decode:TRUE", "esp.enable_authentication_check:TRUE"}
	for _, c := range cases {
		key := make([]byte, c.tr.KeyLen())
		for i := range key {
			key[i] = byte(c.spi) + byte(i)*13
		}
		sa, err := esp.New(esp.Config{SPI: c.spi, Direction: esp.Outbound, Transform: c.tr, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		in, err := esp.New(esp.Config{SPI: c.spi, Direction: esp.Inbound, Transform: c.tr, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		for seq := range uint16(3) {
			pkt, err := sa.Seal(nil, bindingUpdate(100+seq), ipv6.ProtoIPv6)
			if err != nil {
				t.Fatal(err)
			}
			frame := ipv6.AppendUDP(nil, netip.AddrPortFrom(careOf, 4500), netip.AddrPortFrom(homeAgt, 4500), pkt)
			checkOpen(t, in, frame, 100+seq)
			frames = append(frames, frame)
		}
		encLen := c.tr.KeyBits / 8
		if c.tr.AEAD() {
			encLen += 4 // Wireshark takes the GCM key with its salt
		}
		authKey := ""
		if !c.tr.AEAD() {
			authKey = "0x" + hex.EncodeToString(key[encLen:])
		}
		opts.UAT = append(opts.UAT, tshark.UATRecord{Table: "esp_sa", Fields: []string{
			"IPv6", careOf.String(), homeAgt.String(), fmt.Sprintf("0x%08x", c.spi),
			c.encr, "0x" + hex.EncodeToString(key[:encLen]), c.auth, authKey}})
	}
	path := writePcap(t, frames)
	tshark.RequireClean(t, path, opts)
	pkts := tshark.Run(t, path, opts, "esp.spi", "esp.sequence", "esp.protocol", "esp.icv_good",
		"ipv6.src", "mip6.mhtype", "mip6.bu.seqnr", "mip6.bu.h_flag", "mip6.acoa.acoa")
	if len(pkts) != len(frames) {
		t.Fatalf("tshark saw %d packets, want %d", len(pkts), len(frames))
	}
	for i, p := range pkts {
		c := cases[i/3]
		srcs := p.All("ipv6.src")
		if p.Get("mip6.mhtype") != "5" || len(srcs) != 2 || srcs[1] != homeAddr.String() {
			t.Errorf("%v frame %d: tshark did not find the inner Binding Update: %v", c.tr, p.Number, p.Fields)
		}
		if p.Get("mip6.bu.seqnr") != fmt.Sprint(100+i%3) || p.Get("mip6.acoa.acoa") != careOf.String() || p.Get("mip6.bu.h_flag") != "1" {
			t.Errorf("%v frame %d: BU fields %v", c.tr, p.Number, p.Fields)
		}
		if p.Get("esp.spi") != fmt.Sprintf("0x%08x", c.spi) || p.Get("esp.sequence") != fmt.Sprint(1+i%3) ||
			p.Get("esp.protocol") != "0x29" || p.Get("esp.icv_good") != "1" {
			t.Errorf("%v frame %d: ESP fields %v", c.tr, p.Number, p.Fields)
		}
	}
	if t.Failed() {
		t.Log(tshark.Verbose(t, path, opts, 7))
	}
}

func writePcap(t *testing.T, frames [][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "esp.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcap.NewWriter(f, pcap.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range frames {
		if err := w.WritePacket(time.Unix(1700000000+int64(i), 0), p); err != nil {
			t.Fatal(err)
		}
	}
	return path
}
