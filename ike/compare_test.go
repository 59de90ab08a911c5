package ike

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mip6/internal/netns"
	"mip6/internal/peers/strongswan"
)

// BenchmarkResponderVsCharon measures IKE_SA_INIT + IKE_AUTH handshakes
// (PSK, Curve25519, AES-GCM-128, one CHILD_SA, a CP address) per responder
// CPU-second for this engine and for strongSwan's charon, each run as a
// separate process in a network namespace and loaded by this engine as
// initiator from another, at about 1,000 and 10,000 established SAs, with
// the responder's resident memory per SA. Run it with ike/compare.sh.
func BenchmarkResponderVsCharon(b *testing.B) {
	levels := []int{1000, 10000}
	if s := os.Getenv("MIP6_IKE_COMPARE_LEVELS"); s != "" {
		levels = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatal(err)
			}
			levels = append(levels, n)
		}
	}
	const batch = 1000
	for range b.N {
		ours := compareRun(b, "mip6", levels, batch, startOurResponder)
		theirs := compareRun(b, "charon", levels, batch, startCharonResponder)
		for i, lvl := range levels {
			fmt.Printf("at %6d SAs: mip6 %7.0f handshakes/CPU-s, charon %7.0f handshakes/CPU-s, ratio %.1fx; memory mip6 %.1f KiB/SA, charon %.1f KiB/SA\n",
				lvl, ours[i].rate, theirs[i].rate, ours[i].rate/theirs[i].rate, ours[i].kib, theirs[i].kib)
		}
		b.ReportMetric(ours[0].rate/theirs[0].rate, "ratio@1k")
		b.ReportMetric(ours[len(ours)-1].rate/theirs[len(theirs)-1].rate, "ratio@max")
	}
}

type compareResult struct{ rate, kib float64 }

var (
	cmpLoadAddr = netip.MustParseAddr("2001:db8:1::1")
	cmpRespAddr = netip.MustParseAddr("2001:db8:1::2")
)

const comparePSK = "comparison pre-shared key, long enough"

// compareRun establishes SAs to a responder up to each level, then times a
// batch of further handshakes by the responder's CPU time.
func compareRun(b *testing.B, name string, levels []int, batch int, start func(testing.TB, *netns.NS) int) []compareResult {
	load, resp := netns.New(b, "ld"), netns.New(b, "rs")
	netns.Link(b, load, "vld", resp, "vrs")
	load.AddAddr(b, "vld", cmpLoadAddr.String()+"/64")
	resp.AddAddr(b, "vrs", cmpRespAddr.String()+"/64")
	resp.AddAddr(b, "lo", "2001:db8:2::1/128")
	pid := start(b, resp)
	g := newLoadGen(b, load)
	defer g.close()
	var out []compareResult
	rss0 := procRSS(b, pid)
	for _, lvl := range levels {
		g.establish(b, int64(lvl)-g.done.Load())
		cpu0, rss := procCPU(b, pid), procRSS(b, pid)
		g.establish(b, int64(batch))
		cpu := procCPU(b, pid) - cpu0
		r := compareResult{rate: float64(batch) / cpu.Seconds(), kib: float64(rss-rss0) / 1024 / float64(lvl)}
		fmt.Printf("%s: %d SAs, next %d handshakes in %v responder CPU\n", name, lvl, batch, cpu)
		out = append(out, r)
	}
	return out
}

// loadGen drives handshakes with a bounded number in flight.
type loadGen struct {
	ep    *Endpoint
	u     *UDPTransport
	peer  *PeerConfig
	done  atomic.Int64
	fails atomic.Int64
	slots chan struct{}
	next  int
}

