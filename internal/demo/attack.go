package demo

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"mip6/bootstrap"
	"mip6/discovery"
	"mip6/ike"
	"mip6/internal/control"
	"mip6/internal/node"
	"mip6/vnet"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

const (
	malloryIdentity = "mallory@example.net"
	malloryPassword = "mallory's own EAP password"
)

var malloryCoA = vnet.AddrOn(vnet.APrefix, 0x666)

// attack shows RFC 4877 §4.2 at work: mallory, a subscriber in good
// standing, bootstraps with her own credentials, then sends a Binding
// Update for alice's home address through her own, valid SA, in the wire
// form of the run. The home agent must drop it, as its own drop counter
// shows, and leave alice's binding alone.
func (l *lab) attack(ctx context.Context, victim netip.Addr) (refused bool, err error) {
	n := l.d.Net.NewNode("mallory")
	n.Attach(l.d.A, malloryCoA)
	c4500, err := n.ListenUDP(netip.AddrPortFrom(netip.IPv6Unspecified(), ike.PortNATT))
	if err != nil {
		return false, err
	}
	defer c4500.Close()
	res := &discovery.Resolver{Servers: []netip.AddrPort{netip.AddrPortFrom(dnsAddr, 53)}, Timeout: time.Second,
		Listen: func() (discovery.UDPConn, error) { return n.ListenUDP(netip.AddrPort{}) }}
	r, err := bootstrap.Run(ctx, bootstrap.Config{Identity: malloryIdentity,
		EAP:        &bootstrap.EAPCredential{Method: bootstrap.EAPMSCHAPv2, Password: malloryPassword},
		HAIdentity: ike.FQDN(haName), HATrustRoots: l.pki.roots, Resolver: res,
		Local:         netip.AddrPortFrom(malloryCoA, ike.PortNATT),
		Transport:     &node.ConnTransport{Conn: c4500, Local: func() netip.AddrPort { return netip.AddrPortFrom(malloryCoA, ike.PortNATT) }},
		TransportForm: l.form == Transport})
	if err != nil {
		return false, fmt.Errorf("mallory's own bootstrap: %w", err)
	}
	defer r.Close()
	l.tl.Addf("mal", "attack", "bootstrapped", "as %s: home address %s of her own", malloryIdentity, r.HomeAddress)
	bu := mh.BindingUpdate{Sequence: 0x7000, Acknowledge: true, HomeRegistration: true, Lifetime: 150}
	bu.Options.Present |= mh.HasAlternateCareOfAddress
	bu.Options.AlternateCareOfAddress = malloryCoA
	body := bu.Append(nil, victim, vnet.HAAddr)
	counter, before := forgeryCounter(r.Signalling != nil), l.bindingOf(victim)
	dropped := l.haCounter(counter)
	if r.Signalling != nil {
		err = l.forgeTransport(n, r, victim, body)
	} else {
		err = l.forgeTunnelled(c4500, r, victim, body)
	}
	if err != nil {
		return false, err
	}
	counted := l.waitCounter(ctx, counter, dropped)
	after := l.bindingOf(victim)
	how := "the Home Address option is not the SA's"
	if r.Signalling == nil {
		how = "the data plane's inbound selector check (RFC 4301 §5.2), before the binding cache"
	}
	l.tl.Addf("ha", "attack", "forged Binding Update refused", "mallory's SA was created for her home address %s, not alice's (RFC 4877 §4.2); %s: %s %d -> %d",
		r.HomeAddress.Addr(), how, counter, dropped, l.haCounter(counter))
	l.tl.Addf("ha", "attack", "alice's binding", "still %s -> %s (identity %s)", victim, after.CareOf, after.Identity)
	return counted && after.CareOf == before.CareOf && after.Identity == mnIdentity, nil
}

// forgeTunnelled sends the forged BU in the RFC 4877 §3 tunnelled form:
// inner source alice's home address, through mallory's tunnel-mode SA.
func (l *lab) forgeTunnelled(c4500 *vnet.UDPConn, r *bootstrap.Result, victim netip.Addr, body []byte) error {
	c, err := node.ChildFromIKE(r.Child, r.IKESA.LocalSPI(), malloryIdentity, r.HomeAddress.Addr())
	if err != nil {
		return err
	}
	inner := ipv6.AppendPacket(nil, victim, vnet.HAAddr, ipv6.ProtoMobility, body)
	pkt, err := c.Out.SA.Seal(nil, inner, ipv6.ProtoIPv6)
	if err != nil {
		return err
	}
	if _, err := c4500.WriteToUDPAddrPort(pkt, netip.AddrPortFrom(vnet.HAAddr, ike.PortNATT)); err != nil {
		return err
	}
	l.tl.Addf("mal", "attack", "forged Binding Update sent", "tunnelled form, inner source alice's home address %s, care-of %s, through her own tunnel SA %08x",
		victim, malloryCoA, c.Out.SPI())
	return nil
}

// forgeTransport sends the forged BU in the RFC 3776 transport form: from
// mallory's care-of address with a Home Address option naming alice's
// home address, raw ESP through mallory's own transport-mode SA.
func (l *lab) forgeTransport(n *vnet.Node, r *bootstrap.Result, victim netip.Addr, body []byte) error {
	c, err := node.ChildFromIKE(r.Signalling, r.IKESA.LocalSPI(), malloryIdentity, r.HomeAddress.Addr())
	if err != nil {
		return err
	}
	sealed, err := c.Out.SA.Seal(nil, body, ipv6.ProtoMobility)
	if err != nil {
		return err
	}
	p := ipv6.Packet{Header: ipv6.Header{HopLimit: ipv6.DefaultHopLimit, Src: malloryCoA, Dst: vnet.HAAddr},
		HomeAddress: victim, Proto: ipv6.ProtoESP}
	if err := n.SendDirect(p.Append(nil, sealed)); err != nil {
		return err
	}
	l.tl.Addf("mal", "attack", "forged Binding Update sent", "transport form, Home Address option alice's %s, care-of %s, through her own transport SA %08x",
		victim, malloryCoA, c.Out.SPI())
	return nil
}

// forgeryCounter is the home agent's counter that a forged BU in a wire
// form must raise: both are refused before the Mobility Header is looked
// at, the transport form for its Home Address option, the tunnelled one
// by the data plane's inbound check of the SA's traffic selectors (RFC
// 4301 §5.2: the inner source is not mallory's home address).
func forgeryCounter(transport bool) string {
	if transport {
		return "drop_hao_mismatch"
	}
	return "dataplane_drop_selector"
}

func (l *lab) haCounter(name string) uint64 {
	var st control.Status
	l.ha.Status(&st)
	return st.Counters[name]
}

// waitCounter waits, 2 s at most, until the home agent's counter name is
// above was.
func (l *lab) waitCounter(ctx context.Context, name string, was uint64) bool {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if l.haCounter(name) > was {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(2 * time.Millisecond):
		}
	}
	return false
}

// bindingOf reads a binding from the home agent's status.
func (l *lab) bindingOf(hoa netip.Addr) control.Binding {
	var st control.Status
	l.ha.Status(&st)
	for _, b := range st.Bindings {
		if b.HomeAddress == hoa.String() {
			return b
		}
	}
	return control.Binding{}
}
