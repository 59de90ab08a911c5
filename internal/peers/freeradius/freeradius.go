// Package freeradius runs a private FreeRADIUS 3.2 instance for system
// tests: it writes a minimal configuration directory (clients, users, an
// eap module with md5, mschapv2 and tls, optional realms proxied to other
// servers, accounting into a detail file), checks it with `freeradius -C`,
// starts `freeradius -X` (foreground, debug transcript), waits until it
// answers Status-Server and stops it at test cleanup, printing the
// transcript if the test failed. A missing freeradius binary fails the
// test. RunEapolTest drives wpa_supplicant's eapol_test (with OpenSSL's
// legacy provider for MD4) against any RADIUS server.
package freeradius

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"mip6/aaa"
	"mip6/internal/netns"
)

// Binary is the FreeRADIUS daemon Debian installs.
const Binary = "freeradius"

// User is one entry of the users file.
type User struct {
	Name     string
	Password string // Cleartext-Password; empty for certificate-only users
}

// Realm proxies users whose name ends in "@Name" to another RADIUS server.
type Realm struct {
	Name   string
	Server *Server // the home server (its auth port, accounting on port+1)
	Secret string  // secret shared with Server; Server.Secret if empty
}

// Config describes an instance.
type Config struct {
	Secret     string  // shared with every client; "testing123" if empty
	Users      []User  // local users
	Realms     []Realm // realms to proxy
	ServerName string  // name in the server certificate; "radius.example.net" if empty
	// NS, if set, runs the server inside that namespace, listening on
	// Listen (default "::"); else it listens on ::1.
	NS     *netns.NS
	Listen string
	// DefaultEAPType is what the server proposes first ("mschapv2" if
	// empty, the method of the EAP bootstrap benchmark); peers Nak to the
	// method they want.
	DefaultEAPType string
}

// Server is a running instance.
type Server struct {
	Dir      string // configuration directory
	Host     string // address it listens on, for clients
	AuthPort int
	AcctPort int // AuthPort+1
	Secret   string
	PKI      *PKI   // CA of the server certificate; issues client certificates
	Name     string // server certificate name

	mu  sync.Mutex
	out bytes.Buffer
	cmd *exec.Cmd
}

// AuthAddr is host:port of the authentication port.
func (s *Server) AuthAddr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.AuthPort)) }

// AcctAddr is host:port of the accounting port.
func (s *Server) AcctAddr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.AcctPort)) }

// Log returns the debug transcript so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// Write collects the transcript.
func (s *Server) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(b)
}

// Detail returns the accounting records written so far (detail file).
func (s *Server) Detail() string {
	matches, _ := filepath.Glob(filepath.Join(s.Dir, "acct", "*"))
	var b strings.Builder
	for _, m := range matches {
		data, _ := os.ReadFile(m)
		b.Write(data)
	}
	return b.String()
}

// Start writes the configuration, checks it and starts the server.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	bin, err := exec.LookPath(Binary)
	if err != nil {
		t.Fatalf("freeradius: %s not installed (run scripts/install-deps.sh): %v", Binary, err)
	}
	s := &Server{Dir: tmpDir(t), Secret: cfg.Secret, Name: cfg.ServerName, Host: "::1"}
	if s.Secret == "" {
		s.Secret = "testing123"
	}
	if s.Name == "" {
		s.Name = "radius.example.net"
	}
	listen := "::1"
	if cfg.NS != nil {
		listen = cfg.Listen
		if listen == "" {
			listen = "::"
		}
		s.Host = listen
	}
	s.AuthPort = freePortPair(t, cfg.NS)
	s.AcctPort = s.AuthPort + 1
	s.PKI = NewPKI(t)
	s.writeConfig(t, cfg, listen)
	if out, err := s.command(cfg.NS, bin, "-C", "-X", "-d", s.Dir).CombinedOutput(); err != nil {
		t.Fatalf("freeradius: configuration check failed: %v\n%s", err, out)
	}
	s.start(t, cfg.NS, bin)
	return s
}

