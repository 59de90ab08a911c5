package freeradius

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EapolTest is wpa_supplicant's eapol_test (Debian eapoltest): an EAP peer
// and RADIUS client in one, which checks the MS-MPPE keys a server returns
// against the MSK it derived itself.
const EapolTest = "eapol_test"

// openSSLLegacy enables OpenSSL's legacy provider, where MD4 (MSCHAPv2) lives.
const openSSLLegacy = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`

// EapolResult is what eapol_test reported.
type EapolResult struct {
	Success bool
	MSK     []byte // MS-MPPE-Recv-Key | MS-MPPE-Send-Key received, when present
	Output  string
}

// RunEapolTest authenticates once against host:port with an eapol_test
// network block (e.g. `eap=MSCHAPV2 identity="..." password="..."`).
// noMPPE tells eapol_test to expect no keys (EAP-MD5).
func RunEapolTest(t testing.TB, host string, port int, secret, network string, noMPPE bool) EapolResult {
	t.Helper()
	bin, err := exec.LookPath(EapolTest)
	if err != nil {
		t.Fatalf("freeradius: %s not installed (Debian package eapoltest): %v", EapolTest, err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "eapol.conf")
	if err := os.WriteFile(conf, []byte("network={\n\tkey_mgmt=IEEE8021X\n"+network+"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	osslConf := filepath.Join(dir, "openssl.cnf")
	if err := os.WriteFile(osslConf, []byte(openSSLLegacy), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-c", conf, "-a", host, "-p", strconv.Itoa(port), "-s", secret, "-t", "10"}
	if noMPPE {
		args = append(args, "-n")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+osslConf)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	res := EapolResult{Output: string(out), Success: err == nil && strings.Contains(string(out), "SUCCESS")}
	res.MSK = parseMSK(string(out))
	return res
}

// parseMSK reads the MS-MPPE keys eapol_test received and returns
// Recv-Key | Send-Key, the MSK as the NAS sees it.
func parseMSK(out string) []byte {
	recv := parseHexdump(out, "MS-MPPE-Recv-Key (crypt) - hexdump(len=")
	send := parseHexdump(out, "MS-MPPE-Send-Key (sign) - hexdump(len=")
	if recv == nil || send == nil {
		return nil
	}
	return append(recv, send...)
}

func parseHexdump(out, prefix string) []byte {
	for _, line := range strings.Split(out, "\n") {
		_, rest, ok := strings.Cut(line, prefix)
		if !ok {
			continue
		}
		_, hexPart, ok := strings.Cut(rest, "):")
		if !ok {
			continue
		}
		var b []byte
		for _, f := range strings.Fields(hexPart) {
			var v byte
			if _, err := fmt.Sscanf(f, "%02x", &v); err != nil {
				return nil
			}
			b = append(b, v)
		}
		return b
	}
	return nil
}
