package ike

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"mip6/wire/ikev2"
)

// Conn sends IKE datagrams. The Endpoint calls it with the message only;
// on the NAT-T port it has already prepended the non-ESP marker.
type Conn interface {
	WriteTo(b []byte, local, remote netip.AddrPort) error
}

// Default ports (RFC 7296 §2, RFC 3948).
const (
	PortIKE  = 500
	PortNATT = 4500
)

// Endpoint runs IKE SAs over a Conn: it demultiplexes datagrams to IKE
// SAs, answers new IKE_SA_INIT requests, runs timers and reports events.
type Endpoint struct {
	cfg     Config
	conn    Conn
	onEvent func(Event)
	// NATTPort is the local port that carries the non-ESP marker.
	NATTPort uint16

	mu  sync.Mutex
	sas map[uint64]*saHandle // by our SPI
	// byPeer indexes the authenticated IKE SAs by remote identity, so that
	// INITIAL_CONTACT finds a peer's SAs without visiting every SA.
	byPeer   map[string]map[*saHandle]struct{}
	halfOpen map[halfOpenKey]*saHandle // every SA we answered, by (SPIi, peer): late IKE_SA_INITs find it
	nHalf    int                       // of which not yet established
	up       map[*PeerConfig]int       // established IKE SAs we initiated, per peer
	cookies  cookieSecrets
	closed   bool

	drops [numDropReasons]atomic.Uint64

	dhReuse dhReuse // Config.DHReuse
}

type halfOpenKey struct {
	spiI   uint64
	remote netip.AddrPort
}

// saHandle serializes work on one IKE SA.
type saHandle struct {
	mu       sync.Mutex
	sa       *IKESA
	timer    *time.Timer
	deadline time.Time // what timer is set for; zero when stopped
	key      halfOpenKey
	half     bool // counted in nHalf
}

// NewEndpoint makes an endpoint that sends through conn and reports
// events to onEvent (called without locks held, in order per IKE SA).
func NewEndpoint(cfg Config, conn Conn, onEvent func(Event)) *Endpoint {
	ep := &Endpoint{cfg: cfg, conn: conn, onEvent: onEvent, NATTPort: PortNATT,
		sas: map[uint64]*saHandle{}, halfOpen: map[halfOpenKey]*saHandle{}, up: map[*PeerConfig]int{}}
	return ep
}

func (ep *Endpoint) rand() io.Reader {
	if ep.cfg.Rand != nil {
		return ep.cfg.Rand
	}
	return crand.Reader
}

func (ep *Endpoint) logger() *slog.Logger {
	if ep.cfg.Logger != nil {
		return ep.cfg.Logger
	}
	return slog.Default()
}

func (ep *Endpoint) retransmitBase() time.Duration {
	if ep.cfg.RetransmitBase > 0 {
		return ep.cfg.RetransmitBase
	}
	return time.Second
}

func (ep *Endpoint) retransmitTries() int {
	if ep.cfg.RetransmitTries > 0 {
		return ep.cfg.RetransmitTries
	}
	return 5
}

func (ep *Endpoint) halfOpenTimeout() time.Duration {
	if ep.cfg.HalfOpenTimeout > 0 {
		return ep.cfg.HalfOpenTimeout
	}
	return 30 * time.Second
}

func (ep *Endpoint) fragmentSize() int {
	if ep.cfg.FragmentSize > 0 {
		return ep.cfg.FragmentSize
	}
	return 1280 - 40 - 8 - 4 // IPv6 minimum MTU less IPv6, UDP and non-ESP marker
}

func (ep *Endpoint) ikeProposals() []IKEProposal {
	if len(ep.cfg.IKEProposals) > 0 {
		return ep.cfg.IKEProposals
	}
	return DefaultIKEProposals()
}

// Drops returns how many datagrams were dropped for each reason.
func (ep *Endpoint) Drops() map[DropReason]uint64 {
	m := map[DropReason]uint64{}
	for i := range ep.drops {
		if n := ep.drops[i].Load(); n > 0 {
			m[DropReason(i)] = n
		}
	}
	return m
}

func (ep *Endpoint) countDrop(err error) {
	var d *DropError
	if errors.As(err, &d) {
		ep.drops[d.Reason].Add(1)
		if d.Reason != DropRetransmit {
			ep.logger().Debug("ike: datagram dropped", "reason", d.Reason, "err", d.Err)
		}
	}
}

