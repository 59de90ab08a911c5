package daemon

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"mip6/aaa"
	"mip6/dataplane"
	"mip6/ha"
	"mip6/ike"
	"mip6/internal/config"
	"mip6/internal/control"
	"mip6/internal/hostnet"
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
	cfg, err := h.bha.Configure(ike.Config{CookieThreshold: h.cfg.IKE.CookieThreshold, Logger: h.log})
	if err != nil {
		return err
	}
	if kl != nil {
		cfg.KeyLog = kl
		h.log.Warn("IKE and ESP keys are being written to the key log: for debugging only", "file", h.cfg.IKE.KeyLog)
	}
	conns, natt, nattLocal, ike500, err := h.listenIKE()
	if err != nil {
		return err
	}
	if err := h.openRaw(); err != nil {
		return err
	}
	h.ep = ike.NewEndpoint(cfg, conns, h.onEvent)
	if err := h.startPlane(natt, nattLocal); err != nil {
		return err
	}
	for i, l := range ike500 {
		go node.ServeIKE(h.conns[i], l.AddrPort, h.ep)
	}
	if h.raw != nil {
		go h.raw.Serve(func(pkt []byte) { h.node.HandleRaw(pkt, time.Now()) })
	}
	return nil
}

// listenIKE opens ike.listen: port 4500 as the data plane's UDP bind (it
// carries IKE and the payload), the others as IKE-only sockets.
func (h *HomeAgent) listenIKE() (conns node.IKEConn, natt *dataplane.UDPBind, nattLocal netip.AddrPort, ike500 []config.AddrPort, err error) {
	conns = node.IKEConn{}
	for _, l := range h.cfg.IKE.Listen {
		if l.Port() == ike.PortNATT {
			b, err := dataplane.ListenUDP(l.AddrPort, 0)
			if err != nil {
				return nil, nil, nattLocal, nil, fmt.Errorf("ike.listen %s: %w", l, err)
			}
			h.bind, natt, nattLocal = b, b, l.AddrPort
			conns[l.Port()] = b
			continue
		}
		c, err := net.ListenUDP("udp6", net.UDPAddrFromAddrPort(l.AddrPort))
		if err != nil {
			return nil, nil, nattLocal, nil, fmt.Errorf("ike.listen %s: %w", l, err)
		}
		h.conns = append(h.conns, c)
		conns[l.Port()] = c
		ike500 = append(ike500, l)
	}
	if natt == nil {
		return nil, nil, nattLocal, nil, fmt.Errorf("ike.listen: no address on port %d: ESP in UDP needs it", ike.PortNATT)
	}
	return conns, natt, nattLocal, ike500, nil
}

// openRaw opens the raw ESP carrier (ike.raw_esp) and the capture of the
// RFC 3776 transport form (home_agent.wire_form = "transport").
func (h *HomeAgent) openRaw() error {
	haAddr := h.cfg.HomeAgent.Address.Addr
	var err error
	if h.cfg.IKE.RawESP {
		// Raw ESP beside ESP in UDP: bound to the home agent's address, so
		// what it reads was sent there.
		if h.rawESP, err = dataplane.ListenESP(haAddr, 0); err != nil {
			return fmt.Errorf("ike.raw_esp: %w", err)
		}
	}
	if h.bha.TransportForm {
		// RFC 3776 BUs carry a Home Address option (and, from home, are plain
		// ESP) that this kernel would drop: take them before it does. With
		// the raw ESP carrier the plain ESP ones must reach its socket
		// (a drop rule would take the tunnels' ESP too): the plane hands
		// them over (its Transport hook).
		h.raw, err = hostnet.OpenRawMobility(hostnet.RawConfig{Role: hostnet.RawHomeAgent,
			HomeAgent: haAddr, PlainESP: h.rawESP == nil})
		if err != nil {
			return fmt.Errorf("home_agent.wire_form transport: %w", err)
		}
	}
	return nil
}

// startPlane builds the mobility packet path and the data plane under it.
func (h *HomeAgent) startPlane(natt *dataplane.UDPBind, nattLocal netip.AddrPort) error {
	haAddr := h.cfg.HomeAgent.Address.Addr
	spd, sad := ipsec.NewSPD(), ipsec.NewSAD()
	nc := node.HomeAgentConfig{Core: h.core, HomePrefix: h.cfg.HomeAgent.HomePrefix.Prefix, PAD: h.pad,
		SAD: sad, SPD: spd, Link: h.link, Log: h.log,
		MoveIKE:   h.moveIKE,
		OnBinding: h.accounting}
	if h.raw != nil {
		nc.Raw = h.raw
	}
	var err error
	if h.node, err = node.NewHomeAgent(nc); err != nil {
		return err
	}
	pc := dataplane.Config{TUN: h.link.TUN().Device(), Bind: natt, SPD: spd, SAD: sad,
		IKE: node.PlaneIKEHandler(h.ep, nattLocal), Local: h.node.PlaneLocal,
		Unprotected: func(pkt []byte) {
			if !h.node.FromHomeLink(pkt) {
				h.link.Unclaimed.Add(1)
			}
		}}
	if h.rawESP != nil {
		pc.RawESP = h.rawESP
		pc.Transport = func(esp []byte, from netip.Addr) { h.node.HandleTransportESP(esp, from, haAddr, time.Now()) }
	}
	if h.plane, err = dataplane.New(pc); err != nil {
		return err
	}
	h.bind, h.rawESP = nil, nil // the plane closes them
	h.node.AttachPlane(h.plane)
	return nil
}

