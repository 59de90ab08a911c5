package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.zx2c4.com/wireguard/tun"

	"mip6/esp"
	"mip6/ipsec"
)

// Buffer layout. Outbound, the TUN writes the inner packet at txHead so
// that the ESP header and IV (at most 24 bytes) go in front of it in
// place. Inbound, a datagram lands at rxHead; with an 8-byte IV (AES-GCM,
// ChaCha20-Poly1305) the decrypted inner packet then starts at tunOffset,
// where the TUN wants it (room for the 10-byte virtio-net header in front).
const (
	txHead     = 32
	txBufSize  = txHead + 9216 + 128 // jumbo inner packet + ESP trailer and ICV
	rxHead     = 16
	tunOffset  = rxHead + 16
	rxBufSize  = 65536 + tunOffset // spare capacity lets TUN GRO coalesce into a buffer
	inFlight   = 8                 // batches per direction: bounds memory and queues
	protoIPv6  = 41
	protoNoNxt = 59
)

// Config assembles a data plane.
type Config struct {
	TUN  TUN
	Bind Bind
	SPD  *ipsec.SPD
	SAD  *ipsec.SAD
	// Carrier is what Bind carries: esp.CarrierUDP (UDPBind, the default)
	// or esp.CarrierESP (ESPBind).
	Carrier esp.Carrier
	// RawESP, if set, is a second bind for raw ESP (an ESPBind) beside a
	// UDP Bind: a home agent serves mobile nodes on both carriers at once.
	// Outbound, each packet leaves on the bind of its SA's carrier
	// (esp.Endpoints.Carrier); SAs of a carrier without a bind are dropped
	// (DropUnsupported). Inbound, every bind is read.
	RawESP Bind
	// Workers doing crypto per direction; 0 means GOMAXPROCS.
	Workers int
	// IKE receives datagrams that carry the non-ESP marker (RFC 3948
	// §2.2), without it. It runs on a worker: it must copy msg and return.
	IKE func(msg []byte, from netip.AddrPort)
	// Acquire is told when a packet matched a PROTECT entry that has no SA
	// yet (RFC 4301 §5.1: the SPD asks IKE to negotiate one); at most once
	// a second per entry. It runs on a worker and must not block.
	Acquire func(e *ipsec.Entry)
	// Local sees every decrypted inner packet that passed its SA's
	// selectors before it is queued to the TUN; returning true consumes it
	// (the mobility layer's own signalling, or a packet it refuses). It
	// runs on a worker: it must copy what it keeps.
	Local func(sa *ipsec.SAEntry, inner []byte, from netip.AddrPort) bool
	// Transport receives the raw ESP packets (as on the wire, from the
	// SPI on) of transport-mode SAs, which the plane never opens: the RFC
	// 3776 Binding Updates and Acknowledgements belong to the mobility
	// layer. Their destination is the ESPBind's own address (bind it to
	// the address that receives them). Without it they are dropped
	// (DropNotTunnel). It runs on a worker: it must copy what it keeps.
	Transport func(esp []byte, from netip.Addr)
	// Unprotected sees the TUN packets no SPD entry covers (still counted
	// as DropNoPolicy), e.g. a home agent's DHAAD requests. It runs on a
	// worker: it must copy what it keeps.
	Unprotected func(pkt []byte)
}

// Plane is a running data plane.
type Plane struct {
	tun TUN
	// binds by carrier (index: carrierIndex); nil where the carrier is off
	binds    [numCarriers]Bind
	transp   func([]byte, netip.Addr)
	spd      *ipsec.SPD
	sad      *ipsec.SAD
	ike      func([]byte, netip.AddrPort)
	acquire  func(*ipsec.Entry)
	local    func(*ipsec.SAEntry, []byte, netip.AddrPort) bool
	unprot   func([]byte)
	acquired sync.Map // entry ID -> *atomic.Int64, time of the last Acquire
	c        counters

	outFree, inFree   freeList
	outWork, inWork   chan *batch
	outOrder, inOrder chan *batch
	wg                sync.WaitGroup
	readers           sync.WaitGroup // one per bind; the last closes the inbound queues
	closeOnce         sync.Once
	errMu             sync.Mutex
	err               error
	writeErr          atomic.Pointer[error] // the last write failure, for diagnosis
}

// batch is one read's worth of packets on its way through the pipeline.
// mu is held from the moment it is queued until a worker has processed it.
type batch struct {
	mu    sync.Mutex
	bufs  [][]byte // whole buffers
	sizes []int
	n     int
	pkts  [][]byte // per packet: the result, nil when dropped
	dgs   []Datagram
	via   []uint8    // outbound, per packet: carrierIndex of its bind
	wr    []Datagram // outbound write list of one bind
	list  [][]byte   // TUN write list
	from  uint8      // inbound: carrierIndex of the bind it was read from
}

