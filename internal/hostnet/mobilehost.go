package hostnet

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"mip6/internal/node"
)

// MobileHostConfig configures the mobile node's side of a real host.
type MobileHostConfig struct {
	HomeAddress netip.Addr
	// Interface is the interface that attaches to the home link when the
	// node is at home (unsolicited NAs for the home address go there).
	Interface string
	// TUN names the device that carries home-address traffic (default "mip6mn").
	TUN string
	// MTU of the TUN (default 1400).
	MTU int
	// Table is the routing table holding the default route into the TUN
	// (default 0x6d36); RulePriority the priority of the rule that selects
	// it for packets from the home address (default 100).
	Table, RulePriority int
	Log                 *slog.Logger
}

// MobileHost is the mobile node's host on Linux; it implements
// node.HomeAnnouncer. The home address sits on the TUN (/128, no DAD), so
// the kernel accepts packets delivered through the tunnel and applications
// can use the address; while away from home a rule sends everything from
// the home address into the TUN, where the mobile node's data plane reads
// it for reverse tunnelling.
type MobileHost struct {
	cfg     MobileHostConfig
	nl      *netlink.Handle
	tun     *TUN
	adv     *advertiser
	ifIndex int
	close   sync.Once

	mu         sync.Mutex
	away       bool
	stopFollow chan struct{}

	// Moves counts the attachments Follow made; FollowErrors the failed
	// Away/Home calls it made on the way.
	Moves, FollowErrors atomic.Uint64

	// NotTunnelled counts packets routed into the TUN that the mobile node
	// did not take (its tunnel was not active).
	NotTunnelled atomic.Uint64
}

var _ node.HomeAnnouncer = (*MobileHost)(nil)

// NewMobileHost creates the TUN with the home address and the routing
// table in the calling thread's namespace. The node starts at home: call
// Away before attaching the mobile node to a care-of address.
func NewMobileHost(c MobileHostConfig) (*MobileHost, error) {
	if !c.HomeAddress.Is6() || c.HomeAddress.Is4In6() {
		return nil, fmt.Errorf("hostnet: home address %v is not IPv6", c.HomeAddress)
	}
	if c.TUN == "" {
		c.TUN = "mip6mn"
	}
	if c.MTU == 0 {
		c.MTU = 1400
	}
	if c.Table == 0 {
		c.Table = 0x6d36
	}
	if c.RulePriority == 0 {
		c.RulePriority = 100
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	nl, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("hostnet: netlink: %w", err)
	}
	h := &MobileHost{cfg: c, nl: nl}
	if err := h.open(); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

func (h *MobileHost) open() error {
	link, err := h.nl.LinkByName(h.cfg.Interface)
	if err != nil {
		return fmt.Errorf("hostnet: interface %q: %w", h.cfg.Interface, err)
	}
	h.ifIndex = link.Attrs().Index
	if h.adv, err = newAdvertiser(h.ifIndex, link.Attrs().HardwareAddr); err != nil {
		return err
	}
	if h.tun, err = OpenTUN(h.nl, h.cfg.TUN, h.cfg.MTU); err != nil {
		return err
	}
	if err := h.tun.AddAddress(netip.PrefixFrom(h.cfg.HomeAddress, 128)); err != nil {
		return err
	}
	def := &netlink.Route{LinkIndex: h.tun.Index(), Dst: ipNet(netip.PrefixFrom(netip.IPv6Unspecified(), 0)),
		Table: h.cfg.Table, Family: netlink.FAMILY_V6}
	if err := h.nl.RouteReplace(def); err != nil {
		return fmt.Errorf("hostnet: default route into %s in table %d: %w", h.tun.Name(), h.cfg.Table, err)
	}
	return nil
}

// TUN is the device home-address traffic is routed through.
func (h *MobileHost) TUN() *TUN { return h.tun }

func (h *MobileHost) rule() *netlink.Rule {
	r := netlink.NewRule()
	r.Family = netlink.FAMILY_V6
	r.Src = ipNet(netip.PrefixFrom(h.cfg.HomeAddress, 128))
	r.Table = h.cfg.Table
	r.Priority = h.cfg.RulePriority
	return r
}

// Away installs the rule that routes traffic from the home address into
// the TUN. Call it before the mobile node attaches to a care-of address.
func (h *MobileHost) Away() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.away {
		return nil
	}
	if err := h.nl.RuleAdd(h.rule()); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("hostnet: rule from %s table %d: %w", h.cfg.HomeAddress, h.cfg.Table, err)
	}
	h.away = true
	return nil
}

// Home removes the rule, so traffic from the home address uses the home
// link directly, and multicasts an unsolicited Neighbour Advertisement for
// the home address on the interface (RFC 6275 §11.5.5; repeated twice, a
// second apart, while at home) so neighbours stop sending to the home
// agent's proxy. Call it once the home address is on
// the interface and before the mobile node attaches to it (the
// de-registration Binding Update leaves from the home address).
func (h *MobileHost) Home() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.away {
		if err := ignoreMissing(h.nl.RuleDel(h.rule())); err != nil {
			return fmt.Errorf("hostnet: delete rule from %s: %w", h.cfg.HomeAddress, err)
		}
		h.away = false
	}
	return h.adv.announce(h.cfg.HomeAddress, false, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return !h.away
	})
}

// AnnounceHome multicasts unsolicited Neighbour Advertisements for the home
// address again while at home: the mobile node calls it once the home agent
// has acknowledged the de-registration and dropped its proxy (RFC 6275
// §11.5.4), so that a neighbour the proxy answered meanwhile is corrected.
func (h *MobileHost) AnnounceHome() error {
	h.mu.Lock()
	away := h.away
	h.mu.Unlock()
	if away {
		return nil
	}
	return h.adv.announce(h.cfg.HomeAddress, false, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return !h.away
	})
}

// Close removes the rule, the table's route and the TUN.
func (h *MobileHost) Close() error {
	var err error
	h.close.Do(func() {
		h.mu.Lock()
		if h.away {
			err = ignoreMissing(h.nl.RuleDel(h.rule()))
			h.away = false
		}
		if h.stopFollow != nil {
			close(h.stopFollow)
			h.stopFollow = nil
		}
		h.mu.Unlock()
		if h.adv != nil {
			err = errors.Join(err, h.adv.close())
		}
		if h.tun != nil {
			err = errors.Join(err, h.tun.Close())
		}
		h.nl.Close()
	})
	return err
}
