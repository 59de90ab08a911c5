package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAccessKeyFileChecks(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"../etc/passwd", "a/b", "..", ""} {
		if _, err := accessKeyIn(dir, id); err == nil {
			t.Errorf("identity %q names a file outside the directory", id)
		}
	}
	if p, err := accessKeyIn(dir, "alice@example.net"); err != nil || p != filepath.Join(dir, "alice@example.net") {
		t.Fatalf("%q, %v", p, err)
	}
	for text, want := range map[string]string{
		`not json`:                      "not JSON",
		`{"name": "zz", "key": "00"}`:   "must be hex",
		`{"name": "ab", "key": "0011"}`: "2 octets, at least 32",
	} {
		p := filepath.Join(dir, "k")
		os.WriteFile(p, []byte(text), 0o600)
		if _, _, err := readAccessKey(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", text, err, want)
		}
	}
	if _, _, err := readAccessKey(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}
