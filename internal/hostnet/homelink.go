package hostnet

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"mip6/internal/node"
)

// HomeLinkConfig configures the home agent's side of a real host.
type HomeLinkConfig struct {
	// Interface is the home-link interface (proxy ND answers there).
	Interface string
	// TUN names the device that carries home-address traffic (default "mip6ha").
	TUN string
	// MTU of the TUN (default 1400: room for the ESP-in-UDP overhead on a
	// 1500-byte link).
	MTU int
	Log *slog.Logger
}

// HomeLink is the home agent's home link on a Linux host; it implements
// node.HomeLink. Claim routes the home address into the TUN and answers
// Neighbour Solicitations for it on the home link (proxy ND, RFC 6275
// §10.4.1); the kernel then forwards the mobile node's traffic into the TUN,
// where the home agent's data plane reads it. Forward writes packets the
// home agent sends on the home link (DHAAD replies) into the TUN so the
// kernel forwards them.
type HomeLink struct {
	nl    *netlink.Handle
	tun   *TUN
	home  int // home-link interface index
	adv   *advertiser
	log   *slog.Logger
	close sync.Once

	mu      sync.Mutex
	claimed map[netip.Addr]bool

	// Errors counts failed netlink or ND operations in Claim and Release
	// (their interface has no error result; each is logged too).
	Errors atomic.Uint64
	// Unclaimed counts packets the kernel routed into the TUN that the home
	// agent did not take (no binding any more).
	Unclaimed atomic.Uint64
}

var _ node.HomeLink = (*HomeLink)(nil)

// NewHomeLink prepares the calling thread's namespace for a home agent:
// IPv6 forwarding on (the kernel answers proxied solicitations only on a
// forwarding interface), proxy ND on the home-link interface without the
// default random delay, and the TUN.
func NewHomeLink(c HomeLinkConfig) (*HomeLink, error) {
	if c.TUN == "" {
		c.TUN = "mip6ha"
	}
	if c.MTU == 0 {
		c.MTU = 1400
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	nl, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("hostnet: netlink: %w", err)
	}
	l := &HomeLink{nl: nl, log: c.Log, claimed: map[netip.Addr]bool{}}
	if err := l.open(c); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func (l *HomeLink) open(c HomeLinkConfig) error {
	link, err := l.nl.LinkByName(c.Interface)
	if err != nil {
		return fmt.Errorf("hostnet: home-link interface %q: %w", c.Interface, err)
	}
	l.home = link.Attrs().Index
	for _, s := range [][2]string{
		{"net/ipv6/conf/all/forwarding", "1"},
		{"net/ipv6/conf/" + c.Interface + "/forwarding", "1"},
		{"net/ipv6/conf/" + c.Interface + "/proxy_ndp", "1"},
		{"net/ipv6/neigh/" + c.Interface + "/proxy_delay", "0"},
	} {
		if err := writeSysctl(s[0], s[1]); err != nil {
			return err
		}
	}
	if l.adv, err = newAdvertiser(l.home, link.Attrs().HardwareAddr); err != nil {
		return err
	}
	l.tun, err = OpenTUN(l.nl, c.TUN, c.MTU)
	return err
}

// TUN is the device home-address traffic is routed into.
func (l *HomeLink) TUN() *TUN { return l.tun }

// Forward hands a packet that left the tunnel to the kernel, which forwards
// it towards its destination.
func (l *HomeLink) Forward(pkt []byte) error { return l.tun.Write(pkt) }

// Claim routes hoa into the TUN, adds a proxy ND entry for it on the home
// link and multicasts an unsolicited Neighbour Advertisement (Override set)
// so that neighbours replace a cached link-layer address of the mobile
// node with ours (RFC 6275 §10.4.1), repeated twice a second apart while
// the claim lasts.
func (l *HomeLink) Claim(hoa netip.Addr) {
	l.mu.Lock()
	l.claimed[hoa] = true
	l.mu.Unlock()
	err := errors.Join(
		l.nl.RouteReplace(l.hostRoute(hoa)),
		l.nl.NeighSet(l.proxyEntry(hoa)),
		l.adv.announce(hoa, false, func() bool { return l.Claimed(hoa) }))
	l.report("claim", hoa, err)
}

// Release removes the route and the proxy ND entry for hoa.
func (l *HomeLink) Release(hoa netip.Addr) {
	l.mu.Lock()
	delete(l.claimed, hoa)
	l.mu.Unlock()
	err := errors.Join(
		ignoreMissing(l.nl.RouteDel(l.hostRoute(hoa))),
		ignoreMissing(l.nl.NeighDel(l.proxyEntry(hoa))))
	l.report("release", hoa, err)
}

func (l *HomeLink) report(op string, hoa netip.Addr, err error) {
	if err != nil {
		l.Errors.Add(1)
		l.log.Error("home link "+op, "hoa", hoa, "err", err)
		return
	}
	l.log.Debug("home link "+op, "hoa", hoa)
}

func (l *HomeLink) hostRoute(hoa netip.Addr) *netlink.Route {
	return &netlink.Route{LinkIndex: l.tun.Index(), Dst: ipNet(netip.PrefixFrom(hoa, 128)), Family: netlink.FAMILY_V6}
}

func (l *HomeLink) proxyEntry(hoa netip.Addr) *netlink.Neigh {
	return &netlink.Neigh{LinkIndex: l.home, Family: netlink.FAMILY_V6, Flags: netlink.NTF_PROXY, IP: net.IP(hoa.AsSlice())}
}

// Claimed reports whether hoa is currently claimed.
func (l *HomeLink) Claimed(hoa netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.claimed[hoa]
}

// Close releases every claimed home address and removes the TUN.
func (l *HomeLink) Close() error {
	var err error
	l.close.Do(func() {
		l.mu.Lock()
		hoas := make([]netip.Addr, 0, len(l.claimed))
		for a := range l.claimed {
			hoas = append(hoas, a)
		}
		l.mu.Unlock()
		for _, a := range hoas {
			l.Release(a)
		}
		if l.adv != nil {
			err = errors.Join(err, l.adv.close())
		}
		if l.tun != nil {
			err = errors.Join(err, l.tun.Close())
		}
		l.nl.Close()
	})
	return err
}

// ignoreMissing treats "no such entry" as success: releasing twice is fine.
func ignoreMissing(err error) error {
	if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}
