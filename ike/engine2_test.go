package ike

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"mip6/ike/crypto"
	"mip6/wire/ikev2"
)

// run establishes the pair and returns after the network is quiet.
func (p *pair) settle() {
	time.Sleep(10 * time.Second)
	synctest.Wait()
}

func TestHandshakeUnderLossAndReorder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		n := 0
		p.net.drop = func(Datagram) bool { n++; return n%3 == 1 } // lose every third datagram, the first included
		p.start(t)
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if p.mnLog.find(EventChildEstablished) == nil || p.haLog.find(EventChildEstablished) == nil {
			t.Fatalf("not established under loss: mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
	})
}

func TestGiveUpAfterRetransmissions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.net.drop = func(Datagram) bool { return true }
		p.start(t)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		f := p.mnLog.find(EventFailed)
		var fe *Failure
		if f == nil || !errors.As(f.Err, &fe) || fe.Reason != ReasonTimeout {
			t.Fatalf("want a timeout failure, got %v", p.mnLog.kinds())
		}
		// 1 + 5 retransmissions at 1, 2, 4, 8, 16 s.
		if p.net.sent != 6 {
			t.Fatalf("sent %d datagrams, want 6", p.net.sent)
		}
	})
}

func TestInvalidKEPayloadRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mn := []IKEProposal{{Encr: []crypto.Encr{{ID: crypto.ENCR_AES_GCM_16, KeyLen: 128}}, PRF: []crypto.PRFID{crypto.PRF_HMAC_SHA2_256}, DH: []crypto.DHGroup{crypto.Curve25519, crypto.ECP_256}}}
		ha := []IKEProposal{{Encr: []crypto.Encr{{ID: crypto.ENCR_AES_GCM_16, KeyLen: 128}}, PRF: []crypto.PRFID{crypto.PRF_HMAC_SHA2_256}, DH: []crypto.DHGroup{crypto.ECP_256}}}
		p := newPair(t, mn, ha)
		defer p.stop()
		p.start(t)
		p.settle()
		e := p.haLog.find(EventIKEEstablished)
		if e == nil || e.IKESA.Suite != "ENCR_AES_GCM_16_128/PRF_HMAC_SHA2_256/ECP_256" {
			t.Fatalf("ha: %v %+v", p.haLog.kinds(), e)
		}
	})
}

func TestNoProposalChosen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		weak := []IKEProposal{{Encr: []crypto.Encr{{ID: 3 /* 3DES */}}, PRF: []crypto.PRFID{2 /* SHA-1 */}, Integ: []crypto.IntegID{2}, DH: []crypto.DHGroup{2 /* MODP-1024 */}}}
		p := newPair(t, weak, nil)
		defer p.stop()
		p.mn.cfg.Rand = nil
		// The MN cannot even make a key share for group 2: offer it with a
		// real group after the weak proposal instead.
		weak[0].DH = []crypto.DHGroup{crypto.Curve25519}
		p.start(t)
		p.settle()
		f := p.mnLog.find(EventFailed)
		var fe *Failure
		if f == nil || !errors.As(f.Err, &fe) || fe.Reason != ReasonNoProposal {
			t.Fatalf("want NO_PROPOSAL_CHOSEN, got %v", p.mnLog.kinds())
		}
		p.ha.mu.Lock()
		n := len(p.ha.sas)
		p.ha.mu.Unlock()
		if n != 0 {
			t.Fatal("responder kept state for a refused proposal")
		}
	})
}

func TestWrongPSK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.mnPeer.PSK = []byte("not the key the home agent has")
		p.start(t)
		p.settle()
		var fe *Failure
		if f := p.mnLog.find(EventFailed); f == nil || !errors.As(f.Err, &fe) || fe.Notify != ikev2.NotifyAuthenticationFailed {
			t.Fatalf("mn: %v", p.mnLog.kinds())
		}
		if f := p.haLog.find(EventFailed); f == nil || !errors.As(f.Err, &fe) || fe.Reason != ReasonAuthentication {
			t.Fatalf("ha: %v", p.haLog.kinds())
		}
		if p.haLog.find(EventChildEstablished) != nil {
			t.Fatal("CHILD_SA despite failed authentication")
		}
	})
}

func TestAddressFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.ha.cfg.AssignAddress = func(Identity, netip.Addr) (netip.Prefix, error) { return netip.Prefix{}, errors.New("pool empty") }
		p.start(t)
		p.settle()
		var fe *Failure
		if f := p.mnLog.find(EventFailed); f == nil || !errors.As(f.Err, &fe) || fe.Notify != ikev2.NotifyInternalAddressFailure {
			t.Fatalf("mn: %v", p.mnLog.kinds())
		}
		if p.haLog.find(EventChildEstablished) != nil {
			t.Fatal("CHILD_SA without an address")
		}
	})
}

func TestSuggestedAddressHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		want := netip.MustParseAddr("2001:db8:2::77")
		var got netip.Addr
		p.ha.cfg.AssignAddress = func(_ Identity, s netip.Addr) (netip.Prefix, error) { got = s; return netip.PrefixFrom(s, 64), nil }
		p.mnPeer.SuggestAddress = want
		p.start(t)
		p.settle()
		e := p.mnLog.find(EventChildEstablished)
		if got != want || e == nil || e.IKESA.AssignedAddress.Addr() != want {
			t.Fatalf("suggested %s, HA saw %s, MN got %v", want, got, e)
		}
	})
}

// EAP with a one-round test method: the authenticator sends a challenge,
// the peer answers SHA-256(secret | challenge); the MSK is SHA-256(answer).
type testEAPServer struct{ challenge []byte }

func (s *testEAPServer) Start(Identity) ([]byte, error) {
	s.challenge = []byte("challenge-0123456789")
	return append([]byte{1, 1, 0, byte(5 + len(s.challenge)), 254}, s.challenge...), nil
}

func (s *testEAPServer) Next(resp []byte) ([]byte, *EAPResult, error) {
	want := sha256.Sum256(append([]byte("eap secret"), s.challenge...))
	if len(resp) != 5+32 || resp[0] != 2 || !bytes.Equal(resp[5:], want[:]) {
		return []byte{4, 1, 0, 4}, &EAPResult{}, nil
	}
	msk := sha256.Sum256(resp[5:])
	return []byte{3, 1, 0, 4}, &EAPResult{Success: true, MSK: msk[:], Identity: RFC822("real-alice@example.net")}, nil
}

type testEAPPeer struct{ msk []byte }

func (p *testEAPPeer) Respond(req []byte) ([]byte, error) {
	if len(req) < 5 || req[0] != 1 {
		return nil, errors.New("not an EAP request")
	}
	a := sha256.Sum256(append([]byte("eap secret"), req[5:]...))
	m := sha256.Sum256(a[:])
	p.msk = m[:]
	out := []byte{2, req[1], 0, 5 + 32, 254}
	return append(out, a[:]...), nil
}

func (p *testEAPPeer) MSK() []byte { return p.msk }

func TestEAPAuthentication(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.haPeer.RemoteAuth = AuthEAP
		p.haPeer.EAPServer = func() EAPAuthenticator { return &testEAPServer{} }
		p.mnPeer.LocalAuth = AuthEAP
		p.mnPeer.EAP = &testEAPPeer{}
		p.start(t)
		p.settle()
		e := p.haLog.find(EventChildEstablished)
		if e == nil || p.mnLog.find(EventChildEstablished) == nil {
			t.Fatalf("EAP: mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
		if !e.IKESA.RemoteID.Equal(RFC822("real-alice@example.net")) {
			t.Fatalf("HA did not take the identity EAP learned: %s", e.IKESA.RemoteID)
		}
	})
}

func TestCookieRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.ha.cfg.CookieThreshold = -1 // always demand cookies
		p.start(t)
		p.settle()
		if p.mnLog.find(EventChildEstablished) == nil {
			t.Fatalf("mn %v", p.mnLog.kinds())
		}
		if p.ha.Drops()[DropCookieRequired] != 1 {
			t.Fatalf("drops %v", p.ha.Drops())
		}
	})
}

