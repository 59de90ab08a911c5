package esp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/chacha20poly1305"
)

// Direction of an SA: each ESP SA protects one direction only.
type Direction uint8

const (
	Outbound Direction = iota + 1
	Inbound
)

func (d Direction) String() string {
	switch d {
	case Outbound:
		return "OUT"
	case Inbound:
		return "IN"
	}
	return "?"
}

// Carrier is how ESP packets of an SA travel between its outer endpoints.
type Carrier uint8

const (
	CarrierUDP Carrier = iota + 1 // UDP encapsulation on port 4500 (RFC 3948), the default
	CarrierESP                    // raw ESP, IP protocol 50
)

func (c Carrier) String() string {
	switch c {
	case CarrierUDP:
		return "udp-encap"
	case CarrierESP:
		return "esp"
	}
	return "?"
}

// Endpoints are the outer addresses of an SA: the care-of address side
// moves when the mobile node moves. Ports are 4500 for CarrierUDP (or the
// NAT-mapped port) and 0 for CarrierESP.
type Endpoints struct {
	Local, Remote netip.AddrPort
	Carrier       Carrier
}

// Config describes an SA to create.
type Config struct {
	SPI       uint32
	Direction Direction
	Transform Transform
	// Key is the SA's KEYMAT as RFC 7296 §2.17 takes it: encryption key,
	// then (AEAD) the 4-byte salt, then (AES-CBC) the integrity key.
	Key       []byte
	ESN       bool // 64-bit extended sequence numbers (RFC 4303 §2.2.1)
	Endpoints Endpoints
	Lifetime  Lifetime
}

// Lifetime limits an SA by traffic (RFC 4301 §4.4.2.1); zero means no
// limit. Time limits are the key manager's (IKE's timers). Past the soft
// limit the SA still works and Expired reports it so IKE rekeys; past the
// hard limit Seal and Open refuse with ErrLifetimeExpired.
type Lifetime struct {
	SoftBytes, HardBytes     uint64
	SoftPackets, HardPackets uint64
}

// SA is one ESP security association: keys, sequence numbers, the
// anti-replay window, drop counters and the outer endpoints. Seal (on
// Outbound SAs) and Open (on Inbound SAs) are safe for concurrent use and
// do not allocate.
type SA struct {
	spi       uint32
	dir       Direction
	transform Transform
	esn       bool
	life      Lifetime
	ivLen     int
	icvLen    int
	blockSize int

	aead  cipher.AEAD // AES-GCM, ChaCha20-Poly1305
	salt  [saltLen]byte
	block cipher.Block // AES-CBC
	integ []byte       // HMAC key
	pool  sync.Pool    // *scratch: nonces, AAD and HMAC state per goroutine

	seq   atomic.Uint64 // outbound: last sequence number used
	in    *inbound      // inbound SAs only: an outbound SA carries none of it
	stats stats
	ep    atomic.Pointer[Endpoints]
}

// inbound is the state only a receiving SA needs; kept out of line so that
// an outbound SA (one per CHILD_SA pair, thousands on a home agent) is half
// a kilobyte smaller.
type inbound struct {
	replay replayWindow
	// dropErrs are returned (shared, read-only) for drops without a cause.
	dropErrs [numDropReasons]Error
}

// scratch is per-call working memory, pooled so that the hot path does not
// allocate (stack arrays passed to interface methods would escape).
type scratch struct {
	nonce [12]byte
	aad   [12]byte
	hi    [4]byte
	sum   [sha512.Size]byte
	mac   hash.Hash
	enc   cipher.BlockMode
	dec   cipher.BlockMode
}

// New creates an SA. The key bytes are copied into cipher state; the
// caller should wipe its copy.
func New(c Config) (*SA, error) {
	t := c.Transform
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if c.Direction != Outbound && c.Direction != Inbound {
		return nil, &ConfigError{Field: "direction", Reason: "must be Outbound or Inbound"}
	}
	if c.SPI < 256 {
		return nil, &ConfigError{Field: "SPI", Reason: "values 0-255 are reserved (RFC 4303 §2.1)"}
	}
	if len(c.Key) != t.KeyLen() {
		return nil, &ConfigError{Field: "key", Reason: "wrong length for " + t.String()}
	}
	sa := &SA{spi: c.SPI, dir: c.Direction, transform: t, esn: c.ESN, life: c.Lifetime,
		ivLen: t.IVLen(), icvLen: t.ICVLen(), blockSize: t.BlockSize()}
	if err := sa.initCipher(c.Key); err != nil {
		return nil, err
	}
	sa.pool.New = sa.newScratch
	if c.Direction == Inbound {
		sa.in = new(inbound)
		for r := range sa.in.dropErrs {
			sa.in.dropErrs[r] = Error{SPI: c.SPI, Reason: DropReason(r)}
		}
	}
	ep := c.Endpoints
	sa.ep.Store(&ep)
	return sa, nil
}

