// Package hostnet joins the mobility roles' packet paths (internal/node) to
// a real Linux host: a TUN device carries the packets the kernel routes to
// or from a home address, netlink installs the routes, rules and proxy
// Neighbour Discovery entries, and a UDP socket on port 4500 carries the
// RFC 4877 §3 ESP-in-UDP tunnel.
//
// What the home agent's side (HomeLink, a node.HomeLink) changes on its
// host: net.ipv6.conf.all.forwarding=1 (which also stops the host from
// accepting Router Advertisements), proxy_ndp=1 and proxy_delay=0 on the
// home-link interface, a TUN ("mip6ha"); per registered home address a
// /128 route into the TUN and a proxy ND entry on the home link, removed on
// Release and Close. The kernel then forwards the mobile node's traffic
// into the TUN, where the home agent's data plane reads it.
//
// What the mobile node's side (MobileHost, a node.HomeAnnouncer) changes:
// a TUN ("mip6mn") holding the home address (/128, no DAD), a default
// route into it in a table of its own, and, while away from home, a rule
// "from <home address> lookup <table>", so that everything sent from the
// home address reaches the mobile node's data plane.
// Away and Home switch the rule; Follow does so (and attaches the mobile
// node) from the interface's address events. The ESP-in-UDP socket itself
// sends from the care-of address (source selection prefers the outgoing
// interface's address), so the rule never catches it.
//
// The roles (internal/node; the daemons, and this package's system tests,
// wire them the same way) hand the TUN (TUN.Device) to a dataplane.Plane,
// which reads and writes it in batches with offloads. Claim/Release, the
// rule and the ND announcements stay here.
//
// Constructors (OpenTUN, NewHomeLink, NewMobileHost) and
// MobileHost.Follow open every socket and device they need in the calling
// thread's network namespace; the methods may then run on any goroutine.
// Run them on a thread locked into the target namespace (netns.NS.Do) when
// the namespace is not the process's own.
package hostnet