// spoofedInit is an IKE_SA_INIT request from a forged source.
func spoofedInit(t *testing.T, rng *rand.Rand) []byte {
	ks, err := crypto.GenerateKeyShare(crypto.Curve25519, cryptoRand{rng})
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 32)
	binary.LittleEndian.PutUint64(nonce, rng.Uint64())
	m := ikev2.Message{Header: ikev2.Header{InitiatorSPI: rng.Uint64() | 1, Exchange: ikev2.ExchangeIKESAInit, Flags: ikev2.FlagInitiator},
		Payloads: ikev2.Payloads{ikeSAPayload(DefaultIKEProposals(), nil), &ikev2.KE{Group: ikev2.DHCurve25519, Data: ks.Public()}, &ikev2.Nonce{Data: nonce}}}
	b, err := m.Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type cryptoRand struct{ r *rand.Rand }

func (c cryptoRand) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(c.r.Uint32())
	}
	return len(b), nil
}

func TestCookieFloodDoesNotStopLegitimateInitiator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.ha.cfg.CookieThreshold = 8
		rng := rand.New(rand.NewPCG(1, 2))
		flood := func(n int) {
			for range n {
				src := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, byte(rng.Uint32()), 15: byte(rng.Uint32())})
				p.ha.Receive(netip.AddrPortFrom(haAddr, 500), netip.AddrPortFrom(src, 500), spoofedInit(t, rng))
			}
		}
		flood(500)
		p.start(t)
		flood(500)
		p.settle()
		if p.mnLog.find(EventChildEstablished) == nil {
			t.Fatalf("legitimate initiator did not get through: %v", p.mnLog.kinds())
		}
		// Only the first 8 spoofed requests cost a DH computation and state;
		// the rest got a stateless COOKIE.
		if d := p.ha.Drops()[DropCookieRequired]; d < 990 {
			t.Fatalf("only %d cookie challenges: %v", d, p.ha.Drops())
		}
		p.ha.mu.Lock()
		n := len(p.ha.sas)
		p.ha.mu.Unlock()
		if n > 8+1 {
			t.Fatalf("%d IKE SAs held after the flood", n)
		}
	})
}

func TestHalfOpenExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		rng := rand.New(rand.NewPCG(3, 4))
		p.ha.Receive(netip.AddrPortFrom(haAddr, 500), netip.AddrPortFrom(netip.MustParseAddr("2001:db8:ff::1"), 500), spoofedInit(t, rng))
		half := func() (int, int) {
			p.ha.mu.Lock()
			defer p.ha.mu.Unlock()
			return p.ha.nHalf, len(p.ha.sas)
		}
		if h, _ := half(); h != 1 {
			t.Fatalf("half-open %d", h)
		}
		time.Sleep(31 * time.Second)
		synctest.Wait()
		if h, n := half(); h != 0 || n != 0 {
			t.Fatalf("half-open SA not dropped: %d %d", h, n)
		}
	})
}

// capture records the datagrams the pair exchanges.
func capture(p *pair) *[]Datagram {
	var got []Datagram
	p.net.drop = func(d Datagram) bool {
		got = append(got, Datagram{d.Local, d.Remote, append([]byte(nil), d.Data...)})
		return false
	}
	return &got
}

func TestBadInputDroppedAndCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		msgs := capture(p)
		p.start(t)
		p.settle()
		if p.haLog.find(EventChildEstablished) == nil {
			t.Fatal("no SA")
		}
		var auth Datagram // the MN's IKE_AUTH request, with a non-ESP marker
		for _, d := range *msgs {
			if h, err := ikev2.ParseHeader(d.Data); err == nil && d.Remote.Addr() == haAddr && h.Exchange == ikev2.ExchangeIKEAuth {
				auth = d
			}
		}
		if auth.Data == nil {
			t.Fatal("no IKE_AUTH captured")
		}
		// Deliver on the NAT-T port, as most IKE_AUTH traffic arrives.
		from, to := auth.Local, netip.AddrPortFrom(auth.Remote.Addr(), PortNATT)
		before := p.ha.Drops()
		send := func(b []byte) { p.ha.Receive(to, from, b) }
		body := auth.Data
		send(append([]byte{0, 0, 0, 0}, body...)) // replay: answered from the cache
		for _, n := range []int{0, 16, 28, 40, len(body) - 1} {
			send(append([]byte{0, 0, 0, 0}, body[:n]...)) // truncated
		}
		flipped := append([]byte{0, 0, 0, 0}, body...)
		binary.BigEndian.PutUint32(flipped[4+20:], 2) // the next id, so it gets decrypted
		send(flipped)                                 // bad ICV (the id is authenticated)
		stale := append([]byte{0, 0, 0, 0}, body...)
		stale[len(stale)-1] ^= 0x80
		send(stale) // the last id but not the last request: no cached answer
		future := append([]byte{0, 0, 0, 0}, body...)
		binary.BigEndian.PutUint32(future[4+20:], 7)
		send(future)                                                         // out of window
		send([]byte{0, 0, 0, 0, 0xff, 0xff})                                 // garbage
		send(append([]byte{0, 0, 0, 0}, bytes.Repeat([]byte{0x41}, 300)...)) // garbage with a header
		d := p.ha.Drops()
		for r, want := range map[DropReason]uint64{DropRetransmit: 1, DropIntegrity: 1, DropOutOfWindow: 2} {
			if d[r]-before[r] < want {
				t.Errorf("%s: %d more, want %d (all: %v)", r, d[r]-before[r], want, d)
			}
		}
		if d[DropMalformed]-before[DropMalformed] < 6 {
			t.Errorf("malformed: %d more (all: %v)", d[DropMalformed]-before[DropMalformed], d)
		}
		// The SA still works: a liveness check is answered.
		if err := p.mn.CheckLiveness(p.mnLog.find(EventIKEEstablished).IKESA.LocalSPI()); err != nil {
			t.Fatal(err)
		}
		p.settle()
		if p.mnLog.find(EventFailed) != nil || p.haLog.find(EventFailed) != nil {
			t.Fatalf("failure after bad input: mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
	})
}

func TestRekeyDeleteAndMoveInMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.start(t)
		p.settle()
		c := p.mnLog.find(EventChildEstablished).Child
		spi := p.mnLog.find(EventIKEEstablished).IKESA.LocalSPI()
		if err := p.mn.RekeyChildSA(spi, c.InboundSPI); err != nil {
			t.Fatal(err)
		}
		p.settle()
		rk := p.haLog.find(EventChildRekeyed)
		if rk == nil || rk.OldChild.InboundSPI != c.OutboundSPI {
			t.Fatalf("ha: %v", p.haLog.kinds())
		}
		if err := p.mn.RekeyIKESA(spi); err != nil {
			t.Fatal(err)
		}
		p.settle()
		r := p.haLog.find(EventIKERekeyed)
		if r == nil || r.PreviousIKESA.ResponderSPI != p.haLog.find(EventIKEEstablished).IKESA.ResponderSPI {
			t.Fatalf("ha: %v", p.haLog.kinds())
		}
		// The mobility layer moves the HA's SA to a new care-of address.
		coa := netip.AddrPortFrom(netip.MustParseAddr("2001:db8:3::10"), PortIKE)
		if err := p.ha.MoveEndpoints(r.IKESA.LocalSPI(), netip.AddrPort{}, coa); err != nil {
			t.Fatal(err)
		}
		mv := p.haLog.find(EventAddressesUpdated)
		if mv == nil || mv.IKESA.Remote != coa {
			t.Fatalf("move: %v", p.haLog.kinds())
		}
		p.net.set(func() { p.net.nodes[coa.Addr()] = p.mn })
		if err := p.ha.DeleteIKESA(r.IKESA.LocalSPI()); err != nil {
			t.Fatal(err)
		}
		p.settle()
		if p.mnLog.count(EventIKEDeleted) != 2 || p.haLog.count(EventIKEDeleted) != 2 {
			t.Fatalf("mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
	})
}

