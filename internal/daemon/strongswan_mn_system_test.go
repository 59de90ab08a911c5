package daemon_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mip6/internal/control"
	"mip6/internal/netns"
	"mip6/internal/peers/strongswan"
	"mip6/internal/tshark"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// The lab's fixed addresses for the strongSwan mobile nodes.
var (
	swHA       = netip.MustParseAddr("2001:db8:1::2")
	swAliceCoA = netip.MustParseAddr("2001:db8:a::100")
	swAliceB   = netip.MustParseAddr("2001:db8:b::100") // after the move
	swBobCoA   = netip.MustParseAddr("2001:db8:d::100")
)

const (
	swAlicePSK = "alice's strongSwan pre-shared key"
	swBobPSK   = "bob's strongSwan pre-shared key"
	swLifetime = 60 // BU lifetime, units of 4 s
)

// A strongSwan-based mobile node against the real home agent daemon
// (issue 5, interop): charon (kernel-libipsec) bootstraps with `mip6 ha`
// over IKEv2 with a PSK and gets its home address through CP; the test
// plays the node's Mobile IPv6 part, as UMIP would beside charon, sending
// Binding Updates from the home address into charon's any-protocol tunnel
// (libipsec cannot match Mobility-Header-typed selectors). The home agent
// must accept them on that tunnel SA, bound to that home address, forward
// the correspondent's traffic through it, refuse every forgery bob (a
// second subscriber, with his own keys) can send, follow alice to another
// access network (MOBIKE, then her BU), and de-register her.
func TestStrongSwanMobileNode(t *testing.T) {
	netns.Require(t, "ping", "tcpdump", "tshark", strongswan.CharonBin, strongswan.SwanctlBin)
	bin := buildMIP6(t)
	dir := t.TempDir()
	l := newLab(t)
	l.attach(t, "a0", swAliceCoA.String(), "2001:db8:a::1")
	bobNS := attachBob(t, l)
	haConf := writeStrongSwanHAConfig(t, dir)
	haSock := filepath.Join(dir, "ha.sock")

	// --immediate-mode: without it the last packets before Stop (the
	// de-registration) may still sit in the capture ring.
	pcap := filepath.Join(dir, "home.pcap")
	dump := l.ha.Start(t, "tcpdump", "-i", "ha0", "--immediate-mode", "-U", "-w", pcap, "udp")
	netns.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(dump.Output(), "listening on") {
			return errors.New("tcpdump not capturing yet")
		}
		return nil
	})
	ha := l.ha.Start(t, bin, "ha", "-c", haConf)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("home agent:\n%s", ha.Output())
		}
	})
	netns.Eventually(t, 10*time.Second, func() error { _, err := status(t, bin, haSock); return err })

	alice := startSwanMN(t, l.mn, "alice@example.net", swAlicePSK, swAliceCoA, "::")
	aliceBinding := registerAlice(t, l, bin, haSock, alice)

	// bob asks for alice's home address through CP: the HA gives him his own.
	bob := startSwanMN(t, bobNS, "bob@example.net", swBobPSK, swBobCoA, alice.hoa.String())
	if bob.hoa == alice.hoa || !netip.MustParsePrefix("2001:db8:1::/64").Contains(bob.hoa) {
		t.Fatalf("bob was given home address %s (alice has %s)", bob.hoa, alice.hoa)
	}
	bob.bindingUpdate(t, swLifetime) // his own registration works: his tunnel delivers
	requireBinding(t, bin, haSock, "bob@example.net", bob.hoa, swBobCoA)

	forgeries(t, bin, haSock, pcap, bob, alice)
	if got := requireBinding(t, bin, haSock, "alice@example.net", alice.hoa, swAliceCoA); got.Sequence != aliceBinding.Sequence ||
		!got.Expires.Equal(aliceBinding.Expires) {
		t.Fatalf("alice's binding changed under bob's forgeries: %+v, was %+v", got, aliceBinding)
	}
	l.cn.Run(t, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", alice.hoa.String())

	moveAlice(t, l, bin, haSock, alice)
	deregisterAlice(t, l, bin, haSock, alice, bob)
	ha.Stop()
	dump.Stop()
	checkStrongSwanCapture(t, pcap, alice, bob)
}

