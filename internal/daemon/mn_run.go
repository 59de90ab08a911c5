package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"

	"mip6/bootstrap"
	"mip6/dataplane"
	"mip6/discovery"
	"mip6/ike"
	"mip6/internal/control"
	"mip6/internal/hostnet"
	"mip6/internal/node"
	"mip6/ipsec"
	"mip6/mn"
)

// Run bootstraps and keeps the mobile node registered until ctx ends; then
// it de-registers. A refusal or a vanished home agent re-runs the
// bootstrap (RFC 4640 §5.3).
func (m *MobileNode) Run(ctx context.Context) error {
	srv := &control.Server{Path: m.cfg.Daemon.ControlSocket, Log: m.log}
	srv.Handle("status", func(context.Context, map[string]string) (any, error) { return m.Status(), nil })
	srv.Handle("solicit-prefixes", func(context.Context, map[string]string) (any, error) { return m.SolicitPrefixes() })
	if err := srv.Listen(); err != nil {
		return err
	}
	go srv.Serve(ctx)
	if a := m.cfg.Daemon.MetricsListen; a.IsValid() {
		if err := ServeMetrics(ctx, a.String(), "mn", m.Status, m.log); err != nil {
			return err
		}
	}
	defer m.keyLogClose()
	for attempt := 0; ; attempt++ {
		err := m.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := min(time.Duration(1<<min(attempt, 5))*time.Second, 30*time.Second)
		m.log.Warn("re-bootstrapping", "reason", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (m *MobileNode) keyLogClose() {
	if m.keyLog != nil {
		m.keyLog.Close()
	}
}

// session is one bootstrap and the registration that follows, until the
// home agent refuses or vanishes, or ctx ends.
func (m *MobileNode) session(ctx context.Context) error {
	select {
	case <-m.rebootstrap: // left over from the previous session
	default:
	}
	m.mu.Lock()
	m.retired = map[uint32]bool{}
	m.mu.Unlock()
	coa, _, err := m.careOf(netip.Prefix{})
	if err != nil {
		return err
	}
	// UDP encapsulation asked: IKE runs on 4500 from the start, so both
	// ends choose ESP in UDP (ike.ChildSA.Encap); raw ESP asked: IKE on
	// 500, and without a NAT on the path the CHILD_SA is raw ESP.
	var port uint16 = ike.PortNATT
	if m.cfg.RawESP() {
		port = ike.PortIKE
	}
	bc, err := m.bootstrapConfig(netip.AddrPortFrom(coa, port))
	if err != nil {
		return err
	}
	bc.OnEvent = m.onIKEEvent
	tr, err := openIKETransport(coa, port == ike.PortIKE)
	if err != nil {
		return err
	}
	defer tr.Close()
	bc.Transport = tr
	res, err := bootstrap.Run(ctx, bc)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	m.log.Info("bootstrapped", "home_agent", res.HomeAgent.Addr, "hoa", res.HomeAddress, "took", res.Total,
		"esp", carrierOf(res.Child), "nat", res.IKESA.NATDetected)
	tr.handOver()
	if err := m.start(res, coa, tr.bind); err != nil {
		res.Close()
		return err
	}
	defer m.stop()
	// Before the plane closes: the IKE SA's Delete may leave on its bind.
	defer res.Close()
	return m.stayRegistered(ctx, res)
}

// stayRegistered follows the care-of address, sends NAT keepalives and
// looks for a better home agent until the session ends: ctx done (it
// de-registers first), the home agent refused or vanished, or re-anchoring.
func (m *MobileNode) stayRegistered(ctx context.Context, res *bootstrap.Result) error {
	var keepalive <-chan time.Time
	if d := m.cfg.Mobility.NATKeepalive.Duration; d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		keepalive = t.C
	}
	var reanchor <-chan time.Time
	if d := m.reanchorInterval(res); d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		reanchor = t.C
	}
	updates := make(chan netlink.AddrUpdate, 16)
	done := make(chan struct{})
	defer close(done)
	if err := netlink.AddrSubscribe(updates, done); err != nil {
		return fmt.Errorf("watching addresses: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			if err := m.node.Deregister(3 * time.Second); err != nil {
				m.log.Warn("shutdown", "err", err)
			} else {
				m.log.Info("de-registered before stopping")
			}
			return ctx.Err()
		case reason := <-m.rebootstrap:
			return fmt.Errorf("home agent: %s", reason)
		case <-keepalive:
			m.sendKeepalive(res)
		case <-reanchor:
			if better := m.betterHomeAgent(ctx, res.HomeAgent.Addr); better.IsValid() {
				if err := m.node.Deregister(3 * time.Second); err != nil {
					m.log.Warn("re-anchoring", "err", err)
				}
				return fmt.Errorf("re-anchoring to a better home agent %s", better)
			}
		case <-updates:
			m.follow(res.HomeAddress)
		}
	}
}

