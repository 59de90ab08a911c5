package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"mip6/dataplane"
	"mip6/ha"
	"mip6/ipsec"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// HomeLink is what the home agent needs of the home link: forwarding
// packets that leave the tunnel, and proxy Neighbour Discovery for the home
// addresses it registers (RFC 6275 §10.4.1).
type HomeLink interface {
	Forward(pkt []byte) error
	Claim(hoa netip.Addr)
	Release(hoa netip.Addr)
}

// Observer hears what the roles do, for the demo's timeline and the logs.
type Observer func(actor, step, what, detail string)

// HomeAgent is the home agent's packet path.
type HomeAgent struct {
	core       *ha.HomeAgent
	homePrefix netip.Prefix
	pad        *ipsec.PAD
	link       HomeLink
	log        *slog.Logger
	obs        Observer
	observed   bool
	// MoveIKE moves an IKE SA's peer endpoint after a BU with the K flag.
	moveIKE func(ikeSA uint64, to netip.AddrPort)
	onBind  func(b ha.Binding, up bool)
	raw     RawSender

	t tunnel

	mu       sync.Mutex
	children map[uint32]*Child             // by inbound SPI
	byHoA    map[netip.Addr][]*Child       // tunnel SAs bound to each home address
	sig      map[netip.Addr][]*Child       // transport-mode signalling SAs, newest last
	remotes  map[netip.Addr]netip.AddrPort // care-of endpoint per home address
	forms    map[netip.Addr]string         // wire form of each binding's last accepted BU
}

// HomeAgentConfig configures a HomeAgent's packet path.
type HomeAgentConfig struct {
	Core *ha.HomeAgent
	// HomePrefix is the home link's prefix: the HA claims its Home-Agents
	// anycast address there and answers DHAAD (RFC 6275 §10.5).
	HomePrefix netip.Prefix
	PAD        *ipsec.PAD
	// SAD and SPD are the data plane's (AttachPlane): the SPD receives the
	// PROTECT entry that sends a registered home address's traffic
	// through its CHILD_SA.
	SAD  *ipsec.SAD
	SPD  *ipsec.SPD
	Link HomeLink
	// MoveIKE moves an IKE SA's peer endpoint after a BU with the K flag;
	// after a transport-form BU (raw ESP, no port) the port is the one the
	// tunnel had at that care-of address, else 4500. Port 0: the tunnel is
	// raw ESP, the IKE SA keeps its port (the peer's IKE runs on 500).
	MoveIKE func(ikeSA uint64, to netip.AddrPort)
	// Raw sends Binding Acknowledgements in the RFC 3776 transport form
	// (answers to HandleRaw); nil: they are counted as drop_send_failed.
	Raw RawSender
	// OnBinding hears a home address's binding start (first registration)
	// and end (de-registration or expiry), e.g. for RADIUS accounting. It
	// must not block.
	OnBinding func(b ha.Binding, up bool)
	Log       *slog.Logger
	Observe   Observer
}

