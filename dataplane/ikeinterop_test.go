package dataplane

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mip6/esp"
	"mip6/ike"
	"mip6/ike/crypto"
	"mip6/internal/netns"
	"mip6/internal/peers/strongswan"
	"mip6/ipsec"
)

// TestInteropIKEStrongSwan is the interoperability test end to end:
// mip6's own IKE engine (initiator) negotiates the IKE SA and a tunnel-mode
// CHILD_SA with charon (kernel-libipsec, UDP encapsulation forced), the
// CHILD_SA goes into a mip6 data plane on a real TUN and UDP 4500 socket,
// and ping and TCP cross the tunnel both ways for each algorithm; tshark
// decrypts both directions with charon's keys; replayed and tampered ESP
// is dropped and counted on both sides (mip6's Stats, charon's log) and
// not delivered by charon. One topology and one charon serve every
// algorithm: each run loads charon's configuration for it, negotiates,
// checks traffic and deletes the IKE SA.
//
// Sockets: IKE_SA_INIT goes from port 500 (a plain socket that only IKE
// uses); charon's forced NAT detection makes both sides float to 4500
// (RFC 7296 §2.23), where IKE and ESP share the plane's one UDP socket:
// the plane hands non-ESP-marker datagrams to the engine (Config.IKE) and
// the engine sends through the plane's socket. One socket per port, as a
// daemon has it; nothing like SO_REUSEPORT, which would let the kernel
// hand ESP to the IKE socket or IKE to the plane at random.
func TestInteropIKEStrongSwan(t *testing.T) {
	l := newIKELab(t)
	for _, a := range ikeAlgs {
		t.Run(a.esp, func(t *testing.T) { l.run(t, a, false) })
	}
	// The home agent's side: charon initiates, our engine responds, its
	// IKE_AUTH arriving through the plane.
	t.Run("charon-initiates/"+ikeAlgs[0].esp, func(t *testing.T) { l.run(t, ikeAlgs[0], true) })
}

var (
	ikeOuterA, ikeOuterB = netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:1::2") // mip6, charon
	ikeInnerA, ikeInnerB = netip.MustParseAddr("2001:db8:a::1"), netip.MustParseAddr("2001:db8:b::1")
)

const ikePSK = "interop test key 0123456789"

// ikeAlg is one algorithm set in charon's and our notation.
type ikeAlg struct {
	ike, esp string
	ours     ike.IKEProposal
	child    ike.ChildProposal
	tf       esp.Transform // what the plane must end up with
}

var ikeAlgs = func() []ikeAlg {
	gcm128 := crypto.Encr{ID: crypto.ENCR_AES_GCM_16, KeyLen: 128}
	gcm256 := crypto.Encr{ID: crypto.ENCR_AES_GCM_16, KeyLen: 256}
	chacha := crypto.Encr{ID: crypto.ENCR_CHACHA20_POLY1305}
	cbc128 := crypto.Encr{ID: crypto.ENCR_AES_CBC, KeyLen: 128}
	sha256 := []crypto.PRFID{crypto.PRF_HMAC_SHA2_256}
	x25519, ecp256 := []crypto.DHGroup{crypto.Curve25519}, []crypto.DHGroup{crypto.ECP_256}
	return []ikeAlg{
		{"aes128gcm16-prfsha256-x25519", "aes128gcm16",
			ike.IKEProposal{Encr: []crypto.Encr{gcm128}, PRF: sha256, DH: x25519},
			ike.ChildProposal{Encr: []crypto.Encr{gcm128}}, esp.AESGCM128},
		{"aes256gcm16-prfsha384-ecp256", "aes256gcm16",
			ike.IKEProposal{Encr: []crypto.Encr{gcm256}, PRF: []crypto.PRFID{crypto.PRF_HMAC_SHA2_384}, DH: ecp256},
			ike.ChildProposal{Encr: []crypto.Encr{gcm256}}, esp.AESGCM256},
		{"chacha20poly1305-prfsha256-x25519", "chacha20poly1305",
			ike.IKEProposal{Encr: []crypto.Encr{chacha}, PRF: sha256, DH: x25519},
			ike.ChildProposal{Encr: []crypto.Encr{chacha}}, esp.ChaCha20Poly1305},
		{"aes128-sha256-prfsha256-ecp256", "aes128-sha256",
			ike.IKEProposal{Encr: []crypto.Encr{cbc128}, Integ: []crypto.IntegID{crypto.AUTH_HMAC_SHA2_256_128}, PRF: sha256, DH: ecp256},
			ike.ChildProposal{Encr: []crypto.Encr{cbc128}, Integ: []crypto.IntegID{crypto.AUTH_HMAC_SHA2_256_128}}, esp.AESCBC128SHA256},
	}
}()