func (sa *SA) initCipher(key []byte) error {
	t := sa.transform
	encLen := t.KeyBits / 8
	switch t.Encryption {
	case EncrAESGCM16:
		b, err := aes.NewCipher(key[:encLen])
		if err != nil {
			return err
		}
		if sa.aead, err = cipher.NewGCM(b); err != nil {
			return err
		}
		copy(sa.salt[:], key[encLen:])
	case EncrChaCha20Poly1305:
		var err error
		if sa.aead, err = chacha20poly1305.New(key[:encLen]); err != nil {
			return err
		}
		copy(sa.salt[:], key[encLen:])
	case EncrAESCBC:
		var err error
		if sa.block, err = aes.NewCipher(key[:encLen]); err != nil {
			return err
		}
		sa.integ = append([]byte(nil), key[encLen:]...)
	}
	return nil
}

func (sa *SA) newScratch() any {
	s := new(scratch)
	if sa.block == nil {
		return s
	}
	switch sa.transform.Integrity {
	case IntegHMACSHA2_256128:
		s.mac = hmac.New(sha256.New, sa.integ)
	case IntegHMACSHA2_384192:
		s.mac = hmac.New(sha512.New384, sa.integ)
	case IntegHMACSHA2_512256:
		s.mac = hmac.New(sha512.New, sa.integ)
	}
	var iv [aes.BlockSize]byte
	s.enc = cipher.NewCBCEncrypter(sa.block, iv[:])
	s.dec = cipher.NewCBCDecrypter(sa.block, iv[:])
	return s
}

// SPI returns the SA's Security Parameters Index.
func (sa *SA) SPI() uint32 { return sa.spi }

// Direction returns whether the SA seals or opens.
func (sa *SA) Direction() Direction { return sa.dir }

// Transform returns the SA's algorithms.
func (sa *SA) Transform() Transform { return sa.transform }

// ESN reports whether the SA uses 64-bit extended sequence numbers.
func (sa *SA) ESN() bool { return sa.esn }

// HeaderLen is the headroom Seal needs before the plaintext to work in
// place: the ESP header and the IV.
func (sa *SA) HeaderLen() int { return 8 + sa.ivLen }

// Overhead is the number of bytes Seal adds to a plaintext of n bytes.
func (sa *SA) Overhead(n int) int {
	return sa.HeaderLen() + padLen(n, sa.blockSize) + 2 + sa.icvLen
}

// MaxOverhead bounds Overhead for every plaintext length.
func (sa *SA) MaxOverhead() int {
	align := max(sa.blockSize, 4)
	return sa.HeaderLen() + align - 1 + 2 + sa.icvLen
}

// Expired reports whether the SA's traffic passed its soft and hard limits.
func (sa *SA) Expired() (soft, hard bool) {
	p, b := sa.stats.packets.Load(), sa.stats.bytes.Load()
	over := func(v, limit uint64) bool { return limit != 0 && v >= limit }
	return over(p, sa.life.SoftPackets) || over(b, sa.life.SoftBytes),
		over(p, sa.life.HardPackets) || over(b, sa.life.HardBytes)
}

// account counts one packet of n payload bytes, refusing it past the hard
// limits.
func (sa *SA) account(n int) bool {
	p := sa.stats.packets.Add(1)
	b := sa.stats.bytes.Add(uint64(n))
	if (sa.life.HardPackets != 0 && p > sa.life.HardPackets) || (sa.life.HardBytes != 0 && b > sa.life.HardBytes) {
		sa.stats.packets.Add(^uint64(0))
		sa.stats.bytes.Add(^uint64(n - 1))
		return false
	}
	return true
}

// Endpoints returns the SA's current outer addresses. Lock-free.
func (sa *SA) Endpoints() Endpoints { return *sa.ep.Load() }

// MoveEndpoints changes the SA's outer addresses. It is called only by the
// mobility layer after a protected Binding Update was accepted (home agent)
// or sent/acknowledged (mobile node), never on the strength of unprotected
// input (RFC 4877 §4.3): whoever moves the endpoints redirects the traffic.
func (sa *SA) MoveEndpoints(e Endpoints) {
	sa.ep.Store(&e)
}
