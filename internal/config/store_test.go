package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// haWithStore is goodHA with its [store] section replaced by store.
func haWithStore(store string) string {
	i := strings.Index(goodHA, "[store]")
	return goodHA[:i] + "[store]\n" + store
}

func TestStoreEtcdGood(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "etcd.pw")
	ca := filepath.Join(dir, "ca.pem")
	for _, p := range []string{pw, ca} {
		if err := os.WriteFile(p, []byte("secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := LoadHA(write(t, haWithStore(`etcd_endpoints = ["[2001:db8:1::e1]:2379"]
`)))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Store.Etcd() || c.Store.EtcdTLS() || c.Store.EtcdPrefix != DefaultEtcdPrefix || c.Store.Path != "" {
		t.Errorf("plain etcd store: %+v", c.Store)
	}
	c, err = LoadHA(write(t, haWithStore(`etcd_endpoints = ["https://[2001:db8:1::e1]:2379", "https://etcd2.example.net:2379"]
etcd_prefix = "/mip6/homelink1"
etcd_dial_timeout = "3s"
etcd_request_timeout = "1500ms"
etcd_ca = "`+ca+`"
etcd_username = "ha1"
etcd_password_file = "`+pw+`"
`)))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Store
	if !s.EtcdTLS() || s.EtcdPrefix != "/mip6/homelink1" || s.EtcdDialTimeout.Duration != 3*time.Second ||
		s.EtcdRequestTimeout.Duration != 1500*time.Millisecond || s.EtcdUsername != "ha1" {
		t.Errorf("TLS etcd store: %+v", s)
	}
	if p, err := s.ReadEtcdPassword(); err != nil || p != "secret" {
		t.Errorf("password %q, %v", p, err)
	}
	// A bare endpoint speaks TLS when a TLS file is given.
	c, err = LoadHA(write(t, haWithStore(`etcd_endpoints = ["[2001:db8:1::e1]:2379"]
etcd_ca = "`+ca+`"
`)))
	if err != nil || !c.Store.EtcdTLS() {
		t.Fatalf("bare endpoint with etcd_ca: %+v, %v", c, err)
	}
}

func TestStoreErrors(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The [store] header is line 18 of haWithStore's text: its fields follow.
	cases := []struct{ name, store, want string }{
		{"neither", "", `:18: store.path: missing: the file where leases`},
		{"both", "path = \"/tmp/ha.db\"\netcd_endpoints = [\"[2001:db8:1::e1]:2379\"]\n",
			`:20: store.etcd_endpoints: give either path`},
		{"password inline", "etcd_endpoints = [\"[2001:db8:1::e1]:2379\"]\netcd_username = \"ha\"\netcd_password = \"hunter2\"\n",
			`:21: store.etcd_password: never put the password in the config`},
		{"username alone", "etcd_endpoints = [\"[2001:db8:1::e1]:2379\"]\netcd_username = \"ha\"\n",
			`store.etcd_password_file: etcd_username and etcd_password_file go together`},
		{"unreadable password", "etcd_endpoints = [\"[2001:db8:1::e1]:2379\"]\netcd_username = \"ha\"\netcd_password_file = \"" + dir + "/nope\"\n",
			`:21: store.etcd_password_file: cannot read`},
		{"etcd field with path", "path = \"/tmp/ha.db\"\netcd_prefix = \"/mip6/x\"\n",
			`:20: store.etcd_prefix: only means something with etcd_endpoints`},
		{"no port", "etcd_endpoints = [\"2001:db8:1::e1\"]\n", `:19: store.etcd_endpoints: endpoint 0 "2001:db8:1::e1": not host:port`},
		{"bad port", "etcd_endpoints = [\"[2001:db8:1::e1]:99999\"]\n", `endpoint 0 "[2001:db8:1::e1]:99999": not host:port`},
		{"bad scheme", "etcd_endpoints = [\"unix://[2001:db8:1::e1]:2379\"]\n", `scheme "unix": use http://, https:// or none`},
		{"path in URL", "etcd_endpoints = [\"https://[2001:db8:1::e1]:2379/v3\"]\n", `no path, query or user`},
		{"duplicate", "etcd_endpoints = [\"[2001:db8:1::e1]:2379\", \"http://[2001:db8:1::e1]:2379\"]\n",
			`endpoint 1 "http://[2001:db8:1::e1]:2379": the same member as endpoint 0`},
		{"http with TLS", "etcd_endpoints = [\"https://[2001:db8:1::e1]:2379\", \"http://[2001:db8:1::e2]:2379\"]\n",
			`endpoint 1 "http://[2001:db8:1::e2]:2379": plain http while TLS is configured`},
		{"http with CA", "etcd_endpoints = [\"http://[2001:db8:1::e1]:2379\"]\netcd_ca = \"" + ca + "\"\n",
			`plain http while TLS is configured`},
		{"prefix", "etcd_endpoints = [\"[2001:db8:1::e1]:2379\"]\netcd_prefix = \"mip6\"\n",
			`:20: store.etcd_prefix: "mip6": a key path such as "/mip6/default"`},
		{"root prefix", "etcd_endpoints = [\"[2001:db8:1::e1]:2379\"]\netcd_prefix = \"/\"\n", `store.etcd_prefix: "/"`},
		{"cert alone", "etcd_endpoints = [\"[2001:db8:1::e1]:2379\"]\netcd_cert = \"" + ca + "\"\n",
			`store.etcd_key: etcd_cert and etcd_key go together`},
		{"unreadable CA", "etcd_endpoints = [\"[2001:db8:1::e1]:2379\"]\netcd_ca = \"" + dir + "/none.pem\"\n",
			`:20: store.etcd_ca: cannot read`},
		{"bad timeout", "etcd_endpoints = [\"[2001:db8:1::e1]:2379\"]\netcd_request_timeout = \"-1s\"\n",
			`"-1s" is not a duration`},
		{"unknown", "etcd_endpoints = [\"[2001:db8:1::e1]:2379\"]\netcd_endpoint = \"x\"\n",
			`:20: store.etcd_endpoint: unknown field`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadHA(write(t, haWithStore(tc.store)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestReadEtcdPasswordEmpty(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := Store{EtcdPasswordFile: p}
	if _, err := s.ReadEtcdPassword(); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("error = %v", err)
	}
}
