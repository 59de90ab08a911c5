package dataplane

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mip6/esp"
	"mip6/internal/netns"
	"mip6/internal/peers/strongswan"
	"mip6/internal/tshark"
)

// recordBind keeps copies of the first datagrams a plane reads and writes,
// for replay and tampering.
type recordBind struct {
	*UDPBind
	mu     sync.Mutex
	rx, tx [][]byte
}

const recordMax = 64

func (r *recordBind) ReadBatch(ds []Datagram) (int, error) {
	n, err := r.UDPBind.ReadBatch(ds)
	r.mu.Lock()
	for i := 0; i < n && len(r.rx) < recordMax; i++ {
		r.rx = append(r.rx, append([]byte(nil), ds[i].Buf...))
	}
	r.mu.Unlock()
	return n, err
}

func (r *recordBind) WriteBatch(ds []Datagram) (int, error) {
	r.mu.Lock()
	for i := 0; i < len(ds) && len(r.tx) < recordMax; i++ {
		r.tx = append(r.tx, append([]byte(nil), ds[i].Buf...))
	}
	r.mu.Unlock()
	return r.UDPBind.WriteBatch(ds)
}

func (r *recordBind) first(rx bool) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.tx
	if rx {
		l = r.rx
	}
	if len(l) == 0 {
		return nil
	}
	return l[0]
}

// transformOf maps the algorithm charon logged to ours and joins the keys
// into KEYMAT.
func transformOf(k strongswan.ESPKeys) (esp.Transform, []byte, error) {
	keymat := append(append([]byte(nil), k.EncKey...), k.IntegKey...)
	switch k.Encr {
	case "AES_GCM_16":
		return esp.Transform{Encryption: esp.EncrAESGCM16, KeyBits: (len(k.EncKey) - 4) * 8}, keymat, nil
	case "CHACHA20_POLY1305":
		return esp.ChaCha20Poly1305, keymat, nil
	case "AES_CBC":
		integ := map[int]esp.IntegrityID{32: esp.IntegHMACSHA2_256128, 48: esp.IntegHMACSHA2_384192, 64: esp.IntegHMACSHA2_512256}[len(k.IntegKey)]
		return esp.Transform{Encryption: esp.EncrAESCBC, KeyBits: len(k.EncKey) * 8, Integrity: integ}, keymat, nil
	}
	return esp.Transform{}, nil, fmt.Errorf("unmapped algorithm %s", k.Encr)
}

func interopConfig(l, r, lts, rts, esp string) strongswan.Config {
	return strongswan.Config{
		Connections: []strongswan.Conn{{
			Name: "mip6", LocalAddrs: []string{l}, RemoteAddrs: []string{r}, Encap: true,
			Proposals: []string{"aes128gcm16-prfsha256-x25519"},
			Local:     []strongswan.Auth{{Auth: "psk", ID: l}}, Remote: []strongswan.Auth{{Auth: "psk", ID: r}},
			Children: []strongswan.Child{{Name: "net", LocalTS: []string{lts}, RemoteTS: []string{rts}, ESPProposals: []string{esp}}},
		}},
		Secrets: []strongswan.Secret{{Type: "ike", IDs: []string{l, r}, Data: "interop test key 0123456789"}},
	}
}

// TestInteropStrongSwan: a mip6 data plane and strongSwan (charon with
// kernel-libipsec) exchange ping and TCP through an ESP tunnel over UDP
// 4500, in both directions, for each algorithm. The CHILD_SA is negotiated
// by IKEv2 between charon B and a charon A that is then killed (so B keeps
// the SA); mip6 takes over A's half with the keys from A's log. Replayed
// and tampered packets are dropped on both sides. (libipsec refuses ESN:
// "IPsec SA: ESN not supported", so these SAs use 32-bit sequence numbers.)
func TestInteropStrongSwan(t *testing.T) {
	for _, alg := range []string{"aes128gcm16", "aes256gcm16", "chacha20poly1305", "aes128-sha256"} {
		t.Run(alg, func(t *testing.T) { interop(t, alg) })
	}
}

