package demo

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/tshark"
)

func TestDemo(t *testing.T) {
	pcaps := t.TempDir()
	var out, keys bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Out: &out, PcapDir: pcaps, KeyLog: &keys, Pings: 2})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if rep.PingsAnswered != 6 || rep.Handovers != 1 || !rep.HomeAddress.IsValid() || !rep.ForgedBindingRefused {
		t.Fatalf("report %+v\n%s", rep, out.String())
	}
	for _, want := range []string{"dns-srv ha.example.net", "EAP-Request/MSCHAPv2", "home address assigned", "IKE SA established", "RADIUS accounting",
		"Binding Update sent", "Binding Ack received", "de-registered", "forged Binding Update sent", "Binding Update dropped", "Summary"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	cfg := t.TempDir()
	if err := WriteWiresharkKeys(cfg, keys.String()); err != nil {
		t.Fatal(err)
	}
	opts := tshark.Options{ConfigDir: cfg, Prefs: []string{"esp.enable_encryption_decode:TRUE"}}
	for _, link := range []string{"home", "access-a", "access-b", "cn"} {
		tshark.RequireClean(t, filepath.Join(pcaps, link+".pcap"), opts)
	}
	// tshark decrypts the ESP with the logged keys and finds the tunnelled
	// Binding Updates from each care-of address, with the home address as
	// the inner source (RFC 4877 §3).
	for link, wantSeq := range map[string]string{"access-a": "1", "access-b": "2"} {
		o := opts
		o.Filter = "mip6.mhtype == 5 && !(ipv6.src == 2001:db8:a::666)" // not mallory's forgery
		pkts := tshark.Run(t, filepath.Join(pcaps, link+".pcap"), o, "mip6.bu.seqnr", "ipv6.src")
		if len(pkts) != 1 || pkts[0].Get("mip6.bu.seqnr") != wantSeq {
			t.Fatalf("%s: decrypted BUs %+v, want one with sequence %s", link, pkts, wantSeq)
		}
		if srcs := pkts[0].All("ipv6.src"); len(srcs) != 2 || srcs[1] != rep.HomeAddress.String() {
			t.Errorf("%s: BU outer/inner sources %v, want the inner one %s", link, srcs, rep.HomeAddress)
		}
	}
}
