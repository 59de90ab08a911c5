package ike

import (
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"mip6/ike/crypto"
)

// memNet delivers datagrams between endpoints by address, optionally
// dropping some (drop returns true to lose one).
type memNet struct {
	mu    sync.Mutex
	nodes map[netip.Addr]*Endpoint
	drop  func(d Datagram) bool
	sent  int
	// natInside, when valid, is rewritten to natOutside on the way out and
	// back on the way in (ports kept), as a NAT would.
	natInside, natOutside netip.Addr
}

// set changes the network while traffic flows.
func (n *memNet) set(fn func()) {
	n.mu.Lock()
	fn()
	n.mu.Unlock()
}

type memConn struct{ n *memNet }

func (c memConn) WriteTo(b []byte, local, remote netip.AddrPort) error {
	c.n.mu.Lock()
	if c.n.natInside.IsValid() && local.Addr() == c.n.natInside {
		local = netip.AddrPortFrom(c.n.natOutside, local.Port())
	}
	if c.n.natInside.IsValid() && remote.Addr() == c.n.natOutside {
		remote = netip.AddrPortFrom(c.n.natInside, remote.Port())
	}
	dst := c.n.nodes[remote.Addr()]
	c.n.sent++
	lose := c.n.drop != nil && c.n.drop(Datagram{Local: local, Remote: remote, Data: b})
	c.n.mu.Unlock()
	if dst == nil || lose {
		return nil
	}
	data := append([]byte(nil), b...)
	go func() {
		time.Sleep(5 * time.Millisecond)
		dst.Receive(remote, local, data)
	}()
	return nil
}

type eventLog struct {
	mu sync.Mutex
	ev []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	l.ev = append(l.ev, e)
	l.mu.Unlock()
}

func (l *eventLog) kinds() []EventKind {
	l.mu.Lock()
	defer l.mu.Unlock()
	var k []EventKind
	for _, e := range l.ev {
		k = append(k, e.Kind)
	}
	return k
}

func (l *eventLog) find(k EventKind) *Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.ev {
		if l.ev[i].Kind == k {
			return &l.ev[i]
		}
	}
	return nil
}

var (
	mnAddr = netip.MustParseAddr("2001:db8:1::10")
	haAddr = netip.MustParseAddr("2001:db8:2::1")
	hoa    = netip.MustParsePrefix("2001:db8:2::100/64")
)

type pair struct {
	net            *memNet
	mn, ha         *Endpoint
	mnLog, haLog   *eventLog
	mnPeer, haPeer *PeerConfig
}

func newPair(t *testing.T, mnProps, haProps []IKEProposal) *pair {
	psk := []byte("a pre-shared key for the test, long enough")
	p := &pair{net: &memNet{nodes: map[netip.Addr]*Endpoint{}}, mnLog: &eventLog{}, haLog: &eventLog{}}
	p.haPeer = &PeerConfig{
		Name: "alice", LocalID: FQDN("ha.example.net"), RemoteID: RFC822("alice@example.net"),
		LocalAuth: AuthPSK, RemoteAuth: AuthPSK, PSK: psk, IKEProposals: haProps,
		Children: []ChildConfig{{Name: "mip6", RemoteTS: []Selector{{EndPort: 0xffff}}, LocalTS: []Selector{PrefixSelector(netip.MustParsePrefix("::/0"))}}},
	}
	haCfg := Config{
		IKEProposals: haProps,
		LookupPeer: func(idi Identity, idr *Identity) (*PeerConfig, error) {
			if idi.Equal(p.haPeer.RemoteID) {
				return p.haPeer, nil
			}
			return nil, nil
		},
		AssignAddress: func(peer Identity, suggested netip.Addr) (netip.Prefix, error) { return hoa, nil },
		DNS:           []netip.Addr{netip.MustParseAddr("2001:db8:2::53")},
	}
	p.mnPeer = &PeerConfig{
		Name: "ha", LocalID: RFC822("alice@example.net"), RemoteID: FQDN("ha.example.net"),
		LocalAuth: AuthPSK, RemoteAuth: AuthPSK, PSK: psk, IKEProposals: mnProps,
		RequestAddress: true, RequestDNS: true,
		Children: []ChildConfig{{Name: "home", LocalTS: nil, RemoteTS: []Selector{PrefixSelector(netip.MustParsePrefix("::/0"))}}},
	}
	p.mn = NewEndpoint(Config{}, memConn{p.net}, p.mnLog.add)
	p.ha = NewEndpoint(haCfg, memConn{p.net}, p.haLog.add)
	p.net.nodes[mnAddr] = p.mn
	p.net.nodes[haAddr] = p.ha
	return p
}