// start installs the CHILD_SA and brings the home address up on the TUN.
// The plane takes over bind (UDP 4500: IKE and ESP in UDP) and, when the
// tunnel CHILD_SA is raw ESP, a raw ESP socket.
func (m *MobileNode) start(res *bootstrap.Result, coa netip.Addr, bind *dataplane.UDPBind) error {
	hoa := res.HomeAddress.Addr()
	host, err := hostnet.NewMobileHost(hostnet.MobileHostConfig{HomeAddress: hoa, Interface: m.cfg.Mobility.Interfaces[0], Log: m.log})
	if err != nil {
		return err
	}
	var rawESP *dataplane.ESPBind
	var raw *hostnet.RawMobility
	var n *node.MobileNode
	var plane *dataplane.Plane
	closeAll := func() {
		host.Close()
		if plane != nil {
			plane.Close() // the binds too
		} else if rawESP != nil {
			rawESP.Close()
		}
		if raw != nil {
			raw.Close()
		}
	}
	m.ikeLocal.Store(&coa)
	if !res.Child.Encap {
		if rawESP, err = dataplane.ListenESP(netip.IPv6Unspecified(), 0); err != nil {
			closeAll()
			return fmt.Errorf("mobility.esp_encapsulation none: %w", err)
		}
	}
	if res.Signalling != nil {
		// The RFC 3776 form: BAs carry a type 2 routing header (and, at
		// home, plain ESP to the home address) that this kernel would drop.
		// The raw ESP socket never needs those: the tunnel's ESP goes to
		// the care-of address.
		raw, err = hostnet.OpenRawMobility(hostnet.RawConfig{Role: hostnet.RawMobileNode, HomeAddress: hoa, PlainESP: true})
		if err != nil {
			closeAll()
			return fmt.Errorf("wire_form transport: %w", err)
		}
	}
	spd, sad := ipsec.NewSPD(), ipsec.NewSAD()
	n, err = m.newNode(res, host, raw, spd, sad)
	if err == nil {
		pc := dataplane.Config{TUN: host.TUN().Device(), Bind: bind, SPD: spd, SAD: sad,
			IKE: m.planeIKE(res.Endpoint), Local: n.PlaneLocal,
			Unprotected: func(pkt []byte) {
				if !n.FromHost(pkt) {
					host.NotTunnelled.Add(1)
				}
			}}
		if rawESP != nil {
			pc.RawESP = rawESP
		}
		plane, err = dataplane.New(pc)
	}
	if err == nil {
		n.AttachPlane(plane)
		err = installChildren(n, res, m.cfg.Identity)
	}
	if err != nil {
		closeAll()
		return err
	}
	if raw != nil {
		go raw.Serve(func(pkt []byte) { n.HandleRaw(pkt, time.Now()) })
	}
	stopTimers := make(chan struct{})
	m.mu.Lock()
	m.res, m.host, m.node, m.plane, m.bind, m.raw, m.stopTimers = res, host, n, plane, bind, raw, stopTimers
	m.mu.Unlock()
	go n.Timers(stopTimers)
	m.follow(res.HomeAddress)
	return nil
}

// planeIKE hands the IKE messages the plane finds on port 4500 to ep as
// arriving at the current care-of address: an IKE request's answer leaves
// from where it came to (RFC 7296 §2.11). It runs on the plane's workers:
// no lock of m.
func (m *MobileNode) planeIKE(ep *ike.Endpoint) func([]byte, netip.AddrPort) {
	return func(msg []byte, from netip.AddrPort) {
		ep.Receive(netip.AddrPortFrom(*m.ikeLocal.Load(), ike.PortNATT), from, append([]byte{0, 0, 0, 0}, msg...))
	}
}

