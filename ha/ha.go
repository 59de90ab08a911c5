package ha

import (
	"net/netip"
	"sync/atomic"
	"time"
)

// PAD answers the authorisation question of RFC 4877 §4.2: may this
// identity (as authenticated by IKE) use this home address? It is the Peer
// Authorization Database's identity <-> home address link, including the
// temporary entries made for dynamically assigned home addresses.
type PAD interface {
	Authorized(identity string, hoa netip.Addr) bool
}

// Config configures a home agent.
type Config struct {
	// Address is the home agent's address on the home link.
	Address netip.Addr
	// HomePrefixes are the on-link prefixes it serves (132 otherwise).
	HomePrefixes []netip.Prefix
	// HomeAgents lists the addresses of every home agent on the home link
	// by preference, for DHAAD replies; empty means just Address.
	HomeAgents []netip.Addr
	// MaxLifetime caps granted lifetimes (default 1 hour); so does
	// PrefixValidLifetime, the home prefix's remaining valid lifetime.
	MaxLifetime time.Duration
	// RefreshFraction of the granted lifetime is advised in the Binding
	// Refresh Advice option (default 0.8; negative: no option).
	RefreshFraction float64
	// MaxBindings bounds the cache (130 beyond; 0: no bound).
	MaxBindings int
	// KeyMgmtMobility is set when IKE SAs can follow the care-of address
	// (K flag, RFC 6275 §5.1).
	KeyMgmtMobility bool
	// HomeRegistrationDisabled makes every home registration fail with
	// 131, e.g. while the node drains.
	HomeRegistrationDisabled bool
	// Prohibited, if set, is local policy: a true answer refuses the
	// registration with 129.
	Prohibited func(identity string, hoa netip.Addr) bool
	// DuplicateAddress, if set, runs Duplicate Address Detection for a home
	// address about to get its first binding (134 when it returns true).
	DuplicateAddress func(hoa netip.Addr) bool
	// PrefixLifetimes gives the valid and preferred lifetimes advertised in
	// Mobile Prefix Advertisements (default 1 day / 1 hour).
	PrefixValidLifetime, PrefixPreferredLifetime time.Duration
	// BindingErrorRate bounds Binding Errors per second (default 10).
	BindingErrorRate float64
	// PrefixDiscoveryNecessary, if set and true for a home address, makes
	// an accepted registration answer status 1 so that the MN solicits the
	// home prefixes (e.g. while the home link is being renumbered).
	PrefixDiscoveryNecessary func(hoa netip.Addr) bool
}

// HomeAgent is the protocol core of a home agent: binding cache, Binding
// Update processing, DHAAD and prefix discovery. It does no I/O: callers
// hand it decoded messages with their security context and the current
// time, and apply the results. Safe for concurrent use; registrations for
// different home addresses proceed in parallel.
type HomeAgent struct {
	cfg   Config
	pad   PAD
	cache *Cache
	ctr   counters

	errLimit errorLimiter
}

type counters struct {
	status [256]atomic.Uint64
	drop   [numDropReasons]atomic.Uint64
	errors [256]atomic.Uint64
	expiry atomic.Uint64
}

// ConfigError names the Config field New refused.
type ConfigError struct {
	Field, Reason string
}

func (e *ConfigError) Error() string { return "ha: config: " + e.Field + ": " + e.Reason }

