package crypto

import (
	"crypto/ecdh"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// DHGroup is a Transform Type 4 identifier (Key Exchange Method).
type DHGroup uint16

// Groups RFC 8247 asks for.
const (
	MODP_2048  DHGroup = 14
	ECP_256    DHGroup = 19
	ECP_384    DHGroup = 20
	Curve25519 DHGroup = 31
)

func (g DHGroup) String() string {
	switch g {
	case MODP_2048:
		return "MODP_2048"
	case ECP_256:
		return "ECP_256"
	case ECP_384:
		return "ECP_384"
	case Curve25519:
		return "CURVE_25519"
	}
	return fmt.Sprintf("DH(%d)", uint16(g))
}

// Supported reports whether this package implements the group.
func (g DHGroup) Supported() bool {
	switch g {
	case MODP_2048, ECP_256, ECP_384, Curve25519:
		return true
	}
	return false
}

// PublicLen is the length of the Key Exchange Data for the group.
func (g DHGroup) PublicLen() int {
	switch g {
	case MODP_2048:
		return 256
	case ECP_256:
		return 64
	case ECP_384:
		return 96
	case Curve25519:
		return 32
	}
	return 0
}

// KeyShare is one side's ephemeral Diffie-Hellman key.
type KeyShare interface {
	Group() DHGroup
	// Public is the Key Exchange Data to send in a KE payload.
	Public() []byte
	// Shared computes g^ir from the peer's Key Exchange Data, rejecting
	// malformed and degenerate public values.
	Shared(peer []byte) ([]byte, error)
}

// ErrBadPublic reports a peer public value of the wrong length or outside
// the group.
var ErrBadPublic = errors.New("ike/crypto: invalid Diffie-Hellman public value")

// GenerateKeyShare makes a fresh ephemeral key for the group.
func GenerateKeyShare(g DHGroup, rand io.Reader) (KeyShare, error) {
	switch g {
	case ECP_256:
		return newECDHShare(g, ecdh.P256(), rand)
	case ECP_384:
		return newECDHShare(g, ecdh.P384(), rand)
	case Curve25519:
		return newECDHShare(g, ecdh.X25519(), rand)
	case MODP_2048:
		return newMODPShare(rand)
	}
	return nil, &UnsupportedError{Kind: "DH", ID: uint16(g)}
}

type ecdhShare struct {
	group DHGroup
	curve ecdh.Curve
	priv  *ecdh.PrivateKey
	pub   []byte
}

func newECDHShare(g DHGroup, c ecdh.Curve, rand io.Reader) (*ecdhShare, error) {
	k, err := c.GenerateKey(rand)
	if err != nil {
		return nil, err
	}
	pub := k.PublicKey().Bytes()
	if g != Curve25519 {
		pub = pub[1:] // RFC 5903 §7: x | y without the SEC1 0x04 prefix
	}
	return &ecdhShare{group: g, curve: c, priv: k, pub: pub}, nil
}

func (s *ecdhShare) Group() DHGroup { return s.group }
func (s *ecdhShare) Public() []byte { return s.pub }

func (s *ecdhShare) Shared(peer []byte) ([]byte, error) {
	if len(peer) != s.group.PublicLen() {
		return nil, ErrBadPublic
	}
	raw := peer
	if s.group != Curve25519 {
		raw = make([]byte, 1+len(peer))
		raw[0] = 4
		copy(raw[1:], peer)
	}
	pk, err := s.curve.NewPublicKey(raw) // checks the point is on the curve
	if err != nil {
		return nil, ErrBadPublic
	}
	z, err := s.priv.ECDH(pk) // x coordinate only (RFC 5903 §7); X25519 rejects low order
	if err != nil {
		return nil, ErrBadPublic
	}
	return z, nil
}

// modp2048 is the RFC 3526 §3 prime, generator 2.
var modp2048, _ = new(big.Int).SetString(
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"+
		"29024E088A67CC74020BBEA63B139B22514A08798E3404DD"+
		"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"+
		"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"+
		"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"+
		"C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"+
		"83655D23DCA3AD961C62F356208552BB9ED529077096966D"+
		"670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"+
		"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"+
		"DE2BCBF6955817183995497CEA956AE515D2261898FA0510"+
		"15728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)

var (
	bigOne  = big.NewInt(1)
	bigTwo  = big.NewInt(2)
	pMinus1 = new(big.Int).Sub(modp2048, bigOne)
)

// modpExponentBits sizes the private exponent to twice the group's 112-bit
// security strength, rounded up (NIST SP 800-56A): a full-length exponent
// costs eight times as much and buys nothing.
const modpExponentBits = 256

type modpShare struct {
	x   *big.Int
	pub []byte
}

func newMODPShare(rand io.Reader) (*modpShare, error) {
	b := make([]byte, modpExponentBits/8)
	if _, err := io.ReadFull(rand, b); err != nil {
		return nil, err
	}
	x := new(big.Int).SetBytes(b)
	x.SetBit(x, modpExponentBits-1, 1) // keep the full strength
	y := new(big.Int).Exp(bigTwo, x, modp2048)
	return &modpShare{x: x, pub: y.FillBytes(make([]byte, 256))}, nil
}

func (s *modpShare) Group() DHGroup { return MODP_2048 }
func (s *modpShare) Public() []byte { return s.pub }

func (s *modpShare) Shared(peer []byte) ([]byte, error) {
	if len(peer) != 256 {
		return nil, ErrBadPublic
	}
	y := new(big.Int).SetBytes(peer)
	// Reject 0, 1 and p-1 (small subgroup) and anything not below p.
	if y.Cmp(bigOne) <= 0 || y.Cmp(pMinus1) >= 0 {
		return nil, ErrBadPublic
	}
	z := new(big.Int).Exp(y, s.x, modp2048)
	return z.FillBytes(make([]byte, 256)), nil
}
