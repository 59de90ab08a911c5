package demo

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"mip6/bootstrap"
	"mip6/discovery"
	"mip6/ike"
	"mip6/internal/node"
	"mip6/ipsec"
	"mip6/mn"
	"mip6/vnet"
)

// bootstrap runs the mobile node's side of RFC 4640 bootstrapping from its
// seed, an NAI and an EAP password: DNS discovery of the home agent from
// the NAI's realm, IKE_SA_INIT, IKE_AUTH with EAP-MSCHAPv2 (checked by the
// AAA server through the home agent) and a CP request for a home address;
// then its packet path with the negotiated CHILD_SA.
func (l *lab) bootstrap(ctx context.Context) (netip.Addr, error) {
	l.mnNode = l.d.Net.NewNode("mn")
	l.mnIfc = l.mnNode.Attach(l.d.A, mnCoAA)
	l.coa.Store(&mnCoAA)
	l.tl.Addf("lab", "", "mobile node attached", "access network A, care-of address %s", mnCoAA)
	// IKE runs on port 4500, which makes it put the tunnel in UDP (RFC 7296
	// §2.23) beside it; the data plane takes the socket over afterwards.
	c4500, err := l.mnNode.ListenUDP(netip.AddrPortFrom(netip.IPv6Unspecified(), ike.PortNATT))
	if err != nil {
		return netip.Addr{}, err
	}
	tr := &node.ConnTransport{Conn: c4500, Local: func() netip.AddrPort {
		return netip.AddrPortFrom(*l.coa.Load(), ike.PortNATT)
	}}
	res := &discovery.Resolver{Servers: []netip.AddrPort{netip.AddrPortFrom(dnsAddr, 53)}, Timeout: time.Second,
		Listen: func() (discovery.UDPConn, error) { return l.mnNode.ListenUDP(netip.AddrPort{}) }}
	cfg := bootstrap.Config{Identity: mnIdentity,
		EAP:        &bootstrap.EAPCredential{Method: bootstrap.EAPMSCHAPv2, Password: eapPassword},
		HAIdentity: ike.FQDN(haName), HATrustRoots: l.pki.roots, Resolver: res,
		Local:         netip.AddrPortFrom(mnCoAA, ike.PortNATT),
		Transport:     tr,
		IKE:           ike.Config{KeyLog: l.opt.KeyLog},
		TransportForm: l.opt.WireForm == Transport}
	l.tl.Addf("mn", "bootstrap", "bootstrap from seed", "identity %s, EAP-MSCHAPv2 password; home agent from DNS SRV _mip6._ipv6.%s; BU/BA in the %s form",
		mnIdentity, discovery.Realm(mnIdentity), l.opt.WireForm)
	r, err := bootstrap.Run(ctx, cfg)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bootstrap: %w", err)
	}
	l.closers = append(l.closers, r.Close)
	l.form = Tunnel
	if r.Signalling != nil {
		l.form = Transport
	} else if l.opt.WireForm == Transport {
		// bootstrap leaves it out when IKE saw a NAT; never in the lab.
		l.tl.Addf("mn", "bootstrap", "no transport form", "no CHILD_SA for BU/BA (a NAT on the path?): BU/BA in the tunnelled form")
	}
	created := []string{"BU/BA", "MPS/MPA"} // the order bootstrap asks for them
	for _, s := range r.Trace {
		if s.Name == "CREATE_CHILD_SA" && s.Detail == "" && r.Signalling != nil && len(created) > 0 {
			s.Detail = "transport-mode CHILD_SA for " + created[0] + " (RFC 3776 wire form)"
			created = created[1:]
		}
		l.tl.Add(Event{At: s.Start.Add(s.Duration), Actor: "mn", Step: "bootstrap", What: s.Name,
			Detail: fmt.Sprintf("%.3f ms %s", float64(s.Duration.Microseconds())/1000, s.Detail)})
	}
	l.tl.Addf("mn", "bootstrap", "home address received", "%s from %s (%s); %d IKE round trips, %.3f ms in all",
		r.HomeAddress, r.HomeAgent.Addr, r.HomeAgent.Name, ikeRoundTrips(r.Trace), float64(r.Total.Microseconds())/1000)
	if r.Signalling != nil {
		l.tl.Addf("mn", "bootstrap", "CHILD_SA for BU/BA", "transport mode, SPIs %08x in / %08x out (CREATE_CHILD_SA right after IKE_AUTH, RFC 4877 §7.2.1)",
			r.Signalling.InboundSPI, r.Signalling.OutboundSPI)
	}
	if r.PrefixDiscovery != nil {
		l.tl.Addf("mn", "bootstrap", "CHILD_SA for MPS/MPA", "transport mode, SPIs %08x in / %08x out (ICMPv6 146/147 selectors, RFC 4877 §7.2.3)",
			r.PrefixDiscovery.InboundSPI, r.PrefixDiscovery.OutboundSPI)
	}
	tr.HandOver()
	return r.HomeAddress.Addr(), l.startMobileNode(r, c4500)
}

