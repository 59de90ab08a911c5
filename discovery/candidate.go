package discovery

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Source says how a candidate home agent was found.
type Source int

const (
	SourceStatic Source = iota + 1 // configured address
	SourceFQDN                     // AAAA of a configured home agent name (RFC 5026 §3.2.1)
	SourceDHAAD                    // DHAAD reply for the home prefix (RFC 6275 §11.4.1)
	SourceSRV                      // SRV _mip6._ipv6.<domain>, then AAAA (RFC 5026 §3.2.2)
)

// MarshalText implements encoding.TextMarshaler.
func (s Source) MarshalText() ([]byte, error) {
	if s < SourceStatic || s > SourceSRV {
		return nil, fmt.Errorf("discovery: unknown source %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Source) UnmarshalText(b []byte) error {
	for v := SourceStatic; v <= SourceSRV; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("discovery: unknown source %q", b)
}

func (s Source) String() string {
	switch s {
	case SourceStatic:
		return "static"
	case SourceFQDN:
		return "dns-fqdn"
	case SourceDHAAD:
		return "dhaad"
	case SourceSRV:
		return "dns-srv"
	}
	return fmt.Sprintf("source(%d)", int(s))
}

// Candidate is one home agent address to try. It marshals to JSON, for an
// MN that caches its candidates between runs.
type Candidate struct {
	Addr   netip.Addr `json:"addr"`
	Source Source     `json:"source"`
	// Name is the DNS name the address came from (SRV target or HA FQDN),
	// empty for static and DHAAD candidates.
	Name string `json:"name,omitempty"`
	// Priority and Weight of the SRV record (SourceSRV only).
	Priority uint16 `json:"priority,omitempty"`
	Weight   uint16 `json:"weight,omitempty"`
	// TTL is how long the DNS data behind the candidate may be cached (the
	// smaller of the SRV and AAAA TTLs); 0 for static and DHAAD ones.
	TTL time.Duration `json:"ttl,omitempty"`
}

func (c Candidate) String() string {
	if c.Name != "" {
		return fmt.Sprintf("%v (%v %s)", c.Addr, c.Source, c.Name)
	}
	return fmt.Sprintf("%v (%v)", c.Addr, c.Source)
}

// Failure is why the caller gave up on a candidate.
type Failure int

const (
	FailNoAnswer               Failure = iota + 1 // IKE_SA_INIT unanswered
	FailAuthRefused                               // AUTHENTICATION_FAILED or the HA's AUTH did not verify
	FailInternalAddressFailure                    // INTERNAL_ADDRESS_FAILURE (RFC 4877 §9)
	FailOther
)

func (f Failure) String() string {
	switch f {
	case FailNoAnswer:
		return "no answer"
	case FailAuthRefused:
		return "authentication refused"
	case FailInternalAddressFailure:
		return "INTERNAL_ADDRESS_FAILURE"
	case FailOther:
		return "failed"
	}
	return fmt.Sprintf("failure(%d)", int(f))
}

// Attempt records one failed candidate.
type Attempt struct {
	Candidate Candidate
	Failure   Failure
	Err       error // detail from the caller, may be nil
}

// ExhaustedError: every candidate failed. The caller should run discovery
// again (RFC 4877 §9: "attempting a new home agent discovery").
type ExhaustedError struct {
	Attempts []Attempt
}

func (e *ExhaustedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "discovery: all %d home agent candidates failed", len(e.Attempts))
	for i, a := range e.Attempts {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%v: %v", sep, a.Candidate, a.Failure)
		if a.Err != nil {
			fmt.Fprintf(&b, " (%v)", a.Err)
		}
	}
	return b.String()
}

// List is the ordered candidate list with a cursor. It is not safe for
// concurrent use.
type List struct {
	cands    []Candidate
	pos      int
	attempts []Attempt
}

// NewList builds a list from candidates, dropping later duplicates of an
// address (the first, most preferred, source wins).
func NewList(cands []Candidate) *List {
	seen := make(map[netip.Addr]bool, len(cands))
	l := &List{}
	for _, c := range cands {
		if !seen[c.Addr] {
			seen[c.Addr] = true
			l.cands = append(l.cands, c)
		}
	}
	return l
}

// Candidates returns every candidate in order.
func (l *List) Candidates() []Candidate { return append([]Candidate(nil), l.cands...) }

// Current is the candidate to try now, or *ExhaustedError when none is left.
func (l *List) Current() (Candidate, error) {
	if l.pos >= len(l.cands) {
		return Candidate{}, &ExhaustedError{Attempts: append([]Attempt(nil), l.attempts...)}
	}
	return l.cands[l.pos], nil
}

// Failed records why the current candidate failed and moves to the next
// one, which it returns (or *ExhaustedError).
func (l *List) Failed(f Failure, err error) (Candidate, error) {
	if l.pos < len(l.cands) {
		l.attempts = append(l.attempts, Attempt{Candidate: l.cands[l.pos], Failure: f, Err: err})
		l.pos++
	}
	return l.Current()
}

// RefreshAfter is the smallest DNS TTL among the candidates: when a
// re-bootstrapping MN should discover again (0: none came from DNS).
func (l *List) RefreshAfter() time.Duration {
	var d time.Duration
	for _, c := range l.cands {
		if c.TTL > 0 && (d == 0 || c.TTL < d) {
			d = c.TTL
		}
	}
	return d
}

// Attempts returns the failures recorded so far.
func (l *List) Attempts() []Attempt { return append([]Attempt(nil), l.attempts...) }
