package bootstrap

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"mip6/discovery"
	"mip6/ike"
	"mip6/ike/crypto"
	"mip6/wire/ikev2"
)

// RFC 4640 §9.2, a man in the middle on the path between the MN and the
// home agent (its bootstrapping entity). The attacker relays every
// datagram and attacks in one of two ways:
//
//   - substituteDH: it replaces KEi and KEr with Diffie-Hellman values of
//     its own, so that it shares one IKE SA's keys with the MN and another
//     with the HA, and re-encrypts IKE_AUTH between them. Unauthenticated
//     Diffie-Hellman gives it that much; IKE_AUTH must then fail, because
//     each AUTH covers the IKE_SA_INIT message as its sender saw it and the
//     SK_p key of its sender's DH.
//   - downgrade: it tampers with IKE_SA_INIT (drops the AEAD proposal and
//     the fragmentation notify) but keeps the DH values, so the MN and HA
//     share keys the attacker cannot compute: with its own DH private value
//     it derives keys that fail to decrypt IKE_AUTH, where the MN's and
//     HA's own keys (from their key logs) succeed.
//
// With a PSK MN and with an EAP-MSCHAPv2 MN (HA certificate), each time:
// the MN's bootstrap fails with an authentication error, the HA leases
// nothing and links nothing in the PAD, no CHILD_SA exists on either side.
func TestManInTheMiddle(t *testing.T) {
	for _, mode := range []mitmMode{substituteDH, downgrade} {
		for _, cred := range []string{"psk", "eap"} {
			t.Run(mode.String()+"/"+cred, func(t *testing.T) { testMITM(t, mode, cred) })
		}
	}
}

func testMITM(t *testing.T, mode mitmMode, cred string) {
	n, pki := newMemNet(), newPKI(t)
	var th *testHA
	var cfg Config
	if cred == "eap" {
		th = eapHA(t, n, pki, localAAA(t, nil))
		cfg = eapConfig(n, pki, "alice's password")
	} else {
		th = newTestHA(t, n, ha1Addr, pki)
		cfg = mnConfig(n, ha1Addr)
	}
	var haEvents eventLog
	th.ep.Close()
	th.ep = restartHA(t, n, th, &haEvents)
	var keyLog bytes.Buffer
	m := &mitm{mode: mode}
	cfg.Transport = &mitmTransport{inner: cfg.Transport, m: m}
	cfg.IKE.KeyLog, cfg.IKE.RetransmitBase = &keyLog, 300*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err == nil {
		res.Close()
		t.Fatalf("bootstrap through a %s man in the middle succeeded: %s", mode, res.HomeAddress)
	}
	checkFailed(t, err, th, discovery.FailAuthRefused)
	var f *ike.Failure
	if !errors.As(err, &f) || f.Reason != ike.ReasonAuthentication {
		t.Fatalf("err = %v, want an IKE authentication failure", err)
	}
	if ev := haEvents.established(); ev != "" {
		t.Fatalf("the HA established %s", ev)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		t.Fatalf("attacker: %v", m.err)
	}
	if len(m.fromMN) == 0 {
		t.Fatal("the attacker saw no IKE_AUTH request: the attack did not happen")
	}
	mnKeys := parseKeyLog(t, keyLog.String())
	if mode == substituteDH {
		checkSubstituted(t, m, mnKeys, cred)
	} else {
		checkDowngraded(t, m, mnKeys)
	}
	t.Logf("%s/%s: MN refused with %v; attacker saw %d IKE_AUTH requests, %d responses", mode, cred, err, len(m.fromMN), len(m.fromHA))
}

