package node

import (
	"fmt"
	"maps"
	"net/netip"
	"time"

	"mip6/esp"
	"mip6/ha"
	"mip6/internal/control"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// apply carries out what processing a Binding Update (or an expiry) asked.
func (h *HomeAgent) apply(r ha.Result, from netip.AddrPort) {
	b := r.Binding
	if r.Verdict == ha.Dropped {
		h.log.Warn("binding update dropped", "reason", r.Drop.String(), "from", from)
		h.obs("ha", "", "Binding Update dropped", r.Drop.String())
		return
	}
	h.mu.Lock()
	children := append([]*Child(nil), h.byHoA[b.HomeAddress]...)
	h.mu.Unlock()
	if r.Effects.Has(ha.EffectMoveTunnel) {
		h.mu.Lock()
		// A transport-form BU (raw ESP) has no port: the UDP tunnel keeps its own.
		remote := netip.AddrPortFrom(b.CareOf, h.carePort(b.HomeAddress, b.CareOf, from.Port()))
		h.remotes[b.HomeAddress] = remote
		sig := append([]*Child(nil), h.sig[b.HomeAddress]...)
		h.mu.Unlock()
		for _, c := range children {
			moveRemote(c.Out, remote)
		}
		for _, c := range sig {
			moveRemote(c.Out, netip.AddrPortFrom(b.CareOf, 0))
		}
		if r.PrevCareOf.IsValid() && r.PrevCareOf != b.CareOf {
			h.t.counters.inc(cHandovers)
		}
	}
	if r.Effects.Has(ha.EffectMoveIKE) && h.moveIKE != nil && b.IKESA != 0 {
		to := h.remoteOf(b.HomeAddress)
		if r.Effects.Has(ha.EffectReleaseHomeAddress) {
			// De-registered from home: the IKE SA follows to the home address
			// (RFC 6275 §10.3.2), keeping its port.
			to = netip.AddrPortFrom(r.Ack.CareOf, 0)
		}
		h.moveIKE(b.IKESA, to)
	}
	if r.Effects.Has(ha.EffectTunnelActive) {
		for _, c := range children {
			h.t.setActive(c, true)
		}
	}
	if r.Effects.Has(ha.EffectTunnelInactive) {
		for _, c := range children {
			h.t.setActive(c, false)
		}
	}
	if r.Effects.Has(ha.EffectClaimHomeAddress) {
		h.link.Claim(b.HomeAddress)
		if h.onBind != nil {
			h.onBind(b, true)
		}
	}
	if r.Effects.Has(ha.EffectReleaseHomeAddress) {
		h.mu.Lock()
		delete(h.forms, b.HomeAddress)
		h.mu.Unlock()
		h.link.Release(b.HomeAddress)
		if h.onBind != nil {
			h.onBind(b, false)
		}
	}
	if r.Verdict == ha.Accepted {
		h.t.counters.inc(cRegistrations)
		h.log.Info("binding", "identity", b.Identity, "hoa", b.HomeAddress, "coa", b.CareOf, "seq", b.Sequence)
	}
	if r.SendAck {
		h.sendAck(r.Ack)
	}
	if r.SendError {
		h.sendError(r.Error)
	}
}

// sendAck sends a Binding Acknowledgement through the outbound SA paired
// with the inbound SA the Binding Update came through, to its outer source.
func (h *HomeAgent) sendAck(a ha.BindingAck) {
	h.mu.Lock()
	c := h.children[uint32(a.SA)]
	h.mu.Unlock()
	if c == nil {
		h.t.counters.inc(cDropNoTunnel)
		return
	}
	m := mh.BindingAck{Status: mh.Status(a.Status), KeyManagementMobilityCapability: a.KeyMgmt, Sequence: a.Sequence, Lifetime: a.Lifetime}
	if a.Refresh != 0 {
		m.Options.Present |= mh.HasBindingRefreshAdvice
		m.Options.RefreshInterval = a.Refresh
	}
	body := m.Append(nil, a.HomeAgent, a.HomeAddress)
	var err error
	if c.signalling() {
		err = h.sendTransportAck(c, a, body)
	} else {
		err = h.sendTunnelledAck(c, a, body)
	}
	if err == nil {
		h.t.counters.inc(cBAOut)
		if h.observed {
			h.obs("ha", "", "Binding Ack sent", fmt.Sprintf("status %d (%s) seq %d lifetime %s refresh %s",
				a.Status, mh.Status(a.Status), a.Sequence, mh.LifetimeDuration(a.Lifetime), mh.LifetimeDuration(a.Refresh)))
		}
	}
}

// sendTunnelledAck sends a Binding Acknowledgement in the RFC 4877 §3
// tunnelled form through the tunnel-mode pair c.
func (h *HomeAgent) sendTunnelledAck(c *Child, a ha.BindingAck, body []byte) error {
	inner := ipv6.AppendPacket(nil, a.HomeAgent, a.HomeAddress, ipv6.ProtoMobility, body)
	// The ack goes to where the BU came from (its outer source), which is
	// also right when the binding was refused or removed and the SA's
	// endpoint did not move.
	to := c.Out.SA.Endpoints().Remote
	if a.CareOf.IsValid() {
		to = netip.AddrPortFrom(a.CareOf, h.remoteOf(a.HomeAddress).Port())
		if to.Port() == 0 && c.Out.SA.Endpoints().Carrier != esp.CarrierESP {
			to = netip.AddrPortFrom(a.CareOf, 4500)
		}
	}
	return h.t.sendTo(c.Out, inner, to)
}

// carePort is the UDP port of a home address's care-of endpoint at coa:
// port when the BU came in UDP; after a raw ESP BU, the port the endpoint
// or the tunnel SAs had at that address, else 4500, the mobile node's own
// (RFC 3948: a raw ESP BU crossed no NAT); 0 when the tunnel itself is raw
// ESP. h.mu is held.
func (h *HomeAgent) carePort(hoa, coa netip.Addr, port uint16) uint16 {
	if list := h.byHoA[hoa]; len(list) > 0 && list[len(list)-1].Out.SA.Endpoints().Carrier == esp.CarrierESP {
		return 0
	}
	if port != 0 {
		return port
	}
	if r := h.remotes[hoa]; r.Addr() == coa && r.Port() != 0 {
		return r.Port()
	}
	for _, c := range h.byHoA[hoa] {
		if r := c.Out.SA.Endpoints().Remote; r.Addr() == coa && r.Port() != 0 {
			return r.Port()
		}
	}
	return 4500
}

// sendError sends a Binding Error through the tunnel of its home address.
func (h *HomeAgent) sendError(e ha.BindingError) {
	h.mu.Lock()
	list := h.byHoA[e.HomeAddress]
	h.mu.Unlock()
	if len(list) == 0 {
		h.t.counters.inc(cDropNoTunnel)
		return
	}
	m := mh.BindingError{Status: mh.BEStatus(e.Status), HomeAddress: e.HomeAddress}
	body := m.Append(nil, h.core.Address(), e.To)
	inner := ipv6.AppendPacket(nil, h.core.Address(), e.To, ipv6.ProtoMobility, body)
	if h.t.send(list[0].Out, inner) == nil {
		h.t.counters.inc(cBEOut)
	}
}

// FromHomeLink tunnels a packet the home link delivered for a registered
// home address (proxy ND intercepted it) to the mobile node's care-of
// address. It reports whether the packet was taken.
func (h *HomeAgent) FromHomeLink(pkt []byte) bool {
	hdr, err := ipv6.ParseHeader(pkt)
	if err != nil {
		return false
	}
	if hdr.Dst == ha.HomeAgentsAnycast(h.homePrefix) {
		h.answerDHAAD(pkt, hdr)
		return true
	}
	if _, ok := h.core.TunnelDestination(hdr.Dst); !ok {
		return false
	}
	h.mu.Lock()
	list := h.byHoA[hdr.Dst]
	h.mu.Unlock()
	for _, c := range list {
		if c.active.Load() {
			if h.t.send(c.Out, pkt) == nil {
				h.t.counters.inc(cTunnelOut)
			}
			return true
		}
	}
	h.t.counters.inc(cDropNoTunnel)
	return true
}

// Expire removes bindings whose lifetime ended and returns when to call
// again.
func (h *HomeAgent) Expire(now time.Time) time.Time {
	results, next := h.core.Expire(now)
	for _, r := range results {
		h.apply(r, h.remoteOf(r.Binding.HomeAddress))
	}
	return next
}

func (h *HomeAgent) remoteOf(hoa netip.Addr) netip.AddrPort {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.remotes[hoa]
}

// Status fills in the bindings, CHILD SAs and counters of a status report.
func (h *HomeAgent) Status(s *control.Status) {
	h.mu.Lock()
	forms := maps.Clone(h.forms)
	h.mu.Unlock()
	h.core.Cache().Range(func(b ha.Binding) bool {
		s.Bindings = append(s.Bindings, control.Binding{Identity: b.Identity, HomeAddress: b.HomeAddress.String(),
			CareOf: b.CareOf.String(), Sequence: b.Sequence, Expires: b.Expires, State: "registered", WireForm: forms[b.HomeAddress]})
		return true
	})
	h.mu.Lock()
	for _, c := range h.children {
		s.ChildSAs = append(s.ChildSAs, childStatus(c))
	}
	h.mu.Unlock()
	if s.Counters == nil {
		s.Counters = map[string]uint64{}
	}
	for n, v := range h.t.counters.snapshot() {
		s.Counters[n] = v
	}
	cc := h.core.Counters()
	for st, v := range cc.Status {
		s.Counters[fmt.Sprintf("binding_ack_status_%d", st)] = v
	}
	for r, v := range cc.Drops {
		s.Counters["bu_drop_"+r.String()] = v
	}
	for st, v := range cc.Errors {
		s.Counters[fmt.Sprintf("binding_error_status_%d", st)] = v
	}
	s.Counters["bindings_expired"] = cc.Expired
	s.Counters["drop_unknown_spi_sad"] = h.t.sad.UnknownSPI()
	if p := h.t.plane.Load(); p != nil {
		p.Stats().AddTo(s.Counters)
	}
}

func childStatus(c *Child) control.ChildSA {
	in, out := c.In.SA.Stats(), c.Out.SA.Stats()
	// The carrier goes with the mode: udp (ESP in UDP, RFC 3948) or esp
	// (raw ESP, IP protocol 50).
	mode := "tunnel, " + carrierName(c)
	if c.signalling() {
		mode = "transport (" + c.use() + "), " + carrierName(c)
	} else if !c.active.Load() {
		mode = "tunnel (inactive), " + carrierName(c)
	}
	return control.ChildSA{Identity: c.In.Identity, Name: c.In.HomeAddress.String(),
		SPIIn: fmt.Sprintf("%08x", c.In.SPI()), SPIOut: fmt.Sprintf("%08x", c.Out.SPI()), Mode: mode,
		Suite: c.In.SA.Transform().String(), LocalTS: fmt.Sprint(c.Out.Selectors.Local), RemoteTS: fmt.Sprint(c.Out.Selectors.Remote),
		PacketsIn: in.Packets, PacketsOut: out.Packets}
}

// answerDHAAD answers a Home Agent Address Discovery Request sent to the
// home prefix's Home-Agents anycast address (RFC 6275 §10.5).
func (h *HomeAgent) answerDHAAD(pkt []byte, hdr ipv6.Header) {
	var p ipv6.Packet
	if ipv6.ParsePacket(pkt, &p) != nil || p.Proto != ipv6.ProtoICMPv6 {
		h.t.counters.inc(cDropInner)
		return
	}
	reply, ok := h.core.HandleDHAADRequest(nil, hdr.Src, hdr.Dst, p.Payload)
	if !ok {
		return
	}
	if err := h.link.Forward(reply); err != nil {
		h.t.counters.inc(cDropSend)
		return
	}
	h.obs("ha", "", "DHAAD reply sent", fmt.Sprintf("to %s", hdr.Src))
}

// Traffic sums what the CHILD_SAs bound to hoa carried, for accounting.
func (h *HomeAgent) Traffic(hoa netip.Addr) (inOctets, outOctets, inPackets, outPackets uint64) {
	h.mu.Lock()
	list := append([]*Child(nil), h.byHoA[hoa]...)
	h.mu.Unlock()
	for _, c := range list {
		in, out := c.In.SA.Stats(), c.Out.SA.Stats()
		inOctets, inPackets = inOctets+in.Bytes, inPackets+in.Packets
		outOctets, outPackets = outOctets+out.Bytes, outPackets+out.Packets
	}
	return
}

// Bindings lists the registered bindings.
func (h *HomeAgent) Bindings() []ha.Binding {
	var out []ha.Binding
	h.core.Cache().Range(func(b ha.Binding) bool {
		out = append(out, b)
		return true
	})
	return out
}
