// Package netns gives system tests private Linux network namespaces: create
// them, wire them with veth pairs, address and route them, run commands and
// background processes inside them and run Go code inside them (to open
// sockets or TUN devices there). Everything a test creates is removed at
// cleanup. Tests that use it need root; missing prerequisites fail the test,
// they never skip it.
package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// runDir is where iproute2 keeps named namespaces.
const runDir = "/var/run/netns"

var counter atomic.Uint64

// Require fails the test unless it runs as root, /dev/net/tun exists and
// each named binary (a name looked up in PATH, or an absolute path) is
// present. `ip` is always required.
func Require(t testing.TB, binaries ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("netns: this system test needs root (euid %d)", os.Geteuid())
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Fatalf("netns: /dev/net/tun missing: %v", err)
	}
	for _, b := range append([]string{"ip"}, binaries...) {
		if filepath.IsAbs(b) {
			if _, err := os.Stat(b); err != nil {
				t.Fatalf("netns: required binary %s missing: %v", b, err)
			}
			continue
		}
		if _, err := exec.LookPath(b); err != nil {
			t.Fatalf("netns: required binary %q not in PATH (run scripts/install-deps.sh): %v", b, err)
		}
	}
}

// NS is one network namespace owned by a test.
type NS struct {
	Name string

	mu    sync.Mutex
	procs []*Proc
}

// New creates a namespace whose name is unique to this process and test,
// brings its loopback up, disables IPv6 duplicate address detection (so
// addresses are usable at once) and registers its removal, together with
// every process started in it, at test cleanup.
func New(t testing.TB, name string) *NS {
	t.Helper()
	n := &NS{Name: fmt.Sprintf("mip6-%s-%d-%d", name, os.Getpid(), counter.Add(1))}
	if out, err := exec.Command("ip", "netns", "add", n.Name).CombinedOutput(); err != nil {
		t.Fatalf("netns: ip netns add %s: %v: %s", n.Name, err, out)
	}
	t.Cleanup(func() { n.destroy(t) })
	for _, kv := range [][2]string{
		{"net.ipv6.conf.all.accept_dad", "0"},
		{"net.ipv6.conf.default.accept_dad", "0"},
		{"net.ipv6.conf.all.accept_ra", "0"},
		{"net.ipv6.conf.default.accept_ra", "0"},
	} {
		n.Sysctl(t, kv[0], kv[1])
	}
	n.Run(t, "ip", "link", "set", "lo", "up")
	n.waitLoopback(t)
	return n
}

// waitLoopback waits until a datagram to ::1 comes back: right after a
// namespace is made, with several being made at once, the first packets
// on its loopback are sometimes lost.
func (n *NS) waitLoopback(t testing.TB) {
	t.Helper()
	Eventually(t, 5*time.Second, func() error {
		return n.Do(func() error {
			c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.WriteToUDP([]byte("ready?"), c.LocalAddr().(*net.UDPAddr)); err != nil {
				return err
			}
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			_, _, err = c.ReadFromUDP(make([]byte, 8))
			return err
		})
	})
}

// destroy stops the processes, kills anything else still in the namespace
// and deletes it (which also deletes its veth ends).
func (n *NS) destroy(t testing.TB) {
	n.mu.Lock()
	procs := n.procs
	n.procs = nil
	n.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop()
		if t.Failed() {
			t.Logf("netns %s: output of %s:\n%s", n.Name, procs[i].Name, procs[i].Output())
		}
	}
	if out, err := exec.Command("ip", "netns", "pids", n.Name).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
		t.Logf("netns: ip netns del %s: %v: %s", n.Name, err, out)
	}
}

// ExecTimeout bounds every Exec and Run.
const ExecTimeout = 2 * time.Minute

// Exec runs a command in the namespace and returns its combined output. The
// command is killed after ExecTimeout.
func (n *NS) Exec(args ...string) (string, error) {
	return n.ExecWithin(ExecTimeout, args...)
}