// newSPI returns a random non-zero SPI not yet in use; ep.mu is held.
func (ep *Endpoint) newSPI() uint64 {
	var b [8]byte
	for {
		if _, err := io.ReadFull(ep.rand(), b[:]); err != nil {
			panic("ike: no randomness: " + err.Error())
		}
		if s := binary.BigEndian.Uint64(b[:]); s != 0 && ep.sas[s] == nil {
			return s
		}
	}
}

// Receive handles one datagram that arrived on local from remote. On the
// NAT-T port it strips the non-ESP marker; it returns false for datagrams
// that are not IKE (ESP, keepalives), which the caller handles.
func (ep *Endpoint) Receive(local, remote netip.AddrPort, b []byte) bool {
	if local.Port() == ep.NATTPort {
		var ok bool
		if b, ok = ikev2.StripNonESPMarker(b); !ok {
			return false
		}
	}
	err := ep.receive(time.Now(), local, remote, b)
	ep.countDrop(err)
	return true
}

func (ep *Endpoint) receive(now time.Time, local, remote netip.AddrPort, b []byte) error {
	h, err := ikev2.ParseHeader(b)
	if err != nil {
		return dropErr(DropMalformed, err)
	}
	if int(h.Length) != len(b) {
		return dropErr(DropMalformed, errors.New("length field differs from datagram"))
	}
	if h.Exchange == ikev2.ExchangeIKESAInit && !h.IsResponse() && h.ResponderSPI == 0 {
		return ep.handleInitRequest(now, local, remote, b, h)
	}
	spi := h.InitiatorSPI
	if h.IsInitiator() {
		spi = h.ResponderSPI
	}
	ep.mu.Lock()
	hd := ep.sas[spi]
	ep.mu.Unlock()
	if hd == nil {
		return dropErr(DropNoSA, nil)
	}
	var derr error
	ep.run(hd, func(sa *IKESA) {
		if sa.spiR != 0 && h.ResponderSPI != sa.spiR || h.InitiatorSPI != sa.spiI {
			derr = dropErr(DropNoSA, nil)
			return
		}
		if sa.spiR == 0 && h.IsResponse() && h.Exchange == ikev2.ExchangeIKESAInit {
			sa.spiR = h.ResponderSPI // set for good once the response is accepted
			if derr = sa.handle(now, local, remote, b, h); derr != nil && sa.state == stateInitSent {
				sa.spiR = 0
			}
			return
		}
		derr = sa.handle(now, local, remote, b, h)
	})
	return derr
}

// run does fn on the SA under its lock, re-arms, then reports and sends.
// Events go first, outside the lock: a responder's CHILD_SA must be in the
// SAD before the IKE_AUTH response that lets the peer use it leaves (as
// strongSwan installs before it answers), or the peer's first ESP packet
// finds an unknown SPI.
func (ep *Endpoint) run(hd *saHandle, fn func(sa *IKESA)) {
	hd.mu.Lock()
	fn(hd.sa)
	out := hd.sa.out
	hd.sa.out = output{}
	deadline := hd.sa.nextDeadline()
	ep.arm(hd, deadline)
	hd.mu.Unlock()
	if ep.onEvent != nil {
		for _, e := range out.events {
			ep.onEvent(e)
		}
	}
	for _, d := range out.dgrams {
		ep.write(d)
	}
}

func (ep *Endpoint) write(d Datagram) {
	b := d.Data
	if d.Local.Port() == ep.NATTPort {
		b = append(ikev2.AppendNonESPMarker(make([]byte, 0, len(b)+4)), b...)
	}
	if err := ep.conn.WriteTo(b, d.Local, d.Remote); err != nil {
		ep.logger().Debug("ike: send failed", "to", d.Remote, "err", err)
	}
}

// arm sets the SA's timer; hd.mu is held. The timer is reused: most steps
// leave the deadline unchanged.
func (ep *Endpoint) arm(hd *saHandle, deadline time.Time) {
	if deadline.Equal(hd.deadline) {
		return
	}
	hd.deadline = deadline
	if deadline.IsZero() {
		if hd.timer != nil {
			hd.timer.Stop()
		}
		return
	}
	if hd.timer == nil {
		hd.timer = time.AfterFunc(time.Until(deadline), func() { ep.fire(hd) })
		return
	}
	hd.timer.Reset(time.Until(deadline))
}

// fire runs the SA's timers if their deadline has come.
func (ep *Endpoint) fire(hd *saHandle) {
	ep.run(hd, func(sa *IKESA) {
		if now := time.Now(); !now.Before(hd.deadline) {
			hd.deadline = time.Time{} // re-armed by run from nextDeadline
			sa.timeout(now)
		}
	})
}

