package ike

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"time"

	"mip6/ike/crypto"
	"mip6/wire/ikev2"
)

// newChildSPI returns a random inbound ESP SPI above the reserved range.
func (ep *Endpoint) newChildSPI() uint32 {
	var b [4]byte
	for {
		if _, err := io.ReadFull(ep.rand(), b[:]); err != nil {
			panic("ike: no randomness: " + err.Error())
		}
		if s := binary.BigEndian.Uint32(b[:]); s > 255 {
			return s
		}
	}
}

// toWire converts selectors for a TS payload.
func toWire(sels []Selector, responder bool) *ikev2.TS {
	ts := &ikev2.TS{Responder: responder}
	for _, s := range sels {
		ts.Selectors = append(ts.Selectors, ikev2.NewTrafficSelector(s.Proto, s.StartPort, s.EndPort, s.Start, s.End))
	}
	return ts
}

// fromWire keeps the IPv6 address-range selectors of a TS payload.
func fromWire(ts *ikev2.TS) []Selector {
	if ts == nil {
		return nil
	}
	var out []Selector
	for _, t := range ts.Selectors {
		if t.Type != ikev2.TSIPv6AddrRange {
			continue
		}
		s := Selector{Start: t.StartAddr, End: t.EndAddr, Proto: t.Protocol, StartPort: t.StartPort, EndPort: t.EndPort}
		if s.Valid() {
			out = append(out, s)
		}
	}
	return out
}

// resolve replaces "dynamic" selectors (Start ::) with addr.
func resolve(sels []Selector, addr netip.Addr) []Selector {
	if len(sels) == 0 {
		return []Selector{AddrSelector(addr)}
	}
	out := make([]Selector, 0, len(sels))
	for _, s := range sels {
		if (!s.Start.IsValid() || s.Start.IsUnspecified()) && (!s.End.IsValid() || s.End.IsUnspecified()) {
			s.Start, s.End = addr, addr
		}
		out = append(out, s)
	}
	return out
}

// anyAddress turns dynamic selectors into ones covering every address.
func anyAddress(sels []Selector) []Selector {
	all := PrefixSelector(netip.MustParsePrefix("::/0"))
	if len(sels) == 0 {
		return []Selector{all}
	}
	out := make([]Selector, 0, len(sels))
	for _, s := range sels {
		if (!s.Start.IsValid() || s.Start.IsUnspecified()) && (!s.End.IsValid() || s.End.IsUnspecified()) {
			s.Start, s.End = all.Start, all.End
		}
		out = append(out, s)
	}
	return out
}

// childRequest is a CHILD_SA this side proposes (IKE_AUTH or CREATE_CHILD_SA).
type childRequest struct {
	cfg      *ChildConfig
	spi      uint32
	tsi, tsr []Selector
	dh       crypto.KeyShare // PFS, CREATE_CHILD_SA only
	ni       []byte          // CREATE_CHILD_SA only
	rekey    *ChildSA
}

func (sa *IKESA) newChildRequest(cfg *ChildConfig, createChild bool) (*childRequest, error) {
	cr := &childRequest{cfg: cfg, spi: sa.ep.newChildSPI()}
	switch {
	case sa.peer.RequestAddress && !sa.assigned.IsValid():
		// The home address is not known yet: offer any address and let
		// the responder narrow to the one it assigns (RFC 4877 §9).
		cr.tsi = anyAddress(cfg.LocalTS)
	default:
		cr.tsi = resolve(cfg.LocalTS, sa.localInner())
	}
	cr.tsr = resolve(cfg.RemoteTS, sa.remoteInner())
	if createChild {
		cr.ni = sa.ep.nonce()
		props := cfg.proposals()
		if len(props) > 0 && len(props[0].DH) > 0 {
			ks, err := crypto.GenerateKeyShare(props[0].DH[0], sa.ep.rand())
			if err != nil {
				return nil, err
			}
			cr.dh = ks
		}
	}
	return cr, nil
}

// localInner is our address inside CHILD_SAs: the assigned home address,
// else the IKE address.
func (sa *IKESA) localInner() netip.Addr {
	if sa.initiator && sa.assigned.IsValid() {
		return sa.assigned.Addr()
	}
	return sa.local.Addr()
}

// remoteInner is the peer's address inside CHILD_SAs: the home address
// we assigned it, else its IKE address.
func (sa *IKESA) remoteInner() netip.Addr {
	if !sa.initiator && sa.assigned.IsValid() {
		return sa.assigned.Addr()
	}
	return sa.remote.Addr()
}

