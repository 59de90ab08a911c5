package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// UDPConn is the datagram socket the DNS server and Resolver.Listen use:
// *net.UDPConn has these methods, and so can a simulated network's socket
// (such as mip6/vnet's).
type UDPConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	SetReadDeadline(t time.Time) error
	Close() error
}

// ServeUDP serves zones on conn until Close; conn is closed then.
func ServeUDP(conn UDPConn, addr netip.AddrPort, zones ...*Zone) *Server {
	s := &Server{zones: zones, addr: addr}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, dns.MaxMsgSize)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					continue
				}
				return
			}
			if out := s.respond(buf[:n]); out != nil {
				conn.WriteToUDPAddrPort(out, from)
			}
		}
	}()
	s.closers = append(s.closers, func() error { err := conn.Close(); wg.Wait(); return err })
	return s
}

// respond answers one datagram query, truncating to 512 octets.
func (s *Server) respond(q []byte) []byte {
	r := new(dns.Msg)
	if r.Unpack(q) != nil || r.Response {
		return nil
	}
	m := s.reply(r)
	m.Truncate(dns.MinMsgSize)
	out, err := m.Pack()
	if err != nil {
		return nil
	}
	return out
}

// exchangeUDP runs one query over a socket from r.Listen.
func (r *Resolver) exchangeUDP(ctx context.Context, m *dns.Msg, server netip.AddrPort, tcp bool) (*dns.Msg, error) {
	if tcp {
		return nil, fmt.Errorf("truncated answer from %v and no TCP over this transport", server)
	}
	conn, err := r.Listen()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	q, err := m.Pack()
	if err != nil {
		return nil, err
	}
	if _, err := conn.WriteToUDPAddrPort(q, server); err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	buf := make([]byte, dns.MaxMsgSize)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := conn.SetReadDeadline(deadline); err != nil {
			return nil, err
		}
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return nil, err
		}
		resp := new(dns.Msg)
		if from.Addr().Unmap() != server.Addr().Unmap() || from.Port() != server.Port() ||
			resp.Unpack(buf[:n]) != nil || resp.Id != m.Id || !resp.Response {
			continue
		}
		return resp, nil
	}
}