// checkSubstituted: the attacker holds the MN's keys and the HA's keys,
// but they differ, so whatever it relays it must re-encrypt, and the
// AUTH payloads expose it. With EAP the MN checks the HA's signature
// before answering EAP: its password never left it.
func checkSubstituted(t *testing.T, m *mitm, mnKeys *crypto.IKEKeys, cred string) {
	t.Helper()
	if !bytes.Equal(mnKeys.SKei, m.mnSide.SKei) || bytes.Equal(m.mnSide.SKei, m.haSide.SKei) {
		t.Fatalf("MN SK_ei %x, attacker's MN-side %x, HA-side %x", mnKeys.SKei, m.mnSide.SKei, m.haSide.SKei)
	}
	if len(m.readFromHA) == 0 {
		t.Fatal("the attacker's HA-side keys decrypted no response of the HA")
	}
	// One side's ciphertext does not open with the other side's keys.
	if _, err := m.open(m.fromMN[0], m.haSide); !errors.Is(err, crypto.ErrIntegrity) {
		t.Fatalf("MN's IKE_AUTH under the HA-side keys: %v, want an integrity failure", err)
	}
	if _, err := m.open(m.fromHA[0], m.mnSide); !errors.Is(err, crypto.ErrIntegrity) {
		t.Fatalf("HA's IKE_AUTH under the MN-side keys: %v, want an integrity failure", err)
	}
	switch cred {
	case "psk":
		if m.readFromHA[0].Notify(ikev2.NotifyAuthenticationFailed) == nil {
			t.Fatalf("HA answered the relayed AUTH with %v, want AUTHENTICATION_FAILED", payloadTypes(m.readFromHA[0]))
		}
	case "eap":
		for _, ps := range m.readFromMN {
			if e, ok := ps.Get(ikev2.PayloadEAP).(*ikev2.EAP); ok {
				t.Fatalf("the MN sent EAP through the attacker: %x", e.Data)
			}
		}
	}
}

// checkDowngraded: the attacker's own keys open nothing; the MN's do.
func checkDowngraded(t *testing.T, m *mitm, mnKeys *crypto.IKEKeys) {
	t.Helper()
	if m.suite.Encr.ID.IsAEAD() {
		t.Fatalf("suite %s: the downgrade did not take", m.suite)
	}
	for i, msg := range m.fromMN {
		if _, err := m.open(msg, m.guess); !errors.Is(err, crypto.ErrIntegrity) {
			t.Fatalf("IKE_AUTH request %d under the attacker's keys: %v, want an integrity failure", i, err)
		}
		if _, err := m.open(msg, mnKeys); err != nil {
			t.Fatalf("IKE_AUTH request %d under the MN's own keys: %v", i, err)
		}
	}
	for i, msg := range m.fromHA {
		if _, err := m.open(msg, m.guess); !errors.Is(err, crypto.ErrIntegrity) {
			t.Fatalf("IKE_AUTH response %d under the attacker's keys: %v, want an integrity failure", i, err)
		}
	}
	last, err := m.open(m.fromHA[len(m.fromHA)-1], mnKeys)
	if err != nil || last.Notify(ikev2.NotifyAuthenticationFailed) == nil {
		t.Fatalf("HA's last IKE_AUTH response %v, %v: want AUTHENTICATION_FAILED", payloadTypes(last), err)
	}
}

// The control: the same relay, re-encoding IKE_SA_INIT without changing
// it, lets the bootstrap succeed, and its keys, derived from its own DH
// value (all a passive attacker has), open none of IKE_AUTH. So the
// failures above come from the attacks, and the attacker's decryption
// works when given the right keys.
func TestManInTheMiddleControl(t *testing.T) {
	n := newMemNet()
	th := newTestHA(t, n, ha1Addr, newPKI(t))
	cfg := mnConfig(n, ha1Addr)
	var keyLog bytes.Buffer
	m := &mitm{mode: eavesdrop}
	cfg.Transport = &mitmTransport{inner: cfg.Transport, m: m}
	cfg.IKE.KeyLog = &keyLog
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("bootstrap through a transparent relay: %v", err)
	}
	defer res.Close()
	checkResult(t, res, th, alice)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil || len(m.fromMN) == 0 || m.guess == nil {
		t.Fatalf("relay: err %v, %d IKE_AUTH requests seen", m.err, len(m.fromMN))
	}
	mnKeys := parseKeyLog(t, keyLog.String())
	for i, msg := range m.fromMN {
		if _, err := m.open(msg, m.guess); !errors.Is(err, crypto.ErrIntegrity) {
			t.Fatalf("IKE_AUTH request %d under the eavesdropper's keys: %v, want an integrity failure", i, err)
		}
		ps, err := m.open(msg, mnKeys)
		if err != nil || ps.Get(ikev2.PayloadIDi) == nil {
			t.Fatalf("IKE_AUTH request %d under the MN's own keys: %v, %v", i, payloadTypes(ps), err)
		}
	}
}

