package hostnet

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"mip6/internal/node"
)

// unusable address flags: DAD has not finished or failed, or the address
// is deprecated (RFC 4862 §5.5.4: not for new communication).
const unusable = unix.IFA_F_TENTATIVE | unix.IFA_F_DADFAILED | unix.IFA_F_DEPRECATED

// Follow moves m with the interface's addresses, as netlink reports them:
// the home address appearing on the interface means home (Home, then
// m.Attach(home address)); otherwise a usable global address is the
// care-of address (Away, then m.Attach(it)), the current one kept while it
// stays. Call it in the host's namespace, like NewMobileHost (it opens a
// netlink subscription there); it returns once subscribed and follows
// until Close.
func (h *MobileHost) Follow(m *node.MobileNode) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopFollow != nil {
		return errors.New("hostnet: Follow called twice")
	}
	ch := make(chan netlink.AddrUpdate, 64)
	done := make(chan struct{})
	err := netlink.AddrSubscribeWithOptions(ch, done, netlink.AddrSubscribeOptions{ListExisting: true,
		ErrorCallback: func(err error) { h.cfg.Log.Error("address subscription", "err", err) }})
	if err != nil {
		return fmt.Errorf("hostnet: subscribe to address changes: %w", err)
	}
	h.stopFollow = done
	go h.follow(m, ch)
	return nil
}

func (h *MobileHost) follow(m *node.MobileNode, ch <-chan netlink.AddrUpdate) {
	addrs := map[netip.Addr]bool{} // usable global addresses on the interface
	var cur netip.Addr
	for u := range ch {
		a, ok := netip.AddrFromSlice(u.LinkAddress.IP)
		if !ok || u.LinkIndex != h.ifIndex {
			continue
		}
		if a = a.Unmap(); !a.Is6() || !a.IsGlobalUnicast() {
			continue
		}
		if u.NewAddr && u.Flags&unusable == 0 {
			addrs[a] = true
		} else {
			delete(addrs, a)
		}
		if next := h.choose(addrs, cur); next.IsValid() && next != cur {
			cur = next
			h.attach(m, next)
		}
	}
}

// choose picks the address to attach with: the home address if present,
// else the current care-of address while it lasts, else the lowest usable
// one (deterministic).
func (h *MobileHost) choose(addrs map[netip.Addr]bool, cur netip.Addr) netip.Addr {
	if addrs[h.cfg.HomeAddress] {
		return h.cfg.HomeAddress
	}
	if addrs[cur] {
		return cur
	}
	var best netip.Addr
	for a := range addrs {
		if !best.IsValid() || a.Less(best) {
			best = a
		}
	}
	return best
}

func (h *MobileHost) attach(m *node.MobileNode, a netip.Addr) {
	var err error
	if a == h.cfg.HomeAddress {
		err = h.Home()
	} else {
		err = h.Away()
	}
	if err != nil {
		h.FollowErrors.Add(1)
		h.cfg.Log.Error("attach", "address", a, "err", err)
	}
	h.Moves.Add(1)
	h.cfg.Log.Info("attach", "address", a, "home", a == h.cfg.HomeAddress)
	m.Attach(a)
}