// refuseDelay separates the Delete of a refused CHILD_SA from the
// exchange that created it.
const refuseDelay = 500 * time.Millisecond

// moveIKE moves an IKE SA's peer to a mobile node's care-of address (a
// Binding Update with the K flag). Port 0 (a raw ESP tunnel, IKE on 500):
// the IKE SA keeps the port it has.
func (h *HomeAgent) moveIKE(spi uint64, to netip.AddrPort) {
	if to.Port() == 0 {
		h.mu.Lock()
		sa, ok := h.ikeSAs[spi]
		h.mu.Unlock()
		port := uint16(ike.PortIKE)
		if ok && sa.Remote.Port() != 0 {
			port = sa.Remote.Port()
		}
		to = netip.AddrPortFrom(to.Addr(), port)
	}
	h.ep.MoveEndpoints(spi, netip.AddrPort{}, to)
}

func (h *HomeAgent) localID() ike.Identity {
	if h.cfg.IKE.Identity != "" {
		return ike.FQDN(h.cfg.IKE.Identity)
	}
	return ike.AddrIdentity(h.cfg.HomeAgent.Address.Addr)
}

// onEvent installs, rekeys and removes what IKE negotiated.
func (h *HomeAgent) onEvent(ev ike.Event) {
	h.bha.OnEvent(ev)
	id := ev.IKESA.RemoteID.String()
	log := h.log.With("identity", id, "hoa", ev.IKESA.AssignedAddress)
	switch ev.Kind {
	case ike.EventIKEEstablished:
		h.mu.Lock()
		h.ikeSAs[ev.IKESA.LocalSPI()] = ev.IKESA
		h.mu.Unlock()
		log.Info("IKE SA established", "peer", ev.IKESA.Remote, "suite", ev.IKESA.Suite)
	case ike.EventChildEstablished, ike.EventChildRekeyed:
		if !ev.Child.Transport && !ev.Child.Encap && !h.cfg.IKE.RawESP {
			// IKE on port 500 and no NAT: both ends chose raw ESP, which
			// this home agent does not carry. Refused, so that the mobile
			// node learns it rather than tunnelling into the void.
			log.Error("CHILD_SA refused: raw ESP (the mobile node runs IKE on port 500, no NAT on the path) but ike.raw_esp is off; set it, or mobility.esp_encapsulation = \"udp\" at the mobile node",
				"child", ev.Child.String())
			// The engine reports the CHILD_SA before its IKE_AUTH response
			// leaves; a Delete sent now would reach the mobile node before
			// the CHILD_SA exists there.
			spi, in := ev.IKESA.LocalSPI(), ev.Child.InboundSPI
			time.AfterFunc(refuseDelay, func() { h.ep.DeleteChildSA(spi, in) })
			return
		}
		c, err := node.ChildFromIKE(ev.Child, ev.IKESA.LocalSPI(), id, ev.IKESA.AssignedAddress.Addr())
		if err == nil {
			err = h.node.Install(c)
		}
		if err != nil {
			log.Error("CHILD_SA not installed", "err", err)
			return
		}
		if ev.OldChild != nil {
			h.node.RemoveSPI(ev.OldChild.InboundSPI)
		}
		log.Info("CHILD_SA installed", "child", ev.Child.String())
	case ike.EventChildDeleted:
		h.node.RemoveSPI(ev.Child.InboundSPI)
	case ike.EventAddressesUpdated:
		// MOBIKE or a K-flag move: status and moveIKE see the new ends.
		h.mu.Lock()
		if _, ok := h.ikeSAs[ev.IKESA.LocalSPI()]; ok {
			h.ikeSAs[ev.IKESA.LocalSPI()] = ev.IKESA
		}
		h.mu.Unlock()
	case ike.EventIKERekeyed:
		h.mu.Lock()
		delete(h.ikeSAs, ev.PreviousIKESA.LocalSPI())
		h.ikeSAs[ev.IKESA.LocalSPI()] = ev.IKESA
		h.mu.Unlock()
		h.node.IKESARekeyed(ev.PreviousIKESA.LocalSPI(), ev.IKESA.LocalSPI())
	case ike.EventIKEDeleted, ike.EventFailed:
		if ev.IKEAlive {
			log.Warn("IKE exchange failed; the IKE SA lives on", "err", ev.Err)
			return
		}
		h.mu.Lock()
		delete(h.ikeSAs, ev.IKESA.LocalSPI())
		h.mu.Unlock()
		log.Info("IKE SA closed", "event", ev.Kind.String(), "err", ev.Err)
	}
}

// Status reports bindings, SAs and counters.
func (h *HomeAgent) Status() *control.Status {
	s := &control.Status{Role: "ha", Identity: h.localID().String(), Started: h.started, Store: h.st.Path()}
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

// accounting sends RADIUS Accounting Start/Stop per binding, off the
// packet path.
func (h *HomeAgent) accounting(b ha.Binding, up bool) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		if up {
			err = h.bha.BindingStarted(ctx, b.Identity, b.HomeAddress, b.CareOf)
		} else {
			cause := aaa.CauseUserRequest
			if !b.Expires.After(time.Now()) {
				cause = aaa.CauseIdleTimeout
			}
			err = h.bha.BindingEnded(ctx, b.HomeAddress, cause)
		}
		if err != nil {
			h.log.Warn("RADIUS accounting", "identity", b.Identity, "hoa", b.HomeAddress, "start", up, "err", err)
		}
	}()
}
