package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"mip6/aaa"
	"mip6/bootstrap"
	"mip6/dataplane"
	"mip6/ha"
	"mip6/ike"
	"mip6/internal/config"
	"mip6/internal/control"
	"mip6/internal/hostnet"
	"mip6/internal/node"
	"mip6/ipsec"
	"mip6/lease"
	"mip6/store"
)

// HomeAgent is a running home agent daemon.
type HomeAgent struct {
	cfg      *config.HA
	log      *slog.Logger
	started  time.Time
	st       *store.Store
	assigner lease.Assigner
	bha      *bootstrap.HomeAgent // PAD, leases, EAP via AAA, accounting
	pad      *ipsec.PAD
	core     *ha.HomeAgent
	ep       *ike.Endpoint
	node     *node.HomeAgent
	link     *hostnet.HomeLink
	conns    []*net.UDPConn     // IKE-only ports (500)
	bind     *dataplane.UDPBind // port 4500 until the plane owns it
	rawESP   *dataplane.ESPBind // ike.raw_esp: raw ESP until the plane owns it
	plane    *dataplane.Plane
	raw      *hostnet.RawMobility // wire_form "transport": RFC 3776 BUs in, BAs out
	keyLog   io.WriteCloser

	mu     sync.Mutex
	ikeSAs map[uint64]ike.SAInfo // established IKE SAs by our SPI
}

// StartHomeAgent opens everything a home agent needs; errors name what to
// fix. Close undoes it.
func StartHomeAgent(cfg *config.HA, log *slog.Logger) (h *HomeAgent, err error) {
	h = &HomeAgent{cfg: cfg, log: log, started: time.Now(), ikeSAs: map[uint64]ike.SAInfo{}}
	partial := h // "return nil, err" clears h before the deferred call runs
	defer func() {
		if err != nil {
			partial.Close()
		}
	}()
	if h.st, err = openStore(&cfg.Store, log); err != nil {
		return nil, err
	}
	h.pad = ipsec.NewPAD()
	h.bha = &bootstrap.HomeAgent{ID: h.localID(), Store: h.st, PAD: h.pad, Logger: log,
		TransportForm: cfg.HomeAgent.WireForm == "transport"}
	for _, m := range cfg.MobileNodes {
		h.bha.Subscribers = append(h.bha.Subscribers, bootstrap.Subscriber{Identity: m.Identity,
			Auth: ikeAuth(m.Auth), PSK: []byte(m.PSK), HomeAddress: m.HomeAddress.Addr,
			FromAccessKey: m.Auth == "access_key"})
	}
	if dir := cfg.AccessKeys.Dir; dir != "" {
		h.bha.MobilityKeyLifetime = cfg.AccessKeys.Lifetime.Duration
		h.bha.AccessKeys = func(identity string) (bootstrap.AccessKey, time.Time, error) {
			path, err := accessKeyIn(dir, identity)
			if err != nil {
				return bootstrap.AccessKey{}, time.Time{}, err
			}
			return readAccessKey(path)
		}
	}
	if err = h.loadCertificate(); err != nil {
		return nil, err
	}
	if err = h.openAAA(); err != nil {
		return nil, err
	}
	if err = h.openAssigner(); err != nil {
		return nil, err
	}
	hc := ha.Config{Address: cfg.HomeAgent.Address.Addr, HomePrefixes: []netip.Prefix{cfg.HomeAgent.HomePrefix.Prefix},
		MaxLifetime: cfg.HomeAgent.MaxLifetime.Duration, KeyMgmtMobility: true}
	if h.core, err = ha.New(hc, h.pad); err != nil {
		return nil, err
	}
	if h.link, err = hostnet.NewHomeLink(hostnet.HomeLinkConfig{Interface: cfg.HomeAgent.HomeInterface, Log: log}); err != nil {
		return nil, fmt.Errorf("home link %q: %w", cfg.HomeAgent.HomeInterface, err)
	}
	if err = h.openIKE(); err != nil {
		return nil, err
	}
	return h, nil
}