// startMobileNode starts the MN's packet path with the negotiated SAs.
func (l *lab) startMobileNode(r *bootstrap.Result, c4500 *vnet.UDPConn) error {
	hoa, haAddr := r.HomeAddress.Addr(), r.HomeAgent.Addr
	c, err := node.ChildFromIKE(r.Child, r.IKESA.LocalSPI(), mnIdentity, hoa)
	if err != nil {
		return err
	}
	core, err := mn.New(mn.Config{HomeAddress: hoa, HomeAgent: haAddr, HomePrefix: r.HomeAddress.Masked(),
		KeyMgmt: true, Lifetime: 10 * time.Minute})
	if err != nil {
		return err
	}
	ep, spi := r.Endpoint, r.IKESA.LocalSPI()
	sad := ipsec.NewSAD()
	l.mnSAD.Store(sad)
	l.mn, err = node.NewMobileNode(node.MobileNodeConfig{Identity: mnIdentity, HomeAddress: hoa, HomeAgent: haAddr,
		Core: core, SAD: sad, SPD: ipsec.NewSPD(),
		TransportForm: r.Signalling != nil, Raw: node.VnetRaw{Node: l.mnNode},
		MoveIKE: func(local netip.Addr) {
			ep.MoveEndpoints(spi, netip.AddrPortFrom(local, ike.PortNATT), netip.AddrPortFrom(haAddr, ike.PortNATT))
		},
		Observe: l.observe})
	if err != nil {
		return err
	}
	// The data plane owns port 4500 (IKE messages there arrive at the
	// current care-of address) and the node's home-address traffic.
	plane, err := node.StartVnetMobileNode(l.mnNode, l.mn, c4500, func(msg []byte, from netip.AddrPort) {
		ep.Receive(netip.AddrPortFrom(*l.coa.Load(), ike.PortNATT), from, append([]byte{0, 0, 0, 0}, msg...))
	})
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	l.closers = append(l.closers, func() { close(stop); plane.Close() })
	go l.mn.Timers(stop)
	if err := l.mn.Install(c); err != nil {
		return err
	}
	// Transport-mode pairs: Install tells BU/BA (MH selectors) from
	// MPS/MPA (ICMPv6 selectors).
	for _, ch := range []*ike.ChildSA{r.Signalling, r.PrefixDiscovery} {
		if ch == nil {
			continue
		}
		sig, err := node.ChildFromIKE(ch, r.IKESA.LocalSPI(), mnIdentity, hoa)
		if err != nil {
			return err
		}
		if err := l.mn.Install(sig); err != nil {
			return err
		}
	}
	l.mnNode.AddLocalAddr(hoa)
	return nil
}

// ikeRoundTrips counts the answered IKE exchanges of a bootstrap,
// CREATE_CHILD_SA for the BU/BA and MPS/MPA SAs included.
func ikeRoundTrips(t bootstrap.Trace) int {
	n := 0
	for _, s := range t {
		if s.HA.IsValid() && s.Name != "failed" && s.Detail != "no answer" {
			n++
		}
	}
	return n
}

// move detaches the mobile node and attaches it to link with address coa.
func (l *lab) move(link *vnet.Link, name string, coa netip.Addr) {
	l.mnIfc.Detach()
	l.mnIfc = l.mnNode.Attach(link, coa)
	l.coa.Store(&coa)
	l.tl.Addf("lab", "", "mobile node moved", "%s, address %s", name, coa)
	l.mn.Attach(coa)
}
