package aaa

import (
	"errors"
	"fmt"
	"strings"
)

// TimeoutError is a RADIUS server that never answered.
type TimeoutError struct {
	Server   string
	Attempts int
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("aaa: RADIUS server %s did not answer (%d attempts): server down or unreachable", e.Server, e.Attempts)
}

// Timeout reports true, so callers can treat it like a net timeout.
func (e *TimeoutError) Timeout() bool { return true }

// BadAuthenticatorError is an answer that failed verification, usually a
// shared secret that differs between client and server, else a forgery.
type BadAuthenticatorError struct {
	Server string
	Field  string // "Response Authenticator" or "Message-Authenticator"
}

func (e *BadAuthenticatorError) Error() string {
	return fmt.Sprintf("aaa: RADIUS server %s: bad %s in answer (shared secret mismatch or forged answer)", e.Server, e.Field)
}

// RejectError is an Access-Reject.
type RejectError struct {
	Server       string
	UserName     string
	ReplyMessage string
}

func (e *RejectError) Error() string {
	s := fmt.Sprintf("aaa: RADIUS server %s rejected %q", e.Server, e.UserName)
	if e.ReplyMessage != "" {
		s += ": " + e.ReplyMessage
	}
	return s
}

// ProtocolError is an answer that breaks RADIUS or RFC 3579 rules.
type ProtocolError struct {
	Server string
	Detail string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("aaa: RADIUS server %s: %s", e.Server, e.Detail)
}

// ServersError says why each configured server failed (failover exhausted).
// errors.As finds the individual *TimeoutError or *BadAuthenticatorError.
type ServersError struct {
	Errs []error
}

func (e *ServersError) Error() string {
	if len(e.Errs) == 1 {
		return e.Errs[0].Error()
	}
	parts := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		parts[i] = err.Error()
	}
	return "aaa: all RADIUS servers failed: " + strings.Join(parts, "; ")
}

func (e *ServersError) Unwrap() []error { return e.Errs }

var errNoServers = errors.New("aaa: no RADIUS servers configured")
