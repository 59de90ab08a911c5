package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"mip6/dataplane"
	"mip6/internal/control"
	"mip6/ipsec"
	"mip6/mn"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// HomeAnnouncer is the mobile node's host on a real home link: once the
// home agent has acknowledged the de-registration from home, the mobile
// node advertises its home address there itself (RFC 6275 §11.5.4).
type HomeAnnouncer interface {
	AnnounceHome() error
}

// MobileNodeConfig configures a MobileNode's packet path.
type MobileNodeConfig struct {
	Identity string
	// HomeAddress and HomeAgent are the ones the core was made with.
	HomeAddress, HomeAgent netip.Addr
	Core                   *mn.MobileNode
	// SAD and SPD are the data plane's (AttachPlane): the SPD receives the
	// PROTECT entry that sends the home address's traffic through the
	// CHILD_SA while away.
	SAD *ipsec.SAD
	SPD *ipsec.SPD
	// Host, if set, announces the home address once back home (a lab
	// node needs none: it has no neighbour caches).
	Host HomeAnnouncer
	// MoveIKE moves our IKE SA's local address when K was granted.
	MoveIKE func(local netip.Addr)
	// Rebootstrap is called when the home agent refused or vanished.
	Rebootstrap func(reason string)
	// TransportForm sends Binding Updates in the RFC 3776 transport form
	// (raw ESP behind a Home Address option, through Raw) while a
	// transport-mode signalling pair is installed, and Mobile Prefix
	// Solicitations so while the MPS/MPA pair is (InstallPrefixDiscovery);
	// otherwise, and by default, they go tunnelled (RFC 4877 §3).
	TransportForm bool
	Raw           RawSender
	Log           *slog.Logger
	Observe       Observer
}

// MobileNode is the mobile node's packet path: it carries out what the
// protocol core (mn) asks and tunnels the home address's traffic.
type MobileNode struct {
	cfg MobileNodeConfig
	log *slog.Logger
	obs Observer
	t   tunnel

	// child and tunnelOn are read on the packet path without m.mu: the
	// host's output hook runs inside our own socket writes.
	child    atomic.Pointer[Child]
	tunnelOn atomic.Bool
	sig      atomic.Pointer[Child] // transport-mode BU/BA pair, if any
	pfx      atomic.Pointer[Child] // transport-mode MPS/MPA pair, if any

	mu       sync.Mutex // guards core and the fields below
	core     *mn.MobileNode
	careOf   netip.Addr
	hoa, ha  netip.Addr
	buSentAt time.Time
	movedAt  time.Time // when the current care-of address was reported

	// Handover latency: care-of address reported -> binding acknowledged.
	handovers, handoverLastUs, handoverMaxUs atomic.Uint64
	wake                                     chan struct{}
}

// NewMobileNode builds the mobile node's packet path.
func NewMobileNode(c MobileNodeConfig) (*MobileNode, error) {
	if c.Core == nil || c.SAD == nil || c.SPD == nil {
		return nil, errors.New("node: mobile node needs Core, SAD and SPD")
	}
	if c.TransportForm && c.Raw == nil {
		return nil, errors.New("node: the transport form needs a RawSender")
	}
	m := &MobileNode{cfg: c, log: c.Log, obs: c.Observe, core: c.Core, wake: make(chan struct{}, 1)}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.obs == nil {
		m.obs = func(string, string, string, string) {}
	}
	m.hoa, m.ha = c.HomeAddress, c.HomeAgent
	m.t = tunnel{sad: c.SAD, spd: c.SPD, counters: newCounters(allCounters...)}
	// Our own IKE and ESP in UDP, sent from home: never into the tunnel.
	for _, port := range []uint16{500, 4500} {
		c.SPD.Add(ipsec.Entry{Name: c.Identity, Priority: ipsec.PrioritySignalling, Class: ipsec.ClassKeyExchange,
			Selectors: ipsec.Selectors{Local: ipsec.Addr(c.HomeAddress), Remote: ipsec.Addr(c.HomeAgent), Proto: ipsec.ProtoUDP,
				LocalPort: ipsec.AnyPort, RemotePort: ipsec.PortRange{From: port, To: port}}, Action: ipsec.Bypass})
	}
	return m, nil
}

// Install sets the CHILD_SA pair bound to the home address (RFC 4877 §4.2):
// a tunnel-mode pair carries the payload tunnel (and the tunnelled BU/BA);
// a transport-mode pair goes to InstallPrefixDiscovery when its selectors
// name ICMPv6, else to InstallSignalling.
func (m *MobileNode) Install(c *Child) error {
	switch {
	case c.prefixDiscovery():
		return m.InstallPrefixDiscovery(c)
	case c.signalling():
		return m.InstallSignalling(c)
	}
	if err := m.t.addChild(c, ipsec.Selectors{Local: ipsec.Addr(m.hoa)}, m.ha); err != nil {
		return err
	}
	if old := m.child.Swap(c); old != nil {
		m.t.removeChild(old)
	}
	m.t.setActive(c, m.tunnelOn.Load())
	return nil
}

