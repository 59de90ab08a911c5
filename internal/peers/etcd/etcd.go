// Package etcd runs a private etcd server (etcd from Debian's etcd-server
// package) for tests: one member listening on loopback [::1], client and
// peer ports picked free, data directory in a temporary directory. The
// server stops at test cleanup and its log is printed when the test
// failed. With Options.TLS, clients must speak TLS and show a certificate
// of the test CA. A missing etcd binary fails the test; it never skips.
package etcd

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options configure the server.
type Options struct {
	// TLS serves clients over TLS only (https:// endpoint) and requires
	// a client certificate (Server.ClientTLS).
	TLS bool
}

// Server is a running single-member etcd.
type Server struct {
	// Endpoint is the client URL, "http://[::1]:port" (https with TLS).
	Endpoint string
	Dir      string
	// ClientTLS holds the CA and a client certificate when Options.TLS.
	ClientTLS TLSFiles
	serverTLS TLSFiles
	probe     *http.Client
	peerURL   string
	bin       string
	cmd       *exec.Cmd
	done      chan struct{}
	out       syncBuffer
	waitErr   error
}

// Start starts etcd and waits until it serves (at most 10 s).
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		t.Fatalf("etcd: binary not in PATH (run scripts/install-deps.sh: Debian package etcd-server): %v", err)
	}
	s := &Server{Dir: t.TempDir(), bin: bin, probe: &http.Client{Timeout: 500 * time.Millisecond}}
	scheme := "http"
	if o.TLS {
		scheme = "https"
		s.serverTLS, s.ClientTLS = makeTLS(t, t.TempDir())
		cfg, err := s.ClientTLS.clientTLS()
		if err != nil {
			t.Fatalf("etcd: %v", err)
		}
		s.probe.Transport = &http.Transport{TLSClientConfig: cfg}
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("etcd log:\n%s", s.Log())
		}
	})
	// A port picked free may be taken by another process before etcd
	// binds it: try again with new ports, a bounded number of times.
	for try := 0; ; try++ {
		ports := freePorts(t, 2)
		s.Endpoint = fmt.Sprintf("%s://[::1]:%d", scheme, ports[0])
		s.peerURL = fmt.Sprintf("http://[::1]:%d", ports[1])
		s.start(t)
		err := s.waitReady(10 * time.Second)
		if err == nil {
			return s
		}
		if try < 2 && strings.Contains(s.Log(), "address already in use") {
			s.Stop()
			continue
		}
		t.Fatalf("etcd: %v\n%s", err, s.Log())
	}
}

// Endpoints is the client URL list for clientv3 or store.EtcdOptions.
func (s *Server) Endpoints() []string { return []string{s.Endpoint} }

func (s *Server) start(t testing.TB) {
	t.Helper()
	s.out.reset()
	s.done = make(chan struct{})
	args := []string{"--name", "mip6-test", "--data-dir", s.Dir,
		"--listen-client-urls", s.Endpoint, "--advertise-client-urls", s.Endpoint,
		"--listen-peer-urls", s.peerURL, "--initial-advertise-peer-urls", s.peerURL,
		"--initial-cluster", "mip6-test=" + s.peerURL, "--initial-cluster-state", "new",
		// One member: elect it at once, not after the default second.
		"--heartbeat-interval", "10", "--election-timeout", "100",
		"--logger", "zap", "--log-outputs", "stderr"}
	if f := s.serverTLS; f.CA != "" {
		args = append(args, "--cert-file", f.Cert, "--key-file", f.Key, "--trusted-ca-file", f.CA, "--client-cert-auth")
	}
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	s.cmd.WaitDelay = time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("etcd: start: %v", err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.done) }()
}

// waitReady polls /health until the member has a leader and serves.
func (s *Server) waitReady(limit time.Duration) error {
	c := s.probe
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("etcd exited: %v", s.waitErr)
		default:
		}
		r, err := c.Get(s.Endpoint + "/health")
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
			r.Body.Close()
			if bytes.Contains(b, []byte(`"health":"true"`)) {
				return nil
			}
			err = fmt.Errorf("health %s", b)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not serving at %s within %v: %v", s.Endpoint, limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends etcd: SIGTERM, SIGKILL after two seconds.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	pid := s.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-s.done
	}
}

// Restart stops etcd and starts it again on the same ports and data, as
// after a reboot of the store's host.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.start(t)
	if err := s.waitReady(10 * time.Second); err != nil {
		t.Fatalf("etcd: restart: %v\n%s", err, s.Log())
	}
}

// Log returns etcd's output since it was last started.
func (s *Server) Log() string { return s.out.String() }

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp6", "[::1]:0")
		if err != nil {
			t.Fatalf("etcd: no free port on [::1]: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