// registerAlice registers alice's home address and checks that the
// correspondent reaches it only from then on; it returns her binding.
func registerAlice(t *testing.T, l *lab, bin, sock string, alice *swanMN) control.Binding {
	t.Helper()
	if out, err := l.cn.ExecWithin(5*time.Second, "ping", "-6", "-c", "1", "-W", "1", alice.hoa.String()); err == nil {
		t.Fatalf("home address reachable before any Binding Update:\n%s", out)
	}
	ba, rtt := alice.bindingUpdate(t, swLifetime)
	t.Logf("alice: home address %s from CP; first BU/BA round trip through libipsec and the HA: %v (%d attempts), BA %+v",
		alice.hoa, rtt, alice.attempts, ba)
	if ba.Lifetime == 0 || ba.Lifetime > swLifetime || !ba.Options.Has(mh.HasBindingRefreshAdvice) {
		t.Errorf("Binding Ack lifetime %d (asked %d), options %+v", ba.Lifetime, swLifetime, ba.Options)
	}
	alice.refreshes(t, 10)
	alice.staleSequence(t)
	b := requireBinding(t, bin, sock, "alice@example.net", alice.hoa, swAliceCoA)
	if b.Sequence != alice.seq {
		t.Errorf("binding sequence %d, last BU %d", b.Sequence, alice.seq)
	}
	// HA proxy ND -> ESP in UDP -> libipsec -> alice's kernel, and back.
	l.cn.Run(t, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", alice.hoa.String())
	return b
}

// moveAlice moves alice to access network B: charon moves its IKE SA with
// MOBIKE (RFC 4555) and libipsec its ESP SAs, and rekeys its CHILD_SA;
// then alice's BU from the new care-of address moves the home agent's
// tunnel, and the correspondent reaches her there, also after an IKE SA
// rekey over the new path.
func moveAlice(t *testing.T, l *lab, bin, sock string, alice *swanMN) {
	t.Helper()
	start := time.Now()
	l.attach(t, "b0", swAliceB.String(), "2001:db8:b::1")
	netns.Eventually(t, 20*time.Second, func() error {
		sas, err := alice.charon.ListSAs()
		if err == nil && (len(sas) != 1 || sas[0].LocalHost != swAliceB.String() || sas[0].State != "ESTABLISHED") {
			err = fmt.Errorf("charon's IKE SA not moved yet: %+v", sas)
		}
		return err
	})
	mobike := time.Since(start)
	alice.coa = swAliceB
	ba, rtt := alice.bindingUpdate(t, swLifetime)
	t.Logf("alice: moved to %s: MOBIKE done %v after the new address, BU/BA %v (%d attempts), %v in all; BA %+v",
		swAliceB, mobike, rtt, alice.attempts, time.Since(start), ba)
	requireBinding(t, bin, sock, "alice@example.net", alice.hoa, swAliceB)
	l.cn.Run(t, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", alice.hoa.String())
	// The home agent's IKE engine moved alice's IKE SA (MOBIKE) and its
	// status says so.
	s, err := status(t, bin, sock)
	if err != nil {
		t.Fatal(err)
	}
	want := netip.AddrPortFrom(swAliceB, 4500).String()
	for _, sa := range s.IKESAs {
		if sa.Identity == "alice@example.net" && sa.Remote != want {
			t.Errorf("mip6 status shows alice's IKE SA at %s, want %s", sa.Remote, want)
		}
	}
	// The IKE SA rekeys over the new path; the lease, the binding and the
	// tunnel survive, and the status shows the new IKE SA where it is.
	if err := alice.charon.RekeyIKE("ha"); err != nil {
		t.Fatal(err)
	}
	netns.Eventually(t, 10*time.Second, func() error {
		s, err := status(t, bin, sock)
		if err != nil {
			return err
		}
		for _, sa := range s.IKESAs {
			if sa.Identity == "alice@example.net" && sa.Remote == want {
				return nil
			}
		}
		return fmt.Errorf("no IKE SA for alice at %s after her IKE rekey: %+v", want, s.IKESAs)
	})
	requireBinding(t, bin, sock, "alice@example.net", alice.hoa, swAliceB)
	l.cn.Run(t, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", alice.hoa.String())
}

// deregisterAlice sends alice's de-registration (lifetime 0, from the
// care-of address): her binding goes, her home address is unreachable
// again, bob's binding stays, and nothing but bob's forgeries was dropped
// along the way (no bad checksum, bad ICV, unknown SPI...).
func deregisterAlice(t *testing.T, l *lab, bin, sock string, alice, bob *swanMN) {
	t.Helper()
	ba, rtt := alice.bindingUpdate(t, 0)
	t.Logf("alice: de-registration acknowledged in %v: %+v", rtt, ba)
	if ba.Lifetime != 0 {
		t.Errorf("de-registration acknowledged with lifetime %d", ba.Lifetime)
	}
	s, err := status(t, bin, sock)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range s.Bindings {
		if b.Identity == "alice@example.net" || b.HomeAddress == alice.hoa.String() {
			t.Fatalf("alice's binding still there after the acknowledged de-registration: %+v", b)
		}
	}
	requireBinding(t, bin, sock, "bob@example.net", bob.hoa, swBobCoA)
	if out, err := l.cn.ExecWithin(5*time.Second, "ping", "-6", "-c", "1", "-W", "1", alice.hoa.String()); err == nil {
		t.Fatalf("home address still reachable after de-registration:\n%s", out)
	}
	for _, c := range []string{"bu_drop_bad-checksum", "bu_drop_malformed", "bu_drop_unprotected", "bu_drop_identity-mismatch",
		"dataplane_drop_bad_icv", "dataplane_drop_too_old", "dataplane_drop_unknown_spi"} {
		if s.Counters[c] != 0 {
			t.Errorf("home agent counter %s = %d", c, s.Counters[c])
		}
	}
	if n := s.Counters["dataplane_drop_replay"]; n != 1 {
		t.Errorf("home agent counter dataplane_drop_replay = %d, want 1 (bob's replay)", n)
	}
	t.Logf("home agent: %d BUs in, %d BAs out, status 0 x%d", s.Counters["binding_updates_in"], s.Counters["binding_acks_out"],
		s.Counters["binding_ack_status_0"])
}

// attachBob adds the attacker's access network (2001:db8:d::/64) to the
// lab's router and bob's namespace on it.
func attachBob(t *testing.T, l *lab) *netns.NS {
	bob := netns.New(t, "bob")
	netns.Link(t, bob, "d0", l.router, "rd")
	l.router.AddAddr(t, "rd", "2001:db8:d::1/64")
	bob.AddAddr(t, "d0", swBobCoA.String()+"/64")
	bob.AddRoute(t, "default", "via", "2001:db8:d::1")
	return bob
}

// writeStrongSwanHAConfig is writePSKConfigs' home agent with two
// subscribers, alice and bob, each with his own PSK and a pool address.
func writeStrongSwanHAConfig(t *testing.T, dir string) string {
	path := filepath.Join(dir, "ha.conf")
	write(t, path, fmt.Sprintf(`
[home_agent]
address = "2001:db8:1::2"
home_prefix = "2001:db8:1::/64"
home_interface = "ha0"
[ike]
listen = ["[2001:db8:1::2]:500", "[2001:db8:1::2]:4500"]
identity = "ha.example.net"
[addresses]
pool = "2001:db8:1::1000/116"
[[mobile_node]]
identity = "alice@example.net"
auth = "psk"
psk = %q
[[mobile_node]]
identity = "bob@example.net"
auth = "psk"
psk = %q
[store]
path = "%s/ha.db"
[daemon]
control_socket = "%s/ha.sock"
log_level = "debug"
`, swAlicePSK, swBobPSK, dir, dir))
	return path
}

// swanMN is a strongSwan IKEv2 peer plus the test's Mobile IPv6 part: a
// raw Mobility Header socket bound to the home address charon installed.
type swanMN struct {
	identity string
	ns       *netns.NS
	charon   *strongswan.Charon
	coa, hoa netip.Addr
	mh       *net.IPConn
	seq      uint16
	attempts int
}

// startSwanMN starts charon in ns and brings up the "home" CHILD_SA to the
// home agent: IKEv2 PSK, a home address requested through CP (vip "::" or
// a specific address), remote_ts ::/0 for every protocol.
func startSwanMN(t *testing.T, ns *netns.NS, identity, psk string, coa netip.Addr, vip string) *swanMN {
	t.Helper()
	m := &swanMN{identity: identity, ns: ns, coa: coa, seq: 100}
	m.charon = strongswan.Start(t, ns, strongswan.Options{KeyLog: true})
	err := m.charon.Load(strongswan.Config{
		Connections: []strongswan.Conn{{
			// No local_addrs: charon follows the care-of address (MOBIKE).
			Name: "ha", RemoteAddrs: []string{swHA.String()},
			Proposals: []string{"aes128gcm16-prfsha256-x25519"}, Encap: true, Vips: []string{vip},
			Local:  []strongswan.Auth{{Auth: "psk", ID: identity}},
			Remote: []strongswan.Auth{{Auth: "psk", ID: "ha.example.net"}},
			Children: []strongswan.Child{{Name: "home", RemoteTS: []string{"::/0"},
				ESPProposals: []string{"aes128gcm16"}, StartAction: "none"}},
		}},
		Secrets: []strongswan.Secret{{Type: "ike", IDs: []string{identity, "ha.example.net"}, Data: psk}},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := m.charon.Initiate("home"); err != nil {
		t.Fatalf("%s: %v\n%s", identity, err, m.charon.Log())
	}
	sas, err := m.charon.ListSAs()
	if err != nil || len(sas) != 1 || len(sas[0].LocalVIPs) != 1 || len(sas[0].Children) != 1 {
		t.Fatalf("%s: charon's SAs %+v, %v", identity, sas, err)
	}
	m.hoa = netip.MustParseAddr(sas[0].LocalVIPs[0])
	ch := sas[0].Children[0]
	if len(ch.LocalTS) != 1 || ch.LocalTS[0] != m.hoa.String()+"/128" || len(ch.RemoteTS) != 1 || ch.RemoteTS[0] != "::/0" {
		t.Fatalf("%s: CHILD_SA selectors %v === %v, want %s/128 === ::/0", identity, ch.LocalTS, ch.RemoteTS, m.hoa)
	}
	t.Logf("%s: IKE_SA and CHILD_SA up in %v, home address %s, SPIs in %08x out %08x",
		identity, time.Since(start), m.hoa, ch.SPIIn, ch.SPIOut)
	// The socket binds once charon has put the virtual IP on an interface.
	netns.Eventually(t, 5*time.Second, func() error {
		return ns.Do(func() error {
			c, err := net.ListenIP("ip6:135", &net.IPAddr{IP: m.hoa.AsSlice()})
			m.mh = c
			return err
		})
	})
	t.Cleanup(func() { m.mh.Close() })
	return m
}

// bindingUpdate sends a home registration (lifetime in units of 4 s; 0
// de-registers) from the home address, with the care-of address as the
// Alternate Care-of Address, and waits for its acknowledgement; like a
// mobile node it retransmits with a new sequence number, up to 4 times.
// It fails the test unless the BA accepts the BU.
func (m *swanMN) bindingUpdate(t *testing.T, lifetime uint16) (mh.BindingAck, time.Duration) {
	t.Helper()
	for m.attempts = 1; m.attempts <= 4; m.attempts++ {
		bu := m.nextBU(m.hoa, m.coa, lifetime)
		msg := bu.Append(nil, m.hoa, swHA)
		start := time.Now()
		if _, err := m.mh.WriteToIP(msg, &net.IPAddr{IP: swHA.AsSlice()}); err != nil {
			t.Fatalf("%s: sending BU: %v", m.identity, err)
		}
		ba, ok := m.readAck(t, m.seq, time.Second)
		if !ok {
			continue
		}
		// K: the home agent's IKE SA follows the care-of address, on
		// de-registration too (RFC 6275 §10.3.2 refers to §10.3.1).
		if ba.Status != mh.StatusAccepted || !ba.KeyManagementMobilityCapability {
			t.Fatalf("%s: BU seq %d lifetime %d answered %+v (%s)", m.identity, m.seq, lifetime, ba, ba.Status)
		}
		return ba, time.Since(start)
	}
	t.Fatalf("%s: no Binding Ack for BU seq %d through charon's tunnel", m.identity, m.seq)
	return mh.BindingAck{}, 0
}

// staleSequence sends a BU whose sequence number is behind the binding's
// (as from a mobile node that lost its state): the home agent answers
// status 135 with the last accepted number (RFC 6275 §10.3.1), through
// the tunnel, and the binding does not change.
func (m *swanMN) staleSequence(t *testing.T) {
	t.Helper()
	bu := m.nextBU(m.hoa, m.coa, swLifetime)
	m.seq-- // a refused BU leaves the node's sequence number where it was
	bu.Sequence = m.seq - 5
	if _, err := m.mh.WriteToIP(bu.Append(nil, m.hoa, swHA), &net.IPAddr{IP: swHA.AsSlice()}); err != nil {
		t.Fatal(err)
	}
	ba, ok := m.readAck(t, m.seq, 2*time.Second)
	if !ok || ba.Status != mh.StatusSequenceNumberOutOfWindow {
		t.Fatalf("%s: BU seq %d behind %d answered %+v (%v), want status 135 seq %d", m.identity, bu.Sequence, m.seq, ba, ok, m.seq)
	}
}

// readAck reads Mobility Header messages addressed to the home address
// until the Binding Ack for seq arrives (true) or the time is up.
func (m *swanMN) readAck(t *testing.T, seq uint16, wait time.Duration) (mh.BindingAck, bool) {
	t.Helper()
	m.mh.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 1500)
	for range 16 {
		n, from, err := m.mh.ReadFromIP(buf)
		if err != nil {
			return mh.BindingAck{}, false
		}
		src, _ := netip.AddrFromSlice(from.IP)
		msg := buf[:n]
		if err := mh.VerifyChecksum(src.Unmap(), m.hoa, msg); err != nil {
			t.Fatalf("%s: MH from %s: %v", m.identity, src, err)
		}
		ba, err := mh.ParseBindingAck(msg)
		if err != nil || src.Unmap() != swHA {
			t.Logf("%s: ignoring MH %x from %s: %v", m.identity, msg, src, err)
			continue
		}
		if ba.Sequence == seq {
			return ba, true
		}
		t.Logf("%s: Binding Ack for seq %d while waiting for %d", m.identity, ba.Sequence, seq)
	}
	return mh.BindingAck{}, false
}

// requireBinding returns the home agent's binding for hoa, which must
// belong to identity, point to coa and have come in the tunnelled form.
func requireBinding(t *testing.T, bin, sock, identity string, hoa, coa netip.Addr) control.Binding {
	t.Helper()
	s, err := status(t, bin, sock)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range s.Bindings {
		if b.HomeAddress == hoa.String() {
			if b.Identity != identity || b.CareOf != coa.String() || b.WireForm != "tunnel" {
				t.Fatalf("binding for %s: %+v, want %s at %s, tunnel form", hoa, b, identity, coa)
			}
			return b
		}
	}
	t.Fatalf("no binding for %s: %+v", hoa, s.Bindings)
	return control.Binding{}
}

// refreshes re-registers n times and logs the BU/BA round trips: the test
// process -> charon's TUN -> libipsec (ESP in UDP) -> the home agent's data
// plane and core -> back the same way.
func (m *swanMN) refreshes(t *testing.T, n int) {
	t.Helper()
	rtts := make([]time.Duration, 0, n)
	for range n {
		_, rtt := m.bindingUpdate(t, swLifetime)
		rtts = append(rtts, rtt)
	}
	slices.Sort(rtts)
	t.Logf("%s: %d re-registrations, BU/BA round trip min %v median %v max %v", m.identity, n, rtts[0], rtts[n/2], rtts[n-1])
}

// forgeries sends what bob, a subscriber holding his own keys, can send to
// take over or disturb alice's binding. Each must reach the home agent and
// be dropped there for its reason, counted once. pcap is the home link's
// capture so far, where bob finds alice's last Binding Update to replay.
func forgeries(t *testing.T, bin, sock, pcap string, bob, alice *swanMN) {
	t.Helper()
	forged := bob.nextBU
	for _, f := range []struct {
		name, counter string
		send          func()
	}{{
		// Through bob's own tunnel: libipsec lets his home address out. The
		// home agent's data plane takes the Home Address option as the
		// source, as its SPD does for the RFC 3776 form: outside bob's SA,
		// dropped before the core (whose wrong-SA rule would refuse it too).
		"BU from bob's home address, Home Address option naming alice's", "dataplane_drop_selector",
		func() { bob.sendHAO(t, alice.hoa, forged(alice.hoa, bob.coa, swLifetime)) },
	}, {
		"the same, de-registering alice", "dataplane_drop_selector",
		func() { bob.sendHAO(t, alice.hoa, forged(alice.hoa, bob.coa, 0)) },
	}, {
		"bob's own BU with alice's care-of address as Alternate CoA (flooding her)", "bu_drop_alt-coa-mismatch",
		func() {
			bu := forged(bob.hoa, alice.coa, swLifetime)
			if _, err := bob.mh.WriteToIP(bu.Append(nil, bob.hoa, swHA), &net.IPAddr{IP: swHA.AsSlice()}); err != nil {
				t.Fatal(err)
			}
		},
	}, {
		// Past his own libipsec, which would not let it out: ESP sealed
		// with his outbound key around a BU from alice's home address.
		"ESP sealed with bob's key around a BU from alice's home address", "dataplane_drop_selector",
		func() { bob.sealInsider(t, alice.hoa, forged(alice.hoa, bob.coa, swLifetime)) },
	}, {
		// On the path: alice's last BU as it crossed the home link, sent
		// again from bob's address (to pull her binding back later).
		"alice's last Binding Update, captured and replayed", "dataplane_drop_replay",
		func() { sendMarkedUDP(t, bob.ns, bob.coa, capturedBU(t, pcap, alice)) },
	}} {
		before, err := status(t, bin, sock)
		if err != nil {
			t.Fatal(err)
		}
		f.send()
		netns.Eventually(t, 3*time.Second, func() error {
			s, err := status(t, bin, sock)
			if err == nil && s.Counters[f.counter] != before.Counters[f.counter]+1 {
				err = fmt.Errorf("%s: %s = %d, was %d; counters that moved: %v", f.name, f.counter, s.Counters[f.counter],
					before.Counters[f.counter], movedCounters(before.Counters, s.Counters))
			}
			return err
		})
		t.Logf("bob: %s: refused, %s counted", f.name, f.counter)
	}
	// Dropped means unanswered: no Binding Ack or Error came back to bob.
	bob.mh.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, from, err := bob.mh.ReadFromIP(make([]byte, 1500)); err == nil {
		t.Errorf("bob got a %d-byte Mobility Header message from %s in answer to a forgery", n, from)
	}
}

// nextBU is m's next home registration (lifetime 0: de-registration)
// for hoa with altCoA as Alternate Care-of Address.
func (m *swanMN) nextBU(hoa, altCoA netip.Addr, lifetime uint16) mh.BindingUpdate {
	m.seq++
	bu := mh.BindingUpdate{Sequence: m.seq, Acknowledge: true, HomeRegistration: true,
		KeyManagementMobilityCapability: true, Lifetime: lifetime}
	bu.Options.Present = mh.HasAlternateCareOfAddress
	bu.Options.AlternateCareOfAddress = altCoA
	return bu
}

// sendHAO sends bu through bob's tunnel from his home address with a
// Home Address option naming hoa (the RFC 3776 shape, here inside the
// tunnel); the checksum covers hoa as the RFC 6275 §6.1.1 pseudo-header
// wants. The packet is written whole (IPV6_HDRINCL) and routed into
// libipsec's TUN by charon's table 220.
func (m *swanMN) sendHAO(t *testing.T, hoa netip.Addr, bu mh.BindingUpdate) {
	t.Helper()
	payload := ipv6.AppendDestOptsHAO(nil, ipv6.ProtoMobility, hoa)
	payload = bu.Append(payload, hoa, swHA)
	pkt := ipv6.AppendPacket(nil, m.hoa, swHA, ipv6.ProtoDstOpts, payload)
	err := m.ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Sendto(fd, pkt, 0, &unix.SockaddrInet6{Addr: swHA.As16()})
	})
	if err != nil {
		t.Fatalf("%s: raw send: %v", m.identity, err)
	}
}

// sealInsider seals a BU from hoa with m's own outbound ESP key (from
// charon's key log) and sends it to the home agent's port 4500 as ESP in
// UDP, marked so that it bypasses charon's table 220.
func (m *swanMN) sealInsider(t *testing.T, hoa netip.Addr, bu mh.BindingUpdate) {
	t.Helper()
	sas, err := m.charon.ListSAs()
	if err != nil || len(sas) != 1 || len(sas[0].Children) != 1 {
		t.Fatalf("%s: SAs %+v %v", m.identity, sas, err)
	}
	ch := sas[0].Children[0]
	keys, err := m.charon.Keys()
	if err != nil {
		t.Fatal(err)
	}
	k, ok := keys.Find(ch.SPIOut)
	if !ok {
		t.Fatalf("%s: no key logged for SPI %08x", m.identity, ch.SPIOut)
	}
	sa, err := k.SA(netip.AddrPortFrom(m.coa, 4500), netip.AddrPortFrom(swHA, 4500))
	if err != nil {
		t.Fatal(err)
	}
	// Past every sequence number libipsec used, inside the replay window.
	for range ch.PacketsOut + 4 {
		if _, err := sa.Seal(nil, nil, ipv6.ProtoNoNext); err != nil {
			t.Fatal(err)
		}
	}
	inner := ipv6.AppendPacket(nil, hoa, swHA, ipv6.ProtoMobility, bu.Append(nil, hoa, swHA))
	pkt, err := sa.Seal(nil, inner, 41)
	if err != nil {
		t.Fatal(err)
	}
	sendMarkedUDP(t, m.ns, m.coa, pkt)
}

// sendMarkedUDP sends payload from an ephemeral port of from, in ns, to
// the home agent's port 4500, with charon's fwmark so that it bypasses
// table 220 (libipsec's TUN) like charon's own ESP in UDP.
func sendMarkedUDP(t *testing.T, ns *netns.NS, from netip.Addr, payload []byte) {
	t.Helper()
	err := ns.Do(func() error {
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, strongswan.DefaultFwmark)
			}); err != nil {
				return err
			}
			return serr
		}}
		c, err := lc.ListenPacket(context.Background(), "udp6", net.JoinHostPort(from.String(), "0"))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.WriteTo(payload, net.UDPAddrFromAddrPort(netip.AddrPortFrom(swHA, 4500)))
		return err
	})
	if err != nil {
		t.Fatalf("sending ESP in UDP from %s: %v", from, err)
	}
}