// ikeLab is mip6 (engine and plane) in namespace a, charon in b.
type ikeLab struct {
	a, b    *netns.NS
	charon  *strongswan.Charon
	plane   *Plane
	bind    *UDPBind
	rec     *espRecorder
	ep      *ike.Endpoint
	events  *ikeEvents
	current atomic.Pointer[ike.PeerConfig]
}

func newIKELab(t *testing.T) *ikeLab {
	netns.Require(t, "ping", "ss", "tcpdump", "tshark")
	l := &ikeLab{a: netns.New(t, "ika"), b: netns.New(t, "ikb"), events: &ikeEvents{wake: make(chan struct{}, 1)}}
	netns.Link(t, l.a, "va", l.b, "vb")
	l.a.AddAddr(t, "va", ikeOuterA.String()+"/64")
	l.b.AddAddr(t, "vb", ikeOuterB.String()+"/64")
	// charon's libipsec routes the remote TS with this address as source.
	l.b.AddAddr(t, "lo", ikeInnerB.String()+"/128")
	// charon logs its keys: the capture check decrypts with them.
	l.charon = strongswan.Start(t, l.b, strongswan.Options{KeyLog: true})
	l.startMip6(t)
	l.a.AddRoute(t, ikeInnerB.String()+"/128", "dev", "mip6t", "src", ikeInnerA.String())
	return l
}

// startMip6 brings up mip6 in namespace a: the TUN with the inner address,
// the plane on UDP 4500, and the IKE engine on port 500 and (through the
// plane) 4500.
func (l *ikeLab) startMip6(t *testing.T) {
	var (
		tn   TUN
		c500 *net.UDPConn
	)
	if err := l.a.Do(func() (err error) {
		if tn, err = CreateTUN("mip6t", 1400); err != nil {
			return err
		}
		if l.bind, err = ListenUDP(netip.AddrPortFrom(netip.IPv6Unspecified(), ike.PortNATT), 0); err != nil {
			tn.Close()
			return err
		}
		c500, err = net.ListenUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ikeOuterA, ike.PortIKE)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	l.a.AddAddr(t, "mip6t", ikeInnerA.String()+"/128")
	l.a.Up(t, "mip6t")
	l.ep = ike.NewEndpoint(ike.Config{RetransmitBase: 500 * time.Millisecond, RetransmitTries: 4, LookupPeer: l.lookupPeer},
		ikeConn{c500: c500, bind: l.bind}, l.events.add)
	nattLocal := netip.AddrPortFrom(ikeOuterA, ike.PortNATT)
	l.rec = &espRecorder{UDPBind: l.bind, first: map[uint32][]byte{}}
	p, err := New(Config{TUN: tn, Bind: l.rec, SPD: ipsec.NewSPD(), SAD: ipsec.NewSAD(),
		IKE: func(msg []byte, from netip.AddrPort) {
			// The plane stripped the non-ESP marker; the engine wants it on 4500.
			l.ep.Receive(nattLocal, from, append([]byte{0, 0, 0, 0}, msg...))
		}})
	if err != nil {
		c500.Close()
		l.bind.Close()
		tn.Close()
		t.Fatal(err)
	}
	l.plane = p
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, from, err := c500.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			l.ep.Receive(netip.AddrPortFrom(ikeOuterA, ike.PortIKE), from, append([]byte(nil), buf[:n]...))
		}
	}()
	t.Cleanup(func() {
		l.ep.Close()
		c500.Close()
		<-done
		p.Close()
		if t.Failed() {
			t.Logf("mip6 events:\n%s\nIKE drops: %v\nplane: %v (err %v)", l.events, l.ep.Drops(), p.Stats(), p.Err())
		}
	})
}

