package vnet

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"mip6/wire/pcap"
)

// Network holds links and nodes. All methods are safe for concurrent use.
type Network struct {
	// ICMPErrors makes routers send ICMPv6 Time Exceeded and Destination
	// Unreachable errors; set before traffic starts.
	ICMPErrors bool
	// QueueLen bounds each node's input queue (default 1024).
	QueueLen int

	mu         sync.RWMutex
	captureDir string // links created later are captured too
	links      []*Link
	nodes      []*Node
	closed     bool
	wg         sync.WaitGroup
}

// New returns an empty network.
func New() *Network { return &Network{} }

// Link is an L2 segment.
type Link struct {
	Name    string
	Prefix  netip.Prefix // on-link prefix
	Gateway netip.Addr   // default router for hosts attached here (may be invalid)

	net     *Network
	ifaces  []*Interface              // guarded by net.mu
	claims  map[netip.Addr]*Interface // proxy ND, guarded by net.mu
	latency atomic.Int64              // nanoseconds
	loss    atomic.Pointer[LossFunc]
	seq     atomic.Uint64

	capMu   sync.Mutex
	capture *capture
	taps    []func(time.Time, []byte)

	Stats LinkStats
}

// LinkStats counts what happened on a link.
type LinkStats struct {
	Sent       atomic.Uint64 // packets transmitted (including lost ones)
	Lost       atomic.Uint64 // dropped by the loss function
	Unresolved atomic.Uint64 // next hop had no interface on the link
}

// LossFunc decides from a link's transmit sequence number (from 1) and the
// packet whether the packet is lost.
type LossFunc func(seq uint64, pkt []byte) bool

// DropEvery loses every n-th packet.
func DropEvery(n uint64) LossFunc {
	return func(seq uint64, _ []byte) bool { return n > 0 && seq%n == 0 }
}

// DropSeq loses the packets with the given transmit sequence numbers.
func DropSeq(seqs ...uint64) LossFunc {
	set := make(map[uint64]bool, len(seqs))
	for _, s := range seqs {
		set[s] = true
	}
	return func(seq uint64, _ []byte) bool { return set[seq] }
}

type capture struct {
	f *os.File
	b *bufio.Writer
	w *pcap.Writer
}

// NewLink adds a link with an on-link prefix.
func (n *Network) NewLink(name string, prefix netip.Prefix) *Link {
	l := &Link{Name: name, Prefix: prefix.Masked(), net: n, claims: map[netip.Addr]*Interface{}}
	n.mu.Lock()
	n.links = append(n.links, l)
	dir := n.captureDir
	n.mu.Unlock()
	if dir != "" {
		// A link that cannot be captured still carries packets.
		_ = l.startCapture(dir)
	}
	return l
}

// Links returns the links in creation order.
func (n *Network) Links() []*Link {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return append([]*Link(nil), n.links...)
}

// SetLatency sets the one-way delay of the link.
func (l *Link) SetLatency(d time.Duration) { l.latency.Store(int64(d)) }

// SetLoss installs a loss function (nil: lossless).
func (l *Link) SetLoss(f LossFunc) {
	if f == nil {
		l.loss.Store(nil)
		return
	}
	l.loss.Store(&f)
}

// Tap calls f with every packet transmitted on the link (before loss). f must
// not retain pkt.
func (l *Link) Tap(f func(ts time.Time, pkt []byte)) {
	l.capMu.Lock()
	l.taps = append(l.taps, f)
	l.capMu.Unlock()
}

// Claim makes the link deliver packets whose next hop is addr to ifc (proxy
// Neighbour Discovery). It replaces an earlier claim.
func (l *Link) Claim(addr netip.Addr, ifc *Interface) {
	l.net.mu.Lock()
	l.claims[addr] = ifc
	l.net.mu.Unlock()
}

// Release removes a claim made by ifc; a claim by another interface stays.
func (l *Link) Release(addr netip.Addr, ifc *Interface) {
	l.net.mu.Lock()
	if l.claims[addr] == ifc {
		delete(l.claims, addr)
	}
	l.net.mu.Unlock()
}