// New validates cfg and returns a home agent that asks pad for
// authorisation.
func New(cfg Config, pad PAD) (*HomeAgent, error) {
	if !cfg.Address.Is6() || cfg.Address.Is4In6() {
		return nil, &ConfigError{Field: "Address", Reason: "not an IPv6 address"}
	}
	if len(cfg.HomePrefixes) == 0 {
		return nil, &ConfigError{Field: "HomePrefixes", Reason: "none given"}
	}
	if pad == nil {
		return nil, &ConfigError{Field: "PAD", Reason: "none given"}
	}
	if cfg.MaxLifetime <= 0 {
		cfg.MaxLifetime = time.Hour
	}
	if max := time.Duration(0xffff) * LifetimeUnit; cfg.MaxLifetime > max {
		cfg.MaxLifetime = max
	}
	if cfg.RefreshFraction == 0 {
		cfg.RefreshFraction = 0.8
	}
	if cfg.PrefixValidLifetime <= 0 {
		cfg.PrefixValidLifetime = 24 * time.Hour
	}
	if cfg.PrefixPreferredLifetime <= 0 {
		cfg.PrefixPreferredLifetime = time.Hour
	}
	if cfg.MaxLifetime > cfg.PrefixValidLifetime {
		cfg.MaxLifetime = cfg.PrefixValidLifetime // RFC 6275 §10.3.1
	}
	if cfg.BindingErrorRate <= 0 {
		cfg.BindingErrorRate = 10
	}
	if len(cfg.HomeAgents) == 0 {
		cfg.HomeAgents = []netip.Addr{cfg.Address}
	}
	return &HomeAgent{cfg: cfg, pad: pad, cache: newCache()}, nil
}

// Cache returns the binding cache (read-only use).
func (h *HomeAgent) Cache() *Cache { return h.cache }

// Address returns the home agent's address.
func (h *HomeAgent) Address() netip.Addr { return h.cfg.Address }

// Counters is a snapshot of the home agent's counters.
type Counters struct {
	Status  map[uint8]uint64      // Binding Acknowledgements by status
	Drops   map[DropReason]uint64 // silently discarded messages by reason
	Errors  map[uint8]uint64      // Binding Errors by status
	Expired uint64                // bindings removed at the end of their lifetime
}

// Counters returns a snapshot of the counters (non-zero entries only).
func (h *HomeAgent) Counters() Counters {
	c := Counters{Status: map[uint8]uint64{}, Drops: map[DropReason]uint64{}, Errors: map[uint8]uint64{}, Expired: h.ctr.expiry.Load()}
	for i := range h.ctr.status {
		if v := h.ctr.status[i].Load(); v != 0 {
			c.Status[uint8(i)] = v
		}
		if v := h.ctr.errors[i].Load(); v != 0 {
			c.Errors[uint8(i)] = v
		}
	}
	for i := range h.ctr.drop {
		if v := h.ctr.drop[i].Load(); v != 0 {
			c.Drops[DropReason(i)] = v
		}
	}
	return c
}

func (h *HomeAgent) onHomeLink(a netip.Addr) bool {
	for _, p := range h.cfg.HomePrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Expire removes the bindings whose lifetime ended by now and returns, for
// each, a Result with EffectReleaseHomeAddress|EffectTunnelInactive, plus
// when to call again: the next expiry or a little earlier (zero when the
// cache is empty). Shards with nothing due are skipped without a scan.
func (h *HomeAgent) Expire(now time.Time) ([]Result, time.Time) {
	gone, next := h.cache.expire(now, nil)
	out := make([]Result, len(gone))
	for i, b := range gone {
		h.ctr.expiry.Add(1)
		out[i] = Result{Verdict: Accepted, Effects: EffectReleaseHomeAddress | EffectTunnelInactive, Binding: b, PrevCareOf: b.CareOf}
	}
	return out, next
}

// TunnelSourceAllowed is the ingress check for packets leaving the tunnel
// (reverse tunnelling, HoTi relay): the inner source must be the home
// address the SA was created for, and that home address must be registered
// with that SA's identity.
func (h *HomeAgent) TunnelSourceAllowed(sec SecurityContext, innerSrc netip.Addr) bool {
	if sec.SA == 0 || innerSrc != sec.HomeAddress {
		return false
	}
	b, ok := h.cache.Lookup(innerSrc)
	return ok && b.Identity == sec.Identity
}

// TunnelDestination returns the care-of address to tunnel a packet for dst
// to, if dst is a registered home address (proxy ND interception).
func (h *HomeAgent) TunnelDestination(dst netip.Addr) (Binding, bool) {
	return h.cache.Lookup(dst)
}
