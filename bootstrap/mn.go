package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"mip6/discovery"
	"mip6/ike"
)

// Result is a bootstrapped mobile node: a home agent, a home address and
// an IKE SA with its first CHILD_SA, ready for the mobility layer.
type Result struct {
	HomeAgent discovery.Candidate
	// HomeAddress is the assigned home address with the home prefix length.
	HomeAddress netip.Prefix
	// IKESA describes the IKE SA; IKESA.LocalSPI() is its handle on Endpoint.
	IKESA ike.SAInfo
	// Child is the first CHILD_SA (keys, SPIs, selectors) to install in the SAD.
	Child *ike.ChildSA
	// Signalling is the transport-mode CHILD_SA for BU/BA (Config.TransportForm).
	Signalling *ike.ChildSA
	// PrefixDiscovery is the transport-mode CHILD_SA for Mobile Prefix
	// Solicitations/Advertisements (Config.TransportForm, RFC 4877 §7.2.3).
	PrefixDiscovery *ike.ChildSA
	// Endpoint runs the IKE SA (rekeys, DPD, MoveEndpoints); Close ends it.
	Endpoint *ike.Endpoint
	// Attempts are the candidates that failed before this one.
	Attempts []discovery.Attempt
	Trace    Trace
	// Total is the time from the start of Run to the CHILD_SA.
	Total time.Duration
	// RefreshAfter is the smallest DNS TTL behind the candidates: when to
	// discover again to re-anchor to a better home agent (0: no DNS).
	RefreshAfter time.Duration

	transport Transport
	ownTrans  bool
	tracker   *saTracker
}

// Close deletes the IKE SA and closes the transport Run opened.
func (r *Result) Close() {
	r.Endpoint.Close()
	if r.ownTrans {
		r.transport.Close()
	}
}

// Run bootstraps a mobile node (RFC 4640 §4, RFC 4877 §9): it discovers
// home agent candidates from the seed (the cached home agent first), then
// runs IKE_SA_INIT and IKE_AUTH with a CP request for a home address with
// each in turn until one gives a home address and a CHILD_SA. A candidate
// that does not answer, refuses authentication or answers
// INTERNAL_ADDRESS_FAILURE is left for the next one.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	var cached Cached
	if cfg.Cache.Path != "" {
		var err error
		if cached, err = LoadCache(cfg.Cache.Path, cfg.Identity); err != nil {
			logger(&cfg).Warn("bootstrap: cache ignored", "err", err)
		}
	}
	rec := newRecorder()
	list, err := discover(ctx, &cfg, cached, rec)
	if err != nil {
		return nil, err
	}
	tr, own, err := transport(&cfg)
	if err != nil {
		return nil, err
	}
	res, err := tryCandidates(ctx, &cfg, list, tr, suggestion(&cfg, cached), rec)
	if err != nil {
		if own {
			tr.Close()
		}
		return nil, err
	}
	res.transport, res.ownTrans = tr, own
	res.Trace, res.Total = rec.trace(), time.Since(start)
	if err := cfg.Cache.save(Cached{Identity: cfg.Identity, HomeAgent: &res.HomeAgent,
		HomeAddress: res.HomeAddress, Updated: time.Now().UTC()}); err != nil {
		logger(&cfg).Warn("bootstrap: cache not written", "path", cfg.Cache.Path, "err", err)
	}
	return res, nil
}

func logger(cfg *Config) interface {
	Warn(msg string, args ...any)
} {
	if cfg.IKE.Logger != nil {
		return cfg.IKE.Logger
	}
	return nopLogger{}
}

type nopLogger struct{}

func (nopLogger) Warn(string, ...any) {}

func suggestion(cfg *Config, cached Cached) netip.Addr {
	if cfg.Cache.HomeAddress && cached.HomeAddress.IsValid() {
		return cached.HomeAddress.Addr()
	}
	return cfg.SuggestAddress
}

func transport(cfg *Config) (Transport, bool, error) {
	if cfg.Transport != nil {
		return cfg.Transport, false, nil
	}
	u, err := ListenUDP(cfg.Local)
	if err != nil {
		return nil, false, err
	}
	cfg.Local = u.Local()
	return u, true, nil
}

// discover builds the candidate list: the cached home agent, then what
// the seed yields. The cached one alone suffices when discovery fails,
// except when the seed is infrastructure-less (refused outright).
func discover(ctx context.Context, cfg *Config, cached Cached, rec *recorder) (*discovery.List, error) {
	t0 := time.Now()
	list, err := discovery.Discover(ctx, cfg.discoveryConfig())
	var cands []discovery.Candidate
	if cfg.Cache.HomeAgent && cached.HomeAgent != nil {
		cands = append(cands, *cached.HomeAgent)
	}
	if list != nil {
		cands = append(cands, list.Candidates()...)
	}
	var il *discovery.InfrastructureLessError
	if errors.As(err, &il) || len(cands) == 0 {
		if err == nil {
			err = errors.New("no candidates")
		}
		rec.add(Step{Name: "discovery", Start: t0, Duration: time.Since(t0), Detail: "failed: " + err.Error()})
		return nil, &NoHomeAgentError{Identity: cfg.Identity, Err: err}
	}
	l := discovery.NewList(cands)
	rec.add(Step{Name: "discovery", Start: t0, Duration: time.Since(t0), Detail: fmt.Sprint(l.Candidates())})
	return l, nil
}