// lookupPeer is the responder's PAD: charon, with the current algorithms.
func (l *ikeLab) lookupPeer(idi ike.Identity, _ *ike.Identity) (*ike.PeerConfig, error) {
	if p := l.current.Load(); p != nil && idi.Equal(p.RemoteID) {
		return p, nil
	}
	return nil, fmt.Errorf("unknown peer %s", idi)
}

// ikeConn sends the engine's datagrams from the socket of their local
// port: 500 its own, 4500 the plane's (the engine has put the non-ESP
// marker in front already).
type ikeConn struct {
	c500 *net.UDPConn
	bind *UDPBind
}

func (c ikeConn) WriteTo(b []byte, local, remote netip.AddrPort) error {
	switch local.Port() {
	case ike.PortIKE:
		_, err := c.c500.WriteToUDPAddrPort(b, remote)
		return err
	case ike.PortNATT:
		return c.bind.WriteTo(b, remote)
	}
	return fmt.Errorf("no IKE socket on %s", local)
}

// espRecorder keeps a copy of the first ESP datagram seen per SPI in each
// direction, for replay and tampering.
type espRecorder struct {
	*UDPBind
	mu    sync.Mutex
	first map[uint32][]byte // SPI -> datagram; SPIs are random, directions never share one
}

func (r *espRecorder) keep(ds []Datagram) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range ds {
		if len(d.Buf) < 8 || len(r.first) >= 64 {
			continue
		}
		if spi := binary.BigEndian.Uint32(d.Buf); spi != 0 && r.first[spi] == nil {
			r.first[spi] = append([]byte(nil), d.Buf...)
		}
	}
}

func (r *espRecorder) ReadBatch(ds []Datagram) (int, error) {
	n, err := r.UDPBind.ReadBatch(ds)
	r.keep(ds[:n])
	return n, err
}

func (r *espRecorder) WriteBatch(ds []Datagram) (int, error) {
	r.keep(ds)
	return r.UDPBind.WriteBatch(ds)
}

func (r *espRecorder) get(spi uint32) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first[spi]
}

// ikeEvents records the engine's events.
type ikeEvents struct {
	mu   sync.Mutex
	ev   []ike.Event
	wake chan struct{}
}

func (s *ikeEvents) add(e ike.Event) {
	s.mu.Lock()
	s.ev = append(s.ev, e)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *ikeEvents) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ev)
}