// setTunnel turns reverse tunnelling on or off.
func (m *MobileNode) setTunnel(on bool) {
	m.tunnelOn.Store(on)
	if c := m.child.Load(); c != nil {
		m.t.setActive(c, on)
	}
}

// AttachPlane makes p carry the payload and the signalling (the
// configuration had an SPD and p the same SAD); give p PlaneLocal and
// FromHost as its Local and Unprotected hooks.
func (m *MobileNode) AttachPlane(p *dataplane.Plane) { m.t.plane.Store(p) }

// PlaneLocal is the data plane's Local hook: it takes what the home agent
// sends the mobile node itself and refuses what is not for the home
// address; the rest (false) goes to the TUN.
func (m *MobileNode) PlaneLocal(e *ipsec.SAEntry, inner []byte, _ netip.AddrPort) bool {
	if e.Mode == ipsec.Transport {
		m.t.counters.inc(cDropNotTunnel)
		return true
	}
	if len(inner) >= ipv6.HeaderLen && netip.AddrFrom16([16]byte(inner[8:24])) != m.ha {
		if netip.AddrFrom16([16]byte(inner[24:40])) != m.hoa {
			m.t.counters.inc(cDropSelectors)
			return true
		}
		return false
	}
	return !m.handleInner(inner, time.Now())
}

// Attach tells the mobile node it now has care-of address coa (or its home
// address: back home).
func (m *MobileNode) Attach(coa netip.Addr) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	m.careOf, m.movedAt = coa, now
	m.run(now, m.core.Attach(now, coa))
}

// Timers fires the core's retransmission and refresh timers until stop
// is closed; run it beside the data plane.
func (m *MobileNode) Timers(stop <-chan struct{}) {
	for {
		m.mu.Lock()
		next := m.core.NextTimer()
		m.mu.Unlock()
		d := time.Hour
		if !next.IsZero() {
			d = time.Until(next)
		}
		tm := time.NewTimer(max(d, 0))
		select {
		case <-stop:
			tm.Stop()
			return
		case <-m.wake:
			tm.Stop()
		case now := <-tm.C:
			m.mu.Lock()
			m.run(now, m.core.Timer(now))
			m.mu.Unlock()
		}
	}
}

// handleInner processes a packet that left the tunnel and reports whether
// it is payload to deliver.
func (m *MobileNode) handleInner(inner []byte, now time.Time) bool {
	var pkt ipv6.Packet
	if err := ipv6.ParsePacket(inner, &pkt); err != nil {
		m.t.counters.inc(cDropInner)
		return false
	}
	if pkt.Header.Src == m.ha && pkt.Header.Dst == m.hoa && pkt.Proto == ipv6.ProtoMobility {
		m.handleMH(now, &pkt)
		return false
	}
	if pkt.Header.Src == m.ha && pkt.Proto == ipv6.ProtoICMPv6 && len(pkt.Payload) > 0 &&
		pkt.Payload[0] == ipv6.ICMPv6MobilePrefixAdvert {
		m.handleMPA(now, &pkt)
		return false
	}
	if pkt.Header.Dst != m.hoa {
		m.t.counters.inc(cDropSelectors)
		return false
	}
	return true
}

