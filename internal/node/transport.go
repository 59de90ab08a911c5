package node

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"mip6/esp"
	"mip6/ha"
	"mip6/ipsec"
	"mip6/mn"
	wesp "mip6/wire/esp"
	"mip6/wire/ipv6"
)

// RawSender sends a whole IPv6 packet as it is, extension headers
// included: the RFC 3776 transport form of BU/BA, raw ESP (IP protocol 50)
// behind a Home Address option or a Type 2 Routing header. A raw socket
// with the header included on a host; vnet.Node.SendDirect in the lab
// (VnetRaw).
type RawSender interface {
	SendRaw(pkt []byte) error
}

var errNoRaw = errors.New("node: no raw sender for the transport form")

// Counters of the transport form's second SA and of Mobile Prefix
// Discovery (both forms).
const (
	// A message outside its transport SA's selectors: an MPS through the
	// BU/BA SA, a BU through the MPS/MPA SA (RFC 4301 §5.2).
	cDropTransportSelectors = "drop_transport_selectors"
	cMPSIn                  = "prefix_solicitations_in"
	cMPSOut                 = "prefix_solicitations_out"
	cMPAIn                  = "prefix_advertisements_in"
	cMPAOut                 = "prefix_advertisements_out"
)

// signalling reports whether c is a transport-mode signalling pair: BU/BA
// or MPS/MPA.
func (c *Child) signalling() bool { return c.In.Mode == ipsec.Transport }

// prefixDiscovery reports whether c is the transport-mode pair for Mobile
// Prefix Solicitations/Advertisements (RFC 4877 §7.2.3): its selectors
// name ICMPv6, where the BU/BA pair's name the Mobility Header.
func (c *Child) prefixDiscovery() bool {
	return c.signalling() && c.In.Selectors.Proto == ipsec.ProtoICMPv6
}

// use names what a transport-mode pair carries, for status output.
func (c *Child) use() string {
	if c.prefixDiscovery() {
		return "MPS/MPA"
	}
	return "BU/BA"
}

// checkSignalling refuses a pair that cannot be a signalling pair.
func checkSignalling(c *Child) error {
	switch {
	case c.In.Mode != ipsec.Transport || c.Out.Mode != ipsec.Transport:
		return errors.New("node: signalling CHILD_SA must be in transport mode")
	case !c.In.HomeAddress.IsValid():
		return errors.New("node: signalling CHILD_SA without the home address it was created for")
	}
	return nil
}

// rawCarrier makes an SA's endpoints raw ESP: no UDP port.
func rawCarrier(e *ipsec.SAEntry) {
	ep := e.SA.Endpoints()
	ep.Local = netip.AddrPortFrom(ep.Local.Addr(), 0)
	ep.Remote = netip.AddrPortFrom(ep.Remote.Addr(), 0)
	ep.Carrier = esp.CarrierESP
	e.SA.MoveEndpoints(ep)
}

// addSignalling puts a signalling pair's inbound SA in the SAD, where
// HandleRaw finds it by SPI. The outbound SA stays out of the SAD: no
// policy lookup of the data plane can ever pick it for payload.
func (t *tunnel) addSignalling(c *Child) error {
	if err := checkSignalling(c); err != nil {
		return err
	}
	rawCarrier(c.In)
	rawCarrier(c.Out)
	return t.sad.Add(c.In)
}

// openTransport finds the inbound transport-mode SA of a raw ESP packet
// and opens it in place. It returns the Mobility Header or ICMPv6 message
// it carried and which (nh), or a nil SA after counting why not.
func (t *tunnel) openTransport(p *ipv6.Packet) (e *ipsec.SAEntry, nh uint8, msg []byte) {
	if p.Proto != ipv6.ProtoESP || len(p.Payload) < wesp.HeaderLen {
		t.counters.inc(cDropRawMalformed)
		return nil, 0, nil
	}
	e = t.sad.Inbound(binary.BigEndian.Uint32(p.Payload))
	switch {
	case e == nil:
		t.counters.inc(cDropUnknownSPI)
		return nil, 0, nil
	case e.Mode != ipsec.Transport:
		// Checked before Open: the tunnel SA's replay window stays untouched.
		t.counters.inc(cDropNotTransport)
		return nil, 0, nil
	}
	msg, nh, err := e.SA.Open(p.Payload)
	switch {
	case err != nil:
		t.counters.inc(cDropESP) // the SA counts the precise reason
		return nil, 0, nil
	case nh == wesp.NextHeaderNone:
		return nil, 0, nil // dummy packet (RFC 4303 §2.6)
	case nh != ipv6.ProtoMobility && nh != ipv6.ProtoICMPv6:
		t.counters.inc(cDropTransportNotMH)
		return nil, 0, nil
	}
	t.counters.inc(cTransportIn)
	return e, nh, msg
}

