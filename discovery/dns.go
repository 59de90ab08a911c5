package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Resolver is a small stub resolver: bounded tries over a list of servers,
// a timeout per try, TCP when an answer is truncated.
type Resolver struct {
	// Servers are asked in order; empty uses /etc/resolv.conf.
	Servers []netip.AddrPort
	// Timeout bounds each try (default 2 s).
	Timeout time.Duration
	// Tries is how many rounds over Servers (default 2).
	Tries int
	// Listen, when set, opens a datagram socket per query instead of the
	// host's network (e.g. on a simulated network); there is no TCP then.
	Listen func() (UDPConn, error)
	// Exchange, when set, replaces the transport altogether; it must
	// honour ctx.
	Exchange func(ctx context.Context, m *dns.Msg, server netip.AddrPort, tcp bool) (*dns.Msg, error)
}

// ServerError: no server answered.
type ServerError struct {
	Servers []netip.AddrPort
	Name    string
	Type    string
	Tries   int
	Timeout time.Duration
	Err     error // last error
}

func (e *ServerError) Error() string {
	ss := make([]string, len(e.Servers))
	for i, s := range e.Servers {
		ss[i] = s.Addr().String()
		if s.Port() != 53 {
			ss[i] = s.String()
		}
	}
	what := "DNS server"
	if len(ss) > 1 {
		what = "DNS servers"
	}
	return fmt.Sprintf("discovery: %s %s did not answer %s %s (%d tries, %v each): %v",
		what, strings.Join(ss, ", "), e.Name, e.Type, e.Tries, e.Timeout, e.Err)
}

func (e *ServerError) Unwrap() error { return e.Err }

// RcodeError: a server answered with an error code other than NXDOMAIN.
type RcodeError struct {
	Server netip.AddrPort
	Name   string
	Type   string
	Rcode  int
}

func (e *RcodeError) Error() string {
	return fmt.Sprintf("discovery: DNS server %v answered %s %s with %s", e.Server, e.Name, e.Type, dns.RcodeToString[e.Rcode])
}

// NoRecordsError: the name has no records of the type (NXDOMAIN or NODATA).
type NoRecordsError struct {
	Name     string
	Type     string
	NXDomain bool
}

func (e *NoRecordsError) Error() string {
	if e.NXDomain {
		return fmt.Sprintf("discovery: no %s records for %s (name does not exist)", e.Type, e.Name)
	}
	return fmt.Sprintf("discovery: no %s records for %s", e.Type, e.Name)
}

// UnusableError: records exist but none gives a usable home agent address.
type UnusableError struct {
	Name    string
	Type    string
	Reasons []string
}

func (e *UnusableError) Error() string {
	return fmt.Sprintf("discovery: %s records for %s give no usable home agent address: %s", e.Type, e.Name, strings.Join(e.Reasons, "; "))
}

func (r *Resolver) servers() ([]netip.AddrPort, error) {
	if len(r.Servers) > 0 {
		return r.Servers, nil
	}
	cc, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return nil, fmt.Errorf("discovery: no DNS server configured and /etc/resolv.conf unreadable: %w", err)
	}
	var out []netip.AddrPort
	for _, s := range cc.Servers {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.AddrPortFrom(a, 53))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("discovery: no DNS server configured and none in /etc/resolv.conf")
	}
	return out, nil
}

func (r *Resolver) exchange(ctx context.Context, m *dns.Msg, s netip.AddrPort, tcp bool, timeout time.Duration) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if r.Exchange != nil {
		return r.Exchange(ctx, m, s, tcp)
	}
	if r.Listen != nil {
		return r.exchangeUDP(ctx, m, s, tcp)
	}
	c := &dns.Client{Net: "udp", Timeout: timeout}
	if tcp {
		c.Net = "tcp"
	}
	resp, _, err := c.ExchangeContext(ctx, m, s.String())
	return resp, err
}

// Query asks for name/qtype and returns a NOERROR answer; other outcomes are
// *NoRecordsError (NXDOMAIN), *RcodeError or *ServerError.
func (r *Resolver) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	servers, err := r.servers()
	if err != nil {
		return nil, err
	}
	timeout, tries := r.Timeout, r.Tries
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if tries <= 0 {
		tries = 2
	}
	name = dns.Fqdn(name)
	tname := dns.TypeToString[qtype]
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	var last error
	var rcodeErr *RcodeError
	for try := 0; try < tries; try++ {
		for _, s := range servers {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			m.Id = dns.Id()
			resp, err := r.exchange(ctx, m, s, false, timeout)
			if err == nil && resp.Truncated {
				resp, err = r.exchange(ctx, m, s, true, timeout)
			}
			if err == nil && !answers(resp, name, qtype) {
				err = fmt.Errorf("answer from %v is for another question", s)
			}
			if err != nil {
				last = err
				continue
			}
			switch resp.Rcode {
			case dns.RcodeSuccess:
				return resp, nil
			case dns.RcodeNameError:
				return resp, &NoRecordsError{Name: name, Type: tname, NXDomain: true}
			}
			rcodeErr = &RcodeError{Server: s, Name: name, Type: tname, Rcode: resp.Rcode}
		}
	}
	if rcodeErr != nil {
		return nil, rcodeErr
	}
	return nil, &ServerError{Servers: servers, Name: name, Type: tname, Tries: tries, Timeout: timeout, Err: last}
}

