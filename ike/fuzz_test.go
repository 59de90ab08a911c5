package ike

import (
	"net/netip"
	"testing"
	"time"

	"mip6/wire/ikev2"
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

// FuzzAuthenticatedRequest feeds arbitrary payload chains, correctly
// encrypted by an authenticated peer, to an established responder SA: the
// peer is trusted to hold the keys, not to send sane content.
func FuzzAuthenticatedRequest(f *testing.F) {
	p := newBenchPair(f)
	seed := func(exch ikev2.ExchangeType, ps ...ikev2.Payload) {
		b, err := ikev2.AppendPayloads(nil, ps)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(exch), uint8(ps[0].PayloadType()), b)
	}
	sel := []Selector{PrefixSelector(netip.MustParsePrefix("2001:db8:2::/64"))}
	seed(ikev2.ExchangeInformational, ikev2.DeleteESP(1, 2, 3))
	seed(ikev2.ExchangeInformational, &ikev2.Delete{Protocol: ikev2.ProtocolIKE})
	seed(ikev2.ExchangeInformational, ikev2.NewNotify(ikev2.NotifyUpdateSAAddresses, nil), ikev2.NewNotify(ikev2.NotifyCookie2, make([]byte, 16)))
	seed(ikev2.ExchangeCreateChildSA, childSAPayload(DefaultChildProposals(), 0x1234, true), &ikev2.Nonce{Data: make([]byte, 32)}, toWire(sel, false), toWire(sel, true))
	seed(ikev2.ExchangeCreateChildSA, &ikev2.Notify{Protocol: ikev2.ProtocolESP, SPI: []byte{1, 2, 3, 4}, Type: ikev2.NotifyRekeySA},
		childSAPayload(DefaultChildProposals(), 0x1234, true), &ikev2.Nonce{Data: make([]byte, 32)}, toWire(sel, false), toWire(sel, true))
	seed(ikev2.ExchangeCreateChildSA, ikeSAPayload(DefaultIKEProposals(), make([]byte, 8)), &ikev2.Nonce{Data: make([]byte, 32)}, &ikev2.KE{Group: ikev2.DHCurve25519, Data: make([]byte, 32)})
	seed(ikev2.ExchangeIKEAuth, &ikev2.ID{Type: ikev2.IDFQDN, Data: []byte("x")})
	i := 0
	f.Fuzz(func(t *testing.T, exch, first uint8, body []byte) {
		mn, ha := onlySA(p.mn), onlySA(p.ha)
		if mn == nil || ha == nil || mn.sa.state != stateEstablished {
			p.mn.Close()
			p.ha.Close()
			p = newBenchPair(f)
			p.handshake(nil, i)
			i++
			mn, ha = onlySA(p.mn), onlySA(p.ha)
		}
		ha.mu.Lock()
		id := ha.sa.peerMsgID
		ha.mu.Unlock()
		mn.mu.Lock()
		h := mn.sa.header(ikev2.ExchangeType(exch), id, false)
		b, err := ikev2.AppendEncryptedHeader(nil, h, ikev2.PayloadType(first), mn.sa.skOut.BodyLen(len(body)))
		if err == nil {
			b, err = mn.sa.skOut.Seal(b, body)
		}
		local, remote := mn.sa.local, mn.sa.remote
		mn.mu.Unlock()
		if err != nil {
			return
		}
		p.ha.Receive(remote, local, b)
		for _, d := range p.haConn.take() {
			p.mn.Receive(d.Remote, d.Local, d.Data)
		}
		p.mnConn.take()
	})
}

// onlySA returns the endpoint's newest established SA, if any.
func onlySA(ep *Endpoint) *saHandle {
	var out *saHandle
	ep.each(func(hd *saHandle) {
		hd.mu.Lock()
		if hd.sa.state == stateEstablished {
			out = hd
		}
		hd.mu.Unlock()
	})
	return out
}

// FuzzInitResponse feeds arbitrary IKE_SA_INIT responses to an initiator.
func FuzzInitResponse(f *testing.F) {
	p := newBenchPair(f)
	from := netip.AddrPortFrom(netip.MustParseAddr("2001:db8:1::10"), PortIKE)
	to := netip.AddrPortFrom(netip.MustParseAddr("2001:db8:2::1"), PortIKE)
	if err := p.mn.Initiate(p.mnPeer, from, to); err != nil {
		f.Fatal(err)
	}
	for _, d := range p.mnConn.take() {
		p.ha.Receive(d.Remote, d.Local, d.Data)
	}
	for _, d := range p.haConn.take() {
		m, err := ikev2.ParseMessage(d.Data)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := ikev2.AppendPayloads(nil, m.Payloads)
		f.Add(uint8(m.Payloads[0].PayloadType()), b)
	}
	f.Add(uint8(ikev2.PayloadNotify), []byte{0, 0, 0, 10, 0, 0, 0x40, 0x06, 1, 2})
	f.Fuzz(func(t *testing.T, first uint8, body []byte) {
		if err := p.mn.Initiate(p.mnPeer, from, to); err != nil {
			t.Fatal(err)
		}
		var spi uint64
		for _, d := range p.mnConn.take() {
			h, _ := ikev2.ParseHeader(d.Data)
			spi = h.InitiatorSPI
		}
		h := ikev2.Header{InitiatorSPI: spi, ResponderSPI: 0x0102030405060708, NextPayload: ikev2.PayloadType(first),
			Exchange: ikev2.ExchangeIKESAInit, Flags: ikev2.FlagResponse, Length: uint32(ikev2.HeaderLen + len(body))}
		p.mn.Receive(from, to, append(ikev2.AppendHeader(nil, h), body...))
		p.mnConn.take()
		p.mn.each(func(hd *saHandle) { // forget the SA silently
			p.mn.run(hd, func(sa *IKESA) { sa.terminate(time.Now(), Event{Kind: EventIKEDeleted}) })
		})
		p.mnConn.take()
	})
}
