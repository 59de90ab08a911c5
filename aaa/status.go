package aaa

import (
	"context"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// ServerStatus is one server's answer to Status-Server.
type ServerStatus struct {
	Server string
	Err    error // nil when the server answered and the secret matches
}

// Status probes every server with Status-Server (RFC 5997), for health
// checks and operator diagnostics: a dead server gives a *TimeoutError, a
// wrong shared secret a *BadAuthenticatorError. It does not change which
// server Exchange prefers.
func (c *Client) Status(ctx context.Context) []ServerStatus {
	out := make([]ServerStatus, len(c.Servers))
	for i, srv := range c.Servers {
		p := radius.New(radius.CodeStatusServer, srv.Secret)
		rfc2865.NASIdentifier_SetString(p, c.nasID())
		p.Add(80, make(radius.Attribute, maLen)) // Message-Authenticator, RFC 5997 §3
		_, err := c.exchangeWith(ctx, p, srv)
		out[i] = ServerStatus{Server: srv.Addr, Err: err}
	}
	return out
}