// tryCandidates walks the list until one candidate gives a home address.
func tryCandidates(ctx context.Context, cfg *Config, list *discovery.List, tr Transport, suggest netip.Addr, rec *recorder) (*Result, error) {
	d := &dispatcher{}
	tr.Serve(d.receive)
	c, err := list.Current()
	for err == nil {
		res, f, aerr := attempt(ctx, cfg, tr, d, c, suggest, rec)
		if aerr == nil {
			res.HomeAgent, res.Attempts, res.RefreshAfter = c, list.Attempts(), list.RefreshAfter()
			return res, nil
		}
		rec.unanswered(c.Addr, f.String()+": "+aerr.Error(), time.Now())
		if ctx.Err() != nil {
			d.set(nil, nil)
			return nil, fmt.Errorf("bootstrap: %s: %w", cfg.Identity, ctx.Err())
		}
		c, err = list.Failed(f, aerr)
	}
	d.set(nil, nil)
	return nil, &CandidatesFailedError{Identity: cfg.Identity, Attempts: list.Attempts()}
}

// dispatcher hands datagrams to the current attempt's endpoint.
type dispatcher struct {
	cur atomic.Pointer[target]
}

type target struct {
	ep  *ike.Endpoint
	rec *recorder
}

func (d *dispatcher) set(ep *ike.Endpoint, rec *recorder) {
	if ep == nil {
		d.cur.Store(nil)
		return
	}
	d.cur.Store(&target{ep, rec})
}

func (d *dispatcher) receive(local, remote netip.AddrPort, b []byte) {
	t := d.cur.Load()
	if t == nil {
		return
	}
	t.rec.received(b, local, time.Now())
	t.ep.Receive(local, remote, b)
}

// tracingConn is the engine's Conn: the transport, with requests timed.
type tracingConn struct {
	tr  Transport
	rec *recorder
}

func (c tracingConn) WriteTo(b []byte, local, remote netip.AddrPort) error {
	c.rec.sent(b, local, remote, time.Now())
	return c.tr.WriteTo(b, local, remote)
}

// attempt runs IKE_SA_INIT and IKE_AUTH with one candidate on a fresh
// endpoint, which is closed unless the attempt succeeds.
func attempt(ctx context.Context, cfg *Config, tr Transport, d *dispatcher, c discovery.Candidate, suggest netip.Addr, rec *recorder) (*Result, discovery.Failure, error) {
	done := make(chan ike.Event, 1)
	later := make(chan ike.Event, 4) // CHILD_SA events after the first, while attempting
	var mu sync.Mutex
	var tracker *saTracker // set by the first CHILD_SA with a home address
	ep := ike.NewEndpoint(cfg.IKE, tracingConn{tr, rec}, func(ev ike.Event) {
		mu.Lock()
		if t := tracker; t != nil {
			mu.Unlock()
			if ev.Kind == ike.EventChildEstablished || ev.Kind == ike.EventFailed || ev.Kind == ike.EventIKEDeleted {
				select {
				case later <- ev:
				default:
				}
			}
			t.event(ev) // the bootstrapped SA's later life
			return
		}
		ok := ev.Kind == ike.EventChildEstablished && ev.IKESA.AssignedAddress.IsValid()
		if ok {
			tracker = newTracker(ev.IKESA.LocalSPI(), cfg.OnEvent)
		}
		mu.Unlock()
		if ev.Kind == ike.EventChildEstablished || ev.Kind == ike.EventFailed {
			select {
			case done <- ev:
			default:
			}
		}
	})
	d.set(ep, rec)
	peer, closePeer := cfg.peerConfig(suggest, rec)
	defer closePeer()
	if err := ep.Initiate(peer, cfg.Local, netip.AddrPortFrom(c.Addr, cfg.haPort())); err != nil {
		ep.Close()
		return nil, discovery.FailOther, err
	}
	var ev ike.Event
	timer := time.NewTimer(cfg.attemptTimeout())
	defer timer.Stop()
	select {
	case ev = <-done:
	case <-timer.C:
		ep.Close()
		return nil, discovery.FailNoAnswer, fmt.Errorf("no IKE SA within %v", cfg.attemptTimeout())
	case <-ctx.Done():
		ep.Close()
		return nil, discovery.FailOther, ctx.Err()
	}
	if ev.Kind == ike.EventFailed {
		ep.Close()
		return nil, classify(ev.Err), ev.Err
	}
	if !ev.IKESA.AssignedAddress.IsValid() {
		ep.Close()
		return nil, discovery.FailInternalAddressFailure, errors.New("CFG_REPLY carried no home address")
	}
	mu.Lock()
	t := tracker
	mu.Unlock()
	res := &Result{HomeAgent: c, HomeAddress: ev.IKESA.AssignedAddress, IKESA: ev.IKESA, Child: ev.Child, Endpoint: ep, tracker: t}
	switch {
	case cfg.TransportForm && ev.IKESA.NATDetected:
		// Raw ESP and a Home Address option do not cross a NAT: the path
		// does not allow the RFC 3776 form, the tunnelled one still works.
		logger(cfg).Warn("bootstrap: NAT between mobile node and home agent: Binding Updates in the tunnelled form (RFC 4877 §3)",
			"home_agent", c.Addr, "local", ev.IKESA.Local)
	case cfg.TransportForm:
		if err := createSignalling(ctx, cfg, res, later); err != nil {
			ep.Close()
			return nil, discovery.FailOther, err
		}
	}
	return res, 0, nil
}

// classify maps an IKE failure to the candidate list's reasons.
func classify(err error) discovery.Failure {
	var f *ike.Failure
	if !errors.As(err, &f) {
		return discovery.FailOther
	}
	switch f.Reason {
	case ike.ReasonTimeout:
		return discovery.FailNoAnswer
	case ike.ReasonAuthentication:
		return discovery.FailAuthRefused
	case ike.ReasonAddress:
		return discovery.FailInternalAddressFailure
	}
	return discovery.FailOther
}
