package ike

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"sync"
	"time"

	"mip6/ike/crypto"
	"mip6/wire/ikev2"
)

const nonceLen = 32

func (ep *Endpoint) nonce() []byte {
	n := make([]byte, nonceLen)
	if _, err := io.ReadFull(ep.rand(), n); err != nil {
		panic("ike: no randomness: " + err.Error())
	}
	return n
}

// initTask is the initiator's IKE_SA_INIT (§1.2), retried after COOKIE
// (§2.6) and INVALID_KE_PAYLOAD (§1.3).
type initTask struct{}

func newInitTask(sa *IKESA) (task, error) {
	props := sa.peer.ikeProposals()
	if len(props) == 0 || len(props[0].DH) == 0 {
		return nil, errors.New("ike: no IKE proposal with a DH group")
	}
	ks, err := crypto.GenerateKeyShare(props[0].DH[0], sa.ep.rand())
	if err != nil {
		return nil, err
	}
	sa.dh = ks
	sa.ni = sa.ep.nonce()
	return initTask{}, nil
}

func (initTask) exchange() ikev2.ExchangeType { return ikev2.ExchangeIKESAInit }

func (initTask) build(sa *IKESA, now time.Time) (ikev2.Payloads, error) {
	var ps ikev2.Payloads
	if sa.cookie != nil {
		ps = append(ps, ikev2.NewNotify(ikev2.NotifyCookie, sa.cookie))
	}
	ps = append(ps,
		ikeSAPayload(sa.peer.ikeProposals(), nil),
		&ikev2.KE{Group: ikev2.DHGroup(sa.dh.Group()), Data: sa.dh.Public()},
		&ikev2.Nonce{Data: sa.ni})
	ps = append(ps, natNotifies(sa.spiI, 0, sa.local, sa.remote)...)
	ps = append(ps, ikev2.NewNotify(ikev2.NotifyIKEv2FragmentationSupported, nil), sigHashNotify())
	return ps, nil
}

func natNotifies(spiI, spiR uint64, local, remote netip.AddrPort) ikev2.Payloads {
	src := ikev2.NATDetectionHash(spiI, spiR, local)
	dst := ikev2.NATDetectionHash(spiI, spiR, remote)
	return ikev2.Payloads{
		ikev2.NewNotify(ikev2.NotifyNATDetectionSourceIP, src[:]),
		ikev2.NewNotify(ikev2.NotifyNATDetectionDestinationIP, dst[:]),
	}
}

func sigHashNotify() *ikev2.Notify {
	hs := make([]ikev2.HashAlgorithm, len(crypto.SupportedHashes))
	for i, h := range crypto.SupportedHashes {
		hs[i] = ikev2.HashAlgorithm(h)
	}
	return ikev2.SignatureHashAlgorithms(hs...)
}

// errorNotify returns the first error notify (type below 16384).
func errorNotify(ps ikev2.Payloads) *ikev2.Notify {
	for _, p := range ps {
		if n, ok := p.(*ikev2.Notify); ok && n.Type < 16384 {
			return n
		}
	}
	return nil
}

