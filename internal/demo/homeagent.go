package demo

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"mip6/aaa"
	"mip6/bootstrap"
	"mip6/eap"
	"mip6/ha"
	"mip6/ike"
	"mip6/internal/node"
	"mip6/ipsec"
	"mip6/lease"
	"mip6/store"
	"mip6/vnet"
)

// startAAA runs the in-process RADIUS server that knows the subscriber's
// EAP password. It listens on the loopback address: RADIUS is the home
// agent's back end, not part of the lab's mobility network.
func (l *lab) startAAA() (*aaa.Client, error) {
	pc, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		return nil, fmt.Errorf("demo: in-process RADIUS server: %w", err)
	}
	secret := []byte("demo RADIUS secret")
	srv := &aaa.LocalServer{Secret: secret,
		Authenticator: &eap.LocalAuthenticator{Users: map[string]string{mnIdentity: eapPassword, malloryIdentity: malloryPassword}},
		OnAccounting: func(r aaa.AccountingRecord) {
			l.tl.Addf("aaa", "", "RADIUS accounting", "%s for %s, home address %s", r.Status, r.UserName, r.HomeAddress)
		}}
	go srv.Serve(pc)
	l.closers = append(l.closers, func() { srv.Close() })
	return &aaa.Client{Servers: []aaa.Server{{Addr: pc.LocalAddr().String(), Secret: secret}}, NASIdentifier: haName}, nil
}

// startHomeAgent starts the HA: IKE responder that authenticates mobile
// nodes with EAP through the RADIUS server and proves itself with its
// certificate, home addresses from a pool kept in a store, the binding
// cache and the ESP tunnels.
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
	radius, err := l.startAAA()
	if err != nil {
		return err
	}
	l.pad = ipsec.NewPAD()
	bha := &bootstrap.HomeAgent{ID: ike.FQDN(haName), Certificates: []*x509.Certificate{l.pki.haCert}, PrivateKey: l.pki.haKey,
		AAA: &aaa.EAPAuthenticator{Client: radius, CalledStationID: vnet.HAAddr.String()}, AAARealms: []string{"example.net"},
		Addresses: assignTrace{pool, l}, Store: l.st, PAD: l.pad, Accounting: radius,
		TransportForm: true, // both wire forms: the transport-mode SA for BU/BA when asked
		Logger:        slog.New(slog.DiscardHandler)}
	cfg, err := bha.Configure(ike.Config{KeyLog: l.opt.KeyLog})
	if err != nil {
		return err
	}
	core, err := ha.New(ha.Config{Address: vnet.HAAddr, HomePrefixes: []netip.Prefix{vnet.HomePrefix},
		KeyMgmtMobility: true}, l.pad)
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
	l.haEP = ike.NewEndpoint(cfg, node.IKEConn{ike.PortIKE: c500, ike.PortNATT: c4500}, func(ev ike.Event) {
		bha.OnEvent(ev)
		l.onHAEvent(ev)
	})
	l.closers = append(l.closers, l.haEP.Close)
	l.ha, err = node.NewHomeAgent(node.HomeAgentConfig{Core: core, HomePrefix: vnet.HomePrefix, PAD: l.pad,
		SAD: ipsec.NewSAD(), SPD: ipsec.NewSPD(), // the data plane's
		Link: node.VnetHomeLink{Node: l.d.HA, Ifc: l.d.HAIfc},
		Raw:  node.VnetRaw{Node: l.d.HA}, // Binding Acks in the transport form
		MoveIKE: func(spi uint64, to netip.AddrPort) {
			l.haEP.MoveEndpoints(spi, netip.AddrPort{}, netip.AddrPortFrom(to.Addr(), ike.PortIKE))
		},
		OnBinding: func(b ha.Binding, up bool) { go l.account(bha, b, up) },
		Observe:   l.observe})
	if err != nil {
		return err
	}
	// The data plane owns port 4500 (IKE and ESP in UDP) and the node's
	// stack, as a daemon's owns its socket and TUN.
	plane, err := node.StartVnetHomeAgent(l.d.HA, l.ha, c4500, node.PlaneIKEHandler(l.haEP, netip.AddrPortFrom(vnet.HAAddr, ike.PortNATT)))
	if err != nil {
		return err
	}
	l.closers = append(l.closers, func() { plane.Close() })
	go node.ServeIKE(c500, netip.AddrPortFrom(vnet.HAAddr, ike.PortIKE), l.haEP)
	return nil
}

// assignTrace puts home-address assignments on the timeline.
type assignTrace struct {
	*lease.Pool
	l *lab
}

func (a assignTrace) Assign(identity string, suggested netip.Addr) (netip.Prefix, error) {
	p, err := a.Pool.Assign(identity, suggested)
	if err == nil {
		a.l.tl.Addf("ha", a.l.bootstrapStep(), "home address assigned", "%s to %s (lease in the store, temporary PAD entry)", p, identity)
	}
	return p, err
}

// onHAEvent installs what the HA's IKE negotiated.
func (l *lab) onHAEvent(ev ike.Event) {
	switch ev.Kind {
	case ike.EventIKEEstablished:
		l.tl.Addf("ha", l.bootstrapStep(), "IKE SA established", "%s authenticated by EAP via RADIUS (%s)", ev.IKESA.RemoteID, ev.IKESA.Suite)
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
		l.tl.Addf("ha", l.bootstrapStep(), "CHILD_SA installed", "%s: %s bound to home address %s", childRole(ev.Child), ev.Child, hoa)
	case ike.EventFailed:
		l.tl.Addf("ha", "", "IKE SA failed", "%v", ev.Err)
	}
}

// bootstrapStep is the step a bootstrap at the home agent belongs to:
// "bootstrap" for alice's, the scenario's step for a later one (mallory's).
func (l *lab) bootstrapStep() string {
	if s, _ := l.step.Load().(string); s != "" {
		return s
	}
	return "bootstrap"
}

// childRole says what a CHILD_SA carries.
func childRole(c *ike.ChildSA) string {
	switch {
	case c.Transport && len(c.LocalTS) == 1 && c.LocalTS[0].Proto == ike.ProtoICMPv6:
		return "transport (MPS/MPA)"
	case c.Transport:
		return "transport (BU/BA)"
	}
	return "tunnel"
}

// observe puts what the packet paths report on the timeline.
func (l *lab) observe(actor, step, what, detail string) {
	if step == "" {
		step, _ = l.step.Load().(string)
	}
	l.tl.Add(Event{Actor: actor, Step: step, What: what, Detail: detail})
}

// account sends RADIUS accounting for a binding's start and end.
func (l *lab) account(bha *bootstrap.HomeAgent, b ha.Binding, up bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if up {
		err = bha.BindingStarted(ctx, b.Identity, b.HomeAddress, b.CareOf)
	} else {
		err = bha.BindingEnded(ctx, b.HomeAddress, aaa.CauseUserRequest)
	}
	if err != nil {
		l.tl.Addf("ha", "", "RADIUS accounting failed", "%v", err)
	}
}