func TestSimultaneousChildRekey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.start(t)
		p.settle()
		mc := p.mnLog.find(EventChildEstablished).Child
		hc := p.haLog.find(EventChildEstablished).Child
		if err := p.mn.RekeyChildSA(p.mnLog.find(EventIKEEstablished).IKESA.LocalSPI(), mc.InboundSPI); err != nil {
			t.Fatal(err)
		}
		if err := p.ha.RekeyChildSA(p.haLog.find(EventIKEEstablished).IKESA.LocalSPI(), hc.InboundSPI); err != nil {
			t.Fatal(err)
		}
		p.settle()
		mk, hk := children(p.mn), children(p.ha)
		if len(mk) != 1 || len(hk) != 1 {
			t.Fatalf("after a rekey collision: mn %v, ha %v\nmn %v\nha %v", mk, hk, p.mnLog.kinds(), p.haLog.kinds())
		}
		if mk[0].InboundSPI != hk[0].OutboundSPI || mk[0].OutboundSPI != hk[0].InboundSPI || mk[0].InboundSPI == mc.InboundSPI {
			t.Fatalf("surviving CHILD_SAs do not pair: %v / %v", mk[0], hk[0])
		}
		if p.mnLog.find(EventFailed) != nil || p.haLog.find(EventFailed) != nil {
			t.Fatal("failure during the collision")
		}
	})
}

// children lists the CHILD_SAs an endpoint holds.
func children(ep *Endpoint) []*ChildSA {
	var out []*ChildSA
	ep.each(func(hd *saHandle) {
		hd.mu.Lock()
		out = append(out, hd.sa.children...)
		hd.mu.Unlock()
	})
	return out
}

func TestLifetimesRekeyAndLiveness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.mnPeer.Children[0].RekeyTime = 20 * time.Minute
		p.mnPeer.IKERekeyTime = 50 * time.Minute
		p.mnPeer.DPDInterval = 5 * time.Minute
		p.start(t)
		time.Sleep(61 * time.Minute)
		synctest.Wait()
		// Rekeyed CHILD_SAs get a fresh rekey time: 20 and 40 min, then the
		// IKE SA at 50 min (the CHILD_SA moves along), then 60 min.
		if n := p.haLog.count(EventChildRekeyed); n != 3 {
			t.Fatalf("%d CHILD_SA rekeys in 61 min, want 3: %v", n, p.haLog.kinds())
		}
		if n := p.haLog.count(EventIKERekeyed); n != 1 {
			t.Fatalf("%d IKE SA rekeys, want 1", n)
		}
		if p.mnLog.find(EventFailed) != nil {
			t.Fatalf("mn: %v", p.mnLog.kinds())
		}
		// The peer dies: liveness checks find out and fail the SA.
		p.net.set(func() { p.net.drop = func(Datagram) bool { return true } })
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		var fe *Failure
		if f := p.mnLog.find(EventFailed); f == nil || !errors.As(f.Err, &fe) || fe.Reason != ReasonTimeout {
			t.Fatalf("dead peer not detected: %v", p.mnLog.kinds())
		}
	})
}

func TestInitialContactDropsStaleSAs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.start(t)
		p.settle()
		// The MN "restarts" (a fresh endpoint) and connects again with
		// INITIAL_CONTACT.
		p.mn = NewEndpoint(Config{}, memConn{p.net}, p.mnLog.add)
		p.net.set(func() { p.net.nodes[mnAddr] = p.mn })
		p.start(t)
		p.settle()
		if n := p.haLog.count(EventIKEEstablished); n != 2 {
			t.Fatalf("ha: %v", p.haLog.kinds())
		}
		p.ha.mu.Lock()
		n := len(p.ha.sas)
		p.ha.mu.Unlock()
		if n != 1 || p.haLog.count(EventIKEDeleted) != 1 || p.haLog.count(EventChildDeleted) != 1 {
			t.Fatalf("HA holds %d IKE SAs: %v", n, p.haLog.kinds())
		}
	})
}

func TestKeyLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		var kl bytes.Buffer
		p.ha.cfg.KeyLog = &kl
		p.start(t)
		p.settle()
		e := p.haLog.find(EventChildEstablished)
		if e == nil {
			t.Fatal("no SA")
		}
		out := kl.String()
		for _, want := range []string{
			fmt.Sprintf("ikev2_decryption_table: %016x,%016x,", e.IKESA.InitiatorSPI, e.IKESA.ResponderSPI),
			"AES-GCM-128 with 16 octet ICV [RFC5282]",
			fmt.Sprintf("esp_sa: \"IPv6\",\"*\",\"*\",\"0x%08x\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x%x\"", e.Child.InboundSPI, e.Child.InEncr),
		} {
			if !strings.Contains(out, want) {
				t.Fatalf("key log lacks %q:\n%s", want, out)
			}
		}
		var quiet bytes.Buffer
		p2 := newPair(t, nil, nil)
		defer p2.stop()
		p2.ha.cfg.Logger = slog.New(slog.NewTextHandler(&quiet, &slog.HandlerOptions{Level: slog.LevelDebug}))
		p2.start(t)
		p2.settle()
		c := p2.haLog.find(EventChildEstablished).Child
		if strings.Contains(quiet.String(), fmt.Sprintf("%x", c.InEncr[:8])) {
			t.Fatal("a key reached the log without key logging")
		}
	})
}

func TestHardLifetimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.mnPeer.Children[0].LifeTime = 10 * time.Minute // no rekey configured
		p.mnPeer.IKELifeTime = 30 * time.Minute
		p.start(t)
		time.Sleep(11 * time.Minute)
		synctest.Wait()
		if p.haLog.count(EventChildDeleted) != 1 || p.haLog.count(EventIKEDeleted) != 0 {
			t.Fatalf("after the CHILD_SA's hard lifetime: %v", p.haLog.kinds())
		}
		time.Sleep(20 * time.Minute)
		synctest.Wait()
		if p.haLog.count(EventIKEDeleted) != 1 || p.mnLog.count(EventIKEDeleted) != 1 {
			t.Fatalf("after the IKE SA's hard lifetime: %v", p.haLog.kinds())
		}
	})
}

func TestSimultaneousIKERekey(t *testing.T) {
	for i := range 6 { // both outcomes of the nonce comparison
		synctest.Test(t, func(t *testing.T) {
			p := newPair(t, nil, nil)
			defer p.stop()
			p.start(t)
			p.settle()
			if err := p.mn.RekeyIKESA(p.mnLog.find(EventIKEEstablished).IKESA.LocalSPI()); err != nil {
				t.Fatal(err)
			}
			if err := p.ha.RekeyIKESA(p.haLog.find(EventIKEEstablished).IKESA.LocalSPI()); err != nil {
				t.Fatal(err)
			}
			p.settle()
			p.mn.mu.Lock()
			nm := len(p.mn.sas)
			p.mn.mu.Unlock()
			p.ha.mu.Lock()
			nh := len(p.ha.sas)
			p.ha.mu.Unlock()
			mk, hk := children(p.mn), children(p.ha)
			if nm != 1 || nh != 1 || len(mk) != 1 || len(hk) != 1 {
				t.Fatalf("run %d: IKE SAs %d/%d, CHILD_SAs %d/%d\nmn %v\nha %v", i, nm, nh, len(mk), len(hk), p.mnLog.kinds(), p.haLog.kinds())
			}
			if p.mnLog.count(EventChildDeleted) != 0 || p.mnLog.find(EventFailed) != nil || p.haLog.find(EventFailed) != nil {
				t.Fatalf("run %d: mn %v ha %v", i, p.mnLog.kinds(), p.haLog.kinds())
			}
			// The surviving SA works.
			var spi uint64
			p.mn.each(func(hd *saHandle) { spi = hd.sa.localSPI() })
			if err := p.mn.CheckLiveness(spi); err != nil {
				t.Fatal(err)
			}
			p.settle()
			if p.mnLog.find(EventFailed) != nil {
				t.Fatalf("liveness after collision: %v", p.mnLog.kinds())
			}
		})
	}
}