// ExecWithin is Exec with a caller-chosen time limit.
func (n *NS) ExecWithin(limit time.Duration, args ...string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("netns: Exec: no command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name}, args...)...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("killed after %v: %w", limit, err)
	}
	if err != nil {
		return string(out), fmt.Errorf("netns %s: %s: %w: %s", n.Name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Run runs a command in the namespace and fails the test, with the
// command's output, if it fails.
func (n *NS) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Do runs f on an OS thread switched into the namespace. Sockets and TUN
// devices f opens stay in the namespace after Do returns.
func (n *NS) Do(f func() error) error {
	target, err := os.Open(filepath.Join(runDir, n.Name))
	if err != nil {
		return fmt.Errorf("netns %s: %w", n.Name, err)
	}
	defer target.Close()
	errc := make(chan error, 1)
	// A fresh goroutine: if restoring the thread's namespace fails the
	// thread is left locked and exits with the goroutine.
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			errc <- fmt.Errorf("netns: own namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns %s: setns: %w", n.Name, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// Sysctl sets a sysctl (dotted name) inside the namespace.
func (n *NS) Sysctl(t testing.TB, key, value string) {
	t.Helper()
	p := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	if err := n.Do(func() error { return os.WriteFile(p, []byte(value), 0o644) }); err != nil {
		t.Fatalf("netns %s: sysctl %s=%s: %v", n.Name, key, value, err)
	}
}

// Forwarding turns IPv6 forwarding on in the namespace.
func (n *NS) Forwarding(t testing.TB) {
	t.Helper()
	n.Sysctl(t, "net.ipv6.conf.all.forwarding", "1")
}

// Bridge adds a bridge named name, up, without STP delays or multicast
// snooping, and with a fixed MAC address of its own: otherwise a bridge
// takes the lowest MAC of its ports, so a port that joins later (a mobile
// node's cable moving in) can change the MAC of the bridge's addresses
// under neighbours that cached the old one, and their packets vanish
// until the entry is probed again.
func (n *NS) Bridge(t testing.TB, name string) {
	t.Helper()
	h := fnv.New32a()
	h.Write([]byte(n.Name + "/" + name))
	sum := h.Sum32()
	mac := fmt.Sprintf("02:b0:%02x:%02x:%02x:%02x", byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum))
	n.Run(t, "ip", "link", "add", name, "address", mac, "type", "bridge", "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0")
	n.Up(t, name)
}

// Up sets a link up.
func (n *NS) Up(t testing.TB, dev string) {
	t.Helper()
	n.Run(t, "ip", "link", "set", dev, "up")
}

// AddAddr adds an address (CIDR form) to dev, without DAD.
func (n *NS) AddAddr(t testing.TB, dev, cidr string) {
	t.Helper()
	if strings.Contains(cidr, ":") {
		n.Run(t, "ip", "-6", "addr", "add", cidr, "dev", dev, "nodad")
		n.waitAddr(t, dev, cidr)
		return
	}
	n.Run(t, "ip", "addr", "add", cidr, "dev", dev)
}

// waitAddr waits until the kernel has finished adding an address: even
// with nodad it stays tentative, without its local route, until a
// workqueue runs, and on a busy machine packets to it are lost meanwhile.
// Addresses on a link without carrier stay tentative until it has one:
// those are not waited for.
func (n *NS) waitAddr(t testing.TB, dev, cidr string) {
	t.Helper()
	if out, err := n.Exec("ip", "-o", "link", "show", "dev", dev); err != nil || !strings.Contains(out, "LOWER_UP") {
		return
	}
	addr, _, _ := strings.Cut(cidr, "/")
	Eventually(t, 5*time.Second, func() error {
		out, err := n.Exec("ip", "-6", "-o", "addr", "show", "dev", dev, "to", addr+"/128")
		if err != nil || !strings.Contains(out, addr) || strings.Contains(out, "tentative") {
			return fmt.Errorf("address %s on %s not ready: %q %v", addr, dev, out, err)
		}
		out, err = n.Exec("ip", "-6", "route", "show", "table", "local", addr)
		if err != nil || !strings.Contains(out, "local") {
			return fmt.Errorf("no local route for %s yet: %q %v", addr, out, err)
		}
		return nil
	})
}

// AddRoute adds an IPv6 route: AddRoute(t, "2001:db8:2::/64", "via", "2001:db8:1::1").
func (n *NS) AddRoute(t testing.TB, spec ...string) {
	t.Helper()
	n.Run(t, append([]string{"ip", "-6", "route", "add"}, spec...)...)
}

// Link creates a veth pair with end ifA in a and ifB in b, disables DAD on
// both ends and sets them up.
func Link(t testing.TB, a *NS, ifA string, b *NS, ifB string) {
	t.Helper()
	out, err := exec.Command("ip", "link", "add", ifA, "netns", a.Name, "type", "veth",
		"peer", "name", ifB, "netns", b.Name).CombinedOutput()
	if err != nil {
		t.Fatalf("netns: veth %s/%s <-> %s/%s: %v: %s", a.Name, ifA, b.Name, ifB, err, out)
	}
	for _, e := range []struct {
		ns  *NS
		dev string
	}{{a, ifA}, {b, ifB}} {
		e.ns.Sysctl(t, "net.ipv6.conf."+e.dev+".accept_dad", "0")
		e.ns.Up(t, e.dev)
	}
}

// Eventually calls f until it returns nil, at most until timeout; it fails
// the test with f's last error otherwise.
func Eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("netns: condition not met within %v: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Proc is a background process started in a namespace.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
	err  error
}

// Start runs a command in the background inside the namespace. It is killed
// at cleanup; its output is printed if the test failed.
func (n *NS) Start(t testing.TB, args ...string) *Proc {
	t.Helper()
	return n.StartEnv(t, nil, args...)
}

// StartEnv is Start with extra environment variables ("K=V").
func (n *NS) StartEnv(t testing.TB, env []string, args ...string) *Proc {
	t.Helper()
	if len(args) == 0 {
		t.Fatal("netns: Start: no command")
	}
	p := &Proc{Name: strings.Join(args, " "), done: make(chan struct{})}
	p.Cmd = exec.Command("ip", append([]string{"netns", "exec", n.Name}, args...)...)
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Stdout = &p.out
	p.Cmd.Stderr = &p.out
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.Cmd.WaitDelay = time.Second // a daemon's children may keep the pipes open
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("netns %s: start %s: %v", n.Name, p.Name, err)
	}
	go func() { p.err = p.Cmd.Wait(); close(p.done) }()
	n.mu.Lock()
	n.procs = append(n.procs, p)
	n.mu.Unlock()
	return p
}

// Output returns everything the process has written so far.
func (p *Proc) Output() string { return p.out.String() }

// Exited reports whether the process has ended, and its error if so.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Wait waits up to timeout for the process to end by itself.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("netns: %s still running after %v", p.Name, timeout)
	}
}

// Kill ends the process group at once with SIGKILL (a crash: daemons get
// no chance to say goodbye to their peers).
func (p *Proc) Kill() {
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM to the process group, then SIGKILL after two seconds.
func (p *Proc) Stop() {
	pid := p.Cmd.Process.Pid
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-p.done
	}
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

// BenchTCP measures one TCP stream from client (bound to from when valid)
// to a listener at to in server: b.N chunks of 1 MiB, every byte checked
// to arrive.
func BenchTCP(b *testing.B, server *NS, to netip.AddrPort, client *NS, from netip.Addr) {
	b.Helper()
	var ln net.Listener
	if err := server.Do(func() (err error) { ln, err = net.Listen("tcp6", to.String()); return err }); err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- 0
			return
		}
		defer c.Close()
		n, _ := io.Copy(io.Discard, c)
		got <- n
	}()
	var c net.Conn
	if err := client.Do(func() (err error) {
		d := net.Dialer{Timeout: 5 * time.Second}
		if from.IsValid() {
			d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, 0))
		}
		c, err = d.Dial("tcp6", to.String())
		return err
	}); err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	c.(*net.TCPConn).CloseWrite()
	n := <-got
	b.StopTimer()
	c.Close()
	if n != int64(b.N)*int64(len(chunk)) {
		b.Fatalf("received %d bytes, sent %d", n, int64(b.N)*int64(len(chunk)))
	}
}
