package discovery

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Zone is a small authoritative zone parsed from RFC 1035 master-file
// text (the same text knot serves in the system tests).
type Zone struct {
	origin string
	names  map[string][]dns.RR // lower-case owner -> records
	soa    *dns.SOA
}

// ParseZone parses text with origin as $ORIGIN. Without a SOA record one
// is made up, so negative answers carry an authority section.
func ParseZone(origin, text string) (*Zone, error) {
	origin = dns.CanonicalName(origin)
	z := &Zone{origin: origin, names: map[string][]dns.RR{}}
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "zone")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := dns.CanonicalName(rr.Header().Name)
		if !dns.IsSubDomain(origin, name) {
			return nil, fmt.Errorf("discovery: zone %s: record %s is outside the zone", origin, name)
		}
		if soa, ok := rr.(*dns.SOA); ok {
			z.soa = soa
		}
		z.names[name] = append(z.names[name], rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("discovery: zone %s: %w", origin, err)
	}
	if z.soa == nil {
		z.soa = &dns.SOA{Hdr: dns.RR_Header{Name: origin, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
			Ns: "ns." + origin, Mbox: "hostmaster." + origin, Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60}
	}
	return z, nil
}

// exists reports whether name owns records or is an empty non-terminal.
func (z *Zone) exists(name string) bool {
	if len(z.names[name]) > 0 {
		return true
	}
	for owner := range z.names {
		if strings.HasSuffix(owner, "."+name) {
			return true
		}
	}
	return false
}

func (z *Zone) records(name string, qtype uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range z.names[name] {
		if rr.Header().Rrtype == qtype || qtype == dns.TypeANY {
			out = append(out, rr)
		}
	}
	return out
}

// answer fills m, a reply to q.
func (z *Zone) answer(m *dns.Msg, q dns.Question) {
	name := dns.CanonicalName(q.Name)
	if z.origin == "" || !dns.IsSubDomain(z.origin, name) {
		m.Rcode = dns.RcodeRefused
		return
	}
	m.Authoritative = true
	ans := z.records(name, q.Qtype)
	if len(ans) == 0 && q.Qtype != dns.TypeCNAME {
		if c := z.records(name, dns.TypeCNAME); len(c) > 0 {
			ans = append(c, z.records(dns.CanonicalName(c[0].(*dns.CNAME).Target), q.Qtype)...)
		}
	}
	if len(ans) == 0 {
		if !z.exists(name) {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = []dns.RR{z.soa}
		return
	}
	m.Answer = ans
	for _, rr := range ans {
		if s, ok := rr.(*dns.SRV); ok {
			m.Extra = append(m.Extra, z.records(dns.CanonicalName(s.Target), dns.TypeAAAA)...)
		}
	}
}

// Server serves zones over UDP and TCP.
type Server struct {
	zones   []*Zone
	addr    netip.AddrPort
	closers []func() error
	queries atomic.Int64
}

// Serve listens on addr (e.g. "[2001:db8::53]:53" or "[::1]:0") over UDP
// and, on the same port, TCP, answering for zones.
func Serve(addr string, zones ...*Zone) (*Server, error) {
	pc, err := net.ListenPacket("udp6", addr)
	if err != nil {
		return nil, fmt.Errorf("discovery: DNS server: %w", err)
	}
	ap := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	ln, err := net.Listen("tcp6", ap.String())
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("discovery: DNS server: %w", err)
	}
	s := &Server{zones: zones, addr: ap}
	s.start(&dns.Server{PacketConn: pc}, &dns.Server{Listener: ln})
	return s, nil
}

func (s *Server) start(srvs ...*dns.Server) {
	for _, srv := range srvs {
		started := make(chan struct{})
		srv.Handler = dns.HandlerFunc(s.serve)
		srv.NotifyStartedFunc = func() { close(started) }
		s.closers = append(s.closers, srv.Shutdown)
		go srv.ActivateAndServe()
		<-started
	}
}

func (s *Server) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := s.reply(r)
	if _, ok := w.RemoteAddr().(*net.UDPAddr); ok {
		m.Truncate(dns.MinMsgSize)
	}
	w.WriteMsg(m)
}

// reply builds the answer to query r.
func (s *Server) reply(r *dns.Msg) *dns.Msg {
	s.queries.Add(1)
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = false
	if len(r.Question) != 1 || r.Opcode != dns.OpcodeQuery {
		m.Rcode = dns.RcodeFormatError
	} else {
		s.zoneFor(r.Question[0].Name).answer(m, r.Question[0])
	}
	return m
}

// zoneFor picks the zone with the longest origin containing name.
func (s *Server) zoneFor(name string) *Zone {
	name = dns.CanonicalName(name)
	best := &Zone{origin: "", names: map[string][]dns.RR{}}
	for _, z := range s.zones {
		if dns.IsSubDomain(z.origin, name) && len(z.origin) > len(best.origin) {
			best = z
		}
	}
	return best
}

// Addr is the address the server answers on.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Queries counts the queries received.
func (s *Server) Queries() int64 { return s.queries.Load() }

// Close stops the server.
func (s *Server) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}