func newBatch(n, size int) *batch {
	b := &batch{bufs: make([][]byte, n), sizes: make([]int, n), pkts: make([][]byte, n),
		dgs: make([]Datagram, n), via: make([]uint8, n), wr: make([]Datagram, 0, n), list: make([][]byte, 0, n)}
	for i := range b.bufs {
		b.bufs[i] = make([]byte, size)
	}
	return b
}

// freeList hands out at most cap batches, allocating them on first use.
type freeList struct {
	free    chan *batch
	mu      sync.Mutex
	made    int
	n, size int
}

func newFreeList(n, size int) freeList {
	return freeList{free: make(chan *batch, inFlight), n: n, size: size}
}

func (f *freeList) get() *batch {
	select {
	case b := <-f.free:
		return b
	default:
	}
	f.mu.Lock()
	if f.made < cap(f.free) {
		f.made++
		f.mu.Unlock()
		return newBatch(f.n, f.size)
	}
	f.mu.Unlock()
	return <-f.free
}

func (f *freeList) put(b *batch) { f.free <- b }

// New checks the configuration and starts the pipeline goroutines.
func New(c Config) (*Plane, error) {
	if c.TUN == nil || c.Bind == nil || c.SPD == nil || c.SAD == nil {
		return nil, errors.New("dataplane: TUN, Bind, SPD and SAD are required")
	}
	carrier := c.Carrier
	if carrier == 0 {
		carrier = esp.CarrierUDP
	}
	if carrier != esp.CarrierUDP && carrier != esp.CarrierESP {
		return nil, fmt.Errorf("dataplane: unknown carrier %v", carrier)
	}
	if c.RawESP != nil && carrier != esp.CarrierUDP {
		return nil, errors.New("dataplane: RawESP goes beside a UDP Bind")
	}
	workers := c.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Plane{tun: c.TUN, spd: c.SPD, sad: c.SAD, ike: c.IKE, acquire: c.Acquire, local: c.Local, unprot: c.Unprotected, transp: c.Transport,
		outWork: make(chan *batch, inFlight), inWork: make(chan *batch, inFlight),
		outOrder: make(chan *batch, inFlight), inOrder: make(chan *batch, inFlight)}
	p.binds[carrierIndex(carrier)] = c.Bind
	if c.RawESP != nil {
		p.binds[carrierIndex(esp.CarrierESP)] = c.RawESP
	}
	batch := 1
	for _, b := range p.binds {
		if b != nil {
			batch = max(batch, b.BatchSize())
		}
	}
	p.outFree = newFreeList(max(c.TUN.BatchSize(), 1), txBufSize)
	p.inFree = newFreeList(batch, rxBufSize)
	p.wg.Add(3 + 2*workers)
	go p.readTUN()
	go p.writeOut()
	go p.writeTUN()
	for i, b := range p.binds {
		if b != nil {
			p.readers.Add(1)
			p.wg.Add(1)
			go p.readBind(uint8(i))
		}
	}
	go func() {
		p.readers.Wait()
		close(p.inWork)
		close(p.inOrder)
	}()
	for range workers {
		go p.sealWorker()
		go p.openWorker()
	}
	return p, nil
}

// Stats returns the counters.
func (p *Plane) Stats() Stats { return p.c.snapshot() }

// Err returns the last read error (reads go on after it, counted in
// Stats.ReadErrors), or else the last write error (those packets are
// counted as DropWriteError).
func (p *Plane) Err() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	if p.err == nil {
		if w := p.writeErr.Load(); w != nil {
			return fmt.Errorf("dataplane: last write error: %w", *w)
		}
	}
	return p.err
}

// readFailed records a read error that did not come from Close. The
// reader carries on after a short pause, so that a device or socket that
// keeps failing cannot spin a core.
func (p *Plane) readFailed(err error) {
	p.c.readErrors.Add(1)
	p.errMu.Lock()
	p.err = err
	p.errMu.Unlock()
	time.Sleep(time.Millisecond)
}

// Close stops the data plane, closing the TUN device and the bind.
func (p *Plane) Close() error {
	var err error
	p.closeOnce.Do(func() {
		errs := []error{p.tun.Close()}
		for _, b := range p.binds {
			if b != nil {
				errs = append(errs, b.Close())
			}
		}
		err = errors.Join(errs...)
		p.wg.Wait()
	})
	return err
}

// writeFailed counts packets a write lost; writes after Close are not
// losses worth counting (the queues drain into closed devices).
func (p *Plane) writeFailed(err error, n int) {
	if closedErr(err) {
		return
	}
	p.c.drops[DropWriteError].Add(uint64(n))
	p.writeErr.Store(&err)
}

