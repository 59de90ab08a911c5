package tshark

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Timeout bounds every tshark invocation.
const Timeout = 60 * time.Second

// Expert severities as tshark prints _ws.expert.severity (epan/proto.h).
const (
	SeverityComment = 0x00100000
	SeverityChat    = 0x00200000
	SeverityNote    = 0x00400000
	SeverityWarn    = 0x00600000
	SeverityError   = 0x00800000
)

// Options tune a tshark run.
type Options struct {
	// Prefs are "name:value" preferences passed with -o, e.g.
	// "esp.enable_encryption_decode:TRUE".
	Prefs []string
	// UAT records passed as -o uat:<table>:"f1","f2",... (one -o per record).
	UAT []UATRecord
	// DecodeAs entries passed with -d, e.g. "udp.port==4500,esp".
	DecodeAs []string
	// ConfigDir, if set, is used as WIRESHARK_CONFIG_DIR (e.g. a directory
	// holding an ikev2_decryption_table file). By default every run gets an
	// empty directory so the user's profile cannot change results.
	ConfigDir string
	// Filter is a display filter (-Y) selecting the packets returned.
	Filter string
}

// UATRecord is one row of a Wireshark "user accessible table", e.g. the
// ESP SA table "esp_sa" (protocol, src, dst, SPI, encryption algorithm,
// key, authentication algorithm, key) or "ikev2_decryption_table" (SPIi,
// SPIr, SK_ei, SK_er, encryption algorithm, SK_ai, SK_ar, integrity
// algorithm). Enumerated fields take the name Wireshark shows in its
// dialog, e.g. "AES-CBC [RFC3602]" or "HMAC-SHA-256-128 [RFC4868]".
type UATRecord struct {
	Table  string
	Fields []string
}

func (u UATRecord) arg() string {
	q := make([]string, len(u.Fields))
	for i, f := range u.Fields {
		q[i] = strconv.Quote(f)
	}
	return "uat:" + u.Table + ":" + strings.Join(q, ",")
}

// defaultPrefs make tshark check what it can: UDP checksums are not
// validated unless asked.
var defaultPrefs = []string{"udp.check_checksum:TRUE"}

// Args returns tshark's command line arguments for reading pcapPath.
func (o Options) Args(pcapPath string) []string {
	args := []string{"-n", "-r", pcapPath}
	for _, p := range append(append([]string(nil), defaultPrefs...), o.Prefs...) {
		args = append(args, "-o", p)
	}
	for _, u := range o.UAT {
		args = append(args, "-o", u.arg())
	}
	for _, d := range o.DecodeAs {
		args = append(args, "-d", d)
	}
	if o.Filter != "" {
		args = append(args, "-Y", o.Filter)
	}
	return args
}

// Packet holds the values tshark printed for one frame. A field that occurs
// several times in the frame has several values, in dissection order.
type Packet struct {
	Number int
	Fields map[string][]string
}

// Get returns the first value of field, or "" if the frame has none.
func (p Packet) Get(field string) string {
	if v := p.Fields[field]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// All returns every value of field.
func (p Packet) All(field string) []string { return p.Fields[field] }

// Has reports whether field occurs in the frame.
func (p Packet) Has(field string) bool { return len(p.Fields[field]) > 0 }

// Run dissects pcapPath and returns the requested field values of every
// packet. It fails the test if tshark is missing or exits with an error.
func Run(t testing.TB, pcapPath string, opts Options, fields ...string) []Packet {
	t.Helper()
	args := append(opts.Args(pcapPath), "-T", "json", "-e", "frame.number")
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out := run(t, opts, args)
	var docs []struct {
		Source struct {
			Layers map[string][]string `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &docs); err != nil {
		t.Fatalf("tshark: decoding JSON output: %v\n%s", err, out)
	}
	pkts := make([]Packet, len(docs))
	for i, d := range docs {
		n, err := strconv.Atoi(first(d.Source.Layers["frame.number"]))
		if err != nil {
			t.Fatalf("tshark: packet %d: frame.number: %v", i, err)
		}
		pkts[i] = Packet{Number: n, Fields: d.Source.Layers}
	}
	return pkts
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// Verbose returns tshark's full dissection (-V) and hex dump (-x) of frame
// number frame (1-based).
func Verbose(t testing.TB, pcapPath string, opts Options, frame int) string {
	t.Helper()
	opts.Filter = fmt.Sprintf("frame.number == %d", frame)
	return string(run(t, opts, append(opts.Args(pcapPath), "-V", "-x")))
}

func run(t testing.TB, opts Options, args []string) []byte {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatalf("tshark is required for this test (apt-get install tshark): %v", err)
	}
	dir := opts.ConfigDir
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// RequireClean fails the test if tshark finds any malformed packet or an
// expert item of severity Error or above, printing the verbose dissection
// of each bad packet. It also fails if the file holds no packets.
func RequireClean(t testing.TB, pcapPath string, opts Options) {
	t.Helper()
	RequireSeverityBelow(t, pcapPath, opts, SeverityError)
}

// RequireSeverityBelow is RequireClean with a chosen threshold, e.g.
// SeverityWarn to reject warnings too.
func RequireSeverityBelow(t testing.TB, pcapPath string, opts Options, limit int) {
	t.Helper()
	pkts := Run(t, pcapPath, opts, "_ws.malformed", "_ws.expert.severity", "_ws.expert.message", "_ws.col.Protocol")
	if len(pkts) == 0 {
		t.Fatalf("tshark: %s: no packets", pcapPath)
	}
	bad := 0
	for _, p := range pkts {
		msg := problems(p, limit)
		if msg == "" {
			continue
		}
		bad++
		if bad <= 3 { // enough to diagnose; the rest are counted
			t.Errorf("tshark: %s: frame %d: %s\n%s", pcapPath, p.Number, msg, Verbose(t, pcapPath, opts, p.Number))
		}
	}
	if bad > 0 {
		t.Fatalf("tshark: %s: %d of %d packets malformed or with expert errors", pcapPath, bad, len(pkts))
	}
}

// problems describes what is wrong with p, or returns "".
func problems(p Packet, limit int) string {
	var msgs []string
	if p.Has("_ws.malformed") {
		msgs = append(msgs, "malformed")
	}
	sev, text := p.All("_ws.expert.severity"), p.All("_ws.expert.message")
	for i, s := range sev {
		n, err := strconv.Atoi(s)
		if err != nil || n >= limit {
			m := ""
			if i < len(text) {
				m = text[i]
			}
			msgs = append(msgs, fmt.Sprintf("expert severity %s: %s", s, m))
		}
	}
	return strings.Join(msgs, "; ")
}