// openStore opens the [store] the config names: this home agent's file,
// or the etcd cluster it shares with the other home agents of its home
// link (OpenEtcd's errors name the endpoints and what to check).
func openStore(c *config.Store, log *slog.Logger) (*store.Store, error) {
	if !c.Etcd() {
		st, err := store.Open(c.Path, store.Options{})
		if err == nil {
			log.Info("store: local file", "path", c.Path)
		}
		return st, err
	}
	o := store.EtcdOptions{Endpoints: c.EtcdEndpoints, Prefix: c.EtcdPrefix, DialTimeout: c.EtcdDialTimeout.Duration,
		RequestTimeout: c.EtcdRequestTimeout.Duration, Username: c.EtcdUsername}
	var err error
	if c.EtcdTLS() {
		if o.TLS, err = store.LoadEtcdTLS(c.EtcdCA, c.EtcdCert, c.EtcdKey); err != nil {
			return nil, fmt.Errorf("store.etcd_ca / etcd_cert / etcd_key: %w", err)
		}
	}
	if o.Password, err = c.ReadEtcdPassword(); err != nil {
		return nil, err
	}
	st, err := store.OpenEtcd(o)
	if err != nil {
		return nil, err
	}
	log.Info("store: etcd, shared with the home agents using the same prefix", "endpoints", strings.Join(c.EtcdEndpoints, ","),
		"prefix", c.EtcdPrefix, "tls", o.TLS != nil, "user", c.EtcdUsername)
	return st, nil
}

func ikeAuth(a string) ike.AuthKind {
	switch a {
	case "pubkey":
		return ike.AuthCert
	case "eap":
		return ike.AuthEAP
	}
	return ike.AuthPSK
}

// openAAA sets up RADIUS for EAP pass-through and accounting.
func (h *HomeAgent) openAAA() error {
	r := &h.cfg.RADIUS
	if len(r.Servers) == 0 {
		return nil
	}
	c := &aaa.Client{Timeout: r.Timeout.Duration, NASIdentifier: r.NASIdentifier}
	for _, s := range r.Servers {
		c.Servers = append(c.Servers, aaa.Server{Addr: s.String(), Secret: []byte(r.Secret)})
	}
	h.bha.AAARealms = r.Realms
	h.bha.AAA = &aaa.EAPAuthenticator{Client: c, CalledStationID: h.cfg.HomeAgent.Address.String()}
	if r.Accounting {
		acct := &aaa.Client{Timeout: r.Timeout.Duration, NASIdentifier: r.NASIdentifier}
		servers := r.AccountingServers
		if len(servers) == 0 {
			for _, s := range r.Servers {
				servers = append(servers, config.AddrPort{AddrPort: netip.AddrPortFrom(s.Addr(), s.Port()+1)})
			}
		}
		for _, s := range servers {
			acct.Servers = append(acct.Servers, aaa.Server{Addr: s.String(), Secret: []byte(r.Secret)})
		}
		h.bha.Accounting = acct
	}
	return nil
}

func (h *HomeAgent) openAssigner() error {
	pol := lease.Policy{Store: h.st, HomePrefix: h.cfg.HomeAgent.HomePrefix.Prefix, LeaseTime: h.cfg.IKE.Lifetime.Duration,
		Authorize: h.bha.Authorize}
	if h.cfg.Addresses.Source == "dhcpv6" {
		d, err := lease.NewDHCPv6(lease.DHCPv6Config{Policy: pol, Interface: h.cfg.Addresses.DHCPv6Interface})
		if err != nil {
			return fmt.Errorf("addresses: DHCPv6 on %s: %w", h.cfg.Addresses.DHCPv6Interface, err)
		}
		h.assigner, h.bha.Addresses = d, d
		return nil
	}
	p := h.cfg.Addresses.Pool.Prefix
	excl := []netip.Addr{h.cfg.HomeAgent.Address.Addr}
	for _, m := range h.cfg.MobileNodes {
		if m.HomeAddress.IsValid() {
			excl = append(excl, m.HomeAddress.Addr)
		}
	}
	pool, err := lease.NewPool(lease.PoolConfig{Policy: pol, First: p.Masked().Addr(), Last: lastAddr(p), Exclude: excl})
	if err != nil {
		return fmt.Errorf("addresses: pool %s: %w", p, err)
	}
	h.assigner, h.bha.Addresses = pool, pool
	return nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom16(a)
}

// Close releases everything; safe on a partly started daemon.
func (h *HomeAgent) Close() {
	if h.ep != nil {
		h.ep.Close()
	}
	for _, c := range h.conns {
		c.Close()
	}
	if h.bind != nil {
		h.bind.Close()
	}
	if h.rawESP != nil {
		h.rawESP.Close()
	}
	if h.link != nil {
		h.link.Close() // releases the routes, then removes the TUN
	}
	if h.plane != nil {
		h.plane.Close()
	}
	if h.raw != nil {
		h.raw.Close() // removes its nft table
	}
	if a, ok := h.assigner.(io.Closer); ok {
		a.Close()
	}
	if h.st != nil {
		h.st.Close()
	}
	if h.keyLog != nil {
		h.keyLog.Close()
	}
}

func openKeyLog(path string) (io.WriteCloser, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ike.key_log %s: %w", path, err)
	}
	return f, nil
}

