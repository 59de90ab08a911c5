package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mip6/ike"
)

// heapReader asks the mip6 responder for its heap after a GC (SIGUSR1)
// and waits for the report.
type heapReader struct {
	pid  int
	path string
}

func (h heapReader) read() (heapStats, error) {
	var st heapStats
	b, err := os.ReadFile(h.path)
	if err != nil {
		return st, err
	}
	err = json.Unmarshal(b, &st)
	return st, err
}

func (h heapReader) sample() (uint64, error) {
	if h.path == "" {
		return 0, nil
	}
	old, err := h.read()
	if err != nil {
		return 0, err
	}
	if err := syscall.Kill(h.pid, syscall.SIGUSR1); err != nil {
		return 0, err
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st, err := h.read(); err == nil && st.Seq > old.Seq {
			return st.HeapAlloc, nil
		}
	}
	return 0, errors.New("responder did not report its heap within 20s")
}

func parsePhases(s string) ([]int, error) {
	var out []int
	prev := 0
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= prev {
			return nil, fmt.Errorf("-phases %q: want increasing SA counts", s)
		}
		out, prev = append(out, n), n
	}
	return out, nil
}

func runInitiator(args []string) error {
	fs := flag.NewFlagSet("initiator", flag.ExitOnError)
	target := fs.String("target", "[2001:db8:b::1]:500", "responder IKE address and port")
	prefix := fs.String("prefix", "2001:db8:c1::/64", "initiator addresses (routed as local to this host)")
	phasesFlag := fs.String("phases", "1000,9000,10000", "established-SA counts at which to sample the responder")
	conc := fs.Int("concurrency", 64, "handshakes in flight at once")
	pid := fs.Int("pid", 0, "responder process id (for /proc/<pid>/stat)")
	heap := fs.String("heap-stats", "", "the mip6 responder's -stats file (SIGUSR1 makes it report its heap)")
	timeout := fs.Duration("timeout", 5*time.Minute, "stop starting handshakes after this long")
	label := fs.String("label", "responder", "name in the report")
	config := fs.String("config", "", "responder configuration, for the report")
	psk := fs.String("psk", "ikebench pre-shared key, not a secret", "pre-shared key")
	respID := fs.String("responder-id", "ha.bench.example", "responder's ID_FQDN")
	out := fs.String("out", "", "JSON result file")
	fs.Parse(args)
	tgt, err := netip.ParseAddrPort(*target)
	if err != nil {
		return err
	}
	pfx, err := netip.ParsePrefix(*prefix)
	if err != nil {
		return err
	}
	phases, err := parsePhases(*phasesFlag)
	if err != nil {
		return err
	}
	if *pid <= 0 || *out == "" {
		return errors.New("initiator: -pid and -out are required")
	}
	total := phases[len(phases)-1]
	if pfx.Bits() > 128-17 || total > 1<<16 {
		return errors.New("initiator: at most 65536 handshakes, from a prefix of /111 or shorter")
	}
	conn, err := listenAny(ike.PortIKE, ike.PortNATT)
	if err != nil {
		return err
	}
	defer conn.Close()
	g := &loadgen{target: tgt, base: pfx.Masked().Addr(), psk: []byte(*psk), respID: ike.FQDN(*respID),
		conc: *conc, done: make(chan bool, total+*conc)}
	g.ep = ike.NewEndpoint(ike.Config{RetransmitBase: 10 * time.Second, RetransmitTries: 3,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}, conn, g.onEvent)
	conn.serve(g.ep, 2)
	res := &result{Label: *label, Config: *config, Concurrency: *conc, Target: total}
	if err := measure(g, res, phases, *pid, heapReader{pid: *pid, path: *heap}, time.Now().Add(*timeout)); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}

// measure runs the phases, sampling the responder's CPU and memory between
// them while no handshake is in flight.
func measure(g *loadgen, res *result, phases []int, pid int, hr heapReader, deadline time.Time) error {
	var err error
	if res.HeapBase, err = hr.sample(); err != nil {
		return err
	}
	start, err := sampleProc(pid)
	if err != nil {
		return err
	}
	res.RSSBase = start.RSS
	have := 0
	for _, upto := range phases {
		est, failed, capped := g.runPhase(upto-have, deadline, time.Minute)
		end, err := sampleProc(pid)
		if err != nil {
			return err
		}
		p := phase{FromSAs: have, ToSAs: have + est, Established: est, Failed: failed,
			CPUSeconds: (end.CPU - start.CPU).Seconds(), WallSeconds: end.At.Sub(start.At).Seconds(), RSSEnd: end.RSS}
		if p.HeapEnd, err = hr.sample(); err != nil {
			return err
		}
		res.Phases = append(res.Phases, p)
		fmt.Fprintf(os.Stderr, "ikebench %s: %d → %d SAs: %d failed, %.2f CPU-s, %.1f s\n",
			res.Label, p.FromSAs, p.ToSAs, failed, p.CPUSeconds, p.WallSeconds)
		if est == 0 {
			return fmt.Errorf("%s: no handshake of %d succeeded (see the responder's log)", res.Label, failed)
		}
		if capped {
			res.Capped = fmt.Sprintf("time limit reached at %d established SAs", p.ToSAs)
			return nil
		}
		have = p.ToSAs
		if start, err = sampleProc(pid); err != nil {
			return err
		}
	}
	return nil
}
