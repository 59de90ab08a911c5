package daemon

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"

	"mip6/ike"
	"mip6/internal/control"
	"mip6/internal/node"
	"mip6/ipsec"
)

// openIKE opens the IKE ports and the ESP-in-UDP path on port 4500.
func (h *HomeAgent) openIKE() error {
	kl, err := openKeyLog(h.cfg.IKE.KeyLog)
	if err != nil {
		return err
	}
	h.keyLog = kl
	cfg := ike.Config{
		LookupPeer:      h.lookupPeer,
		AssignAddress:   h.assignAddress,
		ReleaseAddress:  h.releaseAddress,
		CookieThreshold: h.cfg.IKE.CookieThreshold,
		Logger:          h.log,
	}
	if kl != nil {
		cfg.KeyLog = kl
		h.log.Warn("IKE and ESP keys are being written to the key log: for debugging only", "file", h.cfg.IKE.KeyLog)
	}
	conns := node.IKEConn{}
	var natt *net.UDPConn
	var nattLocal netip.AddrPort
	for _, l := range h.cfg.IKE.Listen {
		c, err := net.ListenUDP("udp6", net.UDPAddrFromAddrPort(l.AddrPort))
		if err != nil {
			return fmt.Errorf("ike.listen %s: %w", l, err)
		}
		h.conns = append(h.conns, c)
		conns[l.Port()] = c
		if l.Port() == ike.PortNATT {
			natt, nattLocal = c, l.AddrPort
		}
	}
	if natt == nil {
		return fmt.Errorf("ike.listen: no address on port %d: ESP in UDP needs it", ike.PortNATT)
	}
	h.ep = ike.NewEndpoint(cfg, conns, h.onEvent)
	h.node, err = node.NewHomeAgent(node.HomeAgentConfig{Core: h.core, PAD: h.pad, SAD: ipsec.NewSAD(), Conn: natt,
		Link: h.link, IKE: node.IKEHandlerFor(h.ep, nattLocal), Log: h.log,
		MoveIKE: func(spi uint64, to netip.AddrPort) { h.ep.MoveEndpoints(spi, netip.AddrPort{}, to) }})
	if err != nil {
		return err
	}
	for _, l := range h.cfg.IKE.Listen {
		c := conns[l.Port()].(*net.UDPConn)
		if l.Port() == ike.PortNATT {
			go h.node.Serve()
		} else {
			go node.ServeIKE(c, l.AddrPort, h.ep)
		}
	}
	return nil
}

// lookupPeer finds the PAD entry for an IKE_AUTH initiator.
func (h *HomeAgent) lookupPeer(idi ike.Identity, _ *ike.Identity) (*ike.PeerConfig, error) {
	id := idi.String()
	for _, m := range h.cfg.MobileNodes {
		if m.Identity != id {
			continue
		}
		p := &ike.PeerConfig{Name: id, LocalID: h.localID(), RemoteID: idi, LocalAuth: ike.AuthPSK,
			Children: []ike.ChildConfig{{Name: "mip6", LocalTS: []ike.Selector{ike.PrefixSelector(netip.MustParsePrefix("::/0"))},
				RemoteTS: []ike.Selector{{EndPort: 0xffff}}}}}
		switch m.Auth {
		case "psk":
			p.RemoteAuth, p.PSK = ike.AuthPSK, []byte(m.PSK)
		case "eap":
			if h.EAPServer == nil {
				return nil, fmt.Errorf("%s uses EAP but no RADIUS authenticator is configured", id)
			}
			p.RemoteAuth, p.EAPServer = ike.AuthEAP, h.EAPServer
		default:
			return nil, fmt.Errorf("%s: auth %q needs certificates, which ha.conf does not configure yet", id, m.Auth)
		}
		if p.RemoteAuth != ike.AuthEAP {
			p.LocalAuth = ike.AuthPSK
			p.PSK = []byte(m.PSK)
		}
		return p, nil
	}
	return nil, errNotConfigured
}

func (h *HomeAgent) localID() ike.Identity {
	if h.cfg.IKE.Identity != "" {
		return ike.FQDN(h.cfg.IKE.Identity)
	}
	return ike.AddrIdentity(h.cfg.HomeAgent.Address.Addr)
}

// assignAddress gives a mobile node its static home address, or one from
// the pool or DHCPv6, and links it to the identity in the PAD (RFC 4877 §9).
func (h *HomeAgent) assignAddress(peer ike.Identity, suggested netip.Addr) (netip.Prefix, error) {
	id := peer.String()
	for _, m := range h.cfg.MobileNodes {
		if m.Identity == id && m.HomeAddress.IsValid() {
			return netip.PrefixFrom(m.HomeAddress.Addr, h.cfg.HomeAgent.HomePrefix.Bits()), nil
		}
	}
	p, err := h.assigner.Assign(id, suggested)
	if err != nil {
		h.log.Warn("no home address", "identity", id, "err", err)
		return p, err
	}
	if err := h.pad.AddTemporary(id, p.Addr()); err != nil {
		h.assigner.Release(id, p.Addr())
		return netip.Prefix{}, err
	}
	h.log.Info("home address assigned", "identity", id, "hoa", p)
	return p, nil
}

