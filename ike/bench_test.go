package ike

import (
	"net/netip"
	"runtime"
	"sync"
	"testing"
)

// syncConn collects datagrams for a benchmark that drives both ends by
// hand; retransmission timers may write concurrently.
type syncConn struct {
	mu  sync.Mutex
	out []Datagram
}

func (c *syncConn) WriteTo(b []byte, local, remote netip.AddrPort) error {
	c.mu.Lock()
	c.out = append(c.out, Datagram{Local: local, Remote: remote, Data: append([]byte(nil), b...)})
	c.mu.Unlock()
	return nil
}

func (c *syncConn) take() []Datagram {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.out
	c.out = nil
	return o
}

type benchPair struct {
	mnConn, haConn syncConn
	mn, ha         *Endpoint
	mnPeer         *PeerConfig
	established    int
}

func newBenchPair(testing.TB) *benchPair {
	p := &benchPair{}
	psk := []byte("a pre-shared key for the benchmark")
	haPeer := &PeerConfig{LocalID: FQDN("ha.example.net"), LocalAuth: AuthPSK, RemoteAuth: AuthPSK, PSK: psk,
		Children: []ChildConfig{{Name: "home", LocalTS: []Selector{PrefixSelector(netip.MustParsePrefix("2001:db8:2::/64"))}}}}
	next := uint16(0)
	p.ha = NewEndpoint(Config{
		LookupPeer: func(Identity, *Identity) (*PeerConfig, error) { return haPeer, nil },
		AssignAddress: func(Identity, netip.Addr) (netip.Prefix, error) {
			next++
			return netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 14: byte(next >> 8), 15: byte(next)}), 64), nil
		},
	}, &p.haConn, func(e Event) {
		if e.Kind == EventChildEstablished {
			p.established++
		}
	})
	one := []IKEProposal{{Encr: DefaultIKEProposals()[0].Encr[:1], PRF: DefaultIKEProposals()[0].PRF[:1], DH: DefaultIKEProposals()[0].DH[:1]}}
	p.mnPeer = &PeerConfig{LocalID: RFC822("alice@example.net"), LocalAuth: AuthPSK, RemoteAuth: AuthPSK, PSK: psk,
		IKEProposals: one, RequestAddress: true,
		Children: []ChildConfig{{Name: "home", Proposals: DefaultChildProposals()[:1], RemoteTS: []Selector{PrefixSelector(netip.MustParsePrefix("2001:db8:2::/64"))}}}}
	p.mn = NewEndpoint(Config{}, &p.mnConn, nil)
	return p
}

// handshake runs IKE_SA_INIT and IKE_AUTH, timing only the responder when
// b is set.
func (p *benchPair) handshake(b *testing.B, i int) {
	timer(b, false)
	mnAddr := netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)}), PortIKE)
	haAddr := netip.AddrPortFrom(netip.MustParseAddr("2001:db8:2::1"), PortIKE)
	if err := p.mn.Initiate(p.mnPeer, mnAddr, haAddr); err != nil {
		panic(err) // the configuration is fixed: a programming error
	}
	for range 2 { // IKE_SA_INIT, IKE_AUTH
		reqs := p.mnConn.take()
		timer(b, true)
		for _, d := range reqs {
			p.ha.Receive(d.Remote, d.Local, d.Data)
		}
		timer(b, false)
		for _, d := range p.haConn.take() {
			p.mn.Receive(d.Remote, d.Local, d.Data)
		}
	}
}

// BenchmarkResponderHandshake is the home agent's cost of one IKE_SA_INIT +
// IKE_AUTH with PSK, X25519, AES-GCM-128, one CHILD_SA and a CP address.
func BenchmarkResponderHandshake(b *testing.B) {
	p := newBenchPair(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.handshake(b, i)
	}
	b.StopTimer()
	if p.established != b.N {
		b.Fatalf("%d of %d handshakes established", p.established, b.N)
	}
	p.mn.Close()
	p.ha.Close()
}

// BenchmarkResponderMemoryPerSA reports the heap the responder holds per
// established IKE SA with its CHILD_SA, over b.N (at least 1,000) SAs.
func BenchmarkResponderMemoryPerSA(b *testing.B) {
	n := max(b.N, 1000)
	p := newBenchPair(b)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		p.handshake(nil, i)
	}
	p.mn.Close() // drop the initiator side; its memory is not the responder's
	p.mnConn.take()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if p.established != n {
		b.Fatalf("%d of %d established", p.established, n)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "B/SA")
	p.ha.Close()
}

// timer starts or stops a benchmark's timer; no-op without a benchmark.
func timer(b *testing.B, on bool) {
	switch {
	case b == nil:
	case on:
		b.StartTimer()
	default:
		b.StopTimer()
	}
}
