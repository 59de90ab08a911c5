package hostnet

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// allNodes is the link-local all-nodes group, the destination of
// unsolicited Neighbour Advertisements (RFC 4861 §7.2.6).
var allNodes = net.ParseIP("ff02::1")

// Neighbour Advertisement flags (RFC 4861 §4.4).
const (
	naRouter   = 0x80
	naOverride = 0x20
)

// icmpTypeNA and the Target Link-Layer Address option type (RFC 4861 §4.6.1).
const (
	icmpTypeNA = 136
	optTLLA    = 2
)

// advertiser sends unsolicited Neighbour Advertisements on one interface.
type advertiser struct {
	pc     *ipv6.PacketConn
	c      *icmp.PacketConn
	index  int
	mac    net.HardwareAddr
	closed atomic.Bool
}

// newAdvertiser opens a raw ICMPv6 socket in the calling thread's
// namespace for sending on interface index with link-layer address mac.
func newAdvertiser(index int, mac net.HardwareAddr) (*advertiser, error) {
	c, err := icmp.ListenPacket("ip6:ipv6-icmp", "::")
	if err != nil {
		return nil, fmt.Errorf("hostnet: ICMPv6 socket: %w", err)
	}
	pc := c.IPv6PacketConn()
	// Nothing is read from this socket: filter everything out.
	var f ipv6.ICMPFilter
	f.SetAll(true)
	if err := pc.SetICMPFilter(&f); err != nil {
		c.Close()
		return nil, fmt.Errorf("hostnet: ICMPv6 filter: %w", err)
	}
	return &advertiser{pc: pc, c: c, index: index, mac: mac}, nil
}

// AppendNeighborAdvertisement appends an unsolicited Neighbour
// Advertisement for target with the Override flag (and Router if router)
// and a Target Link-Layer Address option:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|R|S|O|                     Reserved                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	+                       Target Address                          +
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Options ...
//
// The checksum is left zero: the kernel fills it in on raw ICMPv6 sockets.
func AppendNeighborAdvertisement(b []byte, target netip.Addr, mac net.HardwareAddr, router bool) []byte {
	flags := byte(naOverride)
	if router {
		flags |= naRouter
	}
	b = append(b, icmpTypeNA, 0, 0, 0, flags, 0, 0, 0)
	t := target.As16()
	b = append(b, t[:]...)
	if len(mac) == 0 {
		return b
	}
	// Option length is in units of 8 octets, type and length included.
	units := (2 + len(mac) + 7) / 8
	opt := make([]byte, units*8)
	opt[0], opt[1] = optTLLA, byte(units)
	copy(opt[2:], mac)
	return append(b, opt...)
}

// Unsolicited advertisements are repeated (RFC 4861 §7.2.6): up to
// MAX_NEIGHBOR_ADVERTISEMENT of them, RetransTimer apart.
const (
	maxNeighborAdvertisement = 3
	retransTimer             = time.Second
)

// announce multicasts an unsolicited NA for target to all nodes on the
// link at once, and repeats it later while still() holds and the
// advertiser is open. It returns the first send's error.
func (a *advertiser) announce(target netip.Addr, router bool, still func() bool) error {
	for i := 1; i < maxNeighborAdvertisement; i++ {
		time.AfterFunc(time.Duration(i)*retransTimer, func() {
			if !a.closed.Load() && still() {
				a.send(target, router)
			}
		})
	}
	return a.send(target, router)
}

func (a *advertiser) send(target netip.Addr, router bool) error {
	msg := AppendNeighborAdvertisement(nil, target, a.mac, router)
	cm := &ipv6.ControlMessage{IfIndex: a.index, HopLimit: 255}
	if _, err := a.pc.WriteTo(msg, cm, &net.IPAddr{IP: allNodes}); err != nil {
		return fmt.Errorf("hostnet: unsolicited NA for %s: %w", target, err)
	}
	return nil
}

func (a *advertiser) close() error {
	a.closed.Store(true)
	return a.c.Close()
}
