// Package etcd runs a private etcd cluster (etcd from Debian's
// etcd-server package) for tests: one member by default, or three for
// tests of a member failing; every member listens on loopback [::1] on
// client and peer ports picked free, with its data directory in a
// temporary directory. The members stop at test cleanup and their logs
// are printed when the test failed. With Options.TLS, clients must speak
// TLS and show a certificate of the test CA. A missing etcd binary fails
// the test; it never skips.
//
// With Options.NS the members run inside that network namespace instead,
// on Options.Addr (ports 2379 + 2i for clients, 2380 + 2i for peers), so
// daemons in the test's other namespaces reach them over its links.
package etcd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mip6/internal/netns"
)

// Options configure the cluster.
type Options struct {
	// Members is the cluster's size (default 1).
	Members int
	// TLS serves clients over TLS only (https:// endpoints) and requires
	// a client certificate (Server.ClientTLS).
	TLS bool
	// NS runs the members in this namespace, listening on Addr (default
	// ::1 of the namespace, reachable only from inside it).
	NS   *netns.NS
	Addr netip.Addr
}

// Server is a running etcd cluster.
type Server struct {
	// Endpoint is the first member's client URL, "http://[::1]:port"
	// (https with TLS); Endpoints lists every member's.
	Endpoint string
	Dir      string
	// ClientTLS holds the CA and a client certificate when Options.TLS.
	ClientTLS TLSFiles
	serverTLS TLSFiles
	probe     *http.Client
	bin       string
	ns        *netns.NS
	members   []*member
}

type member struct {
	name, dir, clientURL, peerURL string
	cmd                           *exec.Cmd
	done                          chan struct{}
	out                           syncBuffer
	waitErr                       error
}