// answers reports whether resp answers name/qtype (a spoofed or stray
// answer does not).
func answers(resp *dns.Msg, name string, qtype uint16) bool {
	return len(resp.Question) == 1 && resp.Question[0].Qtype == qtype && strings.EqualFold(resp.Question[0].Name, name)
}

// usable reports why a is not a usable home agent address ("" if it is).
func usable(a netip.Addr) string {
	switch {
	case !a.Is6() || a.Is4In6():
		return "not an IPv6 address"
	case a.IsUnspecified(), a.IsLoopback(), a.IsMulticast(), a.IsLinkLocalUnicast():
		return "not a global unicast address"
	}
	return ""
}

// hostAddr is a usable address with its record's TTL.
type hostAddr struct {
	addr netip.Addr
	ttl  uint32
}

// aaaaIn collects name's AAAA records from rrs, with reasons for rejects.
func aaaaIn(rrs []dns.RR, name string) (addrs []hostAddr, rejects []string, found bool) {
	for _, rr := range rrs {
		q, ok := rr.(*dns.AAAA)
		if !ok || !strings.EqualFold(q.Hdr.Name, name) {
			continue
		}
		found = true
		a, ok := netip.AddrFromSlice(q.AAAA)
		if !ok {
			rejects = append(rejects, fmt.Sprintf("%s AAAA malformed", name))
			continue
		}
		if why := usable(a); why != "" {
			rejects = append(rejects, fmt.Sprintf("%s AAAA %v is %s", name, a, why))
			continue
		}
		addrs = append(addrs, hostAddr{a, q.Hdr.Ttl})
	}
	return addrs, rejects, found
}

// LookupAAAA returns name's usable IPv6 addresses.
func (r *Resolver) LookupAAAA(ctx context.Context, name string) ([]netip.Addr, error) {
	has, err := r.lookupAAAA(ctx, name)
	addrs := make([]netip.Addr, len(has))
	for i, h := range has {
		addrs[i] = h.addr
	}
	return addrs, err
}

func (r *Resolver) lookupAAAA(ctx context.Context, name string) ([]hostAddr, error) {
	name = dns.Fqdn(name)
	resp, err := r.Query(ctx, name, dns.TypeAAAA)
	if err != nil {
		return nil, err
	}
	addrs, rejects, found := aaaaIn(resp.Answer, name)
	if !found {
		addrs, rejects, found = aaaaIn(resp.Answer, cnameTarget(resp.Answer, name))
	}
	switch {
	case len(addrs) > 0:
		return addrs, nil
	case !found:
		return nil, &NoRecordsError{Name: name, Type: "AAAA"}
	}
	return nil, &UnusableError{Name: name, Type: "AAAA", Reasons: rejects}
}

// cnameTarget follows one CNAME of name in the answer section.
func cnameTarget(rrs []dns.RR, name string) string {
	for _, rr := range rrs {
		if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
			return c.Target
		}
	}
	return ""
}

// ServiceName is the RFC 5026 §3.2.2 SRV name of domain's home agents.
func ServiceName(domain string) string {
	return "_mip6._ipv6." + dns.Fqdn(domain)
}

// LookupSRV resolves domain's home agents (RFC 5026 §3.2.2): the SRV
// records of _mip6._ipv6.<domain> in RFC 2782 order, each target's AAAA
// records (from the additional section when the server put them there).
func (r *Resolver) LookupSRV(ctx context.Context, domain string, intn func(int) int) ([]Candidate, error) {
	name := ServiceName(domain)
	resp, err := r.Query(ctx, name, dns.TypeSRV)
	if err != nil {
		return nil, err
	}
	var recs []*dns.SRV
	for _, rr := range resp.Answer {
		if s, ok := rr.(*dns.SRV); ok && strings.EqualFold(s.Hdr.Name, name) {
			recs = append(recs, s)
		}
	}
	if len(recs) == 0 {
		return nil, &NoRecordsError{Name: name, Type: "SRV"}
	}
	ordered := OrderSRV(recs, intn)
	if len(ordered) == 0 {
		return nil, &UnusableError{Name: name, Type: "SRV", Reasons: []string{`target "." (service not available in this domain, RFC 2782)`}}
	}
	var out []Candidate
	var reasons []string
	for _, s := range ordered {
		addrs, rejects, found := aaaaIn(resp.Extra, s.Target)
		if !found {
			addrs, err = r.lookupAAAA(ctx, s.Target)
			if err != nil {
				reasons = append(reasons, fmt.Sprintf("target %s: %v", s.Target, strings.TrimPrefix(err.Error(), "discovery: ")))
			}
		}
		reasons = append(reasons, rejects...)
		for _, a := range addrs {
			ttl := time.Duration(min(a.ttl, s.Hdr.Ttl)) * time.Second
			out = append(out, Candidate{Addr: a.addr, Source: SourceSRV, Name: s.Target, Priority: s.Priority, Weight: s.Weight, TTL: ttl})
		}
	}
	if len(out) == 0 {
		return nil, &UnusableError{Name: name, Type: "SRV", Reasons: reasons}
	}
	return out, nil
}