// newNode makes the mobile node's packet path for a bootstrap's result.
func (m *MobileNode) newNode(res *bootstrap.Result, host *hostnet.MobileHost, raw *hostnet.RawMobility, spd *ipsec.SPD, sad *ipsec.SAD) (*node.MobileNode, error) {
	hoa, ha := res.HomeAddress.Addr(), res.HomeAgent.Addr
	core, err := mn.New(mn.Config{HomeAddress: hoa, HomeAgent: ha, HomePrefix: res.HomeAddress.Masked(),
		KeyMgmt: true, Lifetime: m.cfg.Mobility.Lifetime.Duration})
	if err != nil {
		return nil, err
	}
	// The IKE SA keeps its ports when it moves with the care-of address.
	ep := res.Endpoint
	localPort, remote := res.IKESA.Local.Port(), res.IKESA.Remote
	nc := node.MobileNodeConfig{Identity: m.cfg.Identity, HomeAddress: hoa, HomeAgent: ha,
		Core: core, SAD: sad, SPD: spd, Host: host, Log: m.log,
		MoveIKE: func(local netip.Addr) {
			ep.MoveEndpoints(res.IKESPI(), netip.AddrPortFrom(local, localPort), remote)
		},
		Rebootstrap: func(reason string) {
			select {
			case m.rebootstrap <- reason:
			default:
			}
		}}
	if raw != nil {
		nc.TransportForm, nc.Raw = true, raw
	}
	return node.NewMobileNode(nc)
}

// carrierOf names how a CHILD_SA's ESP travels.
func carrierOf(c *ike.ChildSA) string {
	if c.Encap {
		return "udp"
	}
	return "esp"
}

