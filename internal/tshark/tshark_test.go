package tshark

import (
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"mip6/wire/ipv6"
)

var (
	src = netip.MustParseAddrPort("[2001:db8::1]:49152")
	dst = netip.MustParseAddrPort("[2001:db8::2]:9")
)

// recorder stands in for a testing.TB so the failure paths can be observed.
type recorder struct {
	testing.TB
	failed bool
	log    strings.Builder
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	fmt.Fprintf(&r.log, format+"\n", args...)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func capture(t *testing.T, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestRunFields(t *testing.T) {
	path := WritePcap(t, ipv6.AppendUDP(nil, src, dst, []byte("abc")), ipv6.AppendUDP(nil, dst, src, []byte("de")))
	pkts := Run(t, path, Options{}, "ipv6.src", "udp.srcport", "udp.length", "udp.checksum.status")
	if len(pkts) != 2 {
		t.Fatalf("%d packets", len(pkts))
	}
	want := []struct{ src, port, length string }{{"2001:db8::1", "49152", "11"}, {"2001:db8::2", "9", "10"}}
	for i, w := range want {
		p := pkts[i]
		if p.Number != i+1 || p.Get("ipv6.src") != w.src || p.Get("udp.srcport") != w.port || p.Get("udp.length") != w.length {
			t.Errorf("packet %d: %+v", i, p)
		}
		if p.Get("udp.checksum.status") != "1" { // 1 = good
			t.Errorf("packet %d: checksum status %q", i, p.Get("udp.checksum.status"))
		}
	}
	RequireClean(t, path, Options{})
}

func TestRequireCleanFails(t *testing.T) {
	bad := ipv6.AppendUDP(nil, src, dst, []byte("hello"))
	bad[ipv6.HeaderLen+6] ^= 1 // UDP checksum
	path := WritePcap(t, ipv6.AppendUDP(nil, src, dst, nil), bad)
	r := capture(t, func(tb testing.TB) { RequireClean(tb, path, Options{}) })
	if !r.failed {
		t.Fatal("bad checksum not reported")
	}
	if !strings.Contains(r.log.String(), "frame 2") || strings.Contains(r.log.String(), "frame 1:") {
		t.Fatalf("wrong frames reported:\n%s", r.log.String())
	}
	if !strings.Contains(r.log.String(), "User Datagram Protocol") {
		t.Fatalf("no verbose dissection in report:\n%s", r.log.String())
	}
}

func TestRequireCleanMalformed(t *testing.T) {
	// UDP to port 500 with a body too short for an ISAKMP header.
	p := ipv6.AppendUDP(nil, netip.AddrPortFrom(src.Addr(), 500), netip.AddrPortFrom(dst.Addr(), 500), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28})
	path := WritePcap(t, p)
	r := capture(t, func(tb testing.TB) { RequireClean(tb, path, Options{}) })
	if !r.failed || !strings.Contains(r.log.String(), "malformed") {
		t.Fatalf("malformed packet not reported:\n%s", r.log.String())
	}
}

func TestEmptyCaptureFails(t *testing.T) {
	path := WritePcap(t)
	r := capture(t, func(tb testing.TB) { RequireClean(tb, path, Options{}) })
	if !r.failed {
		t.Fatal("empty capture accepted")
	}
}

func TestOptions(t *testing.T) {
	o := Options{
		Prefs:    []string{"esp.enable_encryption_decode:TRUE"},
		UAT:      []UATRecord{{Table: "esp_sa", Fields: []string{"IPv6", "*", "*", "*", "NULL", "", "NULL", ""}}},
		DecodeAs: []string{"udp.port==9,udpencap"},
	}
	args := strings.Join(o.Args("f.pcap"), " ")
	want := `-o uat:esp_sa:"IPv6","*","*","*","NULL","","NULL",""`
	if !strings.Contains(args, want) || !strings.Contains(args, "-d udp.port==9,udpencap") {
		t.Fatalf("args %s", args)
	}
	// tshark must accept the table row and the decode-as rule.
	path := WritePcap(t, ipv6.AppendUDP(nil, src, dst, []byte{0, 0, 0, 1, 0, 0, 0, 1, 0xaa, 0xbb, 0, 59}))
	pkts := Run(t, path, o, "esp.spi", "esp.sequence")
	if len(pkts) != 1 || pkts[0].Get("esp.spi") == "" || pkts[0].Get("esp.sequence") != "1" {
		t.Fatalf("ESP not decoded as asked: %+v", pkts)
	}
	// An invalid row is refused by tshark and fails the test.
	o.UAT[0].Fields[4] = "no such cipher"
	if r := capture(t, func(tb testing.TB) { Run(tb, path, o) }); !r.failed {
		t.Fatal("invalid UAT row accepted")
	}
}

func TestMissingTsharkFails(t *testing.T) {
	path := WritePcap(t, ipv6.AppendUDP(nil, src, dst, nil))
	t.Setenv("PATH", t.TempDir())
	r := capture(t, func(tb testing.TB) { Run(tb, path, Options{}) })
	if !r.failed || !strings.Contains(r.log.String(), "tshark is required") {
		t.Fatalf("missing tshark not fatal:\n%s", r.log.String())
	}
}