func interop(t *testing.T, alg string) {
	netns.Require(t, "ping", "tcpdump", "tshark")
	a, b := netns.New(t, "ssa"), netns.New(t, "ssb")
	netns.Link(t, a, "va", b, "vb")
	a.AddAddr(t, "va", "2001:db8:1::1/64")
	b.AddAddr(t, "vb", "2001:db8:1::2/64")
	innerA, innerB := netip.MustParseAddr("2001:db8:a::1"), netip.MustParseAddr("2001:db8:b::1")
	b.AddAddr(t, "lo", innerB.String()+"/128")
	// Charon A installs its route from the inner address; mip6's TUN takes
	// the address over once charon A is gone.
	a.AddAddr(t, "lo", innerA.String()+"/128")
	ca := strongswan.Start(t, a, strongswan.Options{KeyLog: true})
	cb := strongswan.Start(t, b, strongswan.Options{})
	if err := ca.Load(interopConfig("2001:db8:1::1", "2001:db8:1::2", "2001:db8:a::1/128", "2001:db8:b::1/128", alg)); err != nil {
		t.Fatal(err)
	}
	if err := cb.Load(interopConfig("2001:db8:1::2", "2001:db8:1::1", "2001:db8:b::1/128", "2001:db8:a::1/128", alg)); err != nil {
		t.Fatal(err)
	}
	if err := ca.Initiate("net"); err != nil {
		t.Fatal(err)
	}
	keys, err := ca.Keys()
	if err != nil {
		t.Fatal(err)
	}
	ca.Kill()
	a.Run(t, "ip", "-6", "addr", "del", innerA.String()+"/128", "dev", "lo")
	tunnel := handOver(t, keys)
	var rec *recordBind
	p := startPlane(t, a, "mip6t", innerA, func(u *UDPBind) Bind { rec = &recordBind{UDPBind: u}; return rec })
	if _, err := p.InstallTunnel(tunnel); err != nil {
		t.Fatal(err)
	}
	a.AddRoute(t, innerB.String()+"/128", "dev", "mip6t", "src", innerA.String())

	capture := startCapture(t, a, "va")
	ping(t, a, innerA, innerB)
	ping(t, b, innerB, innerA)
	checkCapture(t, capture(), keys)
	replayAndTamper(t, p, rec, cb, tunnel.Remote)
	tcpEcho(t, a, innerA, b, innerB, 1<<20)
	tcpEcho(t, b, innerB, a, innerA, 1<<20)
}

// handOver builds the TunnelSA for A's half of the CHILD_SA from A's log.
func handOver(t *testing.T, keys strongswan.Keys) TunnelSA {
	t.Helper()
	var in, out *strongswan.ESPKeys
	for i := range keys.ESP {
		if k := &keys.ESP[i]; k.Child == "net" && k.Inbound {
			in = k
		} else if k.Child == "net" {
			out = k
		}
	}
	if in == nil || out == nil {
		t.Fatalf("no ESP SA pair in charon's log: %+v", keys.ESP)
	}
	tf, kout, err := transformOf(*out)
	if err != nil {
		t.Fatal(err)
	}
	_, kin, _ := transformOf(*in)
	return TunnelSA{Name: "2001:db8:1::2", Transform: tf, SPIOut: out.SPI, SPIIn: in.SPI, KeyOut: kout, KeyIn: kin,
		Local: netip.AddrPortFrom(out.Src, 4500), Remote: netip.AddrPortFrom(out.Dst, 4500),
		LocalTS: netip.MustParsePrefix("2001:db8:a::1/128"), RemoteTS: netip.MustParsePrefix("2001:db8:b::1/128")}
}

