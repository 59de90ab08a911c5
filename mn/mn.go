package mn

import (
	"net/netip"
	"time"
)

// Config configures a mobile node's home registration.
type Config struct {
	HomeAddress netip.Addr
	HomeAgent   netip.Addr
	HomePrefix  netip.Prefix
	// Lifetime requested in Binding Updates (default 1 hour, at most
	// 65535 × 4 s).
	Lifetime time.Duration
	// InitialTimeout and MaxTimeout bound the retransmission back-off
	// (defaults 1 s and 32 s; RFC 6275 INITIAL_BINDACK_TIMEOUT and
	// MAX_BINDACK_TIMEOUT).
	InitialTimeout, MaxTimeout time.Duration
	// MaxAttempts is how many Binding Updates are sent, counting
	// retransmissions, before the home agent counts as vanished (default 8:
	// timeouts 1, 2, 4, 8, 16, 32, 32, 32 s).
	MaxAttempts int
	// RefreshFraction of the granted lifetime after which the binding is
	// refreshed, unless the Binding Refresh Advice asks for earlier
	// (default 0.8).
	RefreshFraction float64
	// KeyMgmt sets the K flag: our IKE SA can follow the care-of address.
	KeyMgmt bool
	// InitialSequence is the first sequence number minus one, e.g. from
	// stable storage after a restart.
	InitialSequence uint16
}

// PrefixSolicitTimeout is the first Mobile Prefix Solicitation retransmission
// timeout (RFC 6275 INITIAL_SOLICIT_TIMER); PrefixSolicitAttempts bounds the
// transmissions.
const (
	PrefixSolicitTimeout  = 3 * time.Second
	PrefixSolicitAttempts = 3
)

// MobileNode is the protocol core of a mobile node's home registration:
// the binding update list entry for its home agent, retransmission,
// refresh, movement and return home, and mobile prefix discovery. It does
// no I/O and owns no timers: every method takes the current time and
// returns the actions to carry out; NextTimer says when to call Timer. Not
// safe for concurrent use: one goroutine owns it.
type MobileNode struct {
	cfg Config
	seq uint16
	coa netip.Addr // current point of attachment; HomeAddress when at home

	registered bool
	regCoA     netip.Addr
	expires    time.Time
	refreshAt  time.Time
	keyMgmt    bool
	failed     bool
	// everRegistered: a binding was accepted since the IKE SA was made, so
	// keyMgmt tells whether that IKE SA can follow us.
	everRegistered bool

	pending outstanding

	mpsID      uint16
	mps        retry
	prefixEnds time.Time // valid lifetime end of the home prefix; zero: unknown
}

// outstanding is the Binding Update awaiting its acknowledgement.
type outstanding struct {
	retry
	bu     SendBindingUpdate
	sentAt time.Time
	dereg  bool
}

// retry is a bounded exponential back-off.
type retry struct {
	active   bool
	deadline time.Time
	timeout  time.Duration
	attempts int
}

// ConfigError names the Config field New refused.
type ConfigError struct {
	Field, Reason string
}

func (e *ConfigError) Error() string { return "mn: config: " + e.Field + ": " + e.Reason }

