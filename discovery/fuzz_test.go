package discovery

import (
	"context"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// FuzzDNSAnswer feeds arbitrary DNS answers (attacker-controlled on the
// path) to SRV and AAAA discovery: never a panic, and every candidate is
// a usable unicast address.
func FuzzDNSAnswer(f *testing.F) {
	z, err := ParseZone("example.net", zoneExample)
	if err != nil {
		f.Fatal(err)
	}
	for _, q := range []dns.Question{{Name: "_mip6._ipv6.example.net.", Qtype: dns.TypeSRV, Qclass: dns.ClassINET},
		{Name: "ha1.example.net.", Qtype: dns.TypeAAAA, Qclass: dns.ClassINET}} {
		m := new(dns.Msg)
		m.Question = []dns.Question{q}
		s := &Server{zones: []*Zone{z}}
		b, _ := s.reply(m).Pack()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &Resolver{Servers: []netip.AddrPort{netip.MustParseAddrPort("[2001:db8::53]:53")}, Tries: 1,
			Exchange: func(_ context.Context, q *dns.Msg, _ netip.AddrPort, _ bool) (*dns.Msg, error) {
				m := new(dns.Msg)
				if err := m.Unpack(b); err != nil {
					return nil, err
				}
				m.Id, m.Question, m.Truncated = q.Id, q.Question, false
				return m, nil
			}}
		cs, _ := r.LookupSRV(context.Background(), "example.net", func(n int) int { return n / 2 })
		for _, c := range cs {
			if usable(c.Addr) != "" {
				t.Fatalf("unusable candidate %v", c)
			}
		}
		_, _ = r.LookupAAAA(context.Background(), "ha1.example.net")
	})
}
