package ikev2

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/tshark"
	"mip6/wire/ipv6"
	"mip6/wire/pcap"
)

type tsCheck struct {
	pkt    []byte
	fields map[string]string // tshark field -> all values joined by ","
}

// udpIKE wraps an IKE message in IPv6/UDP; on port 4500 with the non-ESP marker.
func udpIKE(t *testing.T, m *Message, port uint16) []byte {
	t.Helper()
	var b []byte
	if port == 4500 {
		b = AppendNonESPMarker(b)
	}
	b, err := m.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return ipv6.AppendUDP(nil, netip.AddrPortFrom(addrMN, port), netip.AddrPortFrom(addrHA, port), b)
}

func writePcap(t *testing.T, pkts [][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ikev2.pcap")
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

// skKeys are the SK_ei material (AES-GCM-128 key and 4-octet salt) that
// sealSK uses with newGCM, in the form of Wireshark's decryption table.
const skKeys = "00000000000000000000000000000000" + "09090909"

var skHeader = Header{InitiatorSPI: 0xa1a2a3a4a5a6a7a8, ResponderSPI: 0xb1b2b3b4b5b6b7b8,
	Exchange: ExchangeIKEAuth, Flags: FlagInitiator, MessageID: 1}

// protected returns an SK-protected IKE_AUTH and the same payloads split
// into two SKF fragments, each on UDP 4500.
func protected(t *testing.T) (sk []byte, frags [][]byte) {
	aead := newGCM(t)
	inner := sampleAuth().Payloads
	wrap := func(msg []byte) []byte {
		return ipv6.AppendUDP(nil, netip.AddrPortFrom(addrMN, 4500), netip.AddrPortFrom(addrHA, 4500), append(AppendNonESPMarker(nil), msg...))
	}
	sk = wrap(sealSK(t, aead, skHeader, inner, 0, 0))
	whole, err := AppendPayloads(nil, inner)
	if err != nil {
		t.Fatal(err)
	}
	h := skHeader
	h.MessageID = 2
	for i, piece := range [][]byte{whole[:150], whole[150:]} {
		first := PayloadNone
		if i == 0 {
			first = inner[0].PayloadType()
		}
		plain := AppendPadding(append([]byte(nil), piece...), 0, 4)
		b, err := AppendEncryptedFragmentHeader(nil, h, first, uint16(i+1), 2, 8+len(plain)+aead.Overhead())
		if err != nil {
			t.Fatal(err)
		}
		aad := append([]byte(nil), b...)
		b = append(b, 1, 2, 3, 4, 5, 6, 7, 8)
		frags = append(frags, wrap(aead.Seal(b, []byte{9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8}, plain, aad)))
	}
	return sk, frags
}

// TestTsharkIKEv2 writes IKE_SA_INIT and IKE_AUTH-like messages on UDP 500
// and 4500 (non-ESP marker), an SK-protected IKE_AUTH and its SKF fragments,
// and checks that tshark dissects them cleanly, decrypts the SK ones with
// the keys used, and reads the field values the codec wrote.
func TestTsharkIKEv2(t *testing.T) {
	saInit := map[string]string{
		"isakmp.ispi": "1122334455667788", "isakmp.rspi": "0000000000000000", "isakmp.exchangetype": "34",
		"isakmp.flag_i": "1", "isakmp.flag_r": "0", "isakmp.messageid": "0x00000000", "isakmp.length": "350",
		"isakmp.prop.number": "1,2,3", "isakmp.prop.protoid": "1,1,1", "isakmp.tf.id.encr": "20,12,12,28",
		"isakmp.ike2.attr.key_length": "256,128,256", "isakmp.tf.id.prf": "5,6,7", "isakmp.tf.id.integ": "12",
		"isakmp.tf.id.dh": "19,14,31,20", "isakmp.key_exchange.dh_group": "19",
		"isakmp.key_exchange.data": strings.Repeat("ab", 64), "isakmp.nonce": strings.Repeat("4e", 32),
		"isakmp.notify.msgtype":                        "16388,16389,16430,16431",
		"isakmp.notify.data.signature_hash_algorithms": "2,3,4",
	}
	auth := map[string]string{
		"isakmp.ispi": "1122334455667788", "isakmp.rspi": "99aabbccddeeff00", "isakmp.exchangetype": "35",
		"isakmp.messageid": "0x00000001", "isakmp.length": "300",
		"isakmp.id.type": "3,2", "isakmp.id.data.user_fqdn": "alice@example.net", "isakmp.id.data.fqdn": "ha.example.net",
		"isakmp.auth.method": "2", "isakmp.auth.data": strings.Repeat("a5", 32),
		"isakmp.cfg.type": "1", "isakmp.cfg.attr.type": "8,10,16",
		"isakmp.cfg.attr.internal_ip6_address": "2001:db8:2::100", "isakmp.cfg.attr.internal_ip6_address.prefix": "64",
		"isakmp.prop.protoid": "3", "isakmp.spi": "c0000001", "isakmp.tf.id.esn": "0",
		"isakmp.ts.number": "1,1", "isakmp.ts.type": "8,8", "isakmp.ts.protoid": "135,135",
		"isakmp.ts.start_port": "1280,1536", "isakmp.ts.end_port": "1280,1536",
		"isakmp.ts.start_ipv6": "2001:db8:2::100,2001:db8:2::1", "isakmp.ts.end_ipv6": "2001:db8:2::100,2001:db8:2::1",
		"isakmp.notify.msgtype": "16391,16396",
	}
	decrypted := map[string]string{
		"isakmp.ispi": "a1a2a3a4a5a6a7a8", "isakmp.rspi": "b1b2b3b4b5b6b7b8",
		"isakmp.enc.iv": "0102030405060708", "isakmp.enc.pad_length": "3",
		"isakmp.id.data.user_fqdn": "alice@example.net", "isakmp.cfg.attr.internal_ip6_address": "2001:db8:2::100",
		"isakmp.ts.start_port": "1280,1536", "isakmp.ts.end_port": "1280,1536", "isakmp.notify.msgtype": "16391,16396",
	}
	sk, frags := protected(t)
	checks := []tsCheck{
		{udpIKE(t, sampleSAInit(), 500), saInit},
		{udpIKE(t, sampleAuth(), 500), auth},
		{udpIKE(t, sampleSAInit(), 4500), saInit},
		{udpIKE(t, sampleAuth(), 4500), auth},
		{sk, decrypted},
		{frags[0], map[string]string{"isakmp.frag.number": "1", "isakmp.frag.total": "2", "isakmp.messageid": "0x00000002"}},
		{frags[1], map[string]string{"isakmp.frag.number": "2", "isakmp.frag.total": "2",
			"isakmp.ts.start_port": "1280,1536", "isakmp.cfg.attr.internal_ip6_address": "2001:db8:2::100"}},
	}
	var pkts [][]byte
	fieldSet := map[string]bool{}
	for _, c := range checks {
		pkts = append(pkts, c.pkt)
		for f := range c.fields {
			fieldSet[f] = true
		}
	}
	path := writePcap(t, pkts)
	// The SPI and key columns are byte fields, written unquoted in the
	// table file (tshark -o uat: quotes every field).
	conf := t.TempDir()
	row := "a1a2a3a4a5a6a7a8,b1b2b3b4b5b6b7b8," + skKeys + "," + skKeys +
		",\"AES-GCM-128 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"\n"
	if err := os.WriteFile(filepath.Join(conf, "ikev2_decryption_table"), []byte(row), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := tshark.Options{ConfigDir: conf}
	tshark.RequireClean(t, path, opts)
	var fields []string
	for f := range fieldSet {
		fields = append(fields, f)
	}
	got := tshark.Run(t, path, opts, fields...)
	if len(got) != len(checks) {
		t.Fatalf("tshark read %d packets, wrote %d", len(got), len(checks))
	}
	for i, c := range checks {
		for f, want := range c.fields {
			if v := strings.Join(got[i].All(f), ","); v != want {
				t.Errorf("packet %d: %s = %q, want %q", i+1, f, v, want)
			}
		}
	}
	if t.Failed() {
		t.Log(tshark.Verbose(t, path, opts, 5))
	}
}
