package esp

import "fmt"

// EncryptionID is an IKEv2 Transform Type 1 identifier (IANA "IKEv2
// Transform Type 1 - Encryption Algorithm Transform IDs").
type EncryptionID uint16

const (
	EncrAESCBC           EncryptionID = 12 // RFC 3602
	EncrAESGCM16         EncryptionID = 20 // RFC 4106, 16-byte ICV
	EncrChaCha20Poly1305 EncryptionID = 28 // RFC 7634
)

// IntegrityID is an IKEv2 Transform Type 3 identifier.
type IntegrityID uint16

const (
	IntegNone            IntegrityID = 0
	IntegHMACSHA2_256128 IntegrityID = 12 // RFC 4868
	IntegHMACSHA2_384192 IntegrityID = 13 // RFC 4868
	IntegHMACSHA2_512256 IntegrityID = 14 // RFC 4868
)

// Transform is the cryptographic suite of an SA: an AEAD (AES-GCM-16,
// ChaCha20-Poly1305) with IntegNone, or AES-CBC with an HMAC-SHA2.
type Transform struct {
	Encryption EncryptionID
	KeyBits    int // AES key length: 128, 192 or 256; 256 for ChaCha20-Poly1305
	Integrity  IntegrityID
}

// Common transforms.
var (
	AESGCM128        = Transform{Encryption: EncrAESGCM16, KeyBits: 128}
	AESGCM256        = Transform{Encryption: EncrAESGCM16, KeyBits: 256}
	ChaCha20Poly1305 = Transform{Encryption: EncrChaCha20Poly1305, KeyBits: 256}
	AESCBC128SHA256  = Transform{Encryption: EncrAESCBC, KeyBits: 128, Integrity: IntegHMACSHA2_256128}
	AESCBC256SHA256  = Transform{Encryption: EncrAESCBC, KeyBits: 256, Integrity: IntegHMACSHA2_256128}
	AESCBC256SHA512  = Transform{Encryption: EncrAESCBC, KeyBits: 256, Integrity: IntegHMACSHA2_512256}
)

const saltLen = 4 // RFC 4106 §8.1, RFC 7634 §2

// AEAD reports whether the transform is a combined-mode cipher.
func (t Transform) AEAD() bool {
	return t.Encryption == EncrAESGCM16 || t.Encryption == EncrChaCha20Poly1305
}

// integKeyLen and icvLen of the RFC 4868 HMACs: key = hash output size,
// ICV = half of it.
func (t Transform) integKeyLen() int {
	switch t.Integrity {
	case IntegHMACSHA2_256128:
		return 32
	case IntegHMACSHA2_384192:
		return 48
	case IntegHMACSHA2_512256:
		return 64
	}
	return 0
}

// KeyLen is the number of KEYMAT bytes the SA takes (RFC 7296 §2.17): the
// encryption key, then the salt for AEADs, then the integrity key.
func (t Transform) KeyLen() int {
	n := t.KeyBits / 8
	if t.AEAD() {
		n += saltLen
	}
	return n + t.integKeyLen()
}

// IVLen is the length of the explicit IV carried in each packet.
func (t Transform) IVLen() int {
	if t.Encryption == EncrAESCBC {
		return 16
	}
	return 8
}

// ICVLen is the length of the integrity check value.
func (t Transform) ICVLen() int {
	if t.AEAD() {
		return 16
	}
	return t.integKeyLen() / 2
}

// BlockSize is the alignment the ciphertext needs (1 for stream-like modes;
// RFC 4303's 4-byte alignment applies on top).
func (t Transform) BlockSize() int {
	if t.Encryption == EncrAESCBC {
		return 16
	}
	return 1
}

// Validate reports whether the transform is supported.
func (t Transform) Validate() error {
	switch t.Encryption {
	case EncrAESGCM16:
		if (t.KeyBits == 128 || t.KeyBits == 192 || t.KeyBits == 256) && t.Integrity == IntegNone {
			return nil
		}
	case EncrChaCha20Poly1305:
		if t.KeyBits == 256 && t.Integrity == IntegNone {
			return nil
		}
	case EncrAESCBC:
		if (t.KeyBits == 128 || t.KeyBits == 192 || t.KeyBits == 256) && t.integKeyLen() != 0 {
			return nil
		}
	}
	return &ConfigError{Field: "transform", Reason: "unsupported " + t.String()}
}

func (t Transform) String() string {
	var e string
	switch t.Encryption {
	case EncrAESGCM16:
		e = fmt.Sprintf("aes%dgcm16", t.KeyBits)
	case EncrChaCha20Poly1305:
		e = "chacha20poly1305"
	case EncrAESCBC:
		e = fmt.Sprintf("aes%d", t.KeyBits)
	default:
		e = fmt.Sprintf("encr%d", t.Encryption)
	}
	switch t.Integrity {
	case IntegNone:
		return e
	case IntegHMACSHA2_256128:
		return e + "-sha256"
	case IntegHMACSHA2_384192:
		return e + "-sha384"
	case IntegHMACSHA2_512256:
		return e + "-sha512"
	}
	return fmt.Sprintf("%s-integ%d", e, t.Integrity)
}