// replayAndTamper sends recorded datagrams again, as they were and with a
// changed sequence number, to both sides; neither may accept them.
func replayAndTamper(t *testing.T, p *nsPlane, rec *recordBind, cb *strongswan.Charon, peer netip.AddrPort) {
	t.Helper()
	fromB, toB := rec.first(true), rec.first(false)
	if fromB == nil || toB == nil {
		t.Fatal("nothing recorded")
	}
	before := p.Stats()
	tampered := func(d []byte) []byte {
		c := append([]byte(nil), d...)
		// A sequence number far ahead: new to the window, so the ICV is what fails.
		binary.BigEndian.PutUint32(c[4:], 0x7fffff00)
		return c
	}
	// Towards mip6, sent from B's namespace.
	sendFrom(t, cb.NS, netip.MustParseAddrPort("[2001:db8:1::1]:4500"), fromB, tampered(fromB))
	netns.Eventually(t, 5*time.Second, func() error {
		s := p.Stats()
		if s.Drop(DropReplay) != before.Drop(DropReplay)+1 || s.Drop(DropBadICV) != before.Drop(DropBadICV)+1 {
			return fmt.Errorf("mip6 counters %v", s)
		}
		return nil
	})
	// Towards strongSwan, from mip6's own socket: its CHILD_SA must not count them.
	inB := func() uint64 {
		sas, err := cb.ListSAs()
		if err != nil || len(sas) != 1 || len(sas[0].Children) != 1 {
			t.Fatalf("B's SAs: %+v %v", sas, err)
		}
		return sas[0].Children[0].PacketsIn
	}
	n0 := inB()
	for _, d := range [][]byte{toB, tampered(toB)} {
		if err := p.bind.WriteTo(d, peer); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := inB(); n != n0 {
		t.Fatalf("strongSwan accepted a replayed or tampered packet: packets-in %d -> %d", n0, n)
	}
	ping(t, p.ns, netip.MustParseAddr("2001:db8:a::1"), netip.MustParseAddr("2001:db8:b::1"))
	if n := inB(); n <= n0 {
		t.Fatalf("strongSwan's counter did not move for genuine packets (%d -> %d): the check above proves nothing", n0, n)
	}
}

func sendFrom(t *testing.T, ns *netns.NS, to netip.AddrPort, dgs ...[]byte) {
	t.Helper()
	if err := ns.Do(func() error {
		c, err := net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(to))
		if err != nil {
			return err
		}
		defer c.Close()
		for _, d := range dgs {
			if _, err := c.Write(d); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// startCapture records UDP 4500 on dev; the returned function stops the
// capture and returns the pcap file.
func startCapture(t *testing.T, ns *netns.NS, dev string) func() string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "esp.pcap")
	p := ns.Start(t, "tcpdump", "-n", "-U", "--immediate-mode", "-Z", "root", "-i", dev, "-w", path, "udp", "port", "4500")
	netns.Eventually(t, 5*time.Second, func() error {
		if !strings.Contains(p.Output(), "listening on") {
			return fmt.Errorf("tcpdump not ready: %s", p.Output())
		}
		return nil
	})
	return func() string {
		time.Sleep(100 * time.Millisecond)
		p.Stop()
		if st, err := os.Stat(path); err != nil || st.Size() <= 24 {
			t.Fatalf("capture empty (%v): %s", err, p.Output())
		}
		return path
	}
}

// checkCapture has tshark decrypt the captured ESP of both directions with
// the keys charon negotiated: every packet must be ESP whose ICV verifies
// and whose inner packet is an ICMPv6 echo between the inner addresses —
// mip6's packets and strongSwan's alike.
func checkCapture(t *testing.T, pcap string, keys strongswan.Keys) {
	t.Helper()
	// veth leaves UDP checksums to offload (CHECKSUM_PARTIAL): not checked.
	opts := tshark.Options{Prefs: []string{"esp.enable_encryption_decode:TRUE", "esp.enable_authentication_check:TRUE", "udp.check_checksum:FALSE"}}
	for _, k := range keys.ESP {
		row, ok := k.TsharkESPSA()
		if !ok {
			return // tshark 4.0 cannot decrypt this algorithm
		}
		opts.UAT = append(opts.UAT, row)
	}
	tshark.RequireClean(t, pcap, opts)
	opts.Filter = "esp" // charon may add a NAT keepalive or an IKE message
	pkts := tshark.Run(t, pcap, opts, "esp.spi", "esp.icv_good", "ipv6.src", "ipv6.dst", "icmpv6.type")
	inner := map[string]bool{"2001:db8:a::1": true, "2001:db8:b::1": true}
	from := map[string]int{}
	for _, p := range pkts {
		if srcs := p.All("ipv6.src"); len(srcs) > 0 {
			from[srcs[0]]++
		}
		srcs, dsts := p.All("ipv6.src"), p.All("ipv6.dst")
		typ := p.Get("icmpv6.type")
		if p.Get("esp.icv_good") != "1" || len(srcs) != 2 || !inner[srcs[1]] || !inner[dsts[1]] || (typ != "128" && typ != "129") {
			t.Errorf("frame %d not an authentic ESP-protected echo between the inner addresses: %v", p.Number, p.Fields)
		}
	}
	// Both pings (4 requests, at least 3 replies each way) went through
	// the capture.
	if from["2001:db8:1::1"] < 7 || from["2001:db8:1::2"] < 7 {
		t.Fatalf("ESP packets per outer source: %v; want mip6's and strongSwan's", from)
	}
}
