package ike

import (
	"net/netip"
	"testing"
)

// FuzzReceive feeds arbitrary datagrams to a responder, on both ports: no
// input may crash it, and none may leave state behind except a half-open
// SA for a well-formed IKE_SA_INIT.
func FuzzReceive(f *testing.F) {
	p := newBenchPair(nil)
	from := netip.AddrPortFrom(netip.MustParseAddr("2001:db8:1::10"), PortIKE)
	if err := p.mn.Initiate(p.mnPeer, from, netip.AddrPortFrom(netip.MustParseAddr("2001:db8:2::1"), PortIKE)); err != nil {
		f.Fatal(err)
	}
	for _, d := range p.mnConn.take() {
		f.Add(d.Data, false)
	}
	f.Add([]byte{0, 0, 0, 0, 1, 2, 3}, true)
	f.Add(make([]byte, 28), false)
	f.Fuzz(func(t *testing.T, b []byte, natt bool) {
		port := uint16(PortIKE)
		if natt {
			port = PortNATT
		}
		p.ha.Receive(netip.AddrPortFrom(netip.MustParseAddr("2001:db8:2::1"), port), from, b)
		p.haConn.take()
		p.ha.mu.Lock()
		n := len(p.ha.sas)
		p.ha.mu.Unlock()
		if n > 1000 {
			t.Fatalf("%d SAs", n)
		}
	})
}