func (initTask) process(sa *IKESA, now time.Time, h ikev2.Header, ps ikev2.Payloads) error {
	if n := ps.Notify(ikev2.NotifyCookie); n != nil && sa.cookieTries < 3 {
		// A new cookie after ours was refused means the responder rotated
		// its secret; a few retries are allowed (§2.6).
		if len(n.Data) < 1 || len(n.Data) > 64 {
			return failure(ReasonProtocol, "COOKIE of %d octets", len(n.Data))
		}
		sa.cookieTries++
		sa.cookie = append([]byte(nil), n.Data...)
		sa.spiR = 0
		return sa.sendRequest(now, initTask{})
	}
	if n := ps.Notify(ikev2.NotifyInvalidKEPayload); n != nil {
		return sa.retryGroup(now, n)
	}
	if n := errorNotify(ps); n != nil {
		return notifyFailure(n.Type)
	}
	saP, _ := ps.Get(ikev2.PayloadSA).(*ikev2.SA)
	ke, _ := ps.Get(ikev2.PayloadKE).(*ikev2.KE)
	nr, _ := ps.Get(ikev2.PayloadNonce).(*ikev2.Nonce)
	if saP == nil || ke == nil || nr == nil {
		return failure(ReasonProtocol, "IKE_SA_INIT response lacks SA, KE or Nonce")
	}
	suite, err := suiteFromResponse(sa.peer.ikeProposals(), saP)
	if err != nil {
		return &Failure{Reason: ReasonNoProposal, Err: err}
	}
	if suite.DH != sa.dh.Group() || crypto.DHGroup(ke.Group) != suite.DH {
		return failure(ReasonProtocol, "responder chose group %s, KE carries %s", suite.DH, crypto.DHGroup(ke.Group))
	}
	sa.nr = append([]byte(nil), nr.Data...)
	sa.readCapabilities(ps)
	sa.checkNAT(ps, sa.spiR)
	if err := sa.deriveKeys(suite, ke.Data); err != nil {
		return err
	}
	sa.state = stateAuth
	if sa.natDetected && sa.local.Port() != sa.ep.NATTPort {
		sa.local = netip.AddrPortFrom(sa.local.Addr(), sa.ep.NATTPort)
		sa.remote = netip.AddrPortFrom(sa.remote.Addr(), PortNATT)
	}
	sa.nextMsgID = 1
	sa.queue = append([]task{&authTask{}}, sa.queue...)
	return nil
}

// retryGroup restarts IKE_SA_INIT with the group the responder asked for,
// if we offered it.
func (sa *IKESA) retryGroup(now time.Time, n *ikev2.Notify) error {
	g, err := n.Group()
	if err != nil {
		return failure(ReasonProtocol, "INVALID_KE_PAYLOAD: %v", err)
	}
	offered := false
	for _, p := range sa.peer.ikeProposals() {
		for _, x := range p.DH {
			offered = offered || x == crypto.DHGroup(g)
		}
	}
	if !offered || crypto.DHGroup(g) == sa.dh.Group() {
		return failure(ReasonNoProposal, "responder wants group %s", g)
	}
	ks, err := crypto.GenerateKeyShare(crypto.DHGroup(g), sa.ep.rand())
	if err != nil {
		return &Failure{Reason: ReasonLocal, Err: err}
	}
	sa.dh, sa.spiR = ks, 0
	return sa.sendRequest(now, initTask{})
}

func (sa *IKESA) readCapabilities(ps ikev2.Payloads) {
	sa.peerFrag = ps.Notify(ikev2.NotifyIKEv2FragmentationSupported) != nil
	if n := ps.Notify(ikev2.NotifySignatureHashAlgorithms); n != nil {
		if hs, err := n.HashAlgorithms(); err == nil {
			for _, h := range hs {
				sa.peerHashes = append(sa.peerHashes, crypto.HashAlgorithm(h))
			}
		}
	}
}

// checkNAT compares the peer's NAT detection hashes with the addresses we
// see (§2.23); any mismatch means UDP encapsulation on the NAT-T port.
// spiR is the responder SPI as the message's header carried it: zero in
// the IKE_SA_INIT request.
func (sa *IKESA) checkNAT(ps ikev2.Payloads, spiR uint64) {
	dst := ps.Notify(ikev2.NotifyNATDetectionDestinationIP)
	if dst == nil {
		return
	}
	me := ikev2.NATDetectionHash(sa.spiI, spiR, sa.local)
	if !bytes.Equal(dst.Data, me[:]) {
		sa.natDetected = true
	}
	him := ikev2.NATDetectionHash(sa.spiI, spiR, sa.remote)
	matched := false
	for _, p := range ps {
		if n, ok := p.(*ikev2.Notify); ok && n.Type == ikev2.NotifyNATDetectionSourceIP && bytes.Equal(n.Data, him[:]) {
			matched = true
		}
	}
	if !matched && ps.Notify(ikev2.NotifyNATDetectionSourceIP) != nil {
		sa.natDetected = true
	}
}