func (cr *childRequest) payloads(sa *IKESA) ikev2.Payloads {
	var ps ikev2.Payloads
	if cr.rekey != nil {
		ps = append(ps, &ikev2.Notify{Protocol: ikev2.ProtocolESP, SPI: spiBytes32(cr.rekey.InboundSPI), Type: ikev2.NotifyRekeySA})
	}
	if cr.cfg.Transport {
		ps = append(ps, ikev2.NewNotify(ikev2.NotifyUseTransportMode, nil))
	}
	ps = append(ps, childSAPayload(cr.cfg.proposals(), cr.spi, cr.ni != nil))
	if cr.ni != nil {
		ps = append(ps, &ikev2.Nonce{Data: cr.ni})
		if cr.dh != nil {
			ps = append(ps, &ikev2.KE{Group: ikev2.DHGroup(cr.dh.Group()), Data: cr.dh.Public()})
		}
	}
	return append(ps, toWire(cr.tsi, false), toWire(cr.tsr, true))
}

// completeChild reads the responder's answer to a childRequest. ni and nr
// are the exchange's nonces.
func (sa *IKESA) completeChild(now time.Time, cr *childRequest, ps ikev2.Payloads, ni, nr []byte) (*ChildSA, error) {
	if n := errorNotify(ps); n != nil {
		return nil, notifyFailure(n.Type)
	}
	saP, _ := ps.Get(ikev2.PayloadSA).(*ikev2.SA)
	suite, spi, err := childFromResponse(cr.cfg.proposals(), saP, cr.ni != nil)
	if err != nil {
		return nil, &Failure{Reason: ReasonNoProposal, Err: err}
	}
	tsi, _ := ps.Get(ikev2.PayloadTSi).(*ikev2.TS)
	tsr, _ := ps.Get(ikev2.PayloadTSr).(*ikev2.TS)
	gotI, gotR := fromWire(tsi), fromWire(tsr)
	if len(gotI) == 0 || len(gotR) == 0 || !Covered(gotI, cr.tsi) || !Covered(gotR, cr.tsr) {
		return nil, failure(ReasonTS, "responder's traffic selectors are not within ours")
	}
	var gir []byte
	if suite.DH != 0 {
		ke, _ := ps.Get(ikev2.PayloadKE).(*ikev2.KE)
		if cr.dh == nil || ke == nil || crypto.DHGroup(ke.Group) != cr.dh.Group() {
			return nil, failure(ReasonProtocol, "PFS group mismatch")
		}
		if gir, err = cr.dh.Shared(ke.Data); err != nil {
			return nil, &Failure{Reason: ReasonProtocol, Err: err}
		}
	}
	transport := cr.cfg.Transport && ps.Notify(ikev2.NotifyUseTransportMode) != nil
	c := sa.makeChild(now, cr.cfg, suite, cr.spi, spi, gotI, gotR, transport)
	sa.keyChild(c, true, gir, ni, nr)
	return c, nil
}

func (sa *IKESA) makeChild(now time.Time, cfg *ChildConfig, suite ChildSuite, in, out uint32, local, remote []Selector, transport bool) *ChildSA {
	c := &ChildSA{Name: cfg.Name, InboundSPI: in, OutboundSPI: out, Suite: suite, LocalTS: local, RemoteTS: remote,
		Transport: transport, Encap: sa.natDetected || sa.local.Port() == sa.ep.NATTPort,
		Local: sa.local, Remote: sa.remote, Established: now, cfg: cfg}
	if cfg.RekeyTime > 0 {
		c.rekeyDue = now.Add(cfg.RekeyTime)
	}
	if cfg.LifeTime > 0 {
		c.expireDue = now.Add(cfg.LifeTime)
	}
	return c
}

// keyChild derives KEYMAT (§2.17); exchInitiator says whether we
// initiated the exchange that created the CHILD_SA.
func (sa *IKESA) keyChild(c *ChildSA, exchInitiator bool, gir, ni, nr []byte) {
	k := crypto.DeriveChildKeys(sa.prf, sa.keys.SKd, gir, ni, nr, c.Suite.Encr, c.Suite.Integ)
	if exchInitiator {
		c.OutEncr, c.OutInteg, c.InEncr, c.InInteg = k.EncrI, k.IntegI, k.EncrR, k.IntegR
	} else {
		c.OutEncr, c.OutInteg, c.InEncr, c.InInteg = k.EncrR, k.IntegR, k.EncrI, k.IntegI
	}
	sa.ep.logChildKeys(sa, c)
}

// childOffer is what a peer proposes for a CHILD_SA.
type childOffer struct {
	sa        *ikev2.SA
	tsi, tsr  []Selector
	transport bool
	ke        *ikev2.KE
	nonce     []byte
}

