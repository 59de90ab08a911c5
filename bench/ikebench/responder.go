package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"

	"mip6/ike"
	"mip6/internal/node"
	"mip6/ipsec"
)

// heapStats is what the mip6 responder reports on SIGUSR1, after a GC.
type heapStats struct {
	Seq         int    `json:"seq"` // how many reports so far
	HeapAlloc   uint64 `json:"heap_alloc"`
	Sys         uint64 `json:"sys"`
	Established int64  `json:"established"`
	SADEntries  int    `json:"sad_entries"`
}

// pool hands out /128 addresses from a prefix, reusing released ones.
type pool struct {
	mu     sync.Mutex
	prefix netip.Prefix
	next   netip.Addr
	free   []netip.Addr
}

func newPool(p netip.Prefix) *pool {
	p = p.Masked()
	return &pool{prefix: p, next: p.Addr().Next()}
}

func (p *pool) assign(ike.Identity, netip.Addr) (netip.Prefix, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		a := p.free[n-1]
		p.free = p.free[:n-1]
		return netip.PrefixFrom(a, 128), nil
	}
	if !p.next.IsValid() || !p.prefix.Contains(p.next) {
		return netip.Prefix{}, errors.New("address pool exhausted")
	}
	a := p.next
	p.next = a.Next()
	return netip.PrefixFrom(a, 128), nil
}

func (p *pool) release(sa ike.SAInfo) {
	a := sa.AssignedAddress
	p.mu.Lock()
	p.free = append(p.free, a.Addr())
	p.mu.Unlock()
}

// responder is a minimal home agent: IKE with PSK for any identity, CP
// addresses from a pool, and each CHILD_SA pair installed in an ESP SAD as
// the home agent would (keys expanded into AES-GCM state).
type responder struct {
	sad *ipsec.SAD // nil: CHILD_SAs are only counted

	established atomic.Int64
	failed      atomic.Int64
}

func (r *responder) onEvent(e ike.Event) {
	switch e.Kind {
	case ike.EventChildEstablished:
		if r.sad == nil {
			r.established.Add(1)
			return
		}
		c, err := node.ChildFromIKE(e.Child, e.IKESA.LocalSPI(), e.IKESA.RemoteID.String(), e.IKESA.AssignedAddress.Addr())
		if err == nil {
			err = r.sad.Add(c.In)
		}
		if err == nil {
			err = r.sad.Add(c.Out)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ikebench responder: install CHILD_SA:", err)
			return
		}
		r.established.Add(1)
	case ike.EventFailed:
		r.failed.Add(1)
	}
}

func runResponder(args []string) error {
	fs := flag.NewFlagSet("responder", flag.ExitOnError)
	listen := fs.String("listen", "[2001:db8:b::1]:500", "IKE address and port")
	poolFlag := fs.String("pool", "2001:db8:d::/112", "CP address pool")
	psk := fs.String("psk", "ikebench pre-shared key, not a secret", "pre-shared key")
	id := fs.String("id", "ha.bench.example", "our ID_FQDN")
	stats := fs.String("stats", "", "file to write heap statistics to on SIGUSR1 (and at start)")
	cookies := fs.Int("cookie-threshold", 1<<20, "half-open IKE SAs before cookies are demanded")
	install := fs.Bool("install", true, "install each CHILD_SA pair in an ipsec.SAD (false: IKE engine alone)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run here")
	dhReuse := fs.Duration("dh-reuse", 0, "reuse the responder's DH key for this long (RFC 7296 §2.12; 0: fresh per SA)")
	fs.Parse(args)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	laddr, err := netip.ParseAddrPort(*listen)
	if err != nil {
		return err
	}
	pfx, err := netip.ParsePrefix(*poolFlag)
	if err != nil {
		return err
	}
	ap := newPool(pfx)
	peer := &ike.PeerConfig{Name: "bench", LocalID: ike.FQDN(*id), LocalAuth: ike.AuthPSK, RemoteAuth: ike.AuthPSK,
		PSK: []byte(*psk), Children: []ike.ChildConfig{{Name: "home",
			LocalTS: []ike.Selector{ike.PrefixSelector(netip.MustParsePrefix("2001:db8::/32"))}}}}
	r := &responder{}
	if *install {
		r.sad = ipsec.NewSAD()
	}
	cfg := ike.Config{
		LookupPeer:      func(ike.Identity, *ike.Identity) (*ike.PeerConfig, error) { return peer, nil },
		AssignAddress:   ap.assign,
		ReleaseAddress:  ap.release,
		CookieThreshold: *cookies,
		DHReuse:         *dhReuse,
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	ut, err := ike.ListenUDP(laddr, netip.AddrPortFrom(laddr.Addr(), ike.PortNATT))
	if err != nil {
		return err
	}
	ep := ike.NewEndpoint(cfg, ut, r.onEvent)
	ut.Serve(ep, nil)
	return r.serveSignals(*stats, ep)
}

// serveSignals writes heap statistics on SIGUSR1 and returns on SIGTERM or
// SIGINT, without deleting SAs: the load generator is gone by then.
func (r *responder) serveSignals(path string, ep *ike.Endpoint) error {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	for seq := 0; ; seq++ {
		if path != "" {
			if err := r.writeStats(path, seq); err != nil {
				return err
			}
		}
		if s := <-sig; s != syscall.SIGUSR1 {
			fmt.Fprintf(os.Stderr, "ikebench responder: %d established, %d failed, drops %v\n",
				r.established.Load(), r.failed.Load(), ep.Drops())
			return nil
		}
	}
}

func (r *responder) writeStats(path string, seq int) error {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	st := heapStats{Seq: seq, HeapAlloc: m.HeapAlloc, Sys: m.Sys, Established: r.established.Load()}
	if r.sad != nil {
		st.SADEntries = len(r.sad.All())
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
