package vnet

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Node is a host or router on the network.
type Node struct {
	Name string

	net        *Network
	forwarding bool
	in         chan inbound
	done       chan struct{}
	stopOnce   sync.Once

	mu       sync.RWMutex
	ifaces   []*Interface
	local    []netip.Addr // addresses owned by the node but on no interface (e.g. a home address)
	routes   []Route
	handler  func(*Interface, []byte) bool
	output   func([]byte) bool
	udp      map[uint16][]*UDPConn
	icmp     []*ICMPConn
	taps     map[uint8][]chan<- []byte
	pingers  map[uint16]*Pinger
	nextPort uint16

	Stats NodeStats
}

// NodeStats counts drops and deliveries at a node.
type NodeStats struct {
	Received   atomic.Uint64 // packets taken from the input queue
	QueueDrops atomic.Uint64 // input queue full
	Malformed  atomic.Uint64 // not a parseable IPv6 packet
	NotForUs   atomic.Uint64 // not addressed to a host node
	NoRoute    atomic.Uint64
	HopLimit   atomic.Uint64 // hop limit exhausted while forwarding
	NoListener atomic.Uint64 // UDP port unreachable or socket queue full
	Forwarded  atomic.Uint64
}

// Route sends packets for Prefix to Via (a next hop that must be on-link on
// some interface).
type Route struct {
	Prefix netip.Prefix
	Via    netip.Addr
}

// Interface attaches a node to a link.
type Interface struct {
	node  *Node
	mu    sync.RWMutex
	link  *Link
	addrs []netip.Addr
}

type inbound struct {
	ifc *Interface // nil for injected or looped-back packets
	pkt []byte
	due time.Time
}

// NewNode adds a host node.
func (n *Network) NewNode(name string) *Node { return n.newNode(name, false) }

// NewRouter adds a node that forwards packets not addressed to it.
func (n *Network) NewRouter(name string) *Node { return n.newNode(name, true) }

func (n *Network) newNode(name string, forwarding bool) *Node {
	q := n.QueueLen
	if q <= 0 {
		q = 1024
	}
	nd := &Node{
		Name: name, net: n, forwarding: forwarding,
		in: make(chan inbound, q), done: make(chan struct{}),
		udp: map[uint16][]*UDPConn{}, taps: map[uint8][]chan<- []byte{},
		pingers: map[uint16]*Pinger{}, nextPort: 49152,
	}
	n.mu.Lock()
	n.nodes = append(n.nodes, nd)
	n.mu.Unlock()
	n.wg.Add(1)
	go nd.run()
	return nd
}

// Attach connects the node to link with the given addresses.
func (nd *Node) Attach(l *Link, addrs ...netip.Addr) *Interface {
	ifc := &Interface{node: nd, link: l, addrs: append([]netip.Addr(nil), addrs...)}
	nd.net.mu.Lock()
	l.ifaces = append(l.ifaces, ifc)
	nd.net.mu.Unlock()
	nd.mu.Lock()
	nd.ifaces = append(nd.ifaces, ifc)
	nd.mu.Unlock()
	return ifc
}

// Detach disconnects the interface from its link and drops its claims.
func (ifc *Interface) Detach() {
	nd := ifc.node
	ifc.mu.Lock()
	l := ifc.link
	ifc.link = nil
	ifc.mu.Unlock()
	if l != nil {
		nd.net.mu.Lock()
		for i, x := range l.ifaces {
			if x == ifc {
				l.ifaces = append(l.ifaces[:i:i], l.ifaces[i+1:]...)
				break
			}
		}
		for a, x := range l.claims {
			if x == ifc {
				delete(l.claims, a)
			}
		}
		nd.net.mu.Unlock()
	}
	nd.mu.Lock()
	for i, x := range nd.ifaces {
		if x == ifc {
			nd.ifaces = append(nd.ifaces[:i:i], nd.ifaces[i+1:]...)
			break
		}
	}
	nd.mu.Unlock()
}

// Link returns the link the interface is attached to (nil once detached).
func (ifc *Interface) Link() *Link {
	ifc.mu.RLock()
	defer ifc.mu.RUnlock()
	return ifc.link
}

// Node returns the interface's node.
func (ifc *Interface) Node() *Node { return ifc.node }

// Addrs returns the interface's addresses.
func (ifc *Interface) Addrs() []netip.Addr {
	ifc.mu.RLock()
	defer ifc.mu.RUnlock()
	return append([]netip.Addr(nil), ifc.addrs...)
}

func (ifc *Interface) hasAddr(a netip.Addr) bool {
	ifc.mu.RLock()
	defer ifc.mu.RUnlock()
	for _, x := range ifc.addrs {
		if x == a {
			return true
		}
	}
	return false
}