func (s *Server) command(ns *netns.NS, bin string, args ...string) *exec.Cmd {
	if ns != nil {
		return exec.Command("ip", append([]string{"netns", "exec", ns.Name, bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func (s *Server) start(t testing.TB, ns *netns.NS, bin string) {
	t.Helper()
	s.cmd = s.command(ns, bin, "-X", "-d", s.Dir)
	s.cmd.Stdout, s.cmd.Stderr = s, s
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	s.cmd.WaitDelay = time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("freeradius: start: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("freeradius %s transcript:\n%s", s.AuthAddr(), s.Log())
		}
	})
	s.waitReady(t, ns, done)
}

// waitReady waits for the "Ready" line, then for an answer to Status-Server.
func (s *Server) waitReady(t testing.TB, ns *netns.NS, done chan error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.Log(), "Ready to process requests") {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("freeradius exited during start-up: %v\n%s", err, s.Log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("freeradius not ready after 20 s:\n%s", s.Log())
		}
	}
	c := &aaa.Client{Servers: []aaa.Server{{Addr: s.AuthAddr(), Secret: []byte(s.Secret)}},
		Timeout: 200 * time.Millisecond, Retries: -1}
	probe := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return c.Status(ctx)[0].Err
	}
	var err error
	for i := 0; i < 25; i++ {
		if ns != nil {
			err = ns.Do(probe)
		} else {
			err = probe()
		}
		if err == nil {
			return
		}
	}
	t.Fatalf("freeradius does not answer Status-Server: %v\n%s", err, s.Log())
}

// freePortPair finds a port P with P and P+1 free on UDP (in ns if given).
func freePortPair(t testing.TB, ns *netns.NS) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		c, err := net.ListenPacket("udp", "[::1]:0")
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		c2, err := net.ListenPacket("udp", net.JoinHostPort("::1", strconv.Itoa(p+1)))
		c.Close()
		if err == nil {
			c2.Close()
			if p+1 < 65536 {
				return p
			}
		}
	}
	t.Fatal("freeradius: no free UDP port pair")
	return 0
}

// TranscriptLines returns transcript lines containing substr (for assertions).
func (s *Server) TranscriptLines(substr string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s.Log()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			out = append(out, sc.Text())
		}
	}
	return out
}

func (s *Server) writeConfig(t testing.TB, cfg Config, listen string) {
	t.Helper()
	for _, d := range []string{"certs", "acct", "log", "run"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s.PKI.writeServerFiles(t, filepath.Join(s.Dir, "certs"), s.Name)
	eapType := cfg.DefaultEAPType
	if eapType == "" {
		eapType = "mschapv2"
	}
	data := configData{Dir: s.Dir, Listen: listen, AuthPort: s.AuthPort, AcctPort: s.AcctPort,
		Secret: s.Secret, Users: cfg.Users, DefaultEAPType: eapType}
	for _, r := range cfg.Realms {
		secret := r.Secret
		if secret == "" {
			secret = r.Server.Secret
		}
		data.Realms = append(data.Realms, realmData{Name: r.Name, Host: r.Server.Host,
			Port: r.Server.AuthPort, Secret: secret})
	}
	files := map[string]*template.Template{"radiusd.conf": radiusdConf, "clients.conf": clientsConf,
		"users": usersFile, "proxy.conf": proxyConf}
	for name, tmpl := range files {
		var b bytes.Buffer
		if err := tmpl.Execute(&b, data); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.Dir, name), b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "dictionary"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

type configData struct {
	Dir, Listen        string
	AuthPort, AcctPort int
	Secret             string
	Users              []User
	Realms             []realmData
	DefaultEAPType     string
}

type realmData struct {
	Name, Host string
	Port       int
	Secret     string
}

// quote makes a FreeRADIUS double-quoted string.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

var funcs = template.FuncMap{"q": quote}

var _ = fmt.Sprintf

func tmpDir(t testing.TB) string {
	if d := os.Getenv("MIP6_FREERADIUS_KEEP"); d != "" {
		os.MkdirAll(d, 0o700)
		return d
	}
	return t.TempDir()
}