// The home agent starts a CHILD_SA for return routability (RFC 4877 §7.3):
// HoT from any address to the MN's home address, which it assigned.
func TestResponderCreatesChildSA(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.start(t)
		p.settle()
		rr := &ChildConfig{Name: "rr",
			LocalTS:  []Selector{{Start: netip.IPv6Unspecified(), End: lastAddr(netip.MustParsePrefix("::/0")), Proto: ProtoMH, StartPort: 3 << 8, EndPort: 3 << 8}},
			RemoteTS: []Selector{{Proto: ProtoMH, StartPort: 1 << 8, EndPort: 1 << 8}}}
		if err := p.ha.CreateChildSA(p.haLog.find(EventIKEEstablished).IKESA.LocalSPI(), rr); err != nil {
			t.Fatal(err)
		}
		p.settle()
		if p.haLog.count(EventChildEstablished) != 2 || p.mnLog.count(EventChildEstablished) != 2 {
			t.Fatalf("mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
		var c *ChildSA
		for _, x := range children(p.ha) {
			if x.Name == "rr" {
				c = x
			}
		}
		if c == nil || len(c.RemoteTS) != 1 || c.RemoteTS[0].Start != hoa.Addr() || c.RemoteTS[0].StartPort != 1<<8 {
			t.Fatalf("RR CHILD_SA %v", c)
		}
	})
}

func TestCertificateIdentityBinding(t *testing.T) {
	pki := newTestPKI(t)
	hoaAddr := netip.MustParseAddr("2001:db8:2::100")
	c := pki.leaf(t, genP256(), "mn", []string{"mn.example.net"}, []string{"alice@example.net"}, []netip.Addr{hoaAddr})
	for _, x := range []struct {
		id   Identity
		want bool
	}{
		{AddrIdentity(hoaAddr), true},
		{AddrIdentity(netip.MustParseAddr("2001:db8:2::101")), false}, // RFC 4877 §7.3: must be an iPAddress SAN
		{FQDN("MN.example.net"), true},
		{FQDN("ha.example.net"), false},
		{RFC822("alice@example.net"), true},
		{RFC822("bob@example.net"), false},
		{DN(c.RawSubject), true},
		{DN(pki.ca.RawSubject), false},
		{KeyID([]byte("alice")), false},
	} {
		if got := certMatchesID(c, x.id); got != x.want {
			t.Errorf("%s: %v, want %v", x.id, got, x.want)
		}
	}
}

// slowEAP waits like a RADIUS server far away.
type slowEAP struct{ testEAPServer }

func (s *slowEAP) Next(resp []byte) ([]byte, *EAPResult, error) {
	time.Sleep(3 * time.Second)
	return s.testEAPServer.Next(resp)
}

func TestSlowEAPAuthenticatorIsAsynchronous(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.haPeer.RemoteAuth = AuthEAP
		p.haPeer.EAPServer = func() EAPAuthenticator { return &slowEAP{} }
		p.mnPeer.LocalAuth = AuthEAP
		p.mnPeer.EAP = &testEAPPeer{}
		p.start(t)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		// While the authenticator works, the endpoint answers others: a
		// spoofed IKE_SA_INIT gets its response at once.
		other := netip.MustParseAddr("2001:db8:ff::9")
		answered := make(chan struct{}, 1)
		p.net.set(func() {
			p.net.drop = func(d Datagram) bool {
				if d.Remote.Addr() == other {
					answered <- struct{}{}
				}
				return false
			}
		})
		p.ha.Receive(netip.AddrPortFrom(haAddr, 500), netip.AddrPortFrom(other, 500), spoofedInit(t, rand.New(rand.NewPCG(5, 6))))
		select {
		case <-answered:
		default:
			t.Fatal("endpoint blocked by a pending EAP step")
		}
		p.settle()
		if p.haLog.find(EventChildEstablished) == nil || p.mnLog.find(EventChildEstablished) == nil {
			t.Fatalf("mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
		if p.ha.Drops()[DropRetransmit] == 0 {
			t.Fatal("retransmissions during the EAP step were not absorbed")
		}
	})
}

func TestAsyncAddressAssignment(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.ha.cfg.AsyncAssign = true
		p.ha.cfg.AssignAddress = func(Identity, netip.Addr) (netip.Prefix, error) {
			time.Sleep(1500 * time.Millisecond) // a DHCPv6 exchange
			return hoa, nil
		}
		p.start(t)
		p.settle()
		e := p.mnLog.find(EventChildEstablished)
		if e == nil || e.IKESA.AssignedAddress != hoa {
			t.Fatalf("mn %v", p.mnLog.kinds())
		}
	})
}