func (ifc *Interface) firstAddr() netip.Addr {
	ifc.mu.RLock()
	defer ifc.mu.RUnlock()
	if len(ifc.addrs) == 0 {
		return netip.Addr{}
	}
	return ifc.addrs[0]
}

// Interfaces returns the node's attached interfaces.
func (nd *Node) Interfaces() []*Interface {
	nd.mu.RLock()
	defer nd.mu.RUnlock()
	return append([]*Interface(nil), nd.ifaces...)
}

// AddLocalAddr makes the node accept packets for a (and use it as a source)
// without putting it on any link; a mobile node away from home holds its
// home address this way.
func (nd *Node) AddLocalAddr(a netip.Addr) {
	nd.mu.Lock()
	nd.local = append(nd.local, a)
	nd.mu.Unlock()
}

// RemoveLocalAddr undoes AddLocalAddr.
func (nd *Node) RemoveLocalAddr(a netip.Addr) {
	nd.mu.Lock()
	for i, x := range nd.local {
		if x == a {
			nd.local = append(nd.local[:i:i], nd.local[i+1:]...)
			break
		}
	}
	nd.mu.Unlock()
}

// AddRoute adds a route; the longest matching prefix wins.
func (nd *Node) AddRoute(r Route) {
	nd.mu.Lock()
	nd.routes = append(nd.routes, Route{Prefix: r.Prefix.Masked(), Via: r.Via})
	nd.mu.Unlock()
}

// SetHandler installs f, which sees every packet the node receives from a
// link or Inject before normal processing; returning true consumes it. f runs
// on the node's goroutine and owns pkt.
func (nd *Node) SetHandler(f func(ifc *Interface, pkt []byte) bool) {
	nd.mu.Lock()
	nd.handler = f
	nd.mu.Unlock()
}

// SetOutputHook installs f, which sees every packet the node originates
// (Send, sockets, echo replies) before routing; returning true consumes it.
// f must not retain pkt.
func (nd *Node) SetOutputHook(f func(pkt []byte) bool) {
	nd.mu.Lock()
	nd.output = f
	nd.mu.Unlock()
}

// IsLocal reports whether a is one of the node's addresses.
func (nd *Node) IsLocal(a netip.Addr) bool {
	nd.mu.RLock()
	defer nd.mu.RUnlock()
	for _, x := range nd.local {
		if x == a {
			return true
		}
	}
	for _, ifc := range nd.ifaces {
		if ifc.hasAddr(a) {
			return true
		}
	}
	return false
}

// ErrNoRoute is returned when a packet has no route.
var ErrNoRoute = errors.New("vnet: no route to destination")

// ErrClosed is returned by operations on a closed node or socket.
var ErrClosed = errors.New("vnet: closed")

// ErrNotIPv6 is returned when a packet handed to Send is not IPv6.
var ErrNotIPv6 = errors.New("vnet: not an IPv6 packet")

// ErrAddrInUse is returned by ListenUDP for a taken address and port.
var ErrAddrInUse = errors.New("vnet: address already in use")

// route finds the outgoing interface and next hop for dst.
func (nd *Node) route(dst netip.Addr) (*Interface, netip.Addr, bool) {
	nd.mu.RLock()
	defer nd.mu.RUnlock()
	return nd.routeLocked(dst)
}

func (nd *Node) routeLocked(dst netip.Addr) (*Interface, netip.Addr, bool) {
	for _, ifc := range nd.ifaces {
		if l := ifc.Link(); l != nil && l.Prefix.Contains(dst) {
			return ifc, dst, true
		}
	}
	best := -1
	var via netip.Addr
	for _, r := range nd.routes {
		if r.Prefix.Contains(dst) && r.Prefix.Bits() > best {
			best, via = r.Prefix.Bits(), r.Via
		}
	}
	if best >= 0 {
		for _, ifc := range nd.ifaces {
			if l := ifc.Link(); l != nil && l.Prefix.Contains(via) {
				return ifc, via, true
			}
		}
		return nil, netip.Addr{}, false
	}
	for _, ifc := range nd.ifaces {
		if l := ifc.Link(); l != nil && l.Gateway.IsValid() && !ifc.hasAddr(l.Gateway) {
			return ifc, l.Gateway, true
		}
	}
	return nil, netip.Addr{}, false
}

