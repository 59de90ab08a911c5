package ha

import (
	"net/netip"
	"sync"
	"time"
)

// errorLimiter is a token bucket for Binding Errors, which RFC 6275 §9.3.1
// and §11.3.6 ask to rate-limit: they answer unauthenticated input.
type errorLimiter struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func (l *errorLimiter) allow(now time.Time, rate float64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens += now.Sub(l.last).Seconds() * rate
	} else {
		l.tokens = rate
	}
	if l.tokens > rate {
		l.tokens = rate
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

// CheckHomeAddressOption validates a packet that carries a Home Address
// option (RFC 3776 transport form, RFC 6275 §9.3.1): it is acceptable only
// if hoa has a binding with care-of address src. Otherwise the packet is
// dropped and, within Config.BindingErrorRate, a Binding Error with status
// 1 (unknown binding) is returned for src. IPsec-protected Binding Updates
// are exempt: they go to HandleMH without this check.
func (h *HomeAgent) CheckHomeAddressOption(now time.Time, src, hoa netip.Addr) (BindingError, bool, bool) {
	if b, ok := h.cache.Lookup(hoa); ok && b.CareOf == src && b.Expires.After(now) {
		return BindingError{}, true, false
	}
	h.CountDrop(DropNoBinding)
	if !h.errLimit.allow(now, h.cfg.BindingErrorRate) {
		return BindingError{}, false, false
	}
	h.ctr.errors[ErrorUnknownBinding].Add(1)
	return BindingError{Status: ErrorUnknownBinding, HomeAddress: hoa, To: src}, false, true
}
