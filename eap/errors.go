package eap

import (
	"fmt"

	wire "mip6/wire/eap"
)

// FailureError is an authentication the server refused: an EAP-Failure,
// possibly after a method-level failure (MSCHAPv2 "E=691").
type FailureError struct {
	Method wire.Type
	// Code is the method's error code when it gave one (MSCHAPv2 E=), else 0.
	Code   int
	Detail string
}

func (e *FailureError) Error() string {
	s := fmt.Sprintf("eap: %s: authentication failed", e.Method)
	if e.Code != 0 {
		s += fmt.Sprintf(" (error %d)", e.Code)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// ServerAuthError is a server that failed to prove itself to the peer:
// a wrong MSCHAPv2 authenticator response, an untrusted TLS certificate,
// or an EAP-Success before the method finished (RFC 3748 §4.2).
type ServerAuthError struct {
	Method wire.Type
	Detail string
	Err    error
}

func (e *ServerAuthError) Error() string {
	s := fmt.Sprintf("eap: %s: server authentication failed: %s", e.Method, e.Detail)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ServerAuthError) Unwrap() error { return e.Err }

// ProtocolError is a message that breaks the EAP or method rules: a
// malformed packet, a Request for a method not offered, a response out of
// sequence.
type ProtocolError struct {
	Method wire.Type // 0 when the error is in the EAP layer
	Detail string
	Err    error
}

func (e *ProtocolError) Error() string {
	where := "EAP"
	if e.Method != 0 {
		where = e.Method.String()
	}
	s := fmt.Sprintf("eap: %s: %s", where, e.Detail)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ProtocolError) Unwrap() error { return e.Err }
