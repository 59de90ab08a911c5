package ike

import (
	"net/netip"
	"testing"
	"testing/synctest"
)

// The responder prefers a config of the offer's mode: an RFC 3776
// transport-mode request for Binding Updates gets the transport config,
// the payload tunnel request the tunnel config, whatever their order.
func TestChildConfigPrefersOfferedMode(t *testing.T) {
	mh := []Selector{{Proto: ProtoMH, EndPort: 0xffff}} // dynamic address, any MH type
	tunnel := ChildConfig{Name: "mip6", RemoteTS: []Selector{{EndPort: 0xffff}}, LocalTS: []Selector{PrefixSelector(netip.MustParsePrefix("::/0"))}}
	sig := ChildConfig{Name: "mip6-bu", Transport: true, RemoteTS: mh, LocalTS: mh}
	for _, order := range [][]ChildConfig{{tunnel, sig}, {sig, tunnel}} {
		t.Run(order[0].Name+"-first", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, nil, nil)
				defer p.stop()
				p.haPeer.Children = order
				p.start(t)
				p.settle()
				ike := p.mnLog.find(EventIKEEstablished)
				if ike == nil {
					t.Fatalf("no IKE SA: %v", p.mnLog.kinds())
				}
				bu := &ChildConfig{Name: "bu", Transport: true, LocalTS: mh,
					RemoteTS: []Selector{{Start: haAddr, End: haAddr, Proto: ProtoMH, EndPort: 0xffff}}}
				if err := p.mn.CreateChildSA(ike.IKESA.LocalSPI(), bu); err != nil {
					t.Fatal(err)
				}
				p.settle()
				got := map[string]*ChildSA{}
				for _, c := range children(p.ha) {
					got[c.Name] = c
				}
				if c := got["mip6"]; c == nil || c.Transport || len(c.LocalTS) != 1 || c.LocalTS[0].Proto != 0 {
					t.Fatalf("tunnel request: %v (children %v)", c, got)
				}
				c := got["mip6-bu"]
				if c == nil || !c.Transport || len(c.RemoteTS) != 1 || c.RemoteTS[0].Proto != ProtoMH || c.RemoteTS[0].Start != hoa.Addr() {
					t.Fatalf("transport request: %v (children %v)", c, got)
				}
				for _, m := range children(p.mn) {
					if m.Name == "bu" && (!m.Transport || m.InboundSPI != c.OutboundSPI) {
						t.Fatalf("MN side of the transport CHILD_SA: %v", m)
					}
				}
			})
		})
	}
}

// Without a config of the offered mode the responder still takes the
// first one whose selectors intersect (second pass), in its own mode.
func TestChildConfigFallsBackToOtherMode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.start(t)
		p.settle()
		ike := p.mnLog.find(EventIKEEstablished)
		if ike == nil {
			t.Fatalf("no IKE SA: %v", p.mnLog.kinds())
		}
		mh := []Selector{{Proto: ProtoMH, EndPort: 0xffff}}
		bu := &ChildConfig{Name: "bu", Transport: true, LocalTS: mh, RemoteTS: mh}
		if err := p.mn.CreateChildSA(ike.IKESA.LocalSPI(), bu); err != nil {
			t.Fatal(err)
		}
		p.settle()
		n := 0
		for _, c := range children(p.ha) {
			if c.Name != "mip6" || c.Transport {
				t.Fatalf("child %v transport %v", c, c.Transport)
			}
			n++
		}
		if n != 2 {
			t.Fatalf("%d children at the responder, want 2", n)
		}
	})
}