func payloadTypes(ps ikev2.Payloads) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.PayloadType().String())
	}
	return out
}

type mitmMode uint8

const (
	substituteDH mitmMode = iota + 1
	downgrade
	eavesdrop // re-encodes IKE_SA_INIT unchanged: the control
)

func (m mitmMode) String() string {
	switch m {
	case substituteDH:
		return "substituteDH"
	case downgrade:
		return "downgrade"
	}
	return "eavesdrop"
}

// mitm is the attacker: it sees, and may change, every datagram between
// the MN and the HA. One IKE SA at a time.
type mitm struct {
	mode mitmMode
	mu   sync.Mutex
	err  error // the attacker's own failures (a broken attack proves nothing)

	initReq, initResp []byte // originals, for retransmissions
	fwdReq, fwdResp   []byte // what was forwarded instead
	kei, ni           []byte // the MN's DH value and nonce
	spiI, spiR        uint64
	toHA, toMN        crypto.KeyShare
	suite             crypto.Suite
	mnSide, haSide    *crypto.IKEKeys // substituteDH: keys shared with each side
	guess             *crypto.IKEKeys // downgrade: the best the attacker can derive
	fromMN, fromHA    [][]byte        // IKE_AUTH and later messages as sent
	readFromMN        []ikev2.Payloads
	readFromHA        []ikev2.Payloads
}

// mitmTransport puts the attacker between the MN's transport and the network.
type mitmTransport struct {
	inner Transport
	m     *mitm
}

func (x *mitmTransport) WriteTo(b []byte, local, remote netip.AddrPort) error {
	if out := x.m.relay(b, true); out != nil {
		return x.inner.WriteTo(out, local, remote)
	}
	return nil
}

func (x *mitmTransport) Serve(recv func(local, remote netip.AddrPort, b []byte)) {
	x.inner.Serve(func(local, remote netip.AddrPort, b []byte) {
		if out := x.m.relay(b, false); out != nil {
			recv(local, remote, out)
		}
	})
}

func (x *mitmTransport) Close() error { return x.inner.Close() }

// relay returns what the attacker forwards in place of b (nil: drop).
func (m *mitm) relay(b []byte, fromMN bool) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, err := ikev2.ParseHeader(b)
	if err != nil {
		return b
	}
	var out []byte
	switch {
	case h.Exchange == ikev2.ExchangeIKESAInit && fromMN:
		out, err = m.initRequest(b)
	case h.Exchange == ikev2.ExchangeIKESAInit:
		out, err = m.initResponse(b)
	default:
		out, err = m.protected(b, h, fromMN)
	}
	if err != nil && m.err == nil {
		m.err = err
	}
	return out
}

// initRequest tampers with the MN's IKE_SA_INIT.
func (m *mitm) initRequest(b []byte) ([]byte, error) {
	if m.initReq != nil && bytes.Equal(b, m.initReq) {
		return m.fwdReq, nil // a retransmission gets the same forgery
	}
	msg, err := ikev2.ParseMessage(b)
	if err != nil {
		return nil, err
	}
	ke, _ := msg.Payloads.Get(ikev2.PayloadKE).(*ikev2.KE)
	nonce, _ := msg.Payloads.Get(ikev2.PayloadNonce).(*ikev2.Nonce)
	sa, _ := msg.Payloads.Get(ikev2.PayloadSA).(*ikev2.SA)
	if ke == nil || nonce == nil || sa == nil {
		return nil, fmt.Errorf("IKE_SA_INIT request without SA, KE or Nonce")
	}
	m.initReq = append([]byte(nil), b...)
	m.kei, m.ni = append([]byte(nil), ke.Data...), append([]byte(nil), nonce.Data...)
	m.spiI = msg.Header.InitiatorSPI
	if m.toHA, err = crypto.GenerateKeyShare(crypto.DHGroup(ke.Group), rand.Reader); err != nil {
		return nil, err
	}
	switch m.mode {
	case substituteDH:
		ke.Data = m.toHA.Public()
		msg.Payloads = withoutFragmentation(msg.Payloads)
	case downgrade:
		sa.Proposals = sa.Proposals[1:]
		sa.Proposals[0].Number = 1
		msg.Payloads = withoutFragmentation(msg.Payloads)
	}
	if m.fwdReq, err = msg.Marshal(nil); err != nil {
		return nil, err
	}
	return m.fwdReq, nil
}