func (s *ikeEvents) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, e := range s.ev {
		fmt.Fprintf(&b, "  %s spi %016x/%016x %s %s->%s", e.Kind, e.IKESA.InitiatorSPI, e.IKESA.ResponderSPI, e.IKESA.Suite, e.IKESA.Local, e.IKESA.Remote)
		if e.Child != nil {
			fmt.Fprintf(&b, " child %s encap=%v", e.Child, e.Child.Encap)
		}
		if e.Err != nil {
			fmt.Fprintf(&b, " err %v", e.Err)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// wait returns the first event of kind k at index from or later; an
// EventFailed there ends the test at once.
func (s *ikeEvents) wait(t *testing.T, k ike.EventKind, from int, d time.Duration) ike.Event {
	t.Helper()
	deadline := time.After(d)
	for {
		s.mu.Lock()
		for _, e := range s.ev[min(from, len(s.ev)):] {
			if e.Kind == k {
				s.mu.Unlock()
				return e
			}
			if e.Kind == ike.EventFailed {
				s.mu.Unlock()
				t.Fatalf("IKE failed waiting for %s: %v", k, e.Err)
			}
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-deadline:
			t.Fatalf("no %s event within %v", k, d)
		}
	}
}

func (l *ikeLab) peer(a ikeAlg) *ike.PeerConfig {
	return &ike.PeerConfig{Name: "charon", LocalID: ike.AddrIdentity(ikeOuterA), RemoteID: ike.AddrIdentity(ikeOuterB),
		LocalAuth: ike.AuthPSK, RemoteAuth: ike.AuthPSK, PSK: []byte(ikePSK), IKEProposals: []ike.IKEProposal{a.ours},
		Children: []ike.ChildConfig{{Name: "net", Proposals: []ike.ChildProposal{a.child},
			LocalTS:  []ike.Selector{ike.PrefixSelector(netip.PrefixFrom(ikeInnerA, 128))},
			RemoteTS: []ike.Selector{ike.PrefixSelector(netip.PrefixFrom(ikeInnerB, 128))}}}}
}

// negotiate loads charon's configuration for a, has one side initiate,
// and returns our EventChildEstablished. The IKE SA is deleted at cleanup.
func (l *ikeLab) negotiate(t *testing.T, a ikeAlg, charonInitiates bool) ike.Event {
	t.Helper()
	cfg := interopConfig(ikeOuterB.String(), ikeOuterA.String(), ikeInnerB.String()+"/128", ikeInnerA.String()+"/128", a.esp)
	cfg.Connections[0].Proposals = []string{a.ike}
	if err := l.charon.Load(cfg); err != nil {
		t.Fatal(err)
	}
	peer := l.peer(a)
	l.current.Store(peer)
	mark, ike0 := l.events.len(), l.plane.Stats().IKE
	if charonInitiates {
		if err := l.charon.Initiate("net"); err != nil {
			t.Fatal(err)
		}
	} else if err := l.ep.Initiate(peer, netip.AddrPortFrom(ikeOuterA, ike.PortIKE), netip.AddrPortFrom(ikeOuterB, ike.PortIKE)); err != nil {
		t.Fatal(err)
	}
	ev := l.events.wait(t, ike.EventChildEstablished, mark, 15*time.Second)
	spi := ev.IKESA.LocalSPI()
	t.Cleanup(func() { l.teardown(t, spi, mark) })
	// IKE_AUTH ran on 4500, through the plane's socket.
	if ev.IKESA.Initiator == charonInitiates || ev.IKESA.Local.Port() != ike.PortNATT || ev.IKESA.Remote.Port() != ike.PortNATT || l.plane.Stats().IKE == ike0 {
		t.Fatalf("IKE SA (initiator %v) %s -> %s, plane handed %d IKE datagrams on: did not float to 4500 through the plane",
			ev.IKESA.Initiator, ev.IKESA.Local, ev.IKESA.Remote, l.plane.Stats().IKE-ike0)
	}
	return ev
}

// run negotiates one algorithm set, installs it, checks traffic and
// deletes the IKE SA again.
func (l *ikeLab) run(t *testing.T, a ikeAlg, charonInitiates bool) {
	start := time.Now()
	ev := l.negotiate(t, a, charonInitiates)
	negotiated := time.Since(start)
	tn := l.install(t, ev.Child, a)
	defer tn.Remove()
	sw, err := l.charon.WaitChild("net", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if sw.SPIIn != ev.Child.OutboundSPI || sw.SPIOut != ev.Child.InboundSPI || !sw.Encap || sw.Mode != "TUNNEL" {
		t.Fatalf("charon's CHILD_SA %+v does not match ours %s", sw, ev.Child)
	}
	keys := l.sameKeys(t, ev.Child)
	var stop func() string
	if _, ok := keys.ESP[0].TsharkESPSA(); ok {
		stop = startCapture(t, l.a, "va")
	}
	s0 := l.plane.Stats()
	ping(t, l.a, ikeInnerA, ikeInnerB)
	ping(t, l.b, ikeInnerB, ikeInnerA)
	if stop != nil {
		checkCapture(t, stop(), keys)
	} else {
		t.Logf("%s: tshark cannot decrypt it, capture not checked", a.esp)
	}
	l.replayAndTamper(t, ev.Child)
	tcpEcho(t, l.a, ikeInnerA, l.b, ikeInnerB, 1<<20)
	tcpEcho(t, l.b, ikeInnerB, l.a, ikeInnerA, 1<<20)
	l.tcpClosed(t)
	s := l.plane.Stats()
	if s.Sealed-s0.Sealed < 100 || s.Opened-s0.Opened < 100 {
		t.Fatalf("plane counters barely moved: before %v, after %v", s0, s)
	}
	t.Logf("%s: suite %s / %s, negotiated in %v, all checks in %v", a.esp, ev.IKESA.Suite, ev.Child.Suite, negotiated.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// install puts the negotiated CHILD_SA into the plane.
func (l *ikeLab) install(t *testing.T, c *ike.ChildSA, a ikeAlg) *Tunnel {
	t.Helper()
	if !c.Encap || c.Transport || c.Local.Port() != ike.PortNATT || c.Remote.Port() != ike.PortNATT {
		t.Fatalf("CHILD_SA %s: encap %v transport %v %s -> %s; want tunnel mode in UDP 4500", c, c.Encap, c.Transport, c.Local, c.Remote)
	}
	if len(c.LocalTS) != 1 || len(c.RemoteTS) != 1 || c.LocalTS[0] != ike.PrefixSelector(netip.PrefixFrom(ikeInnerA, 128)) ||
		c.RemoteTS[0] != ike.PrefixSelector(netip.PrefixFrom(ikeInnerB, 128)) {
		t.Fatalf("selectors %v === %v", c.LocalTS, c.RemoteTS)
	}
	tf := esp.Transform{Encryption: esp.EncryptionID(c.Suite.Encr.ID), KeyBits: c.Suite.Encr.KeyLen, Integrity: esp.IntegrityID(c.Suite.Integ)}
	if tf.Encryption == esp.EncrChaCha20Poly1305 {
		tf.KeyBits = 256 // a fixed-length cipher: no key length attribute
	}
	if tf != a.tf || c.Suite.ESN {
		t.Fatalf("negotiated %s (%+v), want %+v without ESN", c.Suite, tf, a.tf)
	}
	tn, err := l.plane.InstallTunnel(TunnelSA{Name: ikeOuterB.String(), Transform: tf,
		SPIOut: c.OutboundSPI, SPIIn: c.InboundSPI,
		KeyOut: append(append([]byte(nil), c.OutEncr...), c.OutInteg...),
		KeyIn:  append(append([]byte(nil), c.InEncr...), c.InInteg...),
		Local:  c.Local, Remote: c.Remote,
		LocalTS: netip.PrefixFrom(ikeInnerA, 128), RemoteTS: netip.PrefixFrom(ikeInnerB, 128)})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// sameKeys checks that charon installed the keys our engine derived
// (charon's key log) and returns them for tshark.
func (l *ikeLab) sameKeys(t *testing.T, c *ike.ChildSA) strongswan.Keys {
	t.Helper()
	all, err := l.charon.Keys()
	if err != nil {
		t.Fatal(err)
	}
	var keys strongswan.Keys
	for _, d := range []struct {
		spi         uint32
		encr, integ []byte
	}{{c.OutboundSPI, c.OutEncr, c.OutInteg}, {c.InboundSPI, c.InEncr, c.InInteg}} {
		k, ok := all.Find(d.spi)
		if !ok {
			t.Fatalf("charon logged no keys for SPI %08x", d.spi)
		}
		if !bytes.Equal(k.EncKey, d.encr) || !bytes.Equal(k.IntegKey, d.integ) {
			t.Fatalf("SPI %08x: charon's keys differ from ours", d.spi)
		}
		keys.ESP = append(keys.ESP, k)
	}
	return keys
}

// replayAndTamper sends the first ESP datagram of each direction again, as
// it was and with a sequence number far ahead (new to the window, so the
// ICV is what fails): both sides count both, charon delivers neither.
func (l *ikeLab) replayAndTamper(t *testing.T, c *ike.ChildSA) {
	t.Helper()
	fromB, toB := l.rec.get(c.InboundSPI), l.rec.get(c.OutboundSPI)
	if fromB == nil || toB == nil {
		t.Fatalf("no ESP recorded for SPIs %08x/%08x", c.InboundSPI, c.OutboundSPI)
	}
	tampered := func(d []byte) []byte {
		x := append([]byte(nil), d...)
		binary.BigEndian.PutUint32(x[4:], 0x7fffff00)
		return x
	}
	before := l.plane.Stats()
	sendFrom(t, l.b, netip.AddrPortFrom(ikeOuterA, ike.PortNATT), fromB, tampered(fromB))
	netns.Eventually(t, 5*time.Second, func() error {
		s := l.plane.Stats()
		if s.Drop(DropReplay) != before.Drop(DropReplay)+1 || s.Drop(DropBadICV) != before.Drop(DropBadICV)+1 {
			return fmt.Errorf("mip6 replay/ICV drops %d/%d -> %d/%d", before.Drop(DropReplay), before.Drop(DropBadICV), s.Drop(DropReplay), s.Drop(DropBadICV))
		}
		return nil
	})
	packetsIn := func() uint64 {
		ch, err := l.charon.WaitChild("net", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return ch.PacketsIn
	}
	// libipsec logs each drop (esp log level 1): count them in its log.
	const replayed, badICV = "ESP sequence number verification failed", "ESP decryption or ICV verification failed"
	log0 := l.charon.Log()
	n0 := packetsIn()
	for _, d := range [][]byte{toB, tampered(toB)} {
		if err := l.bind.WriteTo(d, c.Remote); err != nil {
			t.Fatal(err)
		}
	}
	netns.Eventually(t, 5*time.Second, func() error {
		log := l.charon.Log()
		r, i := strings.Count(log, replayed)-strings.Count(log0, replayed), strings.Count(log, badICV)-strings.Count(log0, badICV)
		if r != 1 || i != 1 || !strings.Contains(log[len(log0):], fmt.Sprintf("SPI %08x [seq ", c.OutboundSPI)) {
			return fmt.Errorf("charon logged %d replays and %d ICV failures for SPI %08x, want 1 and 1", r, i, c.OutboundSPI)
		}
		return nil
	})
	if n := packetsIn(); n != n0 {
		t.Fatalf("charon accepted a replayed or tampered packet: packets-in %d -> %d", n0, n)
	}
	ping(t, l.a, ikeInnerA, ikeInnerB)
	if n := packetsIn(); n <= n0 {
		t.Fatalf("charon's counter did not move for genuine packets (%d -> %d): the check above proves nothing", n0, n)
	}
}

// tcpClosed waits until the TCP exchanges have closed on both sides, so
// that no FIN is retransmitted into the next algorithm's tunnel (its
// capture check wants nothing but pings there).
func (l *ikeLab) tcpClosed(t *testing.T) {
	t.Helper()
	netns.Eventually(t, 5*time.Second, func() error {
		for _, ns := range []*netns.NS{l.a, l.b} {
			out, err := ns.Exec("ss", "-Htn", "state", "connected", "exclude", "time-wait", "( sport = :5001 or dport = :5001 )")
			if err != nil {
				return err
			}
			if strings.TrimSpace(out) != "" {
				return fmt.Errorf("TCP connections still open in %s:\n%s", ns.Name, out)
			}
		}
		return nil
	})
}

// teardown deletes the IKE SA from our side and waits until charon has
// none, so the next algorithm starts clean.
func (l *ikeLab) teardown(t *testing.T, spi uint64, mark int) {
	if t.Failed() {
		raw, _ := l.charon.ListSAsRaw()
		t.Logf("charon SAs:\n%s", raw)
	}
	if err := l.ep.DeleteIKESA(spi); err != nil {
		t.Errorf("delete IKE SA: %v", err)
	}
	l.events.wait(t, ike.EventIKEDeleted, mark, 10*time.Second)
	netns.Eventually(t, 5*time.Second, func() error {
		raw, err := l.charon.ListSAsRaw()
		if err == nil && strings.Contains(raw, "ESTABLISHED") {
			return fmt.Errorf("charon still has an IKE SA:\n%s", raw)
		}
		return err
	})
}
