package eap

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"sync"
)

// EAP-TLS MSK without the extended master secret.
//
// RFC 5216 §2.3 defines MSK = TLS-PRF-128(master_secret, "client EAP
// encryption", client.random || server.random)[0:64], which is the TLS 1.2
// keying-material exporter. crypto/tls exports only if the handshake used
// the extended master secret (RFC 7627): without it, a man in the middle
// that the client accepted as server can give two connections the same
// master secret (the triple handshake attack), through RSA key transport,
// a malicious DHE group, resumption or renegotiation. strongSwan's libtls
// (5.9) does not implement RFC 7627, so EAP-TLS with it cannot use the
// exporter. The only other way Go offers, GODEBUG=tlsunsafeekm=1, is
// process-wide and goes away in Go 1.27.
//
// With WithoutEMS set, we derive the RFC 5216 MSK ourselves, and only from
// handshakes in which the master secret cannot be synchronised: TLS 1.2,
// a full handshake (no resumption: session tickets and caches are off, Go
// never renegotiates here), and an ECDHE suite (RSA key transport and
// finite-field DHE are excluded; crypto/tls validates curve points and
// rejects low-order X25519 shares). The master secret comes from the
// KeyLogWriter hook into memory of this conversation only, the server
// random from the plaintext ServerHello. With the extended master secret
// the exporter is used as before.

// noEMSSuites are the suites allowed without the extended master secret,
// with the hash of their TLS 1.2 PRF.
var noEMSSuites = map[uint16]func() hash.Hash{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       sha256.New,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         sha256.New,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       sha512.New384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         sha512.New384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: sha256.New,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   sha256.New,
}

var (
	errNoEMSRefused = errors.New("TLS 1.2 handshake without extended master secret (RFC 7627); set WithoutEMS to accept it")
	errNoEMSUnsafe  = errors.New("handshake without extended master secret is resumed, not TLS 1.2, or not ECDHE")
	errNoEMSSecrets = errors.New("master secret or randoms of the handshake not captured")
)

// noEMSConfig restricts a cloned config to handshakes whose MSK may be
// derived without the extended master secret, and hooks the key log.
func noEMSConfig(c *tls.Config, log *masterSecretLog) {
	c.SessionTicketsDisabled = true
	c.ClientSessionCache = nil
	c.Renegotiation = tls.RenegotiateNever
	var suites []uint16
	for _, s := range c.CipherSuites { // the configured ones that qualify
		if noEMSSuites[s] != nil {
			suites = append(suites, s)
		}
	}
	if len(c.CipherSuites) == 0 {
		for s := range noEMSSuites {
			suites = append(suites, s)
		}
	}
	c.CipherSuites = suites
	if c.KeyLogWriter != nil { // an operator's own key log keeps working
		log.next = c.KeyLogWriter
	}
	c.KeyLogWriter = log
}

// masterSecretLog receives crypto/tls's NSS key log line of a TLS 1.2
// handshake: "CLIENT_RANDOM <client random> <master secret>".
type masterSecretLog struct {
	mu           sync.Mutex
	clientRandom []byte
	master       []byte
	next         io.Writer
}

func (l *masterSecretLog) Write(p []byte) (int, error) {
	if l.next != nil {
		l.next.Write(p) //nolint:errcheck // the operator's log must not fail the handshake
	}
	f := bytes.Fields(p)
	if len(f) != 3 || string(f[0]) != "CLIENT_RANDOM" || len(f[1]) != 64 || len(f[2]) != 96 {
		return len(p), nil
	}
	cr, err1 := hex.DecodeString(string(f[1]))
	ms, err2 := hex.DecodeString(string(f[2]))
	if err1 == nil && err2 == nil {
		l.mu.Lock()
		l.clientRandom, l.master = cr, ms
		l.mu.Unlock()
	}
	return len(p), nil
}

func (l *masterSecretLog) secrets() (cr, ms []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clientRandom, l.master
}

func (l *masterSecretLog) wipe() {
	l.mu.Lock()
	clear(l.master)
	l.master = nil
	l.mu.Unlock()
}

// serverHelloRandom finds the random of a ServerHello at the start of a
// server flight: TLS record (type 22), handshake type 2, version, random.
//
//	record:    type(1) version(2) length(2)
//	handshake: msg_type(1) length(3) server_version(2) random(32) ...
func serverHelloRandom(b []byte) ([]byte, bool) {
	const recHdr, hsHdr, randomAt = 5, 4, 5 + 4 + 2
	if len(b) < recHdr || b[0] != 22 {
		return nil, false
	}
	recLen := int(b[3])<<8 | int(b[4])
	if recLen < hsHdr+2+32 || len(b) < recHdr+recLen || b[recHdr] != 2 {
		return nil, false
	}
	return append([]byte(nil), b[randomAt:randomAt+32]...), true
}

// noEMSMSK is the RFC 5216 MSK of a handshake without the extended master
// secret, if the handshake is one where that is safe.
func noEMSMSK(st tls.ConnectionState, log *masterSecretLog, serverRandom []byte) ([]byte, error) {
	newHash, ok := noEMSSuites[st.CipherSuite]
	if !ok || st.Version != tls.VersionTLS12 || st.DidResume {
		return nil, errNoEMSUnsafe
	}
	cr, ms := log.secrets()
	if len(cr) != 32 || len(ms) != 48 || len(serverRandom) != 32 {
		return nil, errNoEMSSecrets
	}
	defer log.wipe()
	seed := append(append([]byte(tlsMSKLabel), cr...), serverRandom...)
	return prf12(newHash, ms, seed, MSKLen), nil
}

// prf12 is the TLS 1.2 PRF, P_hash(secret, label || seed) (RFC 5246 §5);
// seed here already starts with the label.
func prf12(newHash func() hash.Hash, secret, seed []byte, n int) []byte {
	mac := hmac.New(newHash, secret)
	out := make([]byte, 0, n+mac.Size())
	a := seed
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		out = mac.Sum(out)
	}
	return out[:n]
}
