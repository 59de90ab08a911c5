package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/tshark"
)

// demoRun is one run of the demo with its captures, decryptable.
type demoRun struct {
	rep   *Report
	out   string
	pcaps string
	opts  tshark.Options // the keys the run logged
}

func (r *demoRun) pcap(link string) string { return filepath.Join(r.pcaps, link+".pcap") }

// runDemo runs the demo in form, checks the report and the timeline's
// common lines, and that every capture dissects cleanly once decrypted
// with the keys it logged (as mip6 demo --keys writes them).
func runDemo(t *testing.T, form WireForm) *demoRun {
	t.Helper()
	r := &demoRun{pcaps: t.TempDir()}
	var out, keys bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Out: &out, PcapDir: r.pcaps, KeyLog: &keys, Pings: 2, WireForm: form})
	r.rep, r.out = rep, out.String()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, r.out)
	}
	if rep.PingsAnswered != 6 || rep.Handovers != 1 || !rep.HomeAddress.IsValid() || !rep.ForgedBindingRefused || rep.WireForm != form {
		t.Fatalf("report %+v\n%s", rep, r.out)
	}
	for _, want := range []string{"dns-srv ha.example.net", "EAP-Request/MSCHAPv2", "home address assigned", "IKE SA established", "RADIUS accounting",
		"Binding Update sent", "Binding Ack received", "de-registered", "forged Binding Update sent", "forged Binding Update refused",
		"still " + rep.HomeAddress.String() + " -> 2001:db8:b::100 (identity alice@example.net)", "CHILD_SA installed                 tunnel: ",
		"Summary", "wire form of BU/BA: " + string(form)} {
		if !strings.Contains(r.out, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	cfg := t.TempDir()
	if err := WriteWiresharkKeys(cfg, keys.String()); err != nil {
		t.Fatal(err)
	}
	r.opts = tshark.Options{ConfigDir: cfg, Prefs: []string{"esp.enable_encryption_decode:TRUE"}}
	for _, link := range []string{"home", "access-a", "access-b", "cn"} {
		tshark.RequireClean(t, r.pcap(link), r.opts)
	}
	return r
}

// TestDemoTunnelledForm: BU/BA in the RFC 4877 §3 tunnelled form.
func TestDemoTunnelledForm(t *testing.T) {
	r := runDemo(t, Tunnel)
	for _, want := range []string{"(tunnelled, ESP SPI", "-> 2001:db8:b::100, BU in the tunnel form", "dataplane_drop_selector 0 -> 1"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	for _, notWant := range []string{"transport (BU/BA)", "on the wire", "CREATE_CHILD_SA"} {
		if strings.Contains(r.out, notWant) {
			t.Errorf("tunnelled form, yet the timeline has %q", notWant)
		}
	}
	// tshark decrypts the ESP with the logged keys and finds the tunnelled
	// Binding Updates from each care-of address, with the home address as
	// the inner source (RFC 4877 §3).
	for link, wantSeq := range map[string]string{"access-a": "1", "access-b": "2"} {
		o := r.opts
		o.Filter = "mip6.mhtype == 5 && !(ipv6.src == 2001:db8:a::666)" // not mallory's forgery
		pkts := tshark.Run(t, r.pcap(link), o, "mip6.bu.seqnr", "ipv6.src")
		if len(pkts) != 1 || pkts[0].Get("mip6.bu.seqnr") != wantSeq {
			t.Fatalf("%s: decrypted BUs %+v, want one with sequence %s", link, pkts, wantSeq)
		}
		if srcs := pkts[0].All("ipv6.src"); len(srcs) != 2 || srcs[1] != r.rep.HomeAddress.String() {
			t.Errorf("%s: BU outer/inner sources %v, want the inner one %s", link, srcs, r.rep.HomeAddress)
		}
	}
}

// TestDemoTransportForm: BU/BA in the RFC 3776 transport form, checked in
// the decrypted captures of both access networks: each BU from the
// care-of address with a Home Address option and raw ESP (no UDP), each
// BA with a type 2 routing header naming the home address, segments left
// 1; mallory's forgery with alice's home address in its option; the
// pings still in the UDP 4500 tunnel.
func TestDemoTransportForm(t *testing.T) {
	r := runDemo(t, Transport)
	hoa := r.rep.HomeAddress.String()
	for _, want := range []string{"(transport form, ESP SPI", "CHILD_SA installed                 transport (BU/BA): ",
		"CREATE_CHILD_SA                    ", "ms transport-mode CHILD_SA for BU/BA",
		"Home Address option " + hoa + ", ESP transport SPI", "type 2 routing header " + hoa + ", segments left 1, ESP transport SPI",
		"drop_hao_mismatch 0 -> 1", "7 IKE round trips", "ms transport-mode CHILD_SA for MPS/MPA", "CHILD_SA for MPS/MPA", "transport (MPS/MPA): ",
		"Mobile Prefix Solicitation sent    id 1 (transport form)", "MPS on the wire", "MPA on the wire", "Mobile Prefix Advertisement received", "-> 2001:db8:b::100, BU in the transport form"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	// Alice's three BUs and one MPS, mallory's forged BU.
	if n := r.rep.HomeAgentStatus["esp_transport_in"]; n != 5 {
		t.Errorf("home agent esp_transport_in = %d, want 5", n)
	}
	if n := r.rep.MobileNodeStatus["esp_transport_out"]; n != 4 {
		t.Errorf("mobile node esp_transport_out = %d, want 4", n)
	}
	for _, c := range []struct {
		status map[string]uint64
		name   string
	}{{r.rep.MobileNodeStatus, "prefix_solicitations_out"}, {r.rep.HomeAgentStatus, "prefix_solicitations_in"},
		{r.rep.HomeAgentStatus, "prefix_advertisements_out"}, {r.rep.MobileNodeStatus, "prefix_advertisements_in"}} {
		if c.status[c.name] != 1 {
			t.Errorf("%s = %d, want 1", c.name, c.status[c.name])
		}
	}
	fields := []string{"ipv6.src", "ipv6.dst", "ipv6.opt.mipv6.home_address", "ipv6.routing.type", "ipv6.routing.segleft",
		"ipv6.routing.mipv6.home_address", "udp.port", "esp.spi", "mip6.mhtype", "mip6.bu.seqnr"}
	for link, coa := range map[string]string{"access-a": "2001:db8:a::100", "access-b": "2001:db8:b::100"} {
		o := r.opts
		o.Filter = "mip6.mhtype"
		var got []string
		for _, p := range tshark.Run(t, r.pcap(link), o, fields...) {
			got = append(got, fmt.Sprintf("%s>%s hao=%s rh=%s/%s/%s udp=%s esp=%v mh=%s seq=%s", p.Get("ipv6.src"), p.Get("ipv6.dst"),
				p.Get("ipv6.opt.mipv6.home_address"), p.Get("ipv6.routing.type"), p.Get("ipv6.routing.segleft"),
				p.Get("ipv6.routing.mipv6.home_address"), p.Get("udp.port"), p.Has("esp.spi"), p.Get("mip6.mhtype"), p.Get("mip6.bu.seqnr")))
		}
		seq := map[string]string{"access-a": "1", "access-b": "2"}[link]
		want := []string{
			fmt.Sprintf("%s>2001:db8:1::2 hao=%s rh=// udp= esp=true mh=5 seq=%s", coa, hoa, seq),
			fmt.Sprintf("2001:db8:1::2>%s hao= rh=2/1/%s udp= esp=true mh=6 seq=", coa, hoa),
		}
		if link == "access-a" { // mallory's forgery, refused: no answer
			want = append(want, fmt.Sprintf("2001:db8:a::666>2001:db8:1::2 hao=%s rh=// udp= esp=true mh=5 seq=28672", hoa))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: decrypted mobility frames\n%s\nwant\n%s", link, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		o.Filter = fmt.Sprintf("icmpv6.type == 128 && ipv6.dst == %s", hoa)
		pings := tshark.Run(t, r.pcap(link), o, "udp.port", "esp.spi")
		if len(pings) != 2 {
			t.Fatalf("%s: %d echo requests to the home address, want 2", link, len(pings))
		}
		for _, p := range pings {
			if p.Get("udp.port") != "4500" || !p.Has("esp.spi") {
				t.Errorf("%s: echo request not in the UDP 4500 tunnel: %+v", link, p)
			}
		}
	}
}

func TestWireFormNames(t *testing.T) {
	for in, want := range map[string]WireForm{"": Transport, "transport": Transport, "tunnel": Tunnel} {
		if got, err := ParseWireForm(in); got != want || err != nil {
			t.Errorf("ParseWireForm(%q) = %q, %v", in, got, err)
		}
	}
	_, err := ParseWireForm("tunneled")
	var wf *WireFormError
	if !errors.As(err, &wf) || wf.Value != "tunneled" || !strings.Contains(err.Error(), `"transport"`) || !strings.Contains(err.Error(), `"tunnel"`) {
		t.Fatalf("ParseWireForm(tunneled): %v", err)
	}
	if _, err := Run(context.Background(), Options{WireForm: "raw"}); !errors.As(err, &wf) {
		t.Fatalf("Run with wire form raw: %v", err)
	}
}
