// Package demo runs the whole mip6 system on the in-process lab network
// (vnet) and tells what happened as a readable timeline.
package demo

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// Event is one line of the timeline: who did what, when.
type Event struct {
	At     time.Time
	Actor  string // "mn", "ha", "cn", "dns", "aaa", "lab"
	What   string // "IKE_SA_INIT request", "Binding Update", ...
	Detail string
	// Step names a phase whose latency the summary reports; the first and
	// the last event of the same step delimit it.
	Step string
}

// Timeline collects events from every role, safely from many goroutines.
type Timeline struct {
	mu     sync.Mutex
	start  time.Time
	events []Event
	live   io.Writer // events are also printed here as they happen, if set
}

// NewTimeline starts a timeline at start.
func NewTimeline(start time.Time, live io.Writer) *Timeline {
	return &Timeline{start: start, live: live}
}

// Add records an event.
func (t *Timeline) Add(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.At.IsZero() {
		e.At = time.Now()
	}
	t.events = append(t.events, e)
	if t.live != nil {
		t.print(t.live, e)
	}
}

// Addf records an event with a formatted detail.
func (t *Timeline) Addf(actor, step, what, format string, args ...any) {
	t.Add(Event{Actor: actor, Step: step, What: what, Detail: fmt.Sprintf(format, args...)})
}

func (t *Timeline) print(w io.Writer, e Event) {
	fmt.Fprintf(w, "%9.3f ms  %-4s %-34s %s\n", float64(e.At.Sub(t.start).Microseconds())/1000, e.Actor, e.What, e.Detail)
}

// Events returns a copy of the events so far.
func (t *Timeline) Events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Event(nil), t.events...)
}

// StepLatency is how long one step of the scenario took.
type StepLatency struct {
	Step     string
	Duration time.Duration
	// Signalling is from the step's first event to the mobile node's
	// "registered" or "de-registered" (zero when the step has none).
	Signalling time.Duration
	Events     int
}

// Steps returns the latency of each step, in order of first appearance.
func (t *Timeline) Steps() []StepLatency {
	t.mu.Lock()
	defer t.mu.Unlock()
	first := map[string]time.Time{}
	last := map[string]time.Time{}
	count := map[string]int{}
	done := map[string]time.Time{}
	var order []string
	for _, e := range t.events {
		if e.Step == "" {
			continue
		}
		if _, ok := first[e.Step]; !ok {
			first[e.Step] = e.At
			order = append(order, e.Step)
		}
		if (e.What == "registered" || e.What == "de-registered") && done[e.Step].IsZero() {
			done[e.Step] = e.At
		}
		last[e.Step] = e.At
		count[e.Step]++
	}
	out := make([]StepLatency, len(order))
	for i, s := range order {
		out[i] = StepLatency{Step: s, Duration: last[s].Sub(first[s]), Events: count[s]}
		if d, ok := done[s]; ok {
			out[i].Signalling = d.Sub(first[s])
		}
	}
	return out
}

// WriteEvents prints every event in time order (events reported after the
// fact, such as a bootstrap trace, take their place).
func (t *Timeline) WriteEvents(w io.Writer) {
	evs := t.Events()
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	for _, e := range evs {
		t.print(w, e)
	}
}

// WriteSummary prints the step latencies.
func (t *Timeline) WriteSummary(w io.Writer) {
	fmt.Fprintln(w, "\nSummary")
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, s := range t.Steps() {
		fmt.Fprintf(w, "  %-20s %8.3f ms", s.Step, ms(s.Duration))
		if s.Signalling > 0 {
			fmt.Fprintf(w, "   (move to binding acknowledged: %.3f ms)", ms(s.Signalling))
		}
		fmt.Fprintf(w, "  %d events\n", s.Events)
	}
}
