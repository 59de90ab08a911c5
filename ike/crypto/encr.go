package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// EncrID is a Transform Type 1 identifier (Encryption Algorithm).
type EncrID uint16

// Encryption algorithms RFC 8247 asks for.
const (
	ENCR_AES_CBC           EncrID = 12
	ENCR_AES_GCM_16        EncrID = 20
	ENCR_CHACHA20_POLY1305 EncrID = 28
)

func (id EncrID) String() string {
	switch id {
	case ENCR_AES_CBC:
		return "ENCR_AES_CBC"
	case ENCR_AES_GCM_16:
		return "ENCR_AES_GCM_16"
	case ENCR_CHACHA20_POLY1305:
		return "ENCR_CHACHA20_POLY1305"
	}
	return fmt.Sprintf("ENCR(%d)", uint16(id))
}

// IsAEAD reports whether the algorithm needs no integrity transform.
func (id EncrID) IsAEAD() bool { return id == ENCR_AES_GCM_16 || id == ENCR_CHACHA20_POLY1305 }

// IntegID is a Transform Type 3 identifier (Integrity Algorithm).
type IntegID uint16

// Integrity algorithms RFC 8247 asks for.
const (
	AUTH_NONE              IntegID = 0
	AUTH_HMAC_SHA2_256_128 IntegID = 12
	AUTH_HMAC_SHA2_384_192 IntegID = 13
	AUTH_HMAC_SHA2_512_256 IntegID = 14
)

func (id IntegID) String() string {
	switch id {
	case AUTH_NONE:
		return "NONE"
	case AUTH_HMAC_SHA2_256_128:
		return "AUTH_HMAC_SHA2_256_128"
	case AUTH_HMAC_SHA2_384_192:
		return "AUTH_HMAC_SHA2_384_192"
	case AUTH_HMAC_SHA2_512_256:
		return "AUTH_HMAC_SHA2_512_256"
	}
	return fmt.Sprintf("INTEG(%d)", uint16(id))
}

// KeyLen is the length of the integrity key (RFC 4868 §2.1.2: the hash's output length).
func (id IntegID) KeyLen() int {
	switch id {
	case AUTH_HMAC_SHA2_256_128:
		return 32
	case AUTH_HMAC_SHA2_384_192:
		return 48
	case AUTH_HMAC_SHA2_512_256:
		return 64
	}
	return 0
}

// ICVLen is the truncated output length.
func (id IntegID) ICVLen() int { return id.KeyLen() / 2 }

func (id IntegID) hash() func() hash.Hash {
	switch id {
	case AUTH_HMAC_SHA2_256_128:
		return sha256.New
	case AUTH_HMAC_SHA2_384_192:
		return sha512.New384
	case AUTH_HMAC_SHA2_512_256:
		return sha512.New
	}
	return nil
}

// Encr names an encryption transform with its key length in bits (the
// Key Length attribute; 0 for ChaCha20-Poly1305 which has none).
type Encr struct {
	ID     EncrID
	KeyLen int
}

func (e Encr) String() string {
	if e.KeyLen == 0 {
		return e.ID.String()
	}
	return fmt.Sprintf("%s_%d", e.ID, e.KeyLen)
}

// Valid reports whether the transform and key length are implemented.
func (e Encr) Valid() bool {
	switch e.ID {
	case ENCR_AES_CBC, ENCR_AES_GCM_16:
		return e.KeyLen == 128 || e.KeyLen == 192 || e.KeyLen == 256
	case ENCR_CHACHA20_POLY1305:
		return e.KeyLen == 0 || e.KeyLen == 256
	}
	return false
}

// KeymatLen is the number of octets of keying material the transform takes:
// the AEADs take a 4-octet salt after the key (RFC 5282 §7.1, RFC 7634 §4).
func (e Encr) KeymatLen() int {
	switch e.ID {
	case ENCR_AES_CBC:
		return e.KeyLen / 8
	case ENCR_AES_GCM_16:
		return e.KeyLen/8 + 4
	case ENCR_CHACHA20_POLY1305:
		return 32 + 4
	}
	return 0
}

// SK protects Encrypted (and Encrypted Fragment) payloads in one direction
// of an IKE SA. It is owned by one goroutine.
type SK interface {
	// BodyLen is the length of IV | ciphertext | ICV carrying n octets of
	// inner payloads.
	BodyLen(n int) int
	// Seal appends IV | E(payloads | padding | pad length) | ICV to msg.
	// msg is the message so far: IKE header, unencrypted payloads and the
	// Encrypted payload's header(s), with every length already counting
	// BodyLen(len(payloads)).
	Seal(msg, payloads []byte) ([]byte, error)
	// Open checks and decrypts the body starting at msg[bodyOff:] (which
	// runs to the end of msg) and returns the inner payloads without padding.
	// The returned slice aliases msg.
	Open(msg []byte, bodyOff int) ([]byte, error)
}

// ErrIntegrity reports an Encrypted payload whose ICV or padding is wrong.
var ErrIntegrity = errors.New("ike/crypto: Encrypted payload failed its integrity check")