// New validates cfg and returns a mobile node that is not attached yet.
func New(cfg Config) (*MobileNode, error) {
	if !cfg.HomeAddress.Is6() || !cfg.HomeAgent.Is6() {
		return nil, &ConfigError{Field: "HomeAddress/HomeAgent", Reason: "not IPv6 addresses"}
	}
	if !cfg.HomePrefix.IsValid() || !cfg.HomePrefix.Contains(cfg.HomeAddress) {
		return nil, &ConfigError{Field: "HomePrefix", Reason: "does not contain HomeAddress"}
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = time.Hour
	}
	if max := time.Duration(0xffff) * LifetimeUnit; cfg.Lifetime > max {
		cfg.Lifetime = max
	}
	if cfg.InitialTimeout <= 0 {
		cfg.InitialTimeout = time.Second
	}
	if cfg.MaxTimeout <= 0 {
		cfg.MaxTimeout = 32 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.RefreshFraction <= 0 || cfg.RefreshFraction >= 1 {
		cfg.RefreshFraction = 0.8
	}
	return &MobileNode{cfg: cfg, seq: cfg.InitialSequence}, nil
}

// State is a snapshot for status displays.
type State struct {
	CareOf     netip.Addr
	AtHome     bool
	Registered bool
	Pending    bool // a Binding Update awaits its acknowledgement
	Failed     bool // waiting for a re-bootstrap
	Sequence   uint16
	Expires    time.Time
	Refresh    time.Time
	KeyMgmt    bool
}

// State returns a snapshot.
func (m *MobileNode) State() State {
	return State{CareOf: m.coa, AtHome: m.coa == m.cfg.HomeAddress, Registered: m.registered,
		Pending: m.pending.active, Failed: m.failed, Sequence: m.seq, Expires: m.expires,
		Refresh: m.refreshAt, KeyMgmt: m.keyMgmt}
}

// Attach reports the current care-of address: a new one away from home
// starts a registration (movement), the home address means the node is on
// its home link and de-registers.
func (m *MobileNode) Attach(now time.Time, coa netip.Addr) []Action {
	if coa == m.coa && (m.registered || m.pending.active || m.failed) {
		return nil
	}
	m.coa = coa
	m.failed = false
	if coa == m.cfg.HomeAddress {
		if !m.registered && !m.pending.active {
			return []Action{TunnelActive{Active: false}}
		}
		return append([]Action{m.move(coa)}, m.send(now, true))
	}
	return []Action{m.move(coa), m.send(now, false)}
}

// Deregister removes the binding from wherever the node is, with a Binding
// Update of lifetime 0 (RFC 6275 §11.7.2); a daemon that stops calls it
// and waits for the acknowledgement.
func (m *MobileNode) Deregister(now time.Time) []Action {
	if !m.registered && !m.pending.active {
		return nil
	}
	return []Action{m.send(now, true)}
}

// move says how our SAs follow the new care-of address: the IKE SA moves
// with the ESP SAs only if the home agent granted K; after a registration
// without K it must be re-established from the new address (RFC 6275
// §11.7.1).
func (m *MobileNode) move(coa netip.Addr) MoveEndpoints {
	return MoveEndpoints{CareOf: coa, IKE: m.keyMgmt, ReestablishIKE: m.everRegistered && !m.keyMgmt}
}

// send starts a new Binding Update exchange.
func (m *MobileNode) send(now time.Time, dereg bool) Action {
	m.pending = outstanding{retry: retry{active: true, timeout: m.cfg.InitialTimeout}, dereg: dereg}
	return m.transmit(now, false)
}

// transmit sends the pending BU with a fresh sequence number (RFC 6275
// §11.8: retransmissions use a greater one too).
func (m *MobileNode) transmit(now time.Time, again bool) Action {
	m.seq++
	bu := SendBindingUpdate{Sequence: m.seq, Acknowledge: true, Home: true, KeyMgmt: m.cfg.KeyMgmt,
		HomeAddress: m.cfg.HomeAddress, HomeAgent: m.cfg.HomeAgent, CareOf: m.coa, Retransmission: again}
	if !m.pending.dereg {
		bu.Lifetime = uint16(m.cfg.Lifetime / LifetimeUnit)
	}
	if m.coa != m.cfg.HomeAddress {
		bu.AltCoA = m.coa // also when de-registering from away (RFC 4877 §4.3)
	}
	m.pending.bu, m.pending.sentAt = bu, now
	m.pending.attempts++
	m.pending.deadline = now.Add(m.pending.timeout)
	return bu
}

// NextTimer returns when Timer must next be called (zero: no timer).
func (m *MobileNode) NextTimer() time.Time {
	var t time.Time
	min := func(x time.Time) {
		if !x.IsZero() && (t.IsZero() || x.Before(t)) {
			t = x
		}
	}
	if m.pending.active {
		min(m.pending.deadline)
	} else if m.registered {
		min(m.refreshAt)
	}
	if m.registered {
		min(m.expires)
	}
	if m.mps.active {
		min(m.mps.deadline)
	} else if !m.prefixEnds.IsZero() && m.registered {
		min(m.prefixSolicitAt())
	}
	return t
}

// prefixSolicitAt is when the home prefix is close enough to the end of
// its valid lifetime to ask for a fresh advertisement.
func (m *MobileNode) prefixSolicitAt() time.Time {
	return m.prefixEnds.Add(-2 * PrefixSolicitTimeout * PrefixSolicitAttempts)
}
