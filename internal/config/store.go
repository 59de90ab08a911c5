package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// DefaultEtcdPrefix is the key prefix of a shared store when etcd_prefix
// is not given.
const DefaultEtcdPrefix = "/mip6/default"

// Store is the home agent's [store] section: where leases and PAD entries
// live. Either one local file (Path), or an etcd cluster (EtcdEndpoints)
// that several home agents serving one home link share under one prefix.
type Store struct {
	Path string `toml:"path"`

	EtcdEndpoints []string `toml:"etcd_endpoints"` // "[2001:db8::e1]:2379", "https://..."
	// EtcdPrefix holds one group of home agents sharing a home link (and
	// an address pool); other groups use other prefixes.
	EtcdPrefix         string   `toml:"etcd_prefix"`
	EtcdDialTimeout    Duration `toml:"etcd_dial_timeout"`    // 0: the store's default (2 s)
	EtcdRequestTimeout Duration `toml:"etcd_request_timeout"` // 0: the store's default (2 s)
	// TLS: the CA of the etcd servers' certificates and this home agent's
	// client certificate and key.
	EtcdCA   string `toml:"etcd_ca"`
	EtcdCert string `toml:"etcd_cert"`
	EtcdKey  string `toml:"etcd_key"`
	// EtcdUsername authenticates with the password in EtcdPasswordFile.
	EtcdUsername     string `toml:"etcd_username"`
	EtcdPasswordFile string `toml:"etcd_password_file"`
	// EtcdPassword is refused: it is here only to say so with the line.
	EtcdPassword string `toml:"etcd_password"`
}

// Etcd reports whether the store is the shared etcd one.
func (s *Store) Etcd() bool { return len(s.EtcdEndpoints) > 0 }

// EtcdTLS reports whether etcd is reached over TLS: a TLS file is given
// or an endpoint is https://.
func (s *Store) EtcdTLS() bool {
	if s.EtcdCA != "" || s.EtcdCert != "" || s.EtcdKey != "" {
		return true
	}
	for _, e := range s.EtcdEndpoints {
		if strings.HasPrefix(strings.ToLower(e), "https://") {
			return true
		}
	}
	return false
}

// ReadEtcdPassword returns the password in EtcdPasswordFile (one line; a
// trailing newline is not part of it), or "" when none is configured.
func (s *Store) ReadEtcdPassword() (string, error) {
	if s.EtcdPasswordFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(s.EtcdPasswordFile)
	if err != nil {
		return "", fmt.Errorf("store.etcd_password_file: %w", err)
	}
	p := strings.TrimRight(string(b), "\r\n")
	if p == "" {
		return "", fmt.Errorf("store.etcd_password_file: %s is empty", s.EtcdPasswordFile)
	}
	return p, nil
}

func (s *Store) defaults() {
	if s.Etcd() && s.EtcdPrefix == "" {
		s.EtcdPrefix = DefaultEtcdPrefix
	}
}

func (s *Store) validate(src *source) Errors {
	var errs Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, src.errorf("store."+field, format, args...))
	}
	switch {
	case s.Path != "" && s.Etcd():
		add("etcd_endpoints", "give either path (a file of this home agent) or etcd_endpoints (a store shared by several home agents), not both")
	case s.Path == "" && !s.Etcd():
		add("path", "missing: the file where leases, bindings and PAD entries survive restarts, or etcd_endpoints for a store shared by several home agents")
	}
	if s.EtcdPassword != "" {
		add("etcd_password", "never put the password in the config: write it into a file only the home agent can read and give etcd_password_file")
	}
	if !s.Etcd() {
		if f := s.etcdFieldSet(); f != "" {
			add(f, "only means something with etcd_endpoints")
		}
		return errs
	}
	errs = append(errs, s.validateEndpoints(src)...)
	if p := strings.TrimRight(s.EtcdPrefix, "/"); !strings.HasPrefix(s.EtcdPrefix, "/") || p == "" || strings.ContainsAny(p, " \t\n") {
		add("etcd_prefix", "%q: a key path such as %q, one per group of home agents sharing a home link", s.EtcdPrefix, DefaultEtcdPrefix)
	}
	if (s.EtcdCert == "") != (s.EtcdKey == "") {
		add("etcd_key", "etcd_cert and etcd_key go together: give both or neither")
	}
	for _, f := range []struct{ field, path string }{{"etcd_ca", s.EtcdCA}, {"etcd_cert", s.EtcdCert}, {"etcd_key", s.EtcdKey}} {
		if f.path != "" && !readable(f.path) {
			add(f.field, "cannot read %s", f.path)
		}
	}
	if (s.EtcdUsername == "") != (s.EtcdPasswordFile == "") {
		add("etcd_password_file", "etcd_username and etcd_password_file go together: give both or neither")
	}
	if s.EtcdPasswordFile != "" && !readable(s.EtcdPasswordFile) {
		add("etcd_password_file", "cannot read %s", s.EtcdPasswordFile)
	}
	return errs
}

// etcdFieldSet names an etcd_* field given without endpoints, or "".
func (s *Store) etcdFieldSet() string {
	for _, f := range []struct {
		name string
		set  bool
	}{{"etcd_prefix", s.EtcdPrefix != ""}, {"etcd_dial_timeout", s.EtcdDialTimeout.Duration != 0},
		{"etcd_request_timeout", s.EtcdRequestTimeout.Duration != 0}, {"etcd_ca", s.EtcdCA != ""},
		{"etcd_cert", s.EtcdCert != ""}, {"etcd_key", s.EtcdKey != ""}, {"etcd_username", s.EtcdUsername != ""},
		{"etcd_password_file", s.EtcdPasswordFile != ""}} {
		if f.set {
			return f.name
		}
	}
	return ""
}

// validateEndpoints checks each client URL: "host:port", "[addr]:port",
// or either behind http:// or https://; with TLS none may be plain http.
func (s *Store) validateEndpoints(src *source) Errors {
	var errs Errors
	tls := s.EtcdTLS()
	seen := map[string]int{}
	for i, e := range s.EtcdEndpoints {
		fail := func(format string, args ...any) {
			errs = append(errs, src.errorf("store.etcd_endpoints", "endpoint %d %q: "+format, append([]any{i, e}, args...)...))
		}
		hostport, scheme := e, ""
		if j := strings.Index(e, "://"); j >= 0 {
			u, err := url.Parse(e)
			if err != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
				fail("write it like https://[2001:db8::e1]:2379 (no path, query or user)")
				continue
			}
			scheme, hostport = strings.ToLower(u.Scheme), u.Host
		}
		if scheme != "" && scheme != "http" && scheme != "https" {
			fail("scheme %q: use http://, https:// or none", scheme)
			continue
		}
		host, port, err := net.SplitHostPort(hostport)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			fail("not host:port (write an IPv6 address in brackets, like [2001:db8::e1]:2379)")
			continue
		}
		if tls && scheme == "http" {
			fail("plain http while TLS is configured (etcd_ca, etcd_cert, etcd_key or an https:// endpoint): use https://")
		}
		if j, dup := seen[hostport]; dup {
			fail("the same member as endpoint %d", j)
		}
		seen[hostport] = i
	}
	return errs
}