// installChildren installs the payload tunnel's CHILD_SA and, in the RFC
// 3776 form, the transport-mode ones for BU/BA and MPS/MPA.
func installChildren(n *node.MobileNode, res *bootstrap.Result, identity string) error {
	hoa, spi := res.HomeAddress.Addr(), res.IKESA.LocalSPI()
	for _, ch := range []*ike.ChildSA{res.Child, res.Signalling, res.PrefixDiscovery} {
		if ch == nil {
			continue
		}
		c, err := node.ChildFromIKE(ch, spi, identity, hoa)
		if err == nil {
			err = n.Install(c)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// follow attaches the mobile node to its current care-of address, or home.
func (m *MobileNode) follow(hoa netip.Prefix) {
	coa, home, err := m.careOf(hoa)
	if err != nil {
		m.log.Warn("no care-of address", "err", err)
		return
	}
	m.mu.Lock()
	same := coa == m.coa
	m.coa = coa
	m.ikeLocal.Store(&coa)
	m.mu.Unlock()
	if same {
		return
	}
	if home {
		if err := m.host.Home(); err != nil {
			m.log.Warn("home", "err", err)
		}
		m.log.Info("at home", "hoa", hoa)
	} else {
		if err := m.host.Away(); err != nil {
			m.log.Warn("away", "err", err)
		}
		m.log.Info("care-of address", "coa", coa)
	}
	m.node.Attach(coa)
}

// onIKEEvent follows the kept IKE SA: a delete from the home agent means
// re-bootstrap (RFC 4640 §5.3).
func (m *MobileNode) onIKEEvent(ev ike.Event) {
	switch ev.Kind {
	case ike.EventIKEDeleted, ike.EventFailed:
		if ev.IKEAlive {
			m.log.Warn("IKE exchange failed; the IKE SA lives on", "err", ev.Err)
			return
		}
		m.mu.Lock()
		res := m.res
		m.mu.Unlock()
		if res != nil && ev.IKESA.LocalSPI() != res.IKESPI() {
			return // the IKE SA a rekey replaced (RFC 7296 §2.18)
		}
		select {
		case m.rebootstrap <- fmt.Sprintf("IKE SA %s (%v)", ev.Kind, ev.Err):
		default:
		}
	case ike.EventChildDeleted:
		m.mu.Lock()
		retired := m.retired[ev.Child.InboundSPI]
		delete(m.retired, ev.Child.InboundSPI)
		m.mu.Unlock()
		if retired || ev.Child.Transport {
			return
		}
		// The home agent took the tunnel's CHILD_SA away without a
		// successor (e.g. it refused raw ESP): start over.
		reason := fmt.Sprintf("the home agent deleted CHILD_SA %s", ev.Child)
		if !ev.Child.Encap {
			reason += " (raw ESP: does the home agent have ike.raw_esp?)"
		}
		select {
		case m.rebootstrap <- reason:
		default:
		}
	case ike.EventChildRekeyed:
		m.mu.Lock()
		if ev.OldChild != nil {
			m.retired[ev.OldChild.InboundSPI] = true
		}
		n := m.node
		var hoa netip.Addr
		if m.res != nil {
			hoa = m.res.HomeAddress.Addr()
		}
		m.mu.Unlock()
		if c, err := node.ChildFromIKE(ev.Child, ev.IKESA.LocalSPI(), m.cfg.Identity, hoa); err == nil && n != nil && hoa.IsValid() {
			n.Install(c)
		}
	}
}

func (m *MobileNode) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopTimers != nil {
		close(m.stopTimers)
	}
	if m.host != nil {
		m.host.Close() // removes the rule, then the TUN
	}
	if m.plane != nil {
		m.plane.Close()
	}
	if m.raw != nil {
		m.raw.Close() // removes its nft table
	}
	m.node, m.host, m.plane, m.bind, m.raw, m.stopTimers, m.res, m.coa = nil, nil, nil, nil, nil, nil, nil, netip.Addr{}
}

func (m *MobileNode) reanchorInterval(res *bootstrap.Result) time.Duration {
	if d := m.cfg.HomeAgent.ReanchorInterval.Duration; d > 0 {
		return d
	}
	return res.RefreshAfter
}

// betterHomeAgent runs discovery again (RFC 4640 §5.3: re-anchor to a
// better home agent) and returns the preferred candidate when it is not
// the current one.
func (m *MobileNode) betterHomeAgent(ctx context.Context, current netip.Addr) netip.Addr {
	c := m.cfg
	dc := discovery.Config{Identity: c.Identity, Domain: c.HomeAgent.Domain, HAName: c.HomeAgent.FQDN}
	if c.HomeAgent.Address.IsValid() {
		dc.Static = []netip.Addr{c.HomeAgent.Address.Addr}
	}
	if c.HomeAgent.DNSServer.IsValid() {
		dc.Resolver = &discovery.Resolver{Servers: []netip.AddrPort{c.HomeAgent.DNSServer.AddrPort}}
	}
	list, err := discovery.Discover(ctx, dc)
	if err != nil {
		m.log.Warn("re-anchoring: discovery", "err", err)
		return netip.Addr{}
	}
	best, err := list.Current()
	if err != nil || best.Addr == current {
		return netip.Addr{}
	}
	m.log.Info("a better home agent is available", "current", current, "better", best.Addr, "source", best.Source)
	return best.Addr
}

// sendKeepalive keeps a NAT binding on the path to the home agent open
// (RFC 3948 §4): one 0xFF octet on the ESP-in-UDP port, while away.
func (m *MobileNode) sendKeepalive(res *bootstrap.Result) {
	m.mu.Lock()
	bind, coa := m.bind, m.coa
	m.mu.Unlock()
	if bind == nil || !coa.IsValid() || coa == res.HomeAddress.Addr() || !res.Child.Encap {
		return // raw ESP: no NAT on the path
	}
	if _, err := bind.WriteToUDPAddrPort([]byte{0xff}, netip.AddrPortFrom(res.HomeAgent.Addr, ike.PortNATT)); err != nil {
		m.log.Debug("NAT keepalive", "err", err)
	}
}

// SolicitPrefixes sends a Mobile Prefix Solicitation to the home agent now
// (RFC 6275 §11.4.2), in the wire form of the session.
func (m *MobileNode) SolicitPrefixes() (string, error) {
	m.mu.Lock()
	n := m.node
	m.mu.Unlock()
	if n == nil {
		return "", errors.New("not bootstrapped yet: no home agent to ask")
	}
	n.SolicitPrefixes()
	return "Mobile Prefix Solicitation sent; see the prefix_* counters in mip6 status", nil
}