// Start starts the members and waits until each serves (at most 10 s).
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		t.Fatalf("etcd: binary not in PATH (run scripts/install-deps.sh: Debian package etcd-server): %v", err)
	}
	if o.Members <= 0 {
		o.Members = 1
	}
	s := &Server{Dir: t.TempDir(), bin: bin, ns: o.NS}
	s.probe = &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DialContext: s.dial}}
	if o.TLS {
		s.serverTLS, s.ClientTLS = makeTLS(t, t.TempDir())
		cfg, err := s.ClientTLS.clientTLS()
		if err != nil {
			t.Fatalf("etcd: %v", err)
		}
		s.probe.Transport.(*http.Transport).TLSClientConfig = cfg
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("etcd logs:\n%s", s.Log())
		}
	})
	// A port picked free may be taken by another process before etcd
	// binds it: try again with new ports, a bounded number of times.
	for try := 0; ; try++ {
		s.layout(t, o)
		err := s.startAll()
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

// layout picks ports and directories for every member.
func (s *Server) layout(t testing.TB, o Options) {
	scheme := "http"
	if o.TLS {
		scheme = "https"
	}
	addr := netip.IPv6Loopback()
	var ports []int
	if s.ns == nil {
		ports = freePorts(t, 2*o.Members)
	} else {
		if o.Addr.IsValid() {
			addr = o.Addr
		}
		for i := range 2 * o.Members {
			ports = append(ports, 2379+i)
		}
	}
	s.members = nil
	for i := range o.Members {
		name := fmt.Sprintf("mip6-test%d", i)
		s.members = append(s.members, &member{
			name: name, dir: filepath.Join(s.Dir, name),
			clientURL: fmt.Sprintf("%s://%s", scheme, netip.AddrPortFrom(addr, uint16(ports[2*i]))),
			peerURL:   fmt.Sprintf("http://%s", netip.AddrPortFrom(addr, uint16(ports[2*i+1]))),
		})
	}
	s.Endpoint = s.members[0].clientURL
}

func (s *Server) startAll() error {
	for _, m := range s.members {
		if err := s.start(m); err != nil {
			return err
		}
	}
	for _, m := range s.members {
		if err := s.waitReady(m, 10*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// Endpoints is every member's client URL, for clientv3 or
// store.EtcdOptions.
func (s *Server) Endpoints() []string {
	var eps []string
	for _, m := range s.members {
		eps = append(eps, m.clientURL)
	}
	return eps
}

func (s *Server) start(m *member) error {
	var cluster []string
	for _, p := range s.members {
		cluster = append(cluster, p.name+"="+p.peerURL)
	}
	// One member: elect it at once, not after the default second; three:
	// still fast, yet calm enough for a busy machine.
	hb, el := "10", "100"
	if len(s.members) > 1 {
		hb, el = "50", "500"
	}
	args := []string{"--name", m.name, "--data-dir", m.dir,
		"--listen-client-urls", m.clientURL, "--advertise-client-urls", m.clientURL,
		"--listen-peer-urls", m.peerURL, "--initial-advertise-peer-urls", m.peerURL,
		"--initial-cluster", strings.Join(cluster, ","), "--initial-cluster-state", "new",
		"--heartbeat-interval", hb, "--election-timeout", el,
		"--logger", "zap", "--log-outputs", "stderr"}
	if f := s.serverTLS; f.CA != "" {
		args = append(args, "--cert-file", f.Cert, "--key-file", f.Key, "--trusted-ca-file", f.CA, "--client-cert-auth")
	}
	m.out.reset()
	m.done = make(chan struct{})
	m.cmd = exec.Command(s.bin, args...)
	if s.ns != nil {
		m.cmd = exec.Command("ip", append([]string{"netns", "exec", s.ns.Name, s.bin}, args...)...)
	}
	m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.out
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	m.cmd.WaitDelay = time.Second
	if err := m.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %v", m.name, err)
	}
	go func() { m.waitErr = m.cmd.Wait(); close(m.done) }()
	return nil
}

// waitReady polls the member's /health until it has a leader and serves.
func (s *Server) waitReady(m *member, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-m.done:
			return fmt.Errorf("%s exited: %v", m.name, m.waitErr)
		default:
		}
		r, err := s.probe.Get(m.clientURL + "/health")
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
			r.Body.Close()
			if bytes.Contains(b, []byte(`"health":"true"`)) {
				return nil
			}
			err = fmt.Errorf("health %s", b)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not serving at %s within %v: %v", m.name, m.clientURL, limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dial opens the readiness probe's connections, from inside the
// members' namespace when they run in one.
func (s *Server) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	if s.ns == nil {
		return d.DialContext(ctx, network, addr)
	}
	var c net.Conn
	err := s.ns.Do(func() error {
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Leader returns the index of the member that leads the cluster now, as
// the live members see it.
func (s *Server) Leader(t testing.TB) int {
	t.Helper()
	ids := make([]string, len(s.members))
	leader := ""
	for i, m := range s.members {
		ids[i], leader = s.status(m, leader)
	}
	for i, id := range ids {
		if id != "" && id == leader {
			return i
		}
	}
	t.Fatalf("etcd: no live member leads (ids %v, leader %q)\n%s", ids, leader, s.Log())
	return -1
}

// status asks m (through etcd's JSON gateway) its ID and whom it follows;
// leader is kept when m does not answer.
func (s *Server) status(m *member, leader string) (id, leaderOut string) {
	r, err := s.probe.Post(m.clientURL+"/v3/maintenance/status", "application/json", strings.NewReader("{}"))
	if err != nil {
		return "", leader
	}
	defer r.Body.Close()
	var st struct {
		Header struct {
			MemberID string `json:"member_id"`
		} `json:"header"`
		Leader string `json:"leader"`
	}
	if json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&st) != nil || st.Leader == "" {
		return "", leader
	}
	return st.Header.MemberID, st.Leader
}

// Stop ends every member.
func (s *Server) Stop() {
	for _, m := range s.members {
		m.stop()
	}
}

// Kill ends member i at once with SIGKILL (a crashed host).
func (s *Server) Kill(i int) {
	m := s.members[i]
	if m.cmd == nil {
		return
	}
	select {
	case <-m.done:
	default:
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
	}
}

// stop: SIGTERM, SIGKILL after two seconds.
func (m *member) stop() {
	if m.cmd == nil {
		return
	}
	select {
	case <-m.done:
		return
	default:
	}
	pid := m.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-m.done
	}
}

// Restart stops every member and starts them again on the same ports
// and data, as after a reboot of the store's hosts.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.startAll(); err != nil {
		t.Fatalf("etcd: restart: %v\n%s", err, s.Log())
	}
}

// Log returns every member's output since it was last started.
func (s *Server) Log() string {
	var b strings.Builder
	for _, m := range s.members {
		fmt.Fprintf(&b, "--- %s:\n%s", m.name, m.out.String())
	}
	return b.String()
}

// freePorts returns n distinct ports free on [::1] right now.
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