// transportAllowed holds a message that transport-mode SA e opened to the
// SA's selectors (RFC 4301 §5.2: protocol, message type, addresses as the
// Home Address option or Type 2 Routing header name them), counting a
// refusal. The BU/BA SA takes no MPS, the MPS/MPA SA no BU.
func (t *tunnel) transportAllowed(e *ipsec.SAEntry, p *ipv6.Packet, nh uint8, msg []byte) bool {
	var typ uint16 // the selectors' "port": type<<8 | code
	switch {
	case nh == ipv6.ProtoMobility && len(msg) >= 3:
		typ = uint16(msg[2]) << 8 // MH type; MH has no code
	case nh == ipv6.ProtoICMPv6 && len(msg) >= 2:
		typ = uint16(msg[0])<<8 | uint16(msg[1])
	default:
		t.counters.inc(cDropRawMalformed)
		return false
	}
	pkt := ipsec.InboundPacket(p.PseudoSrc(), p.PseudoDst(), nh, typ, 0)
	if !e.Allows(&pkt) {
		t.counters.inc(cDropTransportSelectors)
		return false
	}
	return true
}

// sendRaw seals a message (next header nh: MH or ICMPv6) through a
// transport-mode SA and sends it behind the headers p describes (p.Proto
// is set to ESP).
func (t *tunnel) sendRaw(raw RawSender, out *ipsec.SAEntry, p *ipv6.Packet, nh uint8, msg []byte) error {
	if raw == nil {
		t.counters.inc(cDropSend)
		return errNoRaw
	}
	sealed, err := out.SA.Seal(make([]byte, 0, len(msg)+out.SA.MaxOverhead()), msg, nh)
	if err != nil {
		t.counters.inc(cDropSend)
		return err
	}
	p.Proto = ipv6.ProtoESP
	pkt := p.Append(make([]byte, 0, ipv6.HeaderLen+ipv6.Type2RoutingLen+ipv6.DestOptsHAOLen+len(sealed)), sealed)
	if err := raw.SendRaw(pkt); err != nil {
		t.counters.inc(cDropSend)
		return err
	}
	t.counters.inc(cTransportOut)
	return nil
}

// InstallSignalling adds a transport-mode CHILD_SA pair that protects
// Binding Updates and Acknowledgements, or (its selectors name ICMPv6)
// Mobile Prefix Solicitations and Advertisements, in the RFC 3776
// transport form (Install hands transport-mode pairs here); each carries
// only what its selectors hold. Its inbound SA goes into the
// SAD for HandleRaw; it never carries payload (no SPD entry, not part of
// the home address's tunnel). A pair installed later for the same home
// address (rekey) answers from then on; Remove deletes the old one.
func (h *HomeAgent) InstallSignalling(c *Child) error {
	if err := h.t.addSignalling(c); err != nil {
		return err
	}
	hoa := c.In.HomeAddress
	h.mu.Lock()
	defer h.mu.Unlock()
	h.children[c.In.SPI()] = c
	h.sig[hoa] = append(h.sig[hoa], c)
	if b, ok := h.core.Cache().Lookup(hoa); ok {
		moveRemote(c.Out, netip.AddrPortFrom(b.CareOf, 0))
	}
	return nil
}

