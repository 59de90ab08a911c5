package aaa

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
)

// Server is one RADIUS server and the secret shared with it.
type Server struct {
	Addr   string // host:port, e.g. "[2001:db8:1::10]:1812"
	Secret []byte
}

// Defaults for Client.
const (
	DefaultTimeout = 2 * time.Second
	DefaultRetries = 2
	maxStrayPerTry = 32 // answers ignored per transmission before giving up on it
)

// Client sends RADIUS requests with retransmission and failover: each
// server gets 1+Retries transmissions of the same packet, Timeout apart;
// then the next server is tried. The server that last answered is tried
// first next time. A Client is safe for concurrent use.
type Client struct {
	Servers []Server
	Timeout time.Duration // per transmission; DefaultTimeout if 0
	Retries int           // retransmissions per server; DefaultRetries if 0, none if < 0
	// NASIdentifier is sent in every request (RFC 2865 §5.32); "mip6" if empty.
	NASIdentifier string

	mu        sync.Mutex
	preferred int
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) attempts() int {
	switch {
	case c.Retries < 0:
		return 1
	case c.Retries == 0:
		return 1 + DefaultRetries
	}
	return 1 + c.Retries
}

func (c *Client) nasID() string {
	if c.NASIdentifier != "" {
		return c.NASIdentifier
	}
	return "mip6"
}

// Exchange sends p (Access-Request or Accounting-Request) and returns the
// verified answer and the server that gave it. p.Secret is set per server.
// An Access-Request carrying a Message-Authenticator attribute (16 zero
// bytes) gets it computed; answers to such requests must carry a valid one.
func (c *Client) Exchange(ctx context.Context, p *radius.Packet) (*radius.Packet, Server, error) {
	if len(c.Servers) == 0 {
		return nil, Server{}, errNoServers
	}
	c.mu.Lock()
	first := c.preferred
	c.mu.Unlock()
	var errs []error
	for i := range c.Servers {
		idx := (first + i) % len(c.Servers)
		srv := c.Servers[idx]
		resp, err := c.exchangeWith(ctx, p, srv)
		if err == nil {
			c.mu.Lock()
			c.preferred = idx
			c.mu.Unlock()
			return resp, srv, nil
		}
		if ctx.Err() != nil {
			return nil, srv, ctx.Err()
		}
		errs = append(errs, err)
	}
	return nil, Server{}, &ServersError{Errs: errs}
}

func (c *Client) exchangeWith(ctx context.Context, p *radius.Packet, srv Server) (*radius.Packet, error) {
	p.Secret = srv.Secret
	b, err := p.Encode()
	if err != nil {
		return nil, err
	}
	// Answers to requests carrying EAP must carry a Message-Authenticator
	// (RFC 3579 §3.2); any that is present is verified.
	needMA := false
	switch p.Code {
	case radius.CodeAccessRequest:
		needMA = findMA(b) >= 0
		signRequest(b, srv.Secret)
	case radius.CodeStatusServer:
		signRequest(b, srv.Secret)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", srv.Addr)
	if err != nil {
		return nil, &ProtocolError{Server: srv.Addr, Detail: "dial: " + err.Error()}
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })
	defer stop()
	badField := ""
	for try := 0; try < c.attempts(); try++ {
		if _, err := conn.Write(b); err != nil && ctx.Err() == nil {
			// ICMP unreachable from an earlier try surfaces here; keep trying.
			continue
		}
		resp, bad, err := c.await(conn, b, srv, needMA)
		if resp != nil || err != nil {
			return resp, err
		}
		if bad != "" {
			badField = bad
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if badField == "" && findMA(b) >= 0 && ctx.Err() == nil {
		badField = c.probeSecret(conn, srv)
	}
	if badField != "" {
		return nil, &BadAuthenticatorError{Server: srv.Addr, Field: badField}
	}
	return nil, &TimeoutError{Server: srv.Addr, Attempts: c.attempts()}
}

// probeSecret tells a dead server from a wrong shared secret. Servers drop
// requests whose Message-Authenticator fails (RFC 3579 §3.2), which looks
// like silence; an Access-Request without EAP and without
// Message-Authenticator gets an answer (a reject) whose authenticator
// shows whether the secrets agree.
func (c *Client) probeSecret(conn net.Conn, srv Server) string {
	p := radius.New(radius.CodeAccessRequest, srv.Secret)
	rfc2865.UserName_SetString(p, "mip6-secret-probe")
	rfc2865.NASIdentifier_SetString(p, c.nasID())
	b, err := p.Encode()
	if err != nil {
		return ""
	}
	if _, err := conn.Write(b); err != nil {
		return ""
	}
	_, bad, _ := c.await(conn, b, srv, false)
	return bad
}

// await reads answers until one verifies or the timeout passes. It
// returns the name of the last failed check when none verified.
func (c *Client) await(conn net.Conn, req []byte, srv Server, needMA bool) (*radius.Packet, string, error) {
	conn.SetReadDeadline(time.Now().Add(c.timeout()))
	var buf [radius.MaxPacketLength]byte
	bad := ""
	for i := 0; i < maxStrayPerTry; i++ {
		n, err := conn.Read(buf[:])
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, bad, nil
			}
			continue // e.g. connection refused (ICMP): like no answer
		}
		resp := buf[:n]
		if !validLength(resp) || resp[1] != req[1] || !answers(radius.Code(req[0]), radius.Code(resp[0])) {
			continue
		}
		if !responseAuthentic(resp, req[4:20], srv.Secret) {
			bad = "Response Authenticator"
			continue
		}
		if off := findMA(resp); off >= 0 {
			if !hmacEqual(messageAuthenticator(resp, off, req[4:20], srv.Secret), resp[off:off+maLen]) {
				bad = "Message-Authenticator"
				continue
			}
		} else if needMA {
			bad = "Message-Authenticator"
			continue
		}
		p, err := radius.Parse(resp, srv.Secret)
		if err != nil {
			continue
		}
		return p, "", nil
	}
	return nil, bad, nil
}

func answers(req, resp radius.Code) bool {
	switch req {
	case radius.CodeAccessRequest:
		return resp == radius.CodeAccessAccept || resp == radius.CodeAccessReject || resp == radius.CodeAccessChallenge
	case radius.CodeAccountingRequest:
		return resp == radius.CodeAccountingResponse
	case radius.CodeStatusServer:
		return resp == radius.CodeAccessAccept || resp == radius.CodeAccountingResponse
	}
	return false
}

// newAccessRequest starts an Access-Request with the attributes every
// request carries and a zero Message-Authenticator to be signed.
func (c *Client) newAccessRequest() *radius.Packet {
	p := radius.New(radius.CodeAccessRequest, nil)
	p.Add(rfc2869.MessageAuthenticator_Type, make(radius.Attribute, maLen))
	return p
}
