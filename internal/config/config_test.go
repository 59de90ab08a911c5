package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "role.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodHA = `
[home_agent]
address = "2001:db8:1::1"
home_prefix = "2001:db8:1::/64"

[ike]
listen = ["[2001:db8:1::1]:500", "[2001:db8:1::1]:4500"]

[addresses]
pool = "2001:db8:1:0:8000::/65"

[[mobile_node]]
identity = "alice@example.net"
auth = "psk"
psk = "a-long-enough-secret"
home_address = "2001:db8:1::100"

[store]
path = "/tmp/ha.db"
`

func TestLoadHAGood(t *testing.T) {
	c, err := LoadHA(write(t, goodHA))
	if err != nil {
		t.Fatal(err)
	}
	if c.HomeAgent.WireForm != "tunnel" || c.HomeAgent.MaxLifetime.Minutes() != 10 {
		t.Errorf("defaults not applied: %+v", c.HomeAgent)
	}
	if got := c.MobileNodes[0].HomeAddress.String(); got != "2001:db8:1::100" {
		t.Errorf("home_address = %s", got)
	}
}

func TestLoadHAErrorsNameLineAndField(t *testing.T) {
	cases := []struct {
		name, edit, want string
	}{
		{"bad prefix", `home_prefix = "2001:db8:1::/644"`, `:4: home_agent.home_prefix: "2001:db8:1::/644" is not an IPv6 prefix`},
		{"address outside", `address = "2001:db8:2::1"`, `:3: home_agent.address: 2001:db8:2::1 is outside home_prefix`},
		{"unknown field", `address = "2001:db8:1::1"` + "\nadress = 1", `:4: home_agent.adress: unknown field`},
		{"short psk", `psk = "short"`, `:15: mobile_node.0.psk: shorter than 16 characters`},
		{"pool outside", `pool = "2001:db8:9::/64"`, `:10: addresses.pool: 2001:db8:9::/64 is not inside home_prefix`},
		{"bad auth", `auth = "psk"` + "\n", ""},
		{"eap without radius", `auth = "psk"` + "\nauth2 = 1", `mobile_node.auth2: unknown field`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := goodHA
			key := strings.SplitN(tc.edit, " ", 2)[0]
			lines := strings.Split(text, "\n")
			for i, l := range lines {
				if strings.HasPrefix(l, key+" ") {
					lines[i] = tc.edit
					break
				}
			}
			_, err := LoadHA(write(t, strings.Join(lines, "\n")))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadHAEAPNeedsRADIUS(t *testing.T) {
	text := strings.Replace(goodHA, `auth = "psk"`, `auth = "eap"`, 1)
	_, err := LoadHA(write(t, text))
	var es Errors
	if !errors.As(err, &es) || !strings.Contains(err.Error(), "radius.servers") {
		t.Fatalf("error = %v, want a radius.servers error", err)
	}
}

func TestLoadHAMissingFile(t *testing.T) {
	_, err := LoadHA(filepath.Join(t.TempDir(), "nope.conf"))
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cannot read config") {
		t.Fatalf("error = %v", err)
	}
}

func TestLoadMN(t *testing.T) {
	c, err := LoadMN(write(t, "identity = \"alice@example.net\"\n[credential]\npsk = \"a-long-enough-secret\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Realm() != "example.net" {
		t.Errorf("realm = %q", c.Realm())
	}
}

func TestLoadMNRefusesInfrastructureless(t *testing.T) {
	_, err := LoadMN(write(t, "identity = \"alice\"\n[credential]\npsk = \"a-long-enough-secret\"\n"))
	if err == nil || !strings.Contains(err.Error(), "RFC 4640 §9.1") {
		t.Fatalf("error = %v, want the §9.1 refusal", err)
	}
}

func TestLoadMNCredentialErrors(t *testing.T) {
	for text, want := range map[string]string{
		"identity = \"a@b\"\n": "credential: missing",
		"identity = \"a@b\"\n[credential]\npsk = \"x\"\neap_method = \"md5\"\npassword = \"p\"\n": "more than one credential",
		"identity = \"a@b\"\n[credential]\neap_method = \"sim\"\n":                                `:3: credential.eap_method: "sim"`,
		"identity = \"a@b\"\n[credential]\neap_method = \"mschapv2\"\n":                           "credential.password: missing",
	} {
		_, err := LoadMN(write(t, text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error = %v, want %q", text, err, want)
		}
	}
}

func TestWireForm(t *testing.T) {
	text := strings.Replace(goodHA, `home_prefix = "2001:db8:1::/64"`, "home_prefix = \"2001:db8:1::/64\"\nwire_form = \"transport\"", 1)
	c, err := LoadHA(write(t, text))
	if err != nil || c.HomeAgent.WireForm != "transport" {
		t.Fatalf("transport form: %v", err)
	}
	text = strings.Replace(text, `wire_form = "transport"`, `wire_form = "hao"`, 1)
	_, err = LoadHA(write(t, text))
	if err == nil || !strings.Contains(err.Error(), `:5: home_agent.wire_form: "hao": use "tunnel" (RFC 4877 §3) or "transport" (RFC 3776)`) {
		t.Fatalf("error = %v", err)
	}
}

func TestESPCarrier(t *testing.T) {
	c, err := LoadHA(write(t, goodHA))
	if err != nil || c.IKE.RawESP {
		t.Fatalf("raw_esp off by default: %v", err)
	}
	c, err = LoadHA(write(t, strings.Replace(goodHA, "[ike]\n", "[ike]\nraw_esp = true\n", 1)))
	if err != nil || !c.IKE.RawESP || len(c.IKE.Listen) != 2 {
		t.Fatalf("raw_esp = true: %+v, %v", c.IKE, err)
	}
	_, err = LoadHA(write(t, strings.Replace(goodHA, "[ike]\n", "[ike]\nraw_esp = \"yes\"\n", 1)))
	if err == nil || !strings.Contains(err.Error(), `line 7 (last key "ike.raw_esp")`) {
		t.Fatalf("raw_esp = \"yes\": error %v", err)
	}
	const mn = "identity = \"alice@example.net\"\n[credential]\npsk = \"a-long-enough-secret\"\n[mobility]\n"
	m, err := LoadMN(write(t, mn))
	if err != nil || m.Mobility.ESPEncapsulation != "udp" || m.RawESP() {
		t.Fatalf("default carrier: %+v, %v", m.Mobility, err)
	}
	m, err = LoadMN(write(t, mn+"esp_encapsulation = \"none\"\n"))
	if err != nil || !m.RawESP() {
		t.Fatalf("esp_encapsulation = none: %+v, %v", m.Mobility, err)
	}
	_, err = LoadMN(write(t, mn+"esp_encapsulation = \"raw\"\n"))
	if err == nil || !strings.Contains(err.Error(), `:5: mobility.esp_encapsulation: "raw": use "udp"`) {
		t.Fatalf("esp_encapsulation = raw: error %v", err)
	}
	_, err = LoadMN(write(t, mn+"[ike]\nraw_esp = true\n"))
	if err == nil || !strings.Contains(err.Error(), "ike.raw_esp: unknown field") {
		t.Fatalf("raw_esp at the mobile node: error %v", err)
	}
}

func TestHomeAgentLiveness(t *testing.T) {
	const mn = "identity = \"alice@example.net\"\n[credential]\npsk = \"a-long-enough-secret\"\n[home_agent]\n"
	m, err := LoadMN(write(t, mn))
	if err != nil || m.HomeAgent.DPDInterval.Duration != 30*time.Second || m.HomeAgent.AttemptTimeout.Duration != 30*time.Second {
		t.Fatalf("defaults: %+v, %v", m.HomeAgent, err)
	}
	m, err = LoadMN(write(t, mn+"dpd_interval = \"0s\"\nattempt_timeout = \"5s\"\n"))
	if err != nil || m.HomeAgent.DPDInterval.Duration != 0 || m.HomeAgent.AttemptTimeout.Duration != 5*time.Second {
		t.Fatalf("dpd off, 5 s attempts: %+v, %v", m.HomeAgent, err)
	}
	for _, c := range []struct{ line, want string }{
		{"dpd_interval = \"100ms\"", ":5: home_agent.dpd_interval: 100ms: give 1s or more"},
		{"dpd_interval = \"-1s\"", `:5: home_agent.dpd_interval: "-1s" is not a duration`},
		{"attempt_timeout = \"10ms\"", ":5: home_agent.attempt_timeout: 10ms: give 1s or more"},
	} {
		if _, err := LoadMN(write(t, mn+c.line+"\n")); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.line, err, c.want)
		}
	}
}