// NewHomeAgent builds the home agent's packet path.
func NewHomeAgent(c HomeAgentConfig) (*HomeAgent, error) {
	if c.Core == nil || c.SAD == nil || c.SPD == nil || c.PAD == nil || c.Link == nil {
		return nil, errors.New("node: home agent needs Core, SAD, SPD, PAD and Link")
	}
	h := &HomeAgent{core: c.Core, homePrefix: c.HomePrefix, pad: c.PAD, link: c.Link, log: c.Log, obs: c.Observe, moveIKE: c.MoveIKE, onBind: c.OnBinding,
		raw: c.Raw, children: map[uint32]*Child{}, byHoA: map[netip.Addr][]*Child{}, sig: map[netip.Addr][]*Child{},
		remotes: map[netip.Addr]netip.AddrPort{}, forms: map[netip.Addr]string{}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.obs == nil {
		h.obs = func(string, string, string, string) {}
	} else {
		h.observed = true // the timeline's details cost formatting: only then
	}
	h.t = tunnel{sad: c.SAD, spd: c.SPD, counters: newCounters(allCounters...)}
	if c.HomePrefix.IsValid() {
		c.Link.Claim(ha.HomeAgentsAnycast(c.HomePrefix))
	}
	return h, nil
}

// Install adds a CHILD_SA pair created for c.In.Identity and
// c.In.HomeAddress. A tunnel-mode pair carries the payload (and the
// tunnelled BU/BA); its tunnel stays inactive until a Binding Update for
// the home address is accepted. A transport-mode pair goes to
// InstallSignalling.
func (h *HomeAgent) Install(c *Child) error {
	if c.signalling() {
		return h.InstallSignalling(c)
	}
	hoa := c.In.HomeAddress
	if err := h.t.addChild(c, ipsec.Selectors{Remote: ipsec.Addr(hoa)}, hoa); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.children[c.In.SPI()] = c
	h.byHoA[hoa] = append(h.byHoA[hoa], c)
	if _, ok := h.core.Cache().Lookup(hoa); ok {
		h.t.setActive(c, true) // a rekeyed pair takes over a live binding
	}
	return nil
}

// Remove deletes a CHILD_SA pair (IKE deleted or rekeyed it), tunnel or
// signalling.
func (h *HomeAgent) Remove(c *Child) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.children[c.In.SPI()] == c {
		delete(h.children, c.In.SPI())
	}
	if c.signalling() {
		h.t.sad.Remove(c.In)
		h.removeSignalling(c)
		return
	}
	h.t.removeChild(c)
	hoa := c.In.HomeAddress
	list := h.byHoA[hoa]
	for i, x := range list {
		if x == c {
			h.byHoA[hoa] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(h.byHoA[hoa]) == 0 {
		delete(h.byHoA, hoa)
	}
}

// AttachPlane makes p carry the payload and the signalling (the
// configuration had an SPD and p the same SAD); give p PlaneLocal and
// FromHomeLink as its Local and Unprotected hooks.
func (h *HomeAgent) AttachPlane(p *dataplane.Plane) { h.t.plane.Store(p) }

// PlaneLocal is the data plane's Local hook: it takes the home agent's own
// signalling and refuses what the tunnel may not carry; the rest (false)
// goes to the TUN, for the kernel to forward.
func (h *HomeAgent) PlaneLocal(e *ipsec.SAEntry, inner []byte, from netip.AddrPort) bool {
	if e.Mode == ipsec.Transport {
		// A signalling SA's keys never carry tunnelled packets.
		h.t.counters.inc(cDropNotTunnel)
		return true
	}
	if len(inner) >= ipv6.HeaderLen && netip.AddrFrom16([16]byte(inner[24:40])) != h.core.Address() {
		// The common case, payload: only the ingress filter (RFC 4877 §4.4).
		sec := ha.SecurityContext{SA: ha.SAID(e.SPI()), Identity: e.Identity, HomeAddress: e.HomeAddress}
		if !h.core.TunnelSourceAllowed(sec, netip.AddrFrom16([16]byte(inner[8:24]))) {
			h.t.counters.inc(cDropSelectors)
			return true
		}
		return false
	}
	return !h.handleInner(e, inner, from, time.Now())
}

// handleInner processes a packet that left the tunnel through SA e and
// reports whether it is payload to forward.
func (h *HomeAgent) handleInner(e *ipsec.SAEntry, inner []byte, from netip.AddrPort, now time.Time) bool {
	var pkt ipv6.Packet
	if err := ipv6.ParsePacket(inner, &pkt); err != nil {
		h.t.counters.inc(cDropInner)
		return false
	}
	sec := ha.SecurityContext{SA: ha.SAID(e.SPI()), Identity: e.Identity, HomeAddress: e.HomeAddress,
		OuterSource: from.Addr(), OuterSourcePort: from.Port()}
	h.mu.Lock()
	if c := h.children[e.SPI()]; c != nil {
		sec.IKESA = c.IKESA
	}
	h.mu.Unlock()
	if pkt.Header.Dst == h.core.Address() && pkt.Proto == ipv6.ProtoMobility {
		h.handleMH(now, sec, &pkt)
		return false
	}
	if pkt.Header.Dst == h.core.Address() && pkt.Proto == ipv6.ProtoICMPv6 && len(pkt.Payload) > 0 &&
		pkt.Payload[0] == ipv6.ICMPv6MobilePrefixSol {
		// RFC 6275 §10.6.1: answered through the tunnel it came by.
		h.t.counters.inc(cMPSIn)
		if mpa, ok := h.core.HandlePrefixSolicitation(nil, sec, pkt.PseudoSrc(), pkt.PseudoDst(), pkt.Payload); ok {
			h.mu.Lock()
			c := h.children[uint32(sec.SA)]
			h.mu.Unlock()
			if c != nil && h.t.send(c.Out, mpa) == nil {
				h.t.counters.inc(cMPAOut)
				h.obs("ha", "", "Mobile Prefix Advertisement sent", fmt.Sprintf("to %s", pkt.Header.Src))
			}
		}
		return false
	}
	// Ingress filtering for reverse-tunnelled traffic (RFC 4877 §4.4).
	if !h.core.TunnelSourceAllowed(sec, pkt.Header.Src) {
		h.t.counters.inc(cDropSelectors)
		return false
	}
	return true
}

// handleMH processes a Mobility Header message that came through SA
// sec.SA, tunnelled or in the transport form.
func (h *HomeAgent) handleMH(now time.Time, sec ha.SecurityContext, pkt *ipv6.Packet) {
	if err := mh.VerifyChecksum(pkt.PseudoSrc(), pkt.PseudoDst(), pkt.Payload); err != nil {
		h.core.CountDrop(ha.DropBadChecksum)
		return
	}
	hdr, err := mh.ParseHeader(pkt.Payload)
	if err != nil {
		h.core.CountDrop(ha.DropMalformed)
		return
	}
	if hdr.Type != mh.TypeBindingUpdate {
		h.t.counters.inc(cDropMH)
		return
	}
	m, err := mh.ParseBindingUpdate(pkt.Payload)
	if err != nil {
		h.core.CountDrop(ha.DropMalformed)
		return
	}
	h.t.counters.inc(cBUIn)
	bu := ha.BindingUpdate{Sequence: m.Sequence, Acknowledge: m.Acknowledge, Home: m.HomeRegistration,
		LinkLocal: m.LinkLocalAddressCompatibility, KeyMgmt: m.KeyManagementMobilityCapability,
		Lifetime: m.Lifetime, HomeAddress: pkt.Header.Src}
	if m.Options.Has(mh.HasAlternateCareOfAddress) {
		bu.AltCoA = m.Options.AlternateCareOfAddress
	}
	if pkt.HomeAddress.IsValid() { // transport form: the Home Address option names it
		bu.HomeAddress = pkt.HomeAddress
	}
	if h.observed {
		alt := "none"
		if bu.AltCoA.IsValid() {
			alt = bu.AltCoA.String()
		}
		h.obs("ha", "", "Binding Update received", fmt.Sprintf("seq %d hoa %s alt-coa %s lifetime %s via SPI %08x",
			bu.Sequence, bu.HomeAddress, alt, mh.LifetimeDuration(bu.Lifetime), uint32(sec.SA)))
	}
	r := h.core.ProcessBU(now, sec, &bu)
	from := netip.AddrPortFrom(sec.OuterSource, sec.OuterSourcePort)
	if r.Verdict != ha.Dropped {
		h.mu.Lock()
		if r.Verdict == ha.Accepted {
			h.forms[bu.HomeAddress] = h.formOf(sec.SA)
		}
		if _, ok := h.remotes[bu.HomeAddress]; !ok {
			h.remotes[bu.HomeAddress] = netip.AddrPortFrom(from.Addr(), h.carePort(bu.HomeAddress, from.Addr(), from.Port()))
		}
		h.mu.Unlock()
	}
	h.apply(r, from)
}

// formOf names the wire form of a BU that came through SA id.
func (h *HomeAgent) formOf(id ha.SAID) string {
	if e := h.t.sad.Inbound(uint32(id)); e != nil && e.Mode == ipsec.Transport {
		return "transport"
	}
	return "tunnel"
}

// IKESARekeyed re-points the CHILD_SA pairs of IKE SA old to new, which
// replaced it (RFC 7296 §2.18: the CHILD_SAs move to the new IKE SA), so
// that a later K-flag move (RFC 4877 §4.3) moves the live IKE SA.
func (h *HomeAgent) IKESARekeyed(old, new uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.children {
		if c.IKESA == old {
			c.IKESA = new
		}
	}
}

// RemoveSPI removes the CHILD_SA pair whose inbound SPI is spi, if any.
func (h *HomeAgent) RemoveSPI(spi uint32) {
	h.mu.Lock()
	c := h.children[spi]
	h.mu.Unlock()
	if c != nil {
		h.Remove(c)
	}
}

// SAD is the SA database the packet path uses.
func (h *HomeAgent) SAD() *ipsec.SAD { return h.t.sad }
