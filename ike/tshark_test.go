package ike

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"mip6/internal/tshark"
	"mip6/wire/ipv6"
)

// tshark dissects every message of a session (IKE_SA_INIT, fragmented
// IKE_AUTH with CP, CREATE_CHILD_SA rekeys, INFORMATIONAL) without a
// malformed field or expert error, decrypting the SK payloads with our key
// log, and finds the payloads we meant to send.
func TestTsharkDissectsSession(t *testing.T) {
	var pkts [][]byte
	var keys bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.ha.cfg.KeyLog = &keys
		p.mn.cfg.FragmentSize = 300 // IKE_AUTH goes out in SKF fragments
		p.net.drop = func(d Datagram) bool {
			pkts = append(pkts, ipv6.AppendUDP(nil, d.Local, d.Remote, d.Data))
			return false
		}
		p.start(t)
		p.settle()
		spi := p.mnLog.find(EventIKEEstablished).IKESA.LocalSPI()
		c := p.mnLog.find(EventChildEstablished).Child
		if err := p.mn.RekeyChildSA(spi, c.InboundSPI); err != nil {
			t.Fatal(err)
		}
		p.settle()
		if err := p.mn.RekeyIKESA(spi); err != nil {
			t.Fatal(err)
		}
		p.settle()
		if err := p.ha.DeleteIKESA(p.haLog.find(EventIKERekeyed).IKESA.LocalSPI()); err != nil {
			t.Fatal(err)
		}
		p.settle()
	})
	dir := t.TempDir()
	var rows []string
	for _, l := range strings.Split(keys.String(), "\n") {
		if row, ok := strings.CutPrefix(l, "ikev2_decryption_table: "); ok {
			rows = append(rows, row)
		}
	}
	if len(rows) != 2 {
		t.Fatalf("key log has %d IKE SAs, want 2:\n%s", len(rows), keys.String())
	}
	if err := os.WriteFile(filepath.Join(dir, "ikev2_decryption_table"), []byte(strings.Join(rows, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pcap := tshark.WritePcap(t, pkts...)
	opts := tshark.Options{ConfigDir: dir}
	tshark.RequireClean(t, pcap, opts)
	got := map[string]int{}
	for _, pk := range tshark.Run(t, pcap, opts, "isakmp.exchangetype", "isakmp.typepayload") {
		for _, pt := range pk.All("isakmp.typepayload") {
			got[pk.Get("isakmp.exchangetype")+"/"+pt]++
		}
	}
	// Decrypted inner payloads (exchange/payload type): IDi (35), AUTH (39),
	// CP (47) and SKF fragments (53) in IKE_AUTH (35); SA (33) and Nonce
	// (40) in CREATE_CHILD_SA (36); Delete (42) in INFORMATIONAL (37).
	// Without our keys tshark sees only the SK payloads.
	for _, want := range []string{"35/35", "35/39", "35/47", "35/53", "36/40", "36/33", "37/42"} {
		if got[want] == 0 {
			t.Errorf("tshark shows no payload %s (exchange/payload); saw %v", want, got)
		}
	}
}
