package store

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// diagnose dials every endpoint itself, when the client got no answer, to
// name the reason the gRPC client hides behind its deadline: connection
// refused, no route, a certificate the server or this side refuses.
func (e *etcdBackend) diagnose() error {
	var errs []error
	for _, ep := range e.o.Endpoints {
		if err := probeEndpoint(ep, e.o.TLS, e.o.DialTimeout); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ep, err))
		}
	}
	return errors.Join(errs...)
}

func probeEndpoint(ep string, cfg *tls.Config, timeout time.Duration) error {
	hostport, useTLS := ep, cfg != nil
	if u, err := url.Parse(ep); err == nil && u.Host != "" {
		hostport, useTLS = u.Host, u.Scheme == "https" || cfg != nil
	}
	deadline := time.Now().Add(timeout)
	c, err := net.DialTimeout("tcp", hostport, timeout)
	if err != nil || !useTLS {
		if c != nil {
			c.Close()
		}
		return err
	}
	defer c.Close()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	if host, _, err := net.SplitHostPort(hostport); err == nil && cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(c, cfg)
	tc.SetDeadline(deadline)
	if err := tc.Handshake(); err != nil {
		return err
	}
	// With TLS 1.3 the server judges the client's certificate after the
	// handshake: its verdict comes with the first answer.
	if _, err := io.WriteString(tc, "GET /health HTTP/1.1\r\nHost: etcd\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	var b [64]byte
	n, err := tc.Read(b[:])
	if n > 0 && strings.HasPrefix(string(b[:n]), "HTTP/") {
		return nil
	}
	return err
}