// Run serves until ctx ends, then shuts down: IKE SAs are deleted so that
// mobile nodes re-bootstrap elsewhere, and the store is flushed.
func (h *HomeAgent) Run(ctx context.Context) error {
	srv := &control.Server{Path: h.cfg.Daemon.ControlSocket, Log: h.log}
	srv.Handle("status", func(context.Context, map[string]string) (any, error) { return h.Status(), nil })
	srv.Handle("policy", func(_ context.Context, args map[string]string) (any, error) {
		return h.Policy(args["identity"])
	})
	if err := srv.Listen(); err != nil {
		return err
	}
	go srv.Serve(ctx)
	if a := h.cfg.Daemon.MetricsListen; a.IsValid() {
		if err := ServeMetrics(ctx, a.String(), "ha", h.Status, h.log); err != nil {
			return err
		}
	}
	h.log.Info("home agent running", "address", h.cfg.HomeAgent.Address, "home_prefix", h.cfg.HomeAgent.HomePrefix,
		"control", h.cfg.Daemon.ControlSocket, "store", h.st.Path())
	t := time.NewTimer(time.Second)
	defer t.Stop()
	leases := time.NewTicker(min(30*time.Second, h.leaseRenewal()))
	defer leases.Stop()
	var interim <-chan time.Time
	if r := h.cfg.RADIUS; r.Accounting && r.InterimInterval.Duration > 0 {
		t := time.NewTicker(r.InterimInterval.Duration)
		defer t.Stop()
		interim = t.C
	}
	for {
		select {
		case <-ctx.Done():
			h.shutdown()
			return nil
		case <-leases.C:
			h.maintainLeases()
		case <-interim:
			go h.accountInterim()
		case now := <-t.C:
			next := h.node.Expire(now)
			d := time.Second
			if !next.IsZero() && time.Until(next) < d {
				d = max(time.Until(next), 10*time.Millisecond)
			}
			t.Reset(d)
		}
	}
}

func (h *HomeAgent) shutdown() {
	h.mu.Lock()
	spis := make([]uint64, 0, len(h.ikeSAs))
	for spi := range h.ikeSAs {
		spis = append(spis, spi)
	}
	h.mu.Unlock()
	for _, spi := range spis {
		h.ep.DeleteIKESA(spi)
	}
	if len(spis) > 0 {
		time.Sleep(500 * time.Millisecond) // let the Delete requests leave
	}
	h.log.Info("home agent stopped", "ike_sas_deleted", len(spis))
}

// loadCertificate reads the home agent's certificate, key and CAs.
func (h *HomeAgent) loadCertificate() error {
	k := &h.cfg.IKE
	if k.Certificate == "" {
		return nil
	}
	chain, key, err := loadKeyPair(k.Certificate, k.PrivateKey)
	if err != nil {
		return fmt.Errorf("ike.certificate: %w", err)
	}
	h.bha.Certificates, h.bha.PrivateKey = chain, key
	if h.bha.TrustRoots, err = loadRoots(k.CA); err != nil {
		return fmt.Errorf("ike.ca: %w", err)
	}
	return nil
}

// maintainLeases ends leases whose IKE SA did not renew them in time, with
// their PAD links, and renews DHCPv6 leases at T1.
// leaseRenewal is how often the lease of a live IKE SA is extended: a
// quarter of the lease time (ike.lifetime).
func (h *HomeAgent) leaseRenewal() time.Duration {
	return max(h.cfg.IKE.Lifetime.Duration/4, time.Second)
}

func (h *HomeAgent) maintainLeases() {
	h.bha.RenewLeases(time.Now(), h.leaseRenewal())
	if m, ok := h.assigner.(interface{ Maintain() error }); ok {
		if err := m.Maintain(); err != nil {
			h.log.Warn("DHCPv6 lease renewal", "err", err)
		}
	}
	e, ok := h.assigner.(interface{ Expire() ([]store.Lease, error) })
	if !ok {
		return
	}
	gone, err := e.Expire()
	if err != nil {
		h.log.Warn("lease expiry", "err", err)
	}
	for _, l := range gone {
		h.pad.RemoveTemporary(l.Identity, l.Address)
		h.log.Info("lease expired", "identity", l.Identity, "hoa", l.Address)
	}
}

// accountInterim sends RADIUS Interim-Update for every binding (RFC 2866).
func (h *HomeAgent) accountInterim() {
	for _, b := range h.node.Bindings() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		inO, outO, inP, outP := h.node.Traffic(b.HomeAddress)
		err := h.bha.BindingInterim(ctx, b.HomeAddress, b.CareOf, inO, outO, uint32(inP), uint32(outP))
		cancel()
		if err != nil {
			h.log.Warn("RADIUS interim accounting", "identity", b.Identity, "hoa", b.HomeAddress, "err", err)
		}
	}
}