// deriveKeys computes g^ir, SKEYSEED and the SK_* keys (§2.14).
func (sa *IKESA) deriveKeys(suite crypto.Suite, peerKE []byte) error {
	gir, err := sa.dh.Shared(peerKE)
	if err != nil {
		return &Failure{Reason: ReasonProtocol, Err: err}
	}
	prf, err := crypto.LookupPRF(suite.PRF)
	if err != nil {
		return &Failure{Reason: ReasonLocal, Err: err}
	}
	keys, err := crypto.DeriveIKEKeys(suite, crypto.SKEYSEED(prf, sa.ni, sa.nr, gir), sa.ni, sa.nr, sa.spiI, sa.spiR)
	if err != nil {
		return &Failure{Reason: ReasonLocal, Err: err}
	}
	return sa.installKeys(suite, prf, keys)
}

func (sa *IKESA) installKeys(suite crypto.Suite, prf *crypto.PRF, keys *crypto.IKEKeys) error {
	ei, ai, er, ar := keys.SKei, keys.SKai, keys.SKer, keys.SKar
	if !sa.initiator {
		ei, ai, er, ar = er, ar, ei, ai
	}
	out, err := crypto.NewSK(suite.Encr, suite.Integ, ei, ai, sa.ep.rand())
	if err != nil {
		return &Failure{Reason: ReasonLocal, Err: err}
	}
	in, err := crypto.NewSK(suite.Encr, suite.Integ, er, ar, sa.ep.rand())
	if err != nil {
		return &Failure{Reason: ReasonLocal, Err: err}
	}
	sa.suite, sa.prf, sa.keys, sa.skOut, sa.skIn = suite, prf, keys, out, in
	sa.suiteName = suite.String()
	sa.dh = nil
	sa.ep.logKeys(sa)
	return nil
}

// cookieSecretLifetime is how long a cookie secret is current; cookies
// made with the previous one stay valid for as long again (§2.6).
const cookieSecretLifetime = 5 * time.Minute

// cookieSecrets holds the current and the previous cookie secret; the
// first cookie octet names the secret's version.
type cookieSecrets struct {
	mu      sync.Mutex
	version uint8
	cur     [32]byte
	prev    [32]byte
	since   time.Time
}

// secretFor returns the secret of a version (current when version is
// negative), rotating first if the current one is old.
func (ep *Endpoint) secretFor(now time.Time, version int) ([32]byte, uint8, bool) {
	c := &ep.cookies
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.since.IsZero() || now.Sub(c.since) >= cookieSecretLifetime {
		c.prev = c.cur
		if _, err := io.ReadFull(ep.rand(), c.cur[:]); err != nil {
			panic("ike: no randomness: " + err.Error())
		}
		c.version++
		c.since = now
	}
	switch {
	case version < 0 || version == int(c.version):
		return c.cur, c.version, true
	case version == int(c.version-1):
		return c.prev, c.version - 1, true
	}
	return [32]byte{}, 0, false
}

// cookieFor computes the stateless cookie of §2.6:
// version | HMAC-SHA256(secret<version>, Ni | IPi | SPIi)[:16].
func (ep *Endpoint) cookieFor(now time.Time, version int, ni []byte, remote netip.AddrPort, spiI uint64) []byte {
	secret, v, ok := ep.secretFor(now, version)
	if !ok {
		return nil
	}
	m := hmac.New(sha256.New, secret[:])
	m.Write(ni)
	a := remote.Addr().As16()
	m.Write(a[:])
	m.Write(binary.BigEndian.AppendUint64(nil, spiI))
	return append([]byte{v}, m.Sum(nil)[:16]...)
}

func (ep *Endpoint) cookieThreshold() int {
	switch t := ep.cfg.CookieThreshold; {
	case t < 0:
		return 0
	case t == 0:
		return 256
	default:
		return t
	}
}

// stateless answers an IKE_SA_INIT request without creating state.
func (ep *Endpoint) stateless(local, remote netip.AddrPort, h ikev2.Header, n *ikev2.Notify) {
	m := ikev2.Message{Header: ikev2.Header{InitiatorSPI: h.InitiatorSPI, Exchange: ikev2.ExchangeIKESAInit, Flags: ikev2.FlagResponse}, Payloads: ikev2.Payloads{n}}
	b, err := m.Marshal(nil)
	if err == nil {
		ep.write(Datagram{Local: local, Remote: remote, Data: b})
	}
}
