package demo

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"mip6/discovery"
	"mip6/ike"
	"mip6/internal/node"
	"mip6/ipsec"
	"mip6/mn"
	"mip6/vnet"
)

// bootstrap runs the mobile node's side of RFC 4640 bootstrapping from its
// seed (identity + PSK): DNS discovery of the home agent from the NAI's
// realm, IKE_SA_INIT and IKE_AUTH with a CP request for a home address,
// then its packet path with the negotiated CHILD_SA.
func (l *lab) bootstrap(ctx context.Context) (netip.Addr, error) {
	l.mnNode = l.d.Net.NewNode("mn")
	l.mnIfc = l.mnNode.Attach(l.d.A, mnCoAA)
	l.tl.Addf("lab", "", "mobile node attached", "access network A, care-of address %s", mnCoAA)

	l.tl.Addf("mn", "discovery", "DNS SRV query", "_mip6._ipv6.%s via %s", discovery.Realm(mnIdentity), dnsAddr)
	res := &discovery.Resolver{Servers: []netip.AddrPort{netip.AddrPortFrom(dnsAddr, 53)}, Timeout: time.Second,
		Listen: func() (discovery.UDPConn, error) { return l.mnNode.ListenUDP(netip.AddrPort{}) }}
	list, err := discovery.Discover(ctx, discovery.Config{Identity: mnIdentity, Resolver: res})
	if err != nil {
		return netip.Addr{}, fmt.Errorf("home agent discovery: %w", err)
	}
	cand, err := list.Current()
	if err != nil {
		return netip.Addr{}, err
	}
	l.tl.Addf("mn", "discovery", "home agent found", "%s (%s, from %s)", cand.Addr, cand.Name, cand.Source)

	c500, err := l.mnNode.ListenUDP(netip.AddrPortFrom(netip.IPv6Unspecified(), ike.PortIKE))
	if err != nil {
		return netip.Addr{}, err
	}
	l.mnEP = ike.NewEndpoint(ike.Config{KeyLog: l.opt.KeyLog}, node.IKEConn{ike.PortIKE: c500}, l.onMNEvent)
	l.closers = append(l.closers, l.mnEP.Close)
	go node.ServeIKE(c500, netip.AddrPortFrom(mnCoAA, ike.PortIKE), l.mnEP)
	any := ike.PrefixSelector(netip.MustParsePrefix("::/0"))
	peer := &ike.PeerConfig{Name: "home", LocalID: ike.RFC822(mnIdentity), RemoteID: ike.FQDN(haName),
		LocalAuth: ike.AuthPSK, RemoteAuth: ike.AuthPSK, PSK: []byte(psk), RequestAddress: true,
		Children: []ike.ChildConfig{{Name: "home", RemoteTS: []ike.Selector{any}}}}
	l.tl.Addf("mn", "bootstrap", "IKE_SA_INIT + IKE_AUTH", "to %s, identity %s, CP(CFG_REQUEST INTERNAL_IP6_ADDRESS)", cand.Addr, mnIdentity)
	if err := l.mnEP.Initiate(peer, netip.AddrPortFrom(mnCoAA, ike.PortIKE), netip.AddrPortFrom(cand.Addr, ike.PortIKE)); err != nil {
		return netip.Addr{}, err
	}
	var ev ike.Event
	select {
	case ev = <-l.mnChild:
	case <-time.After(10 * time.Second):
		return netip.Addr{}, fmt.Errorf("bootstrap: no IKE SA with %s within 10 s", cand.Addr)
	case <-ctx.Done():
		return netip.Addr{}, ctx.Err()
	}
	if ev.Kind == ike.EventFailed {
		return netip.Addr{}, fmt.Errorf("bootstrap: IKE with %s failed: %w", cand.Addr, ev.Err)
	}
	hoa := ev.IKESA.AssignedAddress.Addr()
	l.tl.Addf("mn", "bootstrap", "home address received", "%s; CHILD_SA %s", ev.IKESA.AssignedAddress, ev.Child)
	return hoa, l.startMobileNode(ev, cand.Addr)
}

// onMNEvent hands the first CHILD_SA (or the failure) to bootstrap.
func (l *lab) onMNEvent(ev ike.Event) {
	switch ev.Kind {
	case ike.EventIKEEstablished:
		l.tl.Addf("mn", "bootstrap", "IKE SA established", "home agent %s authenticated (%s)", ev.IKESA.RemoteID, ev.IKESA.Suite)
	case ike.EventChildEstablished, ike.EventFailed:
		select {
		case l.mnChild <- ev:
		default:
		}
	}
}

// startMobileNode starts the MN's packet path with the negotiated SAs.
func (l *lab) startMobileNode(ev ike.Event, haAddr netip.Addr) error {
	hoa := ev.IKESA.AssignedAddress.Addr()
	c, err := node.ChildFromIKE(ev.Child, ev.IKESA.LocalSPI(), mnIdentity, hoa)
	if err != nil {
		return err
	}
	core, err := mn.New(mn.Config{HomeAddress: hoa, HomeAgent: haAddr, HomePrefix: ev.IKESA.AssignedAddress.Masked(),
		KeyMgmt: true, Lifetime: 10 * time.Minute})
	if err != nil {
		return err
	}
	c4500, err := l.mnNode.ListenUDP(netip.AddrPortFrom(netip.IPv6Unspecified(), ike.PortNATT))
	if err != nil {
		return err
	}
	ikeSPI := ev.IKESA.LocalSPI()
	l.mn, err = node.NewMobileNode(node.MobileNodeConfig{Identity: mnIdentity, HomeAddress: hoa, HomeAgent: haAddr,
		Core: core, SAD: ipsec.NewSAD(), Conn: c4500, Host: node.VnetMobileHost{Node: l.mnNode},
		MoveIKE: func(local netip.Addr) {
			l.mnEP.MoveEndpoints(ikeSPI, netip.AddrPortFrom(local, ike.PortIKE), netip.AddrPortFrom(haAddr, ike.PortIKE))
		},
		Observe: l.observe})
	if err != nil {
		return err
	}
	if err := l.mn.Install(c); err != nil {
		return err
	}
	l.mnNode.AddLocalAddr(hoa)
	node.AttachVnetMobileNode(l.mnNode, l.mn)
	go l.mn.Serve()
	return nil
}

// move detaches the mobile node and attaches it to link with address coa.
func (l *lab) move(link *vnet.Link, name string, coa netip.Addr) {
	l.mnIfc.Detach()
	l.mnIfc = l.mnNode.Attach(link, coa)
	l.tl.Addf("lab", "", "mobile node moved", "%s, address %s", name, coa)
	l.mn.Attach(coa)
}
