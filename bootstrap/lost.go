package bootstrap

import (
	"context"
	"errors"
	"sync"

	"mip6/ike"
)

// saTracker follows the bootstrapped IKE SA through rekeys and notices
// when it ends: deleted (by the HA, say) or failed because the HA stopped
// answering. Then the MN must bootstrap again (RFC 4640 §5.3).
type saTracker struct {
	mu   sync.Mutex
	spi  uint64
	lost chan struct{}
	err  error
	fwd  func(ike.Event)
}

func newTracker(spi uint64, fwd func(ike.Event)) *saTracker {
	return &saTracker{spi: spi, lost: make(chan struct{}), fwd: fwd}
}

func (t *saTracker) event(ev ike.Event) {
	t.mu.Lock()
	switch {
	case ev.Kind == ike.EventIKERekeyed && ev.PreviousIKESA.LocalSPI() == t.spi:
		t.spi = ev.IKESA.LocalSPI()
	case ev.IKESA.LocalSPI() != t.spi:
	case ev.Kind == ike.EventIKEDeleted:
		t.end(ErrIKESADeleted)
	case ev.Kind == ike.EventFailed:
		var f *ike.Failure
		if errors.As(ev.Err, &f) && f.Reason == ike.ReasonTimeout {
			t.end(ev.Err)
		}
	}
	t.mu.Unlock()
	if t.fwd != nil {
		t.fwd(ev)
	}
}

// end records why the SA ended; t.mu is held.
func (t *saTracker) end(err error) {
	if t.err == nil {
		t.err = err
		close(t.lost)
	}
}

// ErrIKESADeleted: the bootstrapped IKE SA was deleted (by either side).
var ErrIKESADeleted = errors.New("bootstrap: IKE SA deleted")

// Lost is closed when the bootstrapped IKE SA has ended: deleted, or
// failed because the home agent stopped answering. LostErr says which.
func (r *Result) Lost() <-chan struct{} { return r.tracker.lost }

// IKESPI is the local SPI of the bootstrapped IKE SA as it is now: a
// rekey replaces the one in IKESA (RFC 7296 §2.18).
func (r *Result) IKESPI() uint64 {
	r.tracker.mu.Lock()
	defer r.tracker.mu.Unlock()
	return r.tracker.spi
}

// LostErr is why the IKE SA ended, nil while it lives.
func (r *Result) LostErr() error {
	r.tracker.mu.Lock()
	defer r.tracker.mu.Unlock()
	return r.tracker.err
}

// MobileNode keeps a mobile node bootstrapped across runs: Bootstrap
// replaces the current IKE SA with a fresh bootstrap (at start, when
// Lost fires, on a home prefix change, or periodically to re-anchor to a
// better home agent). The old SA is closed first (break before make: the
// transport is shared), so the cache makes the new run quick.
type MobileNode struct {
	cfg Config
	mu  sync.Mutex
	cur *Result
}

// NewMobileNode returns a mobile node with seed cfg, not yet bootstrapped.
func NewMobileNode(cfg Config) *MobileNode { return &MobileNode{cfg: cfg} }

// Bootstrap runs a (re-)bootstrap and makes its result current.
func (m *MobileNode) Bootstrap(ctx context.Context) (*Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != nil {
		m.cur.Close()
		m.cur = nil
	}
	res, err := Run(ctx, m.cfg)
	if err != nil {
		return nil, err
	}
	m.cur = res
	return res, nil
}

// Current is the last successful bootstrap, nil before the first.
func (m *MobileNode) Current() *Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur
}

// Close ends the current IKE SA.
func (m *MobileNode) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != nil {
		m.cur.Close()
		m.cur = nil
	}
}