// SourceFor returns the address the node uses as source towards dst: the
// first address of the outgoing interface.
func (nd *Node) SourceFor(dst netip.Addr) (netip.Addr, error) {
	ifc, _, ok := nd.route(dst)
	if !ok {
		return netip.Addr{}, ErrNoRoute
	}
	a := ifc.firstAddr()
	if !a.IsValid() {
		return netip.Addr{}, ErrNoRoute
	}
	return a, nil
}

// Send originates a whole IPv6 packet: output hook, then local delivery or
// routing. pkt is not retained.
func (nd *Node) Send(pkt []byte) error {
	nd.mu.RLock()
	hook := nd.output
	nd.mu.RUnlock()
	if hook != nil && hook(pkt) {
		return nil
	}
	return nd.SendDirect(pkt)
}

// SendDirect routes a packet without calling the output hook (a data plane
// sends its encapsulated packets this way).
func (nd *Node) SendDirect(pkt []byte) error {
	h, ok := parseHeader(pkt)
	if !ok {
		return ErrNotIPv6
	}
	if nd.IsLocal(h.dst) {
		nd.enqueue(inbound{pkt: append([]byte(nil), pkt...), due: time.Now()})
		return nil
	}
	ifc, next, ok := nd.route(h.dst)
	if !ok {
		return ErrNoRoute
	}
	l := ifc.Link()
	if l == nil {
		return ErrNoRoute
	}
	l.transmit(ifc, next, pkt)
	return nil
}

// Inject hands a packet to the node's input as if received (e.g. the inner
// packet after decapsulation). pkt is taken over by the node.
func (nd *Node) Inject(pkt []byte) {
	nd.enqueue(inbound{pkt: pkt, due: time.Now()})
}

func (nd *Node) enqueue(p inbound) {
	select {
	case <-nd.done:
		return
	default:
	}
	select {
	case nd.in <- p:
	default:
		nd.Stats.QueueDrops.Add(1)
	}
}

func (nd *Node) stop() {
	nd.stopOnce.Do(func() {
		close(nd.done)
		nd.mu.Lock()
		var conns []*UDPConn
		for _, cs := range nd.udp {
			conns = append(conns, cs...)
		}
		icmp := append([]*ICMPConn(nil), nd.icmp...)
		nd.mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
		for _, c := range icmp {
			c.Close()
		}
	})
}

func (nd *Node) run() {
	defer nd.net.wg.Done()
	for {
		select {
		case <-nd.done:
			return
		case p := <-nd.in:
			if d := time.Until(p.due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-nd.done:
					t.Stop()
					return
				case <-t.C:
				}
			}
			nd.Stats.Received.Add(1)
			nd.process(p.ifc, p.pkt)
		}
	}
}

func (nd *Node) process(ifc *Interface, pkt []byte) {
	h, ok := parseHeader(pkt)
	if !ok {
		nd.Stats.Malformed.Add(1)
		return
	}
	nd.mu.RLock()
	handler := nd.handler
	nd.mu.RUnlock()
	if handler != nil && handler(ifc, pkt) {
		return
	}
	switch {
	case nd.IsLocal(h.dst):
		nd.deliverLocal(h, pkt)
	case nd.forwarding && ifc != nil:
		nd.forward(ifc, h, pkt)
	default:
		nd.Stats.NotForUs.Add(1)
	}
}

func (nd *Node) forward(in *Interface, h header, pkt []byte) {
	if pkt[7] <= 1 {
		nd.Stats.HopLimit.Add(1)
		nd.icmpError(in, pkt, icmpTimeExceeded, 0)
		return
	}
	pkt[7]--
	out, next, ok := nd.route(h.dst)
	if !ok {
		nd.Stats.NoRoute.Add(1)
		nd.icmpError(in, pkt, icmpDstUnreach, 0)
		return
	}
	if l := out.Link(); l != nil {
		nd.Stats.Forwarded.Add(1)
		l.transmit(out, next, pkt)
	}
}

func (nd *Node) deliverLocal(h header, pkt []byte) {
	switch h.next {
	case protoUDP:
		if nd.deliverUDP(h, pkt) {
			return
		}
	case protoICMPv6:
		if nd.deliverICMP(h, pkt) {
			return
		}
	}
	nd.mu.RLock()
	taps := nd.taps[h.next]
	nd.mu.RUnlock()
	for _, c := range taps {
		select {
		case c <- append([]byte(nil), pkt...):
		default:
		}
	}
}

// Tap delivers a copy of every locally delivered packet whose IPv6 Next
// Header is proto (and that no socket or built-in responder consumed) to c;
// a full channel loses the packet.
func (nd *Node) Tap(proto uint8, c chan<- []byte) {
	nd.mu.Lock()
	nd.taps[proto] = append(nd.taps[proto], c)
	nd.mu.Unlock()
}