// Fragmented IKE_AUTH (RFC 7383) over a lossy network: lost fragments are
// recovered by retransmitting the whole message.
func TestFragmentationUnderLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.mn.cfg.FragmentSize = 120
		p.ha.cfg.FragmentSize = 120
		frags, n := 0, 0
		p.net.drop = func(d Datagram) bool {
			if h, err := ikev2.ParseHeader(d.Data); err == nil && h.NextPayload == ikev2.PayloadSKF {
				frags++
				n++
				return n%4 == 2 // lose every fourth fragment
			}
			return false
		}
		p.start(t)
		time.Sleep(time.Minute)
		synctest.Wait()
		if p.mnLog.find(EventChildEstablished) == nil || p.haLog.find(EventChildEstablished) == nil {
			t.Fatalf("mn %v ha %v", p.mnLog.kinds(), p.haLog.kinds())
		}
		if frags < 6 {
			t.Fatalf("only %d fragments sent", frags)
		}
	})
}

func TestESNNegotiation(t *testing.T) {
	gcm := []crypto.Encr{{ID: crypto.ENCR_AES_GCM_16, KeyLen: 128}}
	for _, c := range []struct {
		offer, accept bool
		want, ok      bool
	}{{false, false, false, true}, {true, false, false, true}, {true, true, false, true}} {
		peer := childSAPayload([]ChildProposal{{Encr: gcm, ESN: c.offer}}, 0x1000, false)
		s, _, ok := selectChild([]ChildProposal{{Encr: gcm, ESN: c.accept}}, peer, false)
		if ok != c.ok || s.ESN != c.want {
			t.Errorf("offer %v accept %v: %v %v", c.offer, c.accept, s, ok)
		}
	}
	// A peer that insists on ESN.
	only := childSAPayload([]ChildProposal{{Encr: gcm}}, 0x1000, false)
	only.Proposals[0].Transforms[len(only.Proposals[0].Transforms)-1] = ikev2.ESNTransform(ikev2.ESNYes)
	if _, _, ok := selectChild([]ChildProposal{{Encr: gcm}}, only, false); ok {
		t.Error("ESN-only accepted without ESN configured")
	}
	if s, _, ok := selectChild([]ChildProposal{{Encr: gcm, ESN: true}}, only, false); !ok || !s.ESN {
		t.Errorf("ESN-only refused with ESN configured: %v %v", s, ok)
	}
}

func TestCookieSecretRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		ni := []byte("nonce-nonce-nonce-nonce")
		from := netip.AddrPortFrom(mnAddr, 500)
		now := time.Now()
		c := p.ha.cookieFor(now, -1, ni, from, 7)
		valid := func(at time.Time, cookie []byte) bool {
			return p.ha.cookieValid(at, ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyCookie, cookie)}, ni, from, 7)
		}
		if !valid(now, c) || valid(now, p.ha.cookieFor(now, -1, ni, from, 8)) {
			t.Fatal("cookie check")
		}
		later := now.Add(cookieSecretLifetime + time.Second)
		if !valid(later, c) {
			t.Fatal("a cookie from the previous secret is refused")
		}
		if valid(later.Add(cookieSecretLifetime+time.Second), c) {
			t.Fatal("a cookie two secrets old is accepted")
		}
		bad := append([]byte(nil), c...)
		bad[5] ^= 1
		if valid(now, bad) || valid(now, c[:10]) {
			t.Fatal("forged cookie accepted")
		}
	})
}

// A late copy of IKE_SA_INIT after the SA is up makes no second SA.
func TestLateInitRetransmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		msgs := capture(p)
		p.start(t)
		p.settle()
		first := (*msgs)[0]
		p.ha.Receive(first.Remote, first.Local, first.Data)
		p.ha.mu.Lock()
		n := len(p.ha.sas)
		p.ha.mu.Unlock()
		if n != 1 || p.ha.Drops()[DropOutOfWindow] != 1 {
			t.Fatalf("%d SAs, drops %v", n, p.ha.Drops())
		}
	})
}