// stop closes both ends and lets the network drain inside the bubble.
func (p *pair) stop() {
	p.mn.Close()
	p.ha.Close()
	time.Sleep(time.Second)
	synctest.Wait()
}

func (p *pair) start(t *testing.T) {
	t.Helper()
	if err := p.mn.Initiate(p.mnPeer, netip.AddrPortFrom(mnAddr, 500), netip.AddrPortFrom(haAddr, 500)); err != nil {
		t.Fatal(err)
	}
}

func TestPSKHandshakeWithCPAndChild(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.start(t)
		time.Sleep(time.Second)
		synctest.Wait()
		mc, hc := p.mnLog.find(EventChildEstablished), p.haLog.find(EventChildEstablished)
		if mc == nil || hc == nil {
			t.Fatalf("no CHILD_SA: mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
		if mc.IKESA.AssignedAddress != hoa || hc.IKESA.AssignedAddress != hoa {
			t.Fatalf("assigned %v / %v", mc.IKESA.AssignedAddress, hc.IKESA.AssignedAddress)
		}
		m, h := mc.Child, hc.Child
		if m.InboundSPI != h.OutboundSPI || m.OutboundSPI != h.InboundSPI {
			t.Fatalf("SPIs do not pair: %v / %v", m, h)
		}
		if string(m.OutEncr) != string(h.InEncr) || string(m.InEncr) != string(h.OutEncr) || len(m.OutEncr) != 20 {
			t.Fatal("CHILD_SA keys do not pair")
		}
		if len(m.LocalTS) != 1 || m.LocalTS[0].Start != hoa.Addr() || m.LocalTS[0].End != hoa.Addr() {
			t.Fatalf("MN TSi not narrowed to the home address: %v", m.LocalTS)
		}
		if m.Suite.Encr != (crypto.Encr{ID: crypto.ENCR_AES_GCM_16, KeyLen: 128}) {
			t.Fatalf("suite %v", m.Suite)
		}
		if dns := mc.IKESA.DNS; len(dns) != 1 {
			t.Fatalf("DNS %v", dns)
		}
		if mc.IKESA.NATDetected || hc.IKESA.NATDetected || m.Encap || h.Encap {
			t.Fatalf("a NAT seen where there is none: mn %v/%v, ha %v/%v", mc.IKESA.NATDetected, m.Encap, hc.IKESA.NATDetected, h.Encap)
		}
	})
}

// Both ends see a NAT that rewrites the initiator's address (RFC 7296
// §2.23: the request's hashes use a zero responder SPI), and both put ESP
// in UDP.
func TestNATDetectedByBothEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.net.set(func() { p.net.natInside, p.net.natOutside = mnAddr, netip.MustParseAddr("2001:db8:ff::1") })
		p.start(t)
		time.Sleep(time.Second)
		synctest.Wait()
		mc, hc := p.mnLog.find(EventChildEstablished), p.haLog.find(EventChildEstablished)
		if mc == nil || hc == nil {
			t.Fatalf("no CHILD_SA: mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
		if !mc.IKESA.NATDetected || !hc.IKESA.NATDetected || !mc.Child.Encap || !hc.Child.Encap {
			t.Fatalf("NAT missed: mn %v/%v, ha %v/%v", mc.IKESA.NATDetected, mc.Child.Encap, hc.IKESA.NATDetected, hc.Child.Encap)
		}
	})
}

func (l *eventLog) count(k EventKind) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.ev {
		if e.Kind == k {
			n++
		}
	}
	return n
}
