package bootstrap

import (
	"errors"
	"fmt"
	"strings"

	"mip6/discovery"
)

// ConfigError is seed information that cannot start a bootstrap.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return "bootstrap: config: " + e.Field + ": " + e.Reason
}

// NoHomeAgentError: discovery found no home agent candidate. Err is the
// discovery error: errors.As finds *discovery.InfrastructureLessError
// (RFC 4640 §9.1: no trust anchor in the seed, refused),
// *discovery.NotFoundError, *discovery.NoRecordsError, ...
type NoHomeAgentError struct {
	Identity string
	Err      error
}

func (e *NoHomeAgentError) Error() string {
	var il *discovery.InfrastructureLessError
	if errors.As(e.Err, &il) {
		return fmt.Sprintf("bootstrap: %s: infrastructure-less bootstrapping refused (RFC 4640 §9.1): %v", e.Identity, e.Err)
	}
	return fmt.Sprintf("bootstrap: %s: no home agent found: %v", e.Identity, e.Err)
}

func (e *NoHomeAgentError) Unwrap() error { return e.Err }

// CandidatesFailedError: every home agent candidate was tried and failed;
// Attempts says why each one did (no answer, authentication refused,
// INTERNAL_ADDRESS_FAILURE, ...). RFC 4877 §9: discover again later.
type CandidatesFailedError struct {
	Identity string
	Attempts []discovery.Attempt
}

func (e *CandidatesFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bootstrap: %s: all %d home agent candidates failed", e.Identity, len(e.Attempts))
	for _, a := range e.Attempts {
		fmt.Fprintf(&b, "; %s: %s", a.Candidate.Addr, a.Failure)
		if a.Err != nil {
			fmt.Fprintf(&b, " (%v)", a.Err)
		}
	}
	return b.String()
}

// Unwrap gives each attempt's error (e.g. *ike.Failure).
func (e *CandidatesFailedError) Unwrap() []error {
	var errs []error
	for _, a := range e.Attempts {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errs
}

// Reasons lists the failure of each attempt in order.
func (e *CandidatesFailedError) Reasons() []discovery.Failure {
	out := make([]discovery.Failure, len(e.Attempts))
	for i, a := range e.Attempts {
		out[i] = a.Failure
	}
	return out
}
