package crypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// PRFID is a Transform Type 2 identifier (IANA "Transform Type 2 - Pseudorandom Function Transform IDs").
type PRFID uint16

// Pseudo-random functions RFC 8247 asks for.
const (
	PRF_HMAC_SHA2_256 PRFID = 5
	PRF_HMAC_SHA2_384 PRFID = 6
	PRF_HMAC_SHA2_512 PRFID = 7
)

func (id PRFID) String() string {
	switch id {
	case PRF_HMAC_SHA2_256:
		return "PRF_HMAC_SHA2_256"
	case PRF_HMAC_SHA2_384:
		return "PRF_HMAC_SHA2_384"
	case PRF_HMAC_SHA2_512:
		return "PRF_HMAC_SHA2_512"
	}
	return fmt.Sprintf("PRF(%d)", uint16(id))
}

// PRF is a negotiated pseudo-random function.
type PRF struct {
	ID   PRFID
	hash func() hash.Hash
	size int
}

// LookupPRF returns the PRF with the given identifier, or an error for one
// this implementation does not offer.
func LookupPRF(id PRFID) (*PRF, error) {
	switch id {
	case PRF_HMAC_SHA2_256:
		return &prfSHA256, nil
	case PRF_HMAC_SHA2_384:
		return &prfSHA384, nil
	case PRF_HMAC_SHA2_512:
		return &prfSHA512, nil
	}
	return nil, &UnsupportedError{Kind: "PRF", ID: uint16(id)}
}

var (
	prfSHA256 = PRF{ID: PRF_HMAC_SHA2_256, hash: sha256.New, size: 32}
	prfSHA384 = PRF{ID: PRF_HMAC_SHA2_384, hash: sha512.New384, size: 48}
	prfSHA512 = PRF{ID: PRF_HMAC_SHA2_512, hash: sha512.New, size: 64}
)

// Size is the output length, which is also the preferred key length (§2.13).
func (p *PRF) Size() int { return p.size }

// Sum returns prf(key, data[0] | data[1] | ...).
func (p *PRF) Sum(key []byte, data ...[]byte) []byte {
	m := hmac.New(p.hash, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(make([]byte, 0, p.size))
}

// Plus returns the first n octets of prf+(key, seed) (RFC 7296 §2.13):
//
//	prf+ (K,S) = T1 | T2 | T3 | T4 | ...
//	T1 = prf (K, S | 0x01)
//	T2 = prf (K, T1 | S | 0x02) ...
//
// At most 255 blocks exist; asking for more panics, as it is a programming
// error (no negotiated transform needs that much).
func (p *PRF) Plus(key, seed []byte, n int) []byte {
	if n > 255*p.size {
		panic("ike/crypto: prf+ output longer than 255 blocks")
	}
	out := make([]byte, 0, n+p.size)
	m := hmac.New(p.hash, key)
	var prev []byte
	for i := 1; len(out) < n; i++ {
		m.Reset()
		m.Write(prev)
		m.Write(seed)
		m.Write([]byte{byte(i)})
		start := len(out)
		out = m.Sum(out)
		prev = out[start:]
	}
	return out[:n:n]
}

// UnsupportedError reports a transform or method identifier this package
// does not implement.
type UnsupportedError struct {
	Kind string // "PRF", "ENCR", "INTEG", "DH", "auth method", "hash"
	ID   uint16
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("ike/crypto: unsupported %s %d", e.Kind, e.ID)
}
