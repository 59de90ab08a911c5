package demo

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"

	"mip6/ha"
	"mip6/ike"
	"mip6/internal/node"
	"mip6/ipsec"
	"mip6/lease"
	"mip6/store"
	"mip6/vnet"
)

// padAuthorizer answers the home agent core's question from the PAD: the
// temporary entry made when the home address was assigned, or a static one.
type padAuthorizer struct{ pad *ipsec.PAD }

func (p padAuthorizer) Authorized(identity string, hoa netip.Addr) bool {
	if owner, ok := p.pad.OwnerOf(hoa); ok {
		return owner == identity
	}
	return p.pad.Authorize(identity, ipsec.AddrRange{From: hoa, To: hoa})
}

// startHomeAgent starts the HA: IKE responder (PSK, CP home addresses from
// a pool kept in a store), binding cache and ESP tunnels.
func (l *lab) startHomeAgent() error {
	dir, err := os.MkdirTemp("", "mip6-demo-")
	if err != nil {
		return err
	}
	l.closers = append(l.closers, func() { os.RemoveAll(dir) })
	if l.st, err = store.Open(filepath.Join(dir, "ha.db"), store.Options{}); err != nil {
		return err
	}
	l.closers = append(l.closers, func() { l.st.Close() })
	pool, err := lease.NewPool(lease.PoolConfig{Policy: lease.Policy{Store: l.st, HomePrefix: vnet.HomePrefix},
		First: vnet.AddrOn(vnet.HomePrefix, 0x1000), Last: vnet.AddrOn(vnet.HomePrefix, 0x1fff),
		Exclude: []netip.Addr{vnet.HAAddr}})
	if err != nil {
		return err
	}
	l.pad = ipsec.NewPAD()
	l.pad.Set(ipsec.PADEntry{Identity: mnIdentity, Auth: ipsec.AuthSharedSecret})
	core, err := ha.New(ha.Config{Address: vnet.HAAddr, HomePrefixes: []netip.Prefix{vnet.HomePrefix},
		KeyMgmtMobility: true}, padAuthorizer{l.pad})
	if err != nil {
		return err
	}
	c500, err := l.d.HA.ListenUDP(netip.AddrPortFrom(vnet.HAAddr, ike.PortIKE))
	if err != nil {
		return err
	}
	c4500, err := l.d.HA.ListenUDP(netip.AddrPortFrom(vnet.HAAddr, ike.PortNATT))
	if err != nil {
		return err
	}
	cfg := ike.Config{
		LookupPeer: l.lookupPeer,
		AssignAddress: func(peer ike.Identity, suggested netip.Addr) (netip.Prefix, error) {
			p, err := pool.Assign(peer.String(), suggested)
			if err != nil {
				return p, err
			}
			if err := l.pad.AddTemporary(peer.String(), p.Addr()); err != nil {
				pool.Release(peer.String(), p.Addr())
				return netip.Prefix{}, err
			}
			l.tl.Addf("ha", "bootstrap", "home address assigned", "%s to %s (lease in the store, temporary PAD entry)", p, peer)
			return p, nil
		},
		ReleaseAddress: func(peer ike.Identity, p netip.Prefix) {
			l.pad.RemoveTemporary(peer.String(), p.Addr())
			pool.Release(peer.String(), p.Addr())
		},
		KeyLog: l.opt.KeyLog,
	}
	l.haEP = ike.NewEndpoint(cfg, node.IKEConn{ike.PortIKE: c500, ike.PortNATT: c4500}, l.onHAEvent)
	l.closers = append(l.closers, l.haEP.Close)
	local4500 := netip.AddrPortFrom(vnet.HAAddr, ike.PortNATT)
	l.ha, err = node.NewHomeAgent(node.HomeAgentConfig{Core: core, PAD: l.pad, SAD: ipsec.NewSAD(), Conn: c4500,
		Link: node.VnetHomeLink{Node: l.d.HA, Ifc: l.d.HAIfc},
		IKE:  node.IKEHandlerFor(l.haEP, local4500),
		MoveIKE: func(spi uint64, to netip.AddrPort) {
			l.haEP.MoveEndpoints(spi, netip.AddrPort{}, netip.AddrPortFrom(to.Addr(), ike.PortIKE))
		},
		Observe: l.observe})
	if err != nil {
		return err
	}
	node.AttachVnetHomeAgent(l.d.HA, l.ha)
	go l.ha.Serve()
	go node.ServeIKE(c500, netip.AddrPortFrom(vnet.HAAddr, ike.PortIKE), l.haEP)
	return nil
}

// lookupPeer is the HA's PAD lookup for IKE_AUTH: the identity must be a
// configured mobile node.
func (l *lab) lookupPeer(idi ike.Identity, _ *ike.Identity) (*ike.PeerConfig, error) {
	if idi.String() != mnIdentity {
		return nil, errors.New("not a configured mobile node")
	}
	any := ike.PrefixSelector(netip.MustParsePrefix("::/0"))
	return &ike.PeerConfig{Name: mnIdentity, LocalID: ike.FQDN(haName), RemoteID: idi,
		LocalAuth: ike.AuthPSK, RemoteAuth: ike.AuthPSK, PSK: []byte(psk),
		Children: []ike.ChildConfig{{Name: "home", LocalTS: []ike.Selector{any}, RemoteTS: []ike.Selector{{EndPort: 0xffff}}}}}, nil
}

// onHAEvent installs what the HA's IKE negotiated.
func (l *lab) onHAEvent(ev ike.Event) {
	switch ev.Kind {
	case ike.EventIKEEstablished:
		l.tl.Addf("ha", "bootstrap", "IKE SA established", "%s authenticated (%s)", ev.IKESA.RemoteID, ev.IKESA.Suite)
	case ike.EventChildEstablished:
		hoa := ev.IKESA.AssignedAddress.Addr()
		c, err := node.ChildFromIKE(ev.Child, ev.IKESA.LocalSPI(), ev.IKESA.RemoteID.String(), hoa)
		if err == nil {
			err = l.ha.Install(c)
		}
		if err != nil {
			l.tl.Addf("ha", "", "CHILD_SA not installed", "%v", err)
			return
		}
		l.tl.Addf("ha", "bootstrap", "CHILD_SA installed", "%s bound to home address %s", ev.Child, hoa)
	case ike.EventFailed:
		l.tl.Addf("ha", "", "IKE SA failed", "%v", ev.Err)
	}
}

// observe puts what the packet paths report on the timeline.
func (l *lab) observe(actor, step, what, detail string) {
	if step == "" {
		step, _ = l.step.Load().(string)
	}
	l.tl.Add(Event{Actor: actor, Step: step, What: what, Detail: detail})
}