func newLoadGen(b testing.TB, ns *netns.NS) *loadGen {
	g := &loadGen{slots: make(chan struct{}, 32)}
	if err := ns.Do(func() error {
		var err error
		g.u, err = ListenUDP(netip.AddrPortFrom(cmpLoadAddr, PortIKE), netip.AddrPortFrom(cmpLoadAddr, PortNATT))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	g.peer = &PeerConfig{LocalID: RFC822("bench@example.net"), RemoteID: FQDN("ha.example.net"), LocalAuth: AuthPSK, RemoteAuth: AuthPSK,
		PSK: []byte(comparePSK), IKEProposals: algSets[0:1:1][0].proposals(), RequestAddress: true,
		Children: []ChildConfig{{Name: "home", Proposals: []ChildProposal{algSets[0].child}, RemoteTS: []Selector{PrefixSelector(netip.MustParsePrefix("2001:db8:2::/64"))}}}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	g.ep = NewEndpoint(Config{Logger: quiet, RetransmitBase: 2 * time.Second}, g.u, func(e Event) {
		switch e.Kind {
		case EventChildEstablished:
			g.done.Add(1)
			<-g.slots
		case EventFailed:
			if !e.IKEAlive || e.Child == nil {
				g.fails.Add(1)
				<-g.slots
			}
		}
	})
	g.u.Serve(g.ep, nil)
	return g
}

func (a algSet) proposals() []IKEProposal { return []IKEProposal{a.ours} }

// establish completes n more handshakes.
func (g *loadGen) establish(b testing.TB, n int64) {
	target := g.done.Load() + n
	deadline := time.Now().Add(time.Duration(n)*20*time.Millisecond + 30*time.Second)
	for g.done.Load()+int64(len(g.slots)) < target {
		g.slots <- struct{}{}
		if err := g.ep.Initiate(g.peer, netip.AddrPortFrom(cmpLoadAddr, PortIKE), netip.AddrPortFrom(cmpRespAddr, PortIKE)); err != nil {
			b.Fatal(err)
		}
		if f := g.fails.Load(); f > 0 || time.Now().After(deadline) {
			b.Fatalf("load: %d failed handshakes, %d done of %d", f, g.done.Load(), target)
		}
	}
	for g.done.Load() < target {
		if f := g.fails.Load(); f > 0 || time.Now().After(deadline) {
			b.Fatalf("load: %d failed handshakes, %d done of %d", f, g.done.Load(), target)
		}
		time.Sleep(time.Millisecond)
	}
}

func (g *loadGen) close() {
	g.u.Close()
}

// procCPU is a process's user+system CPU time from /proc.
func procCPU(b testing.TB, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func procRSS(b testing.TB, pid int) int64 {
	fh, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	s := bufio.NewScanner(fh)
	for s.Scan() {
		if f := strings.Fields(s.Text()); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// startOurResponder runs this test binary as a responder process (see
// TestMain) in ns and returns its pid.
func startOurResponder(b testing.TB, ns *netns.NS) int {
	p := ns.StartEnv(b, []string{"MIP6_IKE_RESPONDER=" + cmpRespAddr.String()}, os.Args[0])
	netns.Eventually(b, 10*time.Second, func() error {
		if !strings.Contains(p.Output(), "ready") {
			return fmt.Errorf("responder not ready: %s", p.Output())
		}
		return nil
	})
	return p.Cmd.Process.Pid
}

// runResponder is the responder process: PSK for any initiator, addresses
// from 2001:db8:2::/64.
func runResponder(addr string) {
	a := netip.MustParseAddr(addr)
	u, err := ListenUDP(netip.AddrPortFrom(a, PortIKE), netip.AddrPortFrom(a, PortNATT))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	peer := &PeerConfig{LocalID: FQDN("ha.example.net"), LocalAuth: AuthPSK, RemoteAuth: AuthPSK, PSK: []byte(comparePSK),
		Children: []ChildConfig{{Name: "home", LocalTS: []Selector{PrefixSelector(netip.MustParsePrefix("2001:db8:2::/64"))}}}}
	var mu sync.Mutex
	next := uint32(0x100)
	ep := NewEndpoint(Config{
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		CookieThreshold: 1 << 20,
		LookupPeer:      func(Identity, *Identity) (*PeerConfig, error) { return peer, nil },
		AssignAddress: func(Identity, netip.Addr) (netip.Prefix, error) {
			mu.Lock()
			defer mu.Unlock()
			next++
			return netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 12: byte(next >> 24), 13: byte(next >> 16), 14: byte(next >> 8), 15: byte(next)}), 64), nil
		},
	}, u, nil)
	u.Serve(ep, nil)
	fmt.Println("ready")
	select {}
}

// startCharonResponder runs charon as the home agent and returns its pid.
func startCharonResponder(b testing.TB, ns *netns.NS) int {
	quiet := map[string]int{}
	for _, s := range []string{"dmn", "mgr", "ike", "chd", "job", "cfg", "knl", "net", "asn", "enc", "lib", "esp", "tls"} {
		quiet[s] = -1
	}
	c := strongswan.Start(b, ns, strongswan.Options{LogLevels: quiet,
		Extra: "threads = 16\ncookie_threshold = 1000000\nblock_threshold = 1000000\ninit_limit_half_open = 0"})
	cfg := strongswan.Config{
		Connections: []strongswan.Conn{{
			Name: "mn", LocalAddrs: []string{cmpRespAddr.String()}, Proposals: []string{algSets[0].ike}, Encap: true,
			Pools: []string{"home"}, Unique: "never",
			Local:    []strongswan.Auth{{Auth: "psk", ID: "ha.example.net"}},
			Remote:   []strongswan.Auth{{Auth: "psk", ID: "bench@example.net"}},
			Children: []strongswan.Child{{Name: "home", LocalTS: []string{"2001:db8:2::/64"}, ESPProposals: []string{algSets[0].esp}}},
		}},
		Secrets: []strongswan.Secret{{Type: "ike", IDs: []string{"bench@example.net", "ha.example.net"}, Data: comparePSK}},
		Pools:   []strongswan.Pool{{Name: "home", Addrs: "2001:db8:2::1:0/108"}},
	}
	if err := c.Load(cfg); err != nil {
		b.Fatal(err)
	}
	return charonPID(b, c.Dir)
}

// charonPID finds the charon whose environment names the instance dir.
func charonPID(b testing.TB, dir string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		env, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if strings.HasSuffix(exe, "charon-systemd") && strings.Contains(string(env), dir) {
			return pid
		}
	}
	b.Fatal("charon process not found")
	return 0
}