func withoutFragmentation(ps ikev2.Payloads) ikev2.Payloads {
	var out ikev2.Payloads
	for _, p := range ps {
		if n, ok := p.(*ikev2.Notify); !ok || n.Type != ikev2.NotifyIKEv2FragmentationSupported {
			out = append(out, p)
		}
	}
	return out
}

// initResponse reads the HA's choice and, substituting, forges KEr.
func (m *mitm) initResponse(b []byte) ([]byte, error) {
	if m.initResp != nil && bytes.Equal(b, m.initResp) {
		return m.fwdResp, nil
	}
	msg, err := ikev2.ParseMessage(b)
	if err != nil || m.toHA == nil {
		return b, err
	}
	ke, _ := msg.Payloads.Get(ikev2.PayloadKE).(*ikev2.KE)
	nonce, _ := msg.Payloads.Get(ikev2.PayloadNonce).(*ikev2.Nonce)
	sa, _ := msg.Payloads.Get(ikev2.PayloadSA).(*ikev2.SA)
	if ke == nil || nonce == nil || sa == nil || len(sa.Proposals) != 1 {
		return b, nil // a COOKIE or INVALID_KE_PAYLOAD answer: relay it
	}
	m.initResp = append([]byte(nil), b...)
	m.spiR = msg.Header.ResponderSPI
	if m.suite, err = suiteOf(sa.Proposals[0]); err != nil {
		return nil, err
	}
	nr := append([]byte(nil), nonce.Data...)
	if m.haSide, err = m.derive(m.toHA, ke.Data, nr); err != nil {
		return nil, err
	}
	if m.mode != substituteDH {
		// All the attacker can do: its own private value with the public ones.
		m.guess = m.haSide
		m.haSide = nil
		m.fwdResp = m.initResp
		return b, nil
	}
	if m.toMN, err = crypto.GenerateKeyShare(crypto.DHGroup(ke.Group), rand.Reader); err != nil {
		return nil, err
	}
	if m.mnSide, err = m.derive(m.toMN, m.kei, nr); err != nil {
		return nil, err
	}
	ke.Data = m.toMN.Public()
	msg.Payloads = withoutFragmentation(msg.Payloads)
	if m.fwdResp, err = msg.Marshal(nil); err != nil {
		return nil, err
	}
	return m.fwdResp, nil
}

func (m *mitm) derive(share crypto.KeyShare, peer, nr []byte) (*crypto.IKEKeys, error) {
	gir, err := share.Shared(peer)
	if err != nil {
		return nil, err
	}
	prf, err := crypto.LookupPRF(m.suite.PRF)
	if err != nil {
		return nil, err
	}
	return crypto.DeriveIKEKeys(m.suite, crypto.SKEYSEED(prf, m.ni, nr, gir), m.ni, nr, m.spiI, m.spiR)
}

func suiteOf(p ikev2.Proposal) (crypto.Suite, error) {
	var s crypto.Suite
	for _, tr := range p.Transforms {
		switch tr.Type {
		case ikev2.TransformENCR:
			s.Encr = crypto.Encr{ID: crypto.EncrID(tr.ID), KeyLen: int(tr.KeyLength)}
		case ikev2.TransformPRF:
			s.PRF = crypto.PRFID(tr.ID)
		case ikev2.TransformINTEG:
			s.Integ = crypto.IntegID(tr.ID)
		case ikev2.TransformDH:
			s.DH = crypto.DHGroup(tr.ID)
		}
	}
	if !s.Encr.Valid() {
		return s, fmt.Errorf("chosen proposal %v unusable", p)
	}
	return s, nil
}