func readOffer(ps ikev2.Payloads) (*childOffer, error) {
	o := &childOffer{transport: ps.Notify(ikev2.NotifyUseTransportMode) != nil}
	o.sa, _ = ps.Get(ikev2.PayloadSA).(*ikev2.SA)
	tsi, _ := ps.Get(ikev2.PayloadTSi).(*ikev2.TS)
	tsr, _ := ps.Get(ikev2.PayloadTSr).(*ikev2.TS)
	if o.sa == nil || tsi == nil || tsr == nil {
		return nil, errors.New("CHILD_SA request without SA, TSi or TSr")
	}
	o.tsi, o.tsr = fromWire(tsi), fromWire(tsr)
	o.ke, _ = ps.Get(ikev2.PayloadKE).(*ikev2.KE)
	if n, ok := ps.Get(ikev2.PayloadNonce).(*ikev2.Nonce); ok {
		o.nonce = n.Data
	}
	return o, nil
}

// acceptChild is the responder's CHILD_SA negotiation: choose a config
// whose selectors intersect the offer (chooseChildConfig), a proposal,
// keys. It returns the payloads to answer with; on refusal, one error
// notify and no child.
func (sa *IKESA) acceptChild(now time.Time, o *childOffer, ni, nr []byte, createChild bool) (ikev2.Payloads, *ChildSA) {
	cfg, local, remote := sa.chooseChildConfig(o)
	if cfg == nil {
		return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyTSUnacceptable, nil)}, nil
	}
	suite, prop, ok := selectChild(cfg.proposals(), o.sa, createChild)
	if !ok {
		return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyNoProposalChosen, nil)}, nil
	}
	return sa.finishChild(now, cfg, o, suite, prop, local, remote, ni, nr)
}

// chooseChildConfig returns the first config whose selectors intersect the
// offer, narrowed, preferring one whose mode is the offer's: a transport
// mode request for Binding Updates (RFC 4877 §4.3) would otherwise land on
// an any-protocol tunnel config listed before it, and get tunnel mode.
func (sa *IKESA) chooseChildConfig(o *childOffer) (cfg *ChildConfig, local, remote []Selector) {
	peerAddr := sa.remoteInner()
	for _, sameMode := range []bool{true, false} {
		for i := range sa.peer.Children {
			cfg = &sa.peer.Children[i]
			if (cfg.Transport == o.transport) != sameMode {
				continue
			}
			remote = Narrow(o.tsi, resolve(cfg.RemoteTS, peerAddr))
			local = Narrow(o.tsr, resolve(cfg.LocalTS, sa.localInner()))
			if len(remote) != 0 && len(local) != 0 {
				return cfg, local, remote
			}
		}
	}
	return nil, nil, nil
}

func (sa *IKESA) finishChild(now time.Time, cfg *ChildConfig, o *childOffer, suite ChildSuite, prop ikev2.Proposal, local, remote []Selector, ni, nr []byte) (ikev2.Payloads, *ChildSA) {
	var gir []byte
	var ke *ikev2.KE
	if suite.DH != 0 {
		if o.ke == nil || crypto.DHGroup(o.ke.Group) != suite.DH {
			return ikev2.Payloads{ikev2.InvalidKEPayload(ikev2.DHGroup(suite.DH))}, nil
		}
		ks, err := crypto.GenerateKeyShare(suite.DH, sa.ep.rand())
		if err == nil {
			gir, err = ks.Shared(o.ke.Data)
		}
		if err != nil {
			return ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyInvalidSyntax, nil)}, nil
		}
		ke = &ikev2.KE{Group: ikev2.DHGroup(suite.DH), Data: ks.Public()}
	}
	var peerSPI uint32
	for _, q := range o.sa.Proposals {
		if q.Number == prop.Number && len(q.SPI) == 4 {
			peerSPI = binary.BigEndian.Uint32(q.SPI)
		}
	}
	in := sa.ep.newChildSPI()
	prop.SPI = spiBytes32(in)
	transport := o.transport && cfg.Transport
	c := sa.makeChild(now, cfg, suite, in, peerSPI, local, remote, transport)
	sa.keyChild(c, false, gir, ni, nr)
	var ps ikev2.Payloads
	if transport {
		ps = append(ps, ikev2.NewNotify(ikev2.NotifyUseTransportMode, nil))
	}
	ps = append(ps, &ikev2.SA{Proposals: []ikev2.Proposal{prop}})
	if nr != nil && ni != nil && o.nonce != nil {
		ps = append(ps, &ikev2.Nonce{Data: nr})
	}
	if ke != nil {
		ps = append(ps, ke)
	}
	return append(ps, toWire(remote, false), toWire(local, true)), c
}
