package vnet

import "net/netip"

// Demo is the lab topology: one router joining the home link, two access
// networks and the correspondent's link.
type Demo struct {
	Net                *Network
	Home, A, B, CNLink *Link
	Router             *Node
	HA                 *Node // attached to Home as HAAddr
	CN                 *Node // attached to CNLink as CNAddr
	HAIfc              *Interface
}

// Demo addresses.
var (
	HomePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	APrefix    = netip.MustParsePrefix("2001:db8:a::/64")
	BPrefix    = netip.MustParsePrefix("2001:db8:b::/64")
	CNPrefix   = netip.MustParsePrefix("2001:db8:c::/64")
	HAAddr     = netip.MustParseAddr("2001:db8:1::2")
	CNAddr     = netip.MustParseAddr("2001:db8:c::100")
)

// RouterAddr returns the router's address (::1) on a demo prefix.
func RouterAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As16()
	a[15] = 1
	return netip.AddrFrom16(a)
}

// NewDemo builds the demo topology on a new network.
func NewDemo() *Demo {
	n := New()
	d := &Demo{Net: n}
	mk := func(name string, p netip.Prefix) *Link {
		l := n.NewLink(name, p)
		l.Gateway = RouterAddr(p)
		return l
	}
	d.Home, d.A, d.B, d.CNLink = mk("home", HomePrefix), mk("access-a", APrefix), mk("access-b", BPrefix), mk("cn", CNPrefix)
	d.Router = n.NewRouter("router")
	for _, l := range []*Link{d.Home, d.A, d.B, d.CNLink} {
		d.Router.Attach(l, l.Gateway)
	}
	d.HA = n.NewNode("ha")
	d.HAIfc = d.HA.Attach(d.Home, HAAddr)
	d.CN = n.NewNode("cn")
	d.CN.Attach(d.CNLink, CNAddr)
	return d
}

// AddrOn returns the address with interface identifier iid on prefix p.
func AddrOn(p netip.Prefix, iid uint64) netip.Addr {
	a := p.Masked().Addr().As16()
	for i := 0; i < 8; i++ {
		a[15-i] = byte(iid >> (8 * i))
	}
	return netip.AddrFrom16(a)
}