// removeSignalling forgets a signalling pair. h.mu is held.
func (h *HomeAgent) removeSignalling(c *Child) {
	hoa := c.In.HomeAddress
	list := h.sig[hoa]
	for i, x := range list {
		if x == c {
			h.sig[hoa] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(h.sig[hoa]) == 0 {
		delete(h.sig, hoa)
	}
}

// HandleRaw processes a whole IPv6 packet addressed to the home agent
// that carries a Binding Update or a Mobile Prefix Solicitation in the
// RFC 3776 transport form: raw ESP
// through a transport-mode SA, behind a Home Address option (away from
// home) or from the home address itself (de-registration at home, RFC
// 6275 §11.5.4). The SA must have been created for that home address
// (RFC 4877 §4.2); the answer goes back in the transport form through the
// paired SA. pkt is decrypted in place and not kept after the call.
func (h *HomeAgent) HandleRaw(pkt []byte, now time.Time) {
	var p ipv6.Packet
	if err := ipv6.ParsePacket(pkt, &p); err != nil {
		h.t.counters.inc(cDropRawMalformed)
		return
	}
	h.handleRaw(&p, now)
}

// HandleTransportESP is HandleRaw for a packet whose IPv6 header is gone:
// ESP (from the SPI on) that a raw ESP socket read, right behind an IPv6
// header from src to dst; a data plane on the raw ESP carrier hands the
// transport-mode ones over (dataplane.Config.Transport). That is the
// transport form at home: a Binding Update from the home address itself,
// with no Home Address option. esp is decrypted in place and not kept.
func (h *HomeAgent) HandleTransportESP(esp []byte, src, dst netip.Addr, now time.Time) {
	p := ipv6.Packet{Header: ipv6.Header{Src: src, Dst: dst, NextHeader: ipv6.ProtoESP}, Proto: ipv6.ProtoESP, Payload: esp}
	h.handleRaw(&p, now)
}

// handleRaw checks and processes a parsed transport-form packet.
func (h *HomeAgent) handleRaw(p *ipv6.Packet, now time.Time) {
	if p.Header.Dst != h.core.Address() || p.RoutingHomeAddress.IsValid() {
		h.t.counters.inc(cDropRawMalformed)
		return
	}
	e, nh, msg := h.t.openTransport(p)
	if e == nil {
		return
	}
	if !e.CreatedFor(p.PseudoSrc()) {
		// Never on behalf of another home address: the binding is not looked at.
		h.t.counters.inc(cDropHAOMismatch)
		return
	}
	if !h.t.transportAllowed(e, p, nh, msg) {
		return
	}
	sec := ha.SecurityContext{SA: ha.SAID(e.SPI()), Identity: e.Identity, HomeAddress: e.HomeAddress, OuterSource: p.Header.Src}
	h.mu.Lock()
	if c := h.children[e.SPI()]; c != nil {
		sec.IKESA = c.IKESA
	}
	h.mu.Unlock()
	p.Proto, p.Payload = nh, msg
	if nh == ipv6.ProtoICMPv6 {
		h.handleTransportMPS(sec, p)
		return
	}
	h.handleMH(now, sec, p)
}

// handleTransportMPS answers a Mobile Prefix Solicitation that came in the
// transport form (RFC 6275 §10.6.1) in the same form, through the SA paired
// with the one it came by: to the registered care-of address, a Type 2
// Routing header naming the home address, the checksum over the home
// address (RFC 6275 §10.6.2).
func (h *HomeAgent) handleTransportMPS(sec ha.SecurityContext, p *ipv6.Packet) {
	if p.Payload[0] != ipv6.ICMPv6MobilePrefixSol {
		h.t.counters.inc(cDropInner)
		return
	}
	h.t.counters.inc(cMPSIn)
	hoa := p.PseudoSrc()
	mpa, ok := h.core.HandlePrefixSolicitation(nil, sec, hoa, p.PseudoDst(), p.Payload)
	if !ok {
		return // the core counted why (checksum, malformed, no binding)
	}
	h.mu.Lock()
	c := h.children[uint32(sec.SA)]
	h.mu.Unlock()
	b, bound := h.core.Cache().Lookup(hoa)
	if c == nil || !bound || len(mpa) < ipv6.HeaderLen {
		h.t.counters.inc(cDropNoTunnel)
		return
	}
	out := ipv6.Packet{Header: ipv6.Header{HopLimit: ipv6.DefaultHopLimit, Src: h.core.Address(), Dst: b.CareOf},
		RoutingHomeAddress: hoa, SegmentsLeft: 1}
	if h.t.sendRaw(h.raw, c.Out, &out, ipv6.ProtoICMPv6, mpa[ipv6.HeaderLen:]) == nil {
		h.t.counters.inc(cMPAOut)
		h.obs("ha", "", "Mobile Prefix Advertisement sent", fmt.Sprintf("to %s via %s (transport form, ESP SPI %08x)", hoa, b.CareOf, c.Out.SPI()))
	}
}

// sendTransportAck sends a Binding Acknowledgement in the RFC 3776 form
// through the signalling pair c: to the care-of address with a Type 2
// Routing header naming the home address, or, when the Binding Update came
// from the home address itself, to it without one (RFC 6275 §9.5.4).
func (h *HomeAgent) sendTransportAck(c *Child, a ha.BindingAck, msg []byte) error {
	to := a.CareOf
	if !to.IsValid() {
		to = c.Out.SA.Endpoints().Remote.Addr()
	}
	p := ipv6.Packet{Header: ipv6.Header{HopLimit: ipv6.DefaultHopLimit, Src: a.HomeAgent, Dst: to}}
	if to != a.HomeAddress {
		p.RoutingHomeAddress, p.SegmentsLeft = a.HomeAddress, 1
	}
	return h.t.sendRaw(h.raw, c.Out, &p, ipv6.ProtoMobility, msg)
}

// InstallSignalling sets the transport-mode CHILD_SA pair that protects
// Binding Updates and Acknowledgements in the RFC 3776 transport form
// (Install hands transport-mode pairs here). It replaces the previous one
// (rekey). Binding Updates use it when MobileNodeConfig.TransportForm is
// set; it never carries payload.
func (m *MobileNode) InstallSignalling(c *Child) error {
	if c.prefixDiscovery() {
		return errors.New("node: an ICMPv6 (MPS/MPA) transport-mode pair is no BU/BA pair: InstallPrefixDiscovery")
	}
	if err := m.t.addSignalling(c); err != nil {
		return err
	}
	if old := m.sig.Swap(c); old != nil {
		m.t.sad.Remove(old.In)
	}
	return nil
}

// InstallPrefixDiscovery sets the transport-mode CHILD_SA pair that
// protects Mobile Prefix Solicitations and Advertisements in the RFC 3776
// transport form (RFC 4877 §7.2.3; Install hands pairs whose selectors
// name ICMPv6 here). It replaces the previous one (rekey). Solicitations
// use it when MobileNodeConfig.TransportForm is set.
func (m *MobileNode) InstallPrefixDiscovery(c *Child) error {
	if !c.prefixDiscovery() {
		return errors.New("node: the MPS/MPA CHILD_SA must be in transport mode with ICMPv6 selectors (RFC 4877 §7.2.3)")
	}
	if err := m.t.addSignalling(c); err != nil {
		return err
	}
	if old := m.pfx.Swap(c); old != nil {
		m.t.sad.Remove(old.In)
	}
	return nil
}

// HandleRaw processes a whole IPv6 packet that carries a Binding
// Acknowledgement or a Mobile Prefix Advertisement in the RFC 3776
// transport form: raw ESP through our
// transport-mode SA from the home agent, to the care-of address with a
// Type 2 Routing header naming our home address (Segments Left 1), or to
// the home address itself at home. pkt is decrypted in place and not
// kept after the call.
func (m *MobileNode) HandleRaw(pkt []byte, now time.Time) {
	var p ipv6.Packet
	if err := ipv6.ParsePacket(pkt, &p); err != nil {
		m.t.counters.inc(cDropRawMalformed)
		return
	}
	if !m.rawForUs(&p) {
		m.t.counters.inc(cDropRH2Mismatch)
		return
	}
	e, nh, msg := m.t.openTransport(&p)
	if e == nil {
		return
	}
	if p.Header.Src != m.ha || !e.CreatedFor(m.hoa) {
		m.t.counters.inc(cDropWrongPeer)
		return
	}
	if !m.t.transportAllowed(e, &p, nh, msg) {
		return
	}
	p.Proto, p.Payload = nh, msg
	switch {
	case nh == ipv6.ProtoMobility:
		m.handleMH(now, &p)
	case msg[0] == ipv6.ICMPv6MobilePrefixAdvert:
		m.handleMPA(now, &p)
	default:
		m.t.counters.inc(cDropInner)
	}
}

// rawForUs reports whether p is addressed to us: to the care-of address
// with a Type 2 Routing header naming the home address and one segment
// left, or straight to the home address.
func (m *MobileNode) rawForUs(p *ipv6.Packet) bool {
	if !p.RoutingHomeAddress.IsValid() {
		return p.Header.Dst == m.hoa
	}
	m.mu.Lock()
	coa := m.careOf
	m.mu.Unlock()
	return p.RoutingHomeAddress == m.hoa && p.SegmentsLeft == 1 && p.Header.Dst == coa
}

// sendTransportBU sends a Binding Update in the RFC 3776 transport form
// through the signalling pair s: from the care-of address with a Home
// Address option; at home from the home address without one (RFC 6275
// §11.5.4).
func (m *MobileNode) sendTransportBU(s *Child, a mn.SendBindingUpdate, msg []byte) error {
	src := a.CareOf
	if !src.IsValid() {
		src = a.HomeAddress
	}
	p := ipv6.Packet{Header: ipv6.Header{HopLimit: ipv6.DefaultHopLimit, Src: src, Dst: a.HomeAgent}}
	if src != a.HomeAddress {
		p.HomeAddress = a.HomeAddress
	}
	return m.t.sendRaw(m.cfg.Raw, s.Out, &p, ipv6.ProtoMobility, msg)
}

// sendTransportMPS sends a Mobile Prefix Solicitation in the RFC 3776
// transport form through the pair pd: from the care-of address with a Home
// Address option (the checksum is over the home address), at home from the
// home address without one. m.mu is held.
func (m *MobileNode) sendTransportMPS(pd *Child, a mn.SendPrefixSolicitation, msg []byte) error {
	src := m.careOf
	if !src.IsValid() {
		src = a.HomeAddress
	}
	p := ipv6.Packet{Header: ipv6.Header{HopLimit: ipv6.DefaultHopLimit, Src: src, Dst: a.HomeAgent}}
	if src != a.HomeAddress {
		p.HomeAddress = a.HomeAddress
	}
	return m.t.sendRaw(m.cfg.Raw, pd.Out, &p, ipv6.ProtoICMPv6, msg)
}