// protected handles IKE_AUTH and later messages: recorded as sent;
// substituting, decrypted with one side's keys and sealed with the other's.
func (m *mitm) protected(b []byte, h ikev2.Header, fromMN bool) ([]byte, error) {
	b = append([]byte(nil), b...)
	if fromMN {
		m.fromMN = append(m.fromMN, b)
	} else {
		m.fromHA = append(m.fromHA, b)
	}
	if m.mode != substituteDH || m.mnSide == nil {
		return b, nil
	}
	in, out := m.haSide, m.mnSide
	if fromMN {
		in, out = m.mnSide, m.haSide
	}
	ps, err := m.open(b, in)
	if err != nil {
		return nil, fmt.Errorf("attacker cannot open its own SA's message: %w", err)
	}
	if fromMN {
		m.readFromMN = append(m.readFromMN, ps)
	} else {
		m.readFromHA = append(m.readFromHA, ps)
	}
	return m.seal(h, ps, out)
}

// open decrypts an SK message with keys, in the direction its I flag says.
func (m *mitm) open(msg []byte, keys *crypto.IKEKeys) (ikev2.Payloads, error) {
	msg = append([]byte(nil), msg...)
	parts, err := ikev2.SplitEncrypted(msg, 0, 0)
	if err != nil {
		return nil, err
	}
	sk, err := m.sk(keys, parts.Header.IsInitiator())
	if err != nil {
		return nil, err
	}
	plain, err := sk.Open(msg, len(parts.AAD))
	if err != nil {
		return nil, err
	}
	return ikev2.ParsePayloads(parts.First, plain)
}

func (m *mitm) seal(h ikev2.Header, ps ikev2.Payloads, keys *crypto.IKEKeys) ([]byte, error) {
	inner, err := ikev2.AppendPayloads(nil, ps)
	if err != nil {
		return nil, err
	}
	sk, err := m.sk(keys, h.IsInitiator())
	if err != nil {
		return nil, err
	}
	first := ikev2.PayloadNone
	if len(ps) > 0 {
		first = ps[0].PayloadType()
	}
	b, err := ikev2.AppendEncryptedHeader(nil, h, first, sk.BodyLen(len(inner)))
	if err != nil {
		return nil, err
	}
	return sk.Seal(b, inner)
}

func (m *mitm) sk(k *crypto.IKEKeys, initiator bool) (crypto.SK, error) {
	if initiator {
		return crypto.NewSK(m.suite.Encr, m.suite.Integ, k.SKei, k.SKai, rand.Reader)
	}
	return crypto.NewSK(m.suite.Encr, m.suite.Integ, k.SKer, k.SKar, rand.Reader)
}

// parseKeyLog reads the IKE keys of the MN's key log (one IKE SA).
func parseKeyLog(t *testing.T, log string) *crypto.IKEKeys {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		rest, ok := strings.CutPrefix(line, "ikev2_decryption_table: ")
		if !ok {
			continue
		}
		f := strings.Split(rest, ",")
		if len(f) < 7 {
			break
		}
		k := &crypto.IKEKeys{}
		for _, c := range []struct {
			dst *[]byte
			col int
		}{{&k.SKei, 2}, {&k.SKer, 3}, {&k.SKai, 5}, {&k.SKar, 6}} {
			var err error
			if *c.dst, err = hex.DecodeString(f[c.col]); err != nil {
				t.Fatalf("key log %q: %v", line, err)
			}
		}
		return k
	}
	t.Fatalf("no IKE keys in the MN's key log:\n%s", log)
	return nil
}

// restartHA replaces th's endpoint by one that also logs its events.
func restartHA(t *testing.T, n *memNet, th *testHA, log *eventLog) *ike.Endpoint {
	t.Helper()
	cfg, err := th.ha.Configure(ike.Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return ike.NewEndpoint(cfg, n, func(ev ike.Event) {
		th.ha.OnEvent(ev)
		log.add(ev)
	})
}

// eventLog records a home agent's IKE events.
type eventLog struct {
	mu     sync.Mutex
	events []ike.Event
}

func (l *eventLog) add(ev ike.Event) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
}

// established names an IKE SA or CHILD_SA that was set up, if any.
func (l *eventLog) established() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range l.events {
		if ev.Kind == ike.EventIKEEstablished || ev.Kind == ike.EventChildEstablished {
			return fmt.Sprintf("%v with %s", ev.Kind, ev.IKESA.RemoteID)
		}
	}
	return ""
}