// capturedBU returns the ESP packet (UDP payload) that carried m's latest
// Binding Update across the home link, found in the capture so far by
// decrypting it with m's logged keys.
func capturedBU(t *testing.T, pcap string, m *swanMN) []byte {
	t.Helper()
	o := tshark.Options{Prefs: []string{"udp.check_checksum:FALSE", "esp.enable_encryption_decode:TRUE"}, UAT: espRows(t, m),
		Filter: fmt.Sprintf("mip6.mhtype == 5 && ipv6.src == %s && mip6.bu.seqnr == %d", m.coa, m.seq)}
	pkts := tshark.Run(t, pcap, o, "udp.payload")
	if len(pkts) != 1 {
		t.Fatalf("%d captured Binding Updates from %s with sequence number %d", len(pkts), m.identity, m.seq)
	}
	b, err := hex.DecodeString(strings.ReplaceAll(pkts[0].Get("udp.payload"), ":", ""))
	if err != nil || len(b) < 16 {
		t.Fatalf("captured BU payload %q: %v", pkts[0].Get("udp.payload"), err)
	}
	return b
}

// espRows are the tshark esp_sa rows for every ESP SA m's charon logged,
// matched by SPI alone.
func espRows(t *testing.T, m *swanMN) []tshark.UATRecord {
	t.Helper()
	keys, err := m.charon.Keys()
	if err != nil {
		t.Fatal(err)
	}
	var rows []tshark.UATRecord
	for _, k := range keys.ESP {
		row, ok := k.TsharkESPSA()
		if !ok {
			t.Fatalf("tshark cannot decrypt %s", k.Encr)
		}
		// Any addresses: the SAs move with alice (MOBIKE); SPIs are unique.
		row.Fields[1], row.Fields[2] = "*", "*"
		rows = append(rows, row)
	}
	return rows
}

