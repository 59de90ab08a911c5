package bootstrap

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"mip6/ike"
	eapwire "mip6/wire/eap"
	"mip6/wire/ikev2"
)

// Step is one stage of a bootstrap, for the demo timeline and operators:
// discovery, each IKE exchange (request first sent to response received)
// and each EAP round trip carried in IKE_AUTH.
type Step struct {
	Name     string     // "discovery", "IKE_SA_INIT", "IKE_AUTH"
	HA       netip.Addr // the candidate, invalid for discovery
	Start    time.Time
	Duration time.Duration
	// Retransmissions of the request before the answer came.
	Retransmissions int
	// Detail: the EAP request type a response carried, candidates found...
	Detail string
}

func (s Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s %8.2fms", s.Name, float64(s.Duration.Microseconds())/1000)
	if s.HA.IsValid() {
		fmt.Fprintf(&b, " ha=%s", s.HA)
	}
	if s.Retransmissions > 0 {
		fmt.Fprintf(&b, " retransmissions=%d", s.Retransmissions)
	}
	if s.Detail != "" {
		b.WriteString(" " + s.Detail)
	}
	return b.String()
}

// Trace is the steps of one bootstrap in order.
type Trace []Step

// RoundTrips counts the IKE exchanges that were answered.
func (t Trace) RoundTrips() int {
	n := 0
	for _, s := range t {
		if s.Name == "IKE_SA_INIT" || s.Name == "IKE_AUTH" {
			n++
		}
	}
	return n
}

func (t Trace) String() string {
	var b strings.Builder
	for _, s := range t {
		b.WriteString(s.String() + "\n")
	}
	return b.String()
}

// recorder times the IKE exchanges an attempt makes by watching the
// datagrams the transport carries (they are encrypted beyond the header).
type recorder struct {
	mu      sync.Mutex
	steps   Trace
	pending map[exchangeKey]*Step
	natt    uint16
}

type exchangeKey struct {
	spi uint64
	id  uint32
}

func newRecorder() *recorder {
	return &recorder{pending: map[exchangeKey]*Step{}, natt: ike.PortNATT}
}

func (r *recorder) add(s Step) {
	r.mu.Lock()
	r.steps = append(r.steps, s)
	r.mu.Unlock()
}

func (r *recorder) header(b []byte, port uint16) (ikev2.Header, bool) {
	if port == r.natt {
		var ok bool
		if b, ok = ikev2.StripNonESPMarker(b); !ok {
			return ikev2.Header{}, false
		}
	}
	h, err := ikev2.ParseHeader(b)
	return h, err == nil
}

// sent notes a request we (the initiator) sent; a repeat is a retransmission.
func (r *recorder) sent(b []byte, local, remote netip.AddrPort, now time.Time) {
	h, ok := r.header(b, local.Port())
	if !ok || h.IsResponse() || !h.IsInitiator() {
		return
	}
	k := exchangeKey{h.InitiatorSPI, h.MessageID}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.pending[k]; s != nil {
		s.Retransmissions++
		return
	}
	if len(r.pending) < 64 { // bounded: one exchange is in flight at a time
		r.pending[k] = &Step{Name: h.Exchange.String(), HA: remote.Addr(), Start: now}
	}
}

// received closes the exchange a response answers.
func (r *recorder) received(b []byte, local netip.AddrPort, now time.Time) {
	h, ok := r.header(b, local.Port())
	if !ok || !h.IsResponse() {
		return
	}
	k := exchangeKey{h.InitiatorSPI, h.MessageID}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.pending[k]
	if s == nil {
		return
	}
	delete(r.pending, k)
	s.Duration = now.Sub(s.Start)
	r.steps = append(r.steps, *s)
}

// annotate adds detail to the last IKE_AUTH step: the EAP request its
// response carried (the EAP peer sees it once decrypted).
func (r *recorder) annotate(detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.steps) - 1; i >= 0; i-- {
		if r.steps[i].Name == "IKE_AUTH" {
			if r.steps[i].Detail != "" {
				r.steps[i].Detail += ", "
			}
			r.steps[i].Detail += detail
			return
		}
	}
}

// unanswered ends an attempt: requests still pending become steps
// without an answer, then the reason the candidate was left.
func (r *recorder) unanswered(ha netip.Addr, reason string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, s := range r.pending {
		s.Duration = now.Sub(s.Start)
		s.Detail = "no answer"
		r.steps = append(r.steps, *s)
		delete(r.pending, k)
	}
	r.steps = append(r.steps, Step{Name: "failed", HA: ha, Start: now, Detail: reason})
}

func (r *recorder) trace() Trace {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(Trace(nil), r.steps...)
}

// tracingPeer is the MN's EAP peer with each request noted in the trace.
type tracingPeer struct {
	peer ike.EAPPeer
	rec  *recorder
}

func (p *tracingPeer) Respond(req []byte) ([]byte, error) {
	var pk eapwire.Packet
	if err := eapwire.Parse(req, &pk); err == nil {
		p.rec.annotate("EAP-Request/" + pk.Type.String())
	}
	return p.peer.Respond(req)
}

func (p *tracingPeer) MSK() []byte { return p.peer.MSK() }