// Claimed reports which interface claims addr, if any.
func (l *Link) Claimed(addr netip.Addr) *Interface {
	l.net.mu.RLock()
	defer l.net.mu.RUnlock()
	return l.claims[addr]
}

// resolve finds the interface that receives frames for nextHop.
func (l *Link) resolve(nextHop netip.Addr) *Interface {
	l.net.mu.RLock()
	defer l.net.mu.RUnlock()
	if ifc := l.claims[nextHop]; ifc != nil && ifc.link == l {
		return ifc
	}
	for _, ifc := range l.ifaces {
		if ifc.hasAddr(nextHop) {
			return ifc
		}
	}
	return nil
}

// transmit puts a packet on the link towards nextHop. pkt is copied.
func (l *Link) transmit(from *Interface, nextHop netip.Addr, pkt []byte) {
	now := time.Now()
	seq := l.seq.Add(1)
	l.Stats.Sent.Add(1)
	l.record(now, pkt)
	if f := l.loss.Load(); f != nil && (*f)(seq, pkt) {
		l.Stats.Lost.Add(1)
		return
	}
	// to may be from itself: a node that claims an address (a home agent
	// proxying a home address) receives what it sends there, so that it
	// can intercept its own traffic to a mobile node as well.
	to := l.resolve(nextHop)
	if to == nil {
		l.Stats.Unresolved.Add(1)
		return
	}
	cp := append([]byte(nil), pkt...)
	to.node.enqueue(inbound{ifc: to, pkt: cp, due: now.Add(time.Duration(l.latency.Load()))})
}

func (l *Link) record(ts time.Time, pkt []byte) {
	l.capMu.Lock()
	defer l.capMu.Unlock()
	for _, f := range l.taps {
		f(ts, pkt)
	}
	if l.capture != nil {
		// A capture write error only loses the capture, never the packet.
		_ = l.capture.w.WritePacket(ts, pkt)
	}
}

// CapturePcap writes <dir>/<link name>.pcap for every link, including
// links created later. Close flushes and closes the files.
func (n *Network) CapturePcap(dir string) error {
	n.mu.Lock()
	n.captureDir = dir
	n.mu.Unlock()
	for _, l := range n.Links() {
		if err := l.startCapture(dir); err != nil {
			return err
		}
	}
	return nil
}

func (l *Link) startCapture(dir string) error {
	l.capMu.Lock()
	defer l.capMu.Unlock()
	if l.capture != nil {
		return nil
	}
	f, err := os.Create(filepath.Join(dir, l.Name+".pcap"))
	if err != nil {
		return fmt.Errorf("vnet: capture %s: %w", l.Name, err)
	}
	b := bufio.NewWriter(f)
	w, err := pcap.NewWriter(b, pcap.LinkTypeRaw)
	if err != nil {
		f.Close()
		return fmt.Errorf("vnet: capture %s: %w", l.Name, err)
	}
	l.capture = &capture{f: f, b: b, w: w}
	return nil
}

// FlushCaptures writes buffered capture data to the files.
func (n *Network) FlushCaptures() error {
	var first error
	for _, l := range n.Links() {
		l.capMu.Lock()
		if l.capture != nil {
			if err := l.capture.b.Flush(); err != nil && first == nil {
				first = err
			}
		}
		l.capMu.Unlock()
	}
	return first
}

// Close stops every node goroutine, closes sockets and capture files.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	nodes := append([]*Node(nil), n.nodes...)
	n.mu.Unlock()
	for _, nd := range nodes {
		nd.stop()
	}
	n.wg.Wait()
	err := n.FlushCaptures()
	for _, l := range n.Links() {
		l.capMu.Lock()
		if l.capture != nil {
			if cerr := l.capture.f.Close(); cerr != nil && err == nil {
				err = cerr
			}
			l.capture = nil
		}
		l.capMu.Unlock()
	}
	return err
}