func (h *HomeAgent) releaseAddress(peer ike.Identity, p netip.Prefix) {
	id := peer.String()
	if _, static := h.staticOwner(p.Addr()); static {
		return
	}
	h.pad.RemoveTemporary(id, p.Addr())
	if err := h.assigner.Release(id, p.Addr()); err != nil {
		h.log.Warn("releasing home address", "identity", id, "hoa", p, "err", err)
	}
}

// onEvent installs, rekeys and removes what IKE negotiated.
func (h *HomeAgent) onEvent(ev ike.Event) {
	id := ev.IKESA.RemoteID.String()
	log := h.log.With("identity", id, "hoa", ev.IKESA.AssignedAddress)
	switch ev.Kind {
	case ike.EventIKEEstablished:
		h.mu.Lock()
		h.ikeSAs[ev.IKESA.LocalSPI()] = ev.IKESA
		h.mu.Unlock()
		log.Info("IKE SA established", "peer", ev.IKESA.Remote, "suite", ev.IKESA.Suite)
	case ike.EventChildEstablished, ike.EventChildRekeyed:
		c, err := node.ChildFromIKE(ev.Child, ev.IKESA.LocalSPI(), id, ev.IKESA.AssignedAddress.Addr())
		if err == nil {
			err = h.node.Install(c)
		}
		if err != nil {
			log.Error("CHILD_SA not installed", "err", err)
			return
		}
		if ev.Kind == ike.EventChildRekeyed && ev.OldChild != nil {
			h.assigner.Renew(id, ev.IKESA.AssignedAddress.Addr())
		}
		log.Info("CHILD_SA installed", "child", ev.Child.String())
	case ike.EventChildDeleted:
		h.node.RemoveSPI(ev.Child.InboundSPI)
	case ike.EventIKERekeyed:
		h.mu.Lock()
		delete(h.ikeSAs, ev.PreviousIKESA.LocalSPI())
		h.ikeSAs[ev.IKESA.LocalSPI()] = ev.IKESA
		h.mu.Unlock()
		h.assigner.Renew(id, ev.IKESA.AssignedAddress.Addr())
	case ike.EventIKEDeleted, ike.EventFailed:
		h.mu.Lock()
		delete(h.ikeSAs, ev.IKESA.LocalSPI())
		h.mu.Unlock()
		log.Info("IKE SA closed", "event", ev.Kind.String(), "err", ev.Err)
	}
}

// Status reports bindings, SAs and counters.
func (h *HomeAgent) Status() *control.Status {
	s := &control.Status{Role: "ha", Identity: h.localID().String(), Started: h.started}
	h.node.Status(s)
	h.mu.Lock()
	for _, sa := range h.ikeSAs {
		s.IKESAs = append(s.IKESAs, control.IKESA{Identity: sa.RemoteID.String(), Local: sa.Local.String(),
			Remote: sa.Remote.String(), SPIi: fmt.Sprintf("%016x", sa.InitiatorSPI), SPIr: fmt.Sprintf("%016x", sa.ResponderSPI),
			Suite: sa.Suite, State: "established"})
	}
	h.mu.Unlock()
	for r, v := range h.ep.Drops() {
		s.Counters["ike_drop_"+r.String()] = v
	}
	return s
}

// Policy prints an MN's SPD, SAD and PAD entries in RFC 4877 notation.
func (h *HomeAgent) Policy(identity string) (string, error) {
	e, ok := h.pad.Lookup(identity)
	if !ok {
		return "", fmt.Errorf("no PAD entry for %q", identity)
	}
	var hoa netip.Addr
	if len(e.ChildSAAddrs) > 0 {
		hoa = e.ChildSAAddrs[0].From
	}
	for _, b := range h.Status().Bindings {
		if b.Identity == identity {
			hoa, _ = netip.ParseAddr(b.HomeAddress)
		}
	}
	var coa netip.Addr
	if b, ok := h.core.Cache().Lookup(hoa); ok {
		coa = b.CareOf
	}
	mn := ipsec.MobileNode{Identity: identity, HomeAddress: hoa, CareOf: coa, HomeAgent: h.cfg.HomeAgent.Address.Addr,
		HomeAgentIdentity: h.localID().String()}
	spd := ipsec.NewSPD()
	spd.Add(ipsec.GenericHomeAgentEntries(h.cfg.HomeAgent.Address.Addr, h.cfg.HomeAgent.HomePrefix.Prefix)...)
	spd.Add(mn.Entries(ipsec.RoleHomeAgent, ipsec.PolicyOptions{SignallingMode: ipsec.Tunnel})...)
	spd.Add(mn.PayloadEntry(ipsec.RoleHomeAgent))
	var b bytes.Buffer
	err := ipsec.WritePolicy(&b, ipsec.RoleHomeAgent, identity, spd, h.node.SAD(), h.pad, ipsec.Names{})
	return b.String(), err
}
