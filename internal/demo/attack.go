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
// Update for alice's home address through her own, valid SA. The home
// agent must drop it and leave alice's binding alone.
func (l *lab) attack(ctx context.Context, victim netip.Addr) (refused bool, err error) {
	n := l.d.Net.NewNode("mallory")
	n.Attach(l.d.A, malloryCoA)
	c500, err := n.ListenUDP(netip.AddrPortFrom(netip.IPv6Unspecified(), ike.PortIKE))
	if err != nil {
		return false, err
	}
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
		Local:     netip.AddrPortFrom(malloryCoA, ike.PortIKE),
		Transport: &node.ConnTransport{Conn: c500, Local: func() netip.AddrPort { return netip.AddrPortFrom(malloryCoA, ike.PortIKE) }}})
	if err != nil {
		return false, fmt.Errorf("mallory's own bootstrap: %w", err)
	}
	defer r.Close()
	l.tl.Addf("mal", "attack", "bootstrapped", "as %s: home address %s of her own", malloryIdentity, r.HomeAddress)
	c, err := node.ChildFromIKE(r.Child, r.IKESA.LocalSPI(), malloryIdentity, r.HomeAddress.Addr())
	if err != nil {
		return false, err
	}
	before := l.bindingOf(victim)
	bu := mh.BindingUpdate{Sequence: 0x7000, Acknowledge: true, HomeRegistration: true, Lifetime: 150}
	bu.Options.Present |= mh.HasAlternateCareOfAddress
	bu.Options.AlternateCareOfAddress = malloryCoA
	body := bu.Append(nil, victim, vnet.HAAddr)
	inner := ipv6.AppendPacket(nil, victim, vnet.HAAddr, ipv6.ProtoMobility, body)
	pkt, err := c.Out.SA.Seal(nil, inner, ipv6.ProtoIPv6)
	if err != nil {
		return false, err
	}
	if _, err := c4500.WriteToUDPAddrPort(pkt, netip.AddrPortFrom(vnet.HAAddr, ike.PortNATT)); err != nil {
		return false, err
	}
	l.tl.Addf("mal", "attack", "forged Binding Update sent", "for alice's home address %s, care-of %s, through her own SA %08x",
		victim, malloryCoA, c.Out.SPI())
	time.Sleep(50 * time.Millisecond)
	after := l.bindingOf(victim)
	refused = after.CareOf == before.CareOf && after.Identity == mnIdentity
	l.tl.Addf("ha", "attack", "alice's binding", "still %s -> %s (identity %s)", victim, after.CareOf, after.Identity)
	return refused, nil
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