// NewSK builds the protection for one direction from its encryption and
// integrity keys. rand supplies CBC IVs; AEAD IVs come from a counter.
func NewSK(e Encr, integ IntegID, encKey, integKey []byte, rand io.Reader) (SK, error) {
	if !e.Valid() {
		return nil, &UnsupportedError{Kind: "ENCR", ID: uint16(e.ID)}
	}
	if len(encKey) != e.KeymatLen() {
		return nil, fmt.Errorf("ike/crypto: %s key is %d octets, want %d", e, len(encKey), e.KeymatLen())
	}
	switch e.ID {
	case ENCR_AES_GCM_16:
		b, err := aes.NewCipher(encKey[:len(encKey)-4])
		if err != nil {
			return nil, err
		}
		a, err := cipher.NewGCM(b)
		if err != nil {
			return nil, err
		}
		return &aeadSK{aead: a, salt: [4]byte(encKey[len(encKey)-4:])}, nil
	case ENCR_CHACHA20_POLY1305:
		a, err := chacha20poly1305.New(encKey[:32])
		if err != nil {
			return nil, err
		}
		return &aeadSK{aead: a, salt: [4]byte(encKey[32:])}, nil
	}
	h := integ.hash()
	if h == nil {
		return nil, &UnsupportedError{Kind: "INTEG", ID: uint16(integ)}
	}
	if len(integKey) != integ.KeyLen() {
		return nil, fmt.Errorf("ike/crypto: %s key is %d octets, want %d", integ, len(integKey), integ.KeyLen())
	}
	b, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	return &cbcSK{block: b, mac: hmac.New(h, integKey), icv: integ.ICVLen(), rand: rand}, nil
}

// aeadSK is RFC 5282 (AES-GCM) and RFC 7634 (ChaCha20-Poly1305): an 8-octet
// explicit IV, nonce = salt | IV, AAD = everything before the IV.
type aeadSK struct {
	aead    cipher.AEAD
	salt    [4]byte
	counter uint64
}

func (s *aeadSK) BodyLen(n int) int { return 8 + n + 1 + s.aead.Overhead() }

func (s *aeadSK) Seal(msg, payloads []byte) ([]byte, error) {
	s.counter++
	if s.counter == 0 {
		return nil, errors.New("ike/crypto: AEAD IV space exhausted")
	}
	var nonce [12]byte
	copy(nonce[:4], s.salt[:])
	binary.BigEndian.PutUint64(nonce[4:], s.counter)
	aad := msg
	off := len(msg)
	msg = append(msg, nonce[4:]...)
	pt := append(msg[len(msg):], payloads...)
	pt = append(pt, 0) // no padding, pad length 0
	return s.aead.Seal(msg, nonce[:], pt, aad[:off]), nil
}

func (s *aeadSK) Open(msg []byte, bodyOff int) ([]byte, error) {
	body := msg[bodyOff:]
	if len(body) < 8+1+s.aead.Overhead() {
		return nil, ErrIntegrity
	}
	var nonce [12]byte
	copy(nonce[:4], s.salt[:])
	copy(nonce[4:], body[:8])
	pt, err := s.aead.Open(body[8:8], nonce[:], body[8:], msg[:bodyOff])
	if err != nil {
		return nil, ErrIntegrity
	}
	return unpad(pt)
}

func unpad(pt []byte) ([]byte, error) {
	if len(pt) == 0 {
		return nil, ErrIntegrity
	}
	pad := int(pt[len(pt)-1])
	if pad+1 > len(pt) {
		return nil, ErrIntegrity
	}
	return pt[:len(pt)-1-pad], nil
}

// cbcSK is AES-CBC with a random IV and a truncated HMAC over the whole
// message up to the ICV (RFC 7296 §3.14).
type cbcSK struct {
	block cipher.Block
	mac   hash.Hash
	icv   int
	rand  io.Reader
}

func (s *cbcSK) BodyLen(n int) int {
	padded := (n + 1 + aes.BlockSize - 1) / aes.BlockSize * aes.BlockSize
	return aes.BlockSize + padded + s.icv
}

func (s *cbcSK) Seal(msg, payloads []byte) ([]byte, error) {
	off := len(msg)
	padded := (len(payloads) + 1 + aes.BlockSize - 1) / aes.BlockSize * aes.BlockSize
	pad := padded - len(payloads) - 1
	msg = append(msg, make([]byte, aes.BlockSize)...)
	if _, err := io.ReadFull(s.rand, msg[off:]); err != nil {
		return nil, err
	}
	msg = append(msg, payloads...)
	msg = append(msg, make([]byte, pad)...)
	msg = append(msg, byte(pad))
	iv := msg[off : off+aes.BlockSize]
	ct := msg[off+aes.BlockSize:]
	cipher.NewCBCEncrypter(s.block, iv).CryptBlocks(ct, ct)
	s.mac.Reset()
	s.mac.Write(msg)
	sum := s.mac.Sum(nil)
	return append(msg, sum[:s.icv]...), nil
}

func (s *cbcSK) Open(msg []byte, bodyOff int) ([]byte, error) {
	body := msg[bodyOff:]
	if len(body) < aes.BlockSize*2+s.icv || (len(body)-s.icv)%aes.BlockSize != 0 {
		return nil, ErrIntegrity
	}
	end := len(msg) - s.icv
	s.mac.Reset()
	s.mac.Write(msg[:end])
	sum := s.mac.Sum(nil)
	if !hmac.Equal(sum[:s.icv], msg[end:]) {
		return nil, ErrIntegrity
	}
	iv := body[:aes.BlockSize]
	ct := msg[bodyOff+aes.BlockSize : end]
	pt := make([]byte, len(ct)) // decrypt aside: a retransmitted request may be processed again
	cipher.NewCBCDecrypter(s.block, iv).CryptBlocks(pt, ct)
	return unpad(pt)
}