// handleMH processes a Binding Acknowledgement from the home agent,
// tunnelled or in the transport form (its Type 2 Routing header names the
// checksum's destination).
func (m *MobileNode) handleMH(now time.Time, pkt *ipv6.Packet) {
	if err := mh.VerifyChecksum(pkt.PseudoSrc(), pkt.PseudoDst(), pkt.Payload); err != nil {
		m.t.counters.inc(cDropMH)
		return
	}
	ba, err := mh.ParseBindingAck(pkt.Payload)
	if err != nil {
		m.t.counters.inc(cDropMH)
		return
	}
	m.t.counters.inc(cBAIn)
	a := mn.BindingAck{Status: uint8(ba.Status), KeyMgmt: ba.KeyManagementMobilityCapability, Sequence: ba.Sequence, Lifetime: ba.Lifetime}
	if ba.Options.Has(mh.HasBindingRefreshAdvice) {
		a.Refresh = ba.Options.RefreshInterval
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.obs("mn", "", "Binding Ack received", fmt.Sprintf("status %d (%s) seq %d lifetime %s, %s after the BU",
		a.Status, ba.Status, a.Sequence, mh.LifetimeDuration(a.Lifetime), now.Sub(m.buSentAt).Round(time.Microsecond)))
	m.run(now, m.core.HandleAck(now, a))
}

// FromHost tunnels a packet the host sent from the home address while away
// from home. It reports whether the packet was taken.
func (m *MobileNode) FromHost(pkt []byte) bool {
	c := m.reverse(pkt)
	if c == nil {
		return false
	}
	if m.t.send(c.Out, pkt) == nil {
		m.t.counters.inc(cTunnelOut)
	}
	return true
}

// reverse returns the Child that reverse-tunnels a packet of the host, or
// nil: only what it sends from the home address while away, never our own
// IKE and ESP in UDP.
func (m *MobileNode) reverse(pkt []byte) *Child {
	hdr, err := ipv6.ParseHeader(pkt)
	if err != nil || hdr.Src != m.hoa {
		return nil
	}
	if hdr.Dst == m.ha && hdr.NextHeader == ipv6.ProtoUDP && len(pkt) >= ipv6.HeaderLen+8 {
		if port := uint16(pkt[ipv6.HeaderLen+2])<<8 | uint16(pkt[ipv6.HeaderLen+3]); port == 500 || port == 4500 {
			return nil
		}
	}
	if c := m.child.Load(); m.tunnelOn.Load() && c != nil {
		return c
	}
	return nil
}

// Status fills in the binding update list entry, CHILD SAs and counters.
func (m *MobileNode) Status(s *control.Status) {
	m.mu.Lock()
	st := m.core.State()
	m.mu.Unlock()
	c := m.child.Load()
	state := "unregistered"
	if st.Registered {
		state = "registered"
	}
	form := "tunnel"
	if m.cfg.TransportForm && m.sig.Load() != nil {
		form = "transport"
	}
	s.Bindings = append(s.Bindings, control.Binding{Identity: m.cfg.Identity, HomeAddress: m.hoa.String(),
		CareOf: st.CareOf.String(), HomeAgent: m.ha.String(), Sequence: st.Sequence, Expires: st.Expires, State: state, WireForm: form})
	for _, c := range []*Child{c, m.sig.Load(), m.pfx.Load()} {
		if c != nil {
			s.ChildSAs = append(s.ChildSAs, childStatus(c))
		}
	}
	if s.Counters == nil {
		s.Counters = map[string]uint64{}
	}
	for n, v := range m.t.counters.snapshot() {
		s.Counters[n] = v
	}
	if p := m.t.plane.Load(); p != nil {
		p.Stats().AddTo(s.Counters)
	}
	s.Counters["handover_count"] = m.handovers.Load()
	s.Counters["handover_last_us"] = m.handoverLastUs.Load()
	s.Counters["handover_max_us"] = m.handoverMaxUs.Load()
}

// handoverDone records the latency of a move that the home agent has now
// acknowledged. m.mu is held.
func (m *MobileNode) handoverDone(now time.Time) {
	if m.movedAt.IsZero() {
		return
	}
	us := uint64(now.Sub(m.movedAt).Microseconds())
	m.movedAt = time.Time{}
	m.handovers.Add(1)
	m.handoverLastUs.Store(us)
	if us > m.handoverMaxUs.Load() {
		m.handoverMaxUs.Store(us)
	}
}

// Deregister removes the binding (graceful shutdown) and waits up to
// timeout for the home agent's acknowledgement.
func (m *MobileNode) Deregister(timeout time.Duration) error {
	m.mu.Lock()
	m.run(time.Now(), m.core.Deregister(time.Now()))
	m.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		st := m.core.State()
		m.mu.Unlock()
		if !st.Registered && !st.Pending {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("de-registration: no acknowledgement from home agent %s within %s", m.ha, timeout)
}

// handleMPA takes a Mobile Prefix Advertisement that came through the
// tunnel or in the transport form (RFC 6275 §11.4.3).
func (m *MobileNode) handleMPA(now time.Time, pkt *ipv6.Packet) {
	if ipv6.VerifyICMPv6(pkt.PseudoSrc(), pkt.PseudoDst(), pkt.Payload) != nil {
		m.t.counters.inc(cDropInner)
		return
	}
	mpa, err := ipv6.ParseMobilePrefixAdvertisement(pkt.Payload)
	if err != nil {
		m.t.counters.inc(cDropInner)
		return
	}
	var prefixes []mn.PrefixInfo
	for it := mpa.Prefixes(); it.Next(); {
		pi := it.Prefix()
		prefixes = append(prefixes, mn.PrefixInfo{Prefix: netip.PrefixFrom(pi.Prefix, int(pi.PrefixLength)).Masked(),
			ValidLifetime: time.Duration(pi.ValidLifetime) * time.Second, PreferredLifetime: time.Duration(pi.PreferredLifetime) * time.Second})
	}
	m.t.counters.inc(cMPAIn)
	m.obs("mn", "", "Mobile Prefix Advertisement received", fmt.Sprintf("%d prefix(es)", len(prefixes)))
	m.mu.Lock()
	defer m.mu.Unlock()
	m.run(now, m.core.HandlePrefixAdvertisement(now, mpa.Identifier, prefixes))
}

// SolicitPrefixes sends a Mobile Prefix Solicitation (RFC 6275 §11.4.2).
func (m *MobileNode) SolicitPrefixes() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.run(time.Now(), m.core.SolicitPrefixes(time.Now()))
}
