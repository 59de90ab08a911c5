package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsageAndUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "demo") {
		t.Fatalf("no args: code %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"bogus"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "bogus"`) {
		t.Fatalf("bogus: code %d, stderr %q", code, errb.String())
	}
}

func TestCheckConfigs(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"ha", "-c", "../../examples/ha.conf", "--check"}, &out, &errb); code != 0 {
		t.Fatalf("ha --check: %d %s", code, errb.String())
	}
	if code := run([]string{"mn", "-c", "../../examples/mn.conf", "--check"}, &out, &errb); code != 0 {
		t.Fatalf("mn --check: %d %s", code, errb.String())
	}
	bad := filepath.Join(t.TempDir(), "ha.conf")
	os.WriteFile(bad, []byte("[home_agent]\nhome_prefix = \"2001:db8::/644\"\n"), 0o600)
	errb.Reset()
	if code := run([]string{"ha", "-c", bad, "--check"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), bad+":2: home_agent.home_prefix") {
		t.Fatalf("bad config: code %d, stderr %q", code, errb.String())
	}
}

func TestStatusWithoutDaemonSaysWhy(t *testing.T) {
	var out, errb bytes.Buffer
	sock := filepath.Join(t.TempDir(), "none.sock")
	if code := run([]string{"status", "-s", sock}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "is it running?") {
		t.Fatalf("code %d, stderr %q", code, errb.String())
	}
}

func TestDemoWireFormFlag(t *testing.T) {
	for _, bad := range []string{"bogus", "", "Transport"} {
		var out, errb bytes.Buffer
		code := run([]string{"demo", "--wire-form", bad}, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), `invalid value "`+bad+`" for flag -wire-form: want "transport" or "tunnel"`) {
			t.Fatalf("--wire-form %q: code %d, stderr %q", bad, code, errb.String())
		}
		if out.Len() != 0 {
			t.Errorf("--wire-form %q: the demo ran: %q", bad, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"demo", "--wire-form", "tunnel", "--pings", "1"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "wire form of BU/BA: tunnel") || !strings.Contains(out.String(), "(tunnelled, ESP SPI") {
		t.Fatalf("--wire-form tunnel: code %d, stderr %q\n%s", code, errb.String(), out.String())
	}
	out.Reset()
	if code := run([]string{"demo", "--help"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-wire-form FORM") {
		t.Fatalf("--help: code %d, stderr %q", code, errb.String())
	}
}

func TestSolicitPrefixesWithoutDaemonSaysWhy(t *testing.T) {
	var out, errb bytes.Buffer
	sock := filepath.Join(t.TempDir(), "mn.sock")
	if code := run([]string{"mn", "solicit-prefixes", "-s", sock}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "mip6 mn solicit-prefixes:") || !strings.Contains(errb.String(), sock) {
		t.Fatalf("code %d, stderr %q", code, errb.String())
	}
}