// closedErr reports errors that mean the device or socket was closed.
func closedErr(err error) bool {
	return errors.Is(err, os.ErrClosed) || errors.Is(err, netErrClosed)
}

func (p *Plane) readTUN() {
	defer p.wg.Done()
	defer close(p.outWork)
	defer close(p.outOrder)
	for {
		b := p.outFree.get()
		n, err := p.tun.Read(b.bufs, b.sizes, txHead)
		if err != nil && !errors.Is(err, tun.ErrTooManySegments) {
			p.outFree.put(b)
			if closedErr(err) {
				return
			}
			p.readFailed(fmt.Errorf("dataplane: TUN read: %w", err))
			continue
		}
		if n == 0 {
			p.outFree.put(b)
			continue
		}
		p.c.tunIn.Add(uint64(n))
		b.n = n
		b.mu.Lock()
		p.outOrder <- b
		p.outWork <- b
	}
}

func (p *Plane) sealWorker() {
	defer p.wg.Done()
	for b := range p.outWork {
		var cache sealCache
		sealed := 0
		for i := 0; i < b.n; i++ {
			if p.seal(b, i, &cache) {
				sealed++
			}
		}
		p.c.sealed.Add(uint64(sealed)) // once per batch: the counters are shared
		b.mu.Unlock()
	}
}

// writeOut sends each sealed batch, in order, on the binds of its SAs'
// carriers.
func (p *Plane) writeOut() {
	defer p.wg.Done()
	for b := range p.outOrder {
		b.mu.Lock()
		for c, bind := range p.binds {
			if bind != nil {
				p.writeVia(b, uint8(c), bind)
			}
		}
		b.mu.Unlock()
		p.outFree.put(b)
	}
}

// writeVia writes the packets of b that go on carrier c.
func (p *Plane) writeVia(b *batch, c uint8, bind Bind) {
	b.wr = b.wr[:0]
	for i := 0; i < b.n; i++ {
		if b.pkts[i] != nil && b.via[i] == c {
			b.wr = append(b.wr, Datagram{Buf: b.pkts[i], Addr: b.dgs[i].Addr, Src: b.dgs[i].Src})
		}
	}
	if k := len(b.wr); k > 0 {
		sent, err := bind.WriteBatch(b.wr)
		p.c.written[c].Add(uint64(sent))
		if err != nil {
			p.writeFailed(err, k-sent)
		}
	}
}

// readBind reads the bind of carrier c.
func (p *Plane) readBind(c uint8) {
	defer p.wg.Done()
	defer p.readers.Done()
	bind := p.binds[c]
	for {
		b := p.inFree.get()
		for i := range b.dgs {
			b.dgs[i] = Datagram{Buf: b.bufs[i][rxHead:]}
		}
		n, err := bind.ReadBatch(b.dgs)
		if err != nil {
			p.inFree.put(b)
			if closedErr(err) {
				return
			}
			p.readFailed(fmt.Errorf("dataplane: %v read: %w", carrierOf(c), err))
			continue
		}
		if n == 0 {
			p.inFree.put(b)
			continue
		}
		p.c.read[c].Add(uint64(n))
		b.n, b.from = n, c
		b.mu.Lock()
		p.inOrder <- b
		p.inWork <- b
	}
}

func (p *Plane) openWorker() {
	defer p.wg.Done()
	for b := range p.inWork {
		opened := 0
		for i := 0; i < b.n; i++ {
			if p.open(b, i) {
				opened++
			}
		}
		p.c.opened.Add(uint64(opened))
		b.mu.Unlock()
	}
}

func (p *Plane) writeTUN() {
	defer p.wg.Done()
	for b := range p.inOrder {
		b.mu.Lock()
		b.list = b.list[:0]
		for i := 0; i < b.n; i++ {
			if b.pkts[i] != nil {
				b.list = append(b.list, b.pkts[i])
			}
		}
		if len(b.list) > 0 {
			k := len(b.list)
			if _, err := p.tun.Write(b.list, tunOffset); err != nil {
				p.writeFailed(err, 1)
			}
			p.c.tunOut.Add(uint64(k))
		}
		b.mu.Unlock()
		p.inFree.put(b)
	}
}

// numCarriers is the number of carriers a plane can hold a bind for.
const numCarriers = 2

// carrierIndex maps a carrier to its bind slot: UDP 0, raw ESP 1.
func carrierIndex(c esp.Carrier) uint8 {
	if c == esp.CarrierESP {
		return 1
	}
	return 0
}

func carrierOf(i uint8) esp.Carrier {
	if i == 1 {
		return esp.CarrierESP
	}
	return esp.CarrierUDP
}