// checkStrongSwanCapture decrypts the home link's capture with the keys
// both charons logged: alice's Binding Updates arrived from her home
// address as ESP in UDP from port 4500 of her care-of address, the
// acknowledgements went back the same way, and bob's forgeries are there
// inside his own SA.
func checkStrongSwanCapture(t *testing.T, pcap string, alice, bob *swanMN) {
	t.Helper()
	opts := tshark.Options{Prefs: []string{"udp.check_checksum:FALSE", "esp.enable_encryption_decode:TRUE"}}
	opts.UAT = append(espRows(t, alice), espRows(t, bob)...)
	tshark.RequireClean(t, pcap, opts)
	o := opts
	o.Filter = "mip6.mhtype == 5"
	var fromAlice, hao int
	var seqs []string
	for _, p := range tshark.Run(t, pcap, o, "ipv6.src", "udp.srcport", "esp.spi", "ipv6.opt.mipv6.home_address", "mip6.bu.seqnr") {
		src := p.All("ipv6.src")
		if len(src) != 2 || !p.Has("esp.spi") {
			t.Errorf("BU %+v: not tunnelled in ESP", p)
			continue
		}
		switch {
		case (src[0] == swAliceCoA.String() || src[0] == swAliceB.String()) && src[1] == alice.hoa.String() && p.Get("udp.srcport") == "4500":
			fromAlice++
			seqs = append(seqs, p.Get("mip6.bu.seqnr"))
		case src[0] == bob.coa.String() && p.Get("ipv6.opt.mipv6.home_address") == alice.hoa.String():
			hao++
		}
	}
	o.Filter = fmt.Sprintf("mip6.mhtype == 6 && ipv6.dst == %s && udp.dstport == 4500", alice.hoa)
	acks := tshark.Run(t, pcap, o, "esp.spi", "mip6.ba.seqnr")
	// The correspondent's pings: 5 answered through the tunnel (a sixth, the
	// echo request the router queued for its neighbour resolution before
	// alice registered, is answered once the home agent claims her address).
	o.Filter = fmt.Sprintf("icmpv6.type == 129 && ipv6.src == %s && udp.srcport == 4500 && esp", alice.hoa)
	if replies := tshark.Run(t, pcap, o, "esp.spi"); len(replies) < 5 {
		t.Errorf("%d echo replies from alice's home address in ESP on the home link, want 5", len(replies))
	}
	t.Logf("home link: %d of alice's BUs and %d acks decrypted from ESP in UDP 4500, %d of bob's HAO forgeries", fromAlice, len(acks), hao)
	if fromAlice < 13 || len(acks) < 13 || hao != 2 {
		t.Fatalf("capture: %d BUs from alice (seq %v), %d acks to her (%v), %d HAO forgeries from bob; want 13, 13, 2",
			fromAlice, seqs, len(acks), acks, hao)
	}
}

func movedCounters(before, after map[string]uint64) map[string]string {
	m := map[string]string{}
	for k, v := range after {
		if v != before[k] {
			m[k] = fmt.Sprintf("%d->%d", before[k], v)
		}
	}
	return m
}