// register adds an SA under our SPI; ep.mu is held.
func (ep *Endpoint) register(sa *IKESA) *saHandle {
	hd := &saHandle{sa: sa}
	sa.hd = hd
	ep.sas[sa.localSPI()] = hd
	if !sa.remoteID.IsZero() { // an IKE SA rekeyed from an authenticated one
		ep.indexPeer(hd)
	}
	return hd
}

// peerKey names a remote identity in byPeer.
func peerKey(id Identity) string { return string(rune(id.Type)) + string(id.Data) }

// indexPeer adds an authenticated SA to byPeer; ep.mu is held.
func (ep *Endpoint) indexPeer(hd *saHandle) {
	if ep.byPeer == nil {
		ep.byPeer = map[string]map[*saHandle]struct{}{}
	}
	k := peerKey(hd.sa.remoteID)
	set := ep.byPeer[k]
	if set == nil {
		set = map[*saHandle]struct{}{}
		ep.byPeer[k] = set
	}
	set[hd] = struct{}{}
}

// peerSAs returns the SAs indexed under a remote identity.
func (ep *Endpoint) peerSAs(id Identity) []*saHandle {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	set := ep.byPeer[peerKey(id)]
	hs := make([]*saHandle, 0, len(set))
	for hd := range set {
		hs = append(hs, hd)
	}
	return hs
}

// forget removes an SA from the tables; called with the SA's lock held.
func (ep *Endpoint) forget(sa *IKESA) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	hd := ep.sas[sa.localSPI()]
	if hd == nil || hd.sa != sa {
		return
	}
	delete(ep.sas, sa.localSPI())
	if set := ep.byPeer[peerKey(sa.remoteID)]; set != nil {
		delete(set, hd)
		if len(set) == 0 {
			delete(ep.byPeer, peerKey(sa.remoteID))
		}
	}
	if hd.key.spiI != 0 {
		delete(ep.halfOpen, hd.key)
		hd.key = halfOpenKey{}
	}
	if hd.half {
		hd.half = false
		ep.nHalf--
	}
}

// established leaves the half-open count; called with the SA lock held.
func (ep *Endpoint) established(sa *IKESA) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	hd := ep.sas[sa.localSPI()]
	if hd == nil {
		return
	}
	if hd.half {
		hd.half = false
		ep.nHalf--
	}
	ep.indexPeer(hd)
}

// Initiate starts an IKE SA to remote from local with the peer's config.
func (ep *Endpoint) Initiate(peer *PeerConfig, local, remote netip.AddrPort) error {
	ep.mu.Lock()
	if ep.closed {
		ep.mu.Unlock()
		return errors.New("ike: endpoint closed")
	}
	now := time.Now()
	sa := &IKESA{ep: ep, initiator: true, local: local, remote: remote, peer: peer, created: now, state: stateInitSent}
	sa.spiI = ep.newSPI()
	hd := ep.register(sa)
	ep.mu.Unlock()
	var err error
	ep.run(hd, func(sa *IKESA) {
		t, e := newInitTask(sa)
		if e != nil {
			err = e
			sa.terminate(now, Event{Kind: EventFailed, Err: &Failure{Reason: ReasonLocal, Err: e}})
			return
		}
		sa.enqueue(now, t)
	})
	return err
}

// find returns the handle of an established SA by a predicate.
func (ep *Endpoint) each(fn func(hd *saHandle)) {
	ep.mu.Lock()
	hs := make([]*saHandle, 0, len(ep.sas))
	for _, hd := range ep.sas {
		hs = append(hs, hd)
	}
	ep.mu.Unlock()
	for _, hd := range hs {
		fn(hd)
	}
}

// Close deletes every IKE SA (sending Delete once, without waiting) and
// stops the timers.
func (ep *Endpoint) Close() {
	ep.mu.Lock()
	ep.closed = true
	ep.mu.Unlock()
	ep.each(func(hd *saHandle) {
		ep.run(hd, func(sa *IKESA) { sa.closeNow(time.Now()) })
	})
}

// countUp tracks established IKE SAs we initiated per peer config, so that
// INITIAL_CONTACT goes only with the first (§2.4).
func (ep *Endpoint) countUp(p *PeerConfig, d int) int {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.up[p] += d
	if ep.up[p] <= 0 {
		delete(ep.up, p)
		return 0
	}
	return ep.up[p]
}
