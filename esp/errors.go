package esp

import (
	"fmt"
	"sync/atomic"
)

// DropReason classifies an inbound packet that Open refused.
type DropReason uint8

const (
	DropMalformed  DropReason = iota + 1 // framing: too short, misaligned
	DropReplay                           // sequence number already received
	DropTooOld                           // sequence number left of the window
	DropBadICV                           // integrity check failed
	DropBadPadding                       // ICV fine but padding or pad length wrong
	DropExpired                          // the SA passed its hard lifetime
	numDropReasons
)

var dropNames = [...]string{
	DropMalformed:  "malformed",
	DropReplay:     "replay",
	DropTooOld:     "too old",
	DropBadICV:     "bad ICV",
	DropBadPadding: "bad padding",
	DropExpired:    "SA expired",
}

func (r DropReason) String() string {
	if r > 0 && r < numDropReasons {
		return dropNames[r]
	}
	return fmt.Sprintf("drop(%d)", uint8(r))
}

// Reasons for errors that are not drops of authentic-looking input.
const (
	ErrWrongDirection    DropReason = 100 + iota // Seal on Inbound or Open on Outbound
	ErrWrongSPI                                  // packet's SPI is not this SA's (the SAD misrouted it)
	ErrSequenceExhausted                         // outbound counter would cycle: rekey
	ErrLifetimeExpired                           // hard lifetime reached: rekey
	ErrOverlap                                   // OpenTo's dst overlaps the packet
)

// Error reports why Seal or Open failed. Use errors.As.
type Error struct {
	SPI    uint32
	Reason DropReason
	Err    error // framing error, when the reason is DropMalformed or DropBadPadding
}

func (e *Error) Error() string {
	var r string
	switch e.Reason {
	case ErrWrongDirection:
		r = "wrong direction for this SA"
	case ErrWrongSPI:
		r = "packet SPI does not match the SA"
	case ErrSequenceExhausted:
		r = "sequence number space exhausted, rekey"
	case ErrOverlap:
		r = "destination buffer overlaps the packet"
	case ErrLifetimeExpired:
		r = "hard lifetime reached, rekey"
	default:
		r = e.Reason.String()
	}
	s := fmt.Sprintf("esp: SA 0x%08x: %s", e.SPI, r)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ConfigError reports an invalid SA configuration.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string { return "esp: config: " + e.Field + ": " + e.Reason }

type stats struct {
	packets atomic.Uint64
	bytes   atomic.Uint64
	drops   [numDropReasons]atomic.Uint64
}

// Stats is a snapshot of an SA's counters.
type Stats struct {
	Packets uint64 // sealed or successfully opened (counting toward the lifetime)
	Bytes   uint64 // payload bytes of those packets
	Drops   [numDropReasons]uint64
}

// Drop returns the count of one drop reason.
func (s Stats) Drop(r DropReason) uint64 {
	if r > 0 && r < numDropReasons {
		return s.Drops[r]
	}
	return 0
}

// Stats reads the SA's counters atomically (each counter individually).
func (sa *SA) Stats() Stats {
	var s Stats
	s.Packets = sa.stats.packets.Load()
	s.Bytes = sa.stats.bytes.Load()
	for i := range s.Drops {
		s.Drops[i] = sa.stats.drops[i].Load()
	}
	return s
}

// drop counts and returns the error for a refused inbound packet. Drops
// without a framing cause share one preallocated error per reason, so a
// flood of forged or replayed packets costs no allocation.
func (sa *SA) drop(r DropReason, cause error) error {
	sa.stats.drops[r].Add(1)
	if cause == nil {
		return &sa.in.dropErrs[r]
	}
	return &Error{SPI: sa.spi, Reason: r, Err: cause}
}
