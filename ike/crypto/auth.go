package crypto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// AuthMethod is the Auth Method field of the AUTH payload (§3.8).
type AuthMethod uint8

// Methods implemented here.
const (
	AuthRSASignature     AuthMethod = 1  // RSASSA-PKCS1-v1_5 with SHA-1 (§3.8)
	AuthSharedKeyMIC     AuthMethod = 2  // pre-shared key
	AuthECDSA256         AuthMethod = 9  // RFC 4754
	AuthECDSA384         AuthMethod = 10 // RFC 4754
	AuthECDSA521         AuthMethod = 11 // RFC 4754
	AuthDigitalSignature AuthMethod = 14 // RFC 7427
)

func (m AuthMethod) String() string {
	switch m {
	case AuthRSASignature:
		return "RSA_SIG"
	case AuthSharedKeyMIC:
		return "PSK"
	case AuthECDSA256:
		return "ECDSA_256"
	case AuthECDSA384:
		return "ECDSA_384"
	case AuthECDSA521:
		return "ECDSA_521"
	case AuthDigitalSignature:
		return "DIGITAL_SIGNATURE"
	}
	return fmt.Sprintf("AUTH(%d)", uint8(m))
}

// HashAlgorithm is an RFC 7427 hash identifier (SIGNATURE_HASH_ALGORITHMS).
type HashAlgorithm uint16

// Hashes accepted for RFC 7427 signatures (SHA-1 is not).
const (
	HashSHA2_256 HashAlgorithm = 2
	HashSHA2_384 HashAlgorithm = 3
	HashSHA2_512 HashAlgorithm = 4
)

// SupportedHashes are announced in SIGNATURE_HASH_ALGORITHMS.
var SupportedHashes = []HashAlgorithm{HashSHA2_256, HashSHA2_384, HashSHA2_512}

func (h HashAlgorithm) crypto() crypto.Hash {
	switch h {
	case HashSHA2_256:
		return crypto.SHA256
	case HashSHA2_384:
		return crypto.SHA384
	case HashSHA2_512:
		return crypto.SHA512
	}
	return 0
}

// keyPad is the §2.15 constant for shared-secret authentication.
var keyPad = []byte("Key Pad for IKEv2")

// SignedOctets builds the data an AUTH payload covers (§2.15):
//
//	RealMessage | NonceData of the peer | prf(SK_p, RestOfIDPayload)
//
// where message is this side's IKE_SA_INIT message, peerNonce the other
// side's nonce data, skp this side's SK_pi or SK_pr and idBody the ID
// payload body after the generic header (ID Type, RESERVED, data).
func SignedOctets(p *PRF, message, peerNonce, skp, idBody []byte) []byte {
	out := make([]byte, 0, len(message)+len(peerNonce)+p.Size())
	out = append(append(out, message...), peerNonce...)
	return append(out, p.Sum(skp, idBody)...)
}

// SharedKeyAuth is AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"),
// <SignedOctets>) for a pre-shared key or an EAP MSK (§2.15, §2.16).
func SharedKeyAuth(p *PRF, secret, signed []byte) []byte {
	return p.Sum(p.Sum(secret, keyPad), signed)
}

// VerifySharedKeyAuth compares in constant time.
func VerifySharedKeyAuth(p *PRF, secret, signed, auth []byte) bool {
	return hmac.Equal(SharedKeyAuth(p, secret, signed), auth)
}

// Object identifiers of RFC 7427 Appendix A.
var (
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidRSASSAPSS       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type pssParameters struct {
	Hash         algorithmIdentifier `asn1:"explicit,tag:0"`
	MGF          algorithmIdentifier `asn1:"explicit,tag:1"`
	SaltLength   int                 `asn1:"explicit,tag:2,default:20"`
	TrailerField int                 `asn1:"optional,explicit,tag:3,default:1"`
}

var asn1Null = asn1.RawValue{Tag: asn1.TagNull}

// SignatureScheme is how this side signs with its private key.
type SignatureScheme struct {
	// Hash is the RFC 7427 hash; 0 picks SHA2-256, or the curve's
	// matching hash for ECDSA.
	Hash HashAlgorithm
	// PSS selects RSASSA-PSS over PKCS#1 v1.5 for RSA keys.
	PSS bool
}

// Sign computes AUTH data for a private key. With digital signatures
// (RFC 7427, method 14, used when the peer announced
// SIGNATURE_HASH_ALGORITHMS that include the hash) the data starts with the
// AlgorithmIdentifier; otherwise the classic methods 1 (RSA, SHA-1) and
// 9/10/11 (ECDSA, RFC 4754) are used.
func Sign(signer crypto.Signer, scheme SignatureScheme, peerHashes []HashAlgorithm, signed []byte, rand io.Reader) (AuthMethod, []byte, error) {
	h := scheme.Hash
	switch k := signer.Public().(type) {
	case *ecdsa.PublicKey:
		if h == 0 {
			h = curveHash(k)
		}
	case *rsa.PublicKey:
		if h == 0 {
			h = HashSHA2_256
		}
	case ed25519.PublicKey:
		h = 0
	default:
		return 0, nil, fmt.Errorf("ike/crypto: unsupported private key type %T", k)
	}
	if h != 0 && !containsHash(peerHashes, h) {
		return signClassic(signer, signed, rand)
	}
	alg, sig, err := signDigital(signer, h, scheme.PSS, signed, rand)
	if err != nil {
		return 0, nil, err
	}
	if len(alg) > 255 {
		return 0, nil, errors.New("ike/crypto: AlgorithmIdentifier too long")
	}
	out := make([]byte, 0, 1+len(alg)+len(sig))
	out = append(append(append(out, byte(len(alg))), alg...), sig...)
	return AuthDigitalSignature, out, nil
}

func containsHash(list []HashAlgorithm, h HashAlgorithm) bool {
	for _, x := range list {
		if x == h {
			return true
		}
	}
	return false
}

func curveHash(k *ecdsa.PublicKey) HashAlgorithm {
	switch k.Curve.Params().BitSize {
	case 384:
		return HashSHA2_384
	case 521:
		return HashSHA2_512
	}
	return HashSHA2_256
}

func digest(h crypto.Hash, data []byte) []byte {
	switch h {
	case crypto.SHA1:
		d := sha1.Sum(data)
		return d[:]
	case crypto.SHA256:
		d := sha256.Sum256(data)
		return d[:]
	case crypto.SHA384:
		d := sha512.Sum384(data)
		return d[:]
	}
	d := sha512.Sum512(data)
	return d[:]
}

func hashOID(h HashAlgorithm) asn1.ObjectIdentifier {
	switch h {
	case HashSHA2_384:
		return oidSHA384
	case HashSHA2_512:
		return oidSHA512
	}
	return oidSHA256
}

func signDigital(signer crypto.Signer, h HashAlgorithm, pss bool, signed []byte, rand io.Reader) (alg, sig []byte, err error) {
	var ai algorithmIdentifier
	var opts crypto.SignerOpts = h.crypto()
	switch signer.Public().(type) {
	case *ecdsa.PublicKey:
		ai.Algorithm = map[HashAlgorithm]asn1.ObjectIdentifier{HashSHA2_256: oidECDSAWithSHA256, HashSHA2_384: oidECDSAWithSHA384, HashSHA2_512: oidECDSAWithSHA512}[h]
	case *rsa.PublicKey:
		if pss {
			params, err := asn1.Marshal(pssParameters{
				Hash:         algorithmIdentifier{Algorithm: hashOID(h), Parameters: asn1Null},
				MGF:          algorithmIdentifier{Algorithm: oidMGF1, Parameters: mustRaw(algorithmIdentifier{Algorithm: hashOID(h), Parameters: asn1Null})},
				SaltLength:   h.crypto().Size(),
				TrailerField: 1,
			})
			if err != nil {
				return nil, nil, err
			}
			ai = algorithmIdentifier{Algorithm: oidRSASSAPSS, Parameters: asn1.RawValue{FullBytes: params}}
			opts = &rsa.PSSOptions{SaltLength: h.crypto().Size(), Hash: h.crypto()}
		} else {
			ai = algorithmIdentifier{Algorithm: map[HashAlgorithm]asn1.ObjectIdentifier{HashSHA2_256: oidSHA256WithRSA, HashSHA2_384: oidSHA384WithRSA, HashSHA2_512: oidSHA512WithRSA}[h], Parameters: asn1Null}
		}
	case ed25519.PublicKey:
		ai.Algorithm = oidEd25519
		sig, err = signer.Sign(rand, signed, crypto.Hash(0))
		if err != nil {
			return nil, nil, err
		}
		alg, err = asn1.Marshal(ai)
		return alg, sig, err
	}
	if alg, err = asn1.Marshal(ai); err != nil {
		return nil, nil, err
	}
	sig, err = signer.Sign(rand, digest(h.crypto(), signed), opts)
	return alg, sig, err // crypto/ecdsa already emits ECDSA-Sig-Value (RFC 7427 §3)
}

func mustRaw(v any) asn1.RawValue {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return asn1.RawValue{FullBytes: b}
}

func signClassic(signer crypto.Signer, signed []byte, rand io.Reader) (AuthMethod, []byte, error) {
	switch k := signer.Public().(type) {
	case *rsa.PublicKey:
		sig, err := signer.Sign(rand, digest(crypto.SHA1, signed), crypto.SHA1)
		return AuthRSASignature, sig, err
	case *ecdsa.PublicKey:
		m, h := classicECDSA(k)
		if m == 0 {
			return 0, nil, errors.New("ike/crypto: no classic ECDSA method for this curve")
		}
		der, err := signer.Sign(rand, digest(h, signed), h)
		if err != nil {
			return 0, nil, err
		}
		rs, err := derToRS(der, (k.Curve.Params().BitSize+7)/8)
		return m, rs, err
	}
	return 0, nil, errors.New("ike/crypto: peer supports no signature hash this key can use")
}

func classicECDSA(k *ecdsa.PublicKey) (AuthMethod, crypto.Hash) {
	switch k.Curve.Params().BitSize {
	case 256:
		return AuthECDSA256, crypto.SHA256
	case 384:
		return AuthECDSA384, crypto.SHA384
	case 521:
		return AuthECDSA521, crypto.SHA512
	}
	return 0, 0
}

type ecdsaSig struct{ R, S *big.Int }

func derToRS(der []byte, n int) ([]byte, error) {
	var s ecdsaSig
	if rest, err := asn1.Unmarshal(der, &s); err != nil || len(rest) != 0 {
		return nil, errors.New("ike/crypto: bad ECDSA signature encoding")
	}
	out := make([]byte, 2*n)
	s.R.FillBytes(out[:n])
	s.S.FillBytes(out[n:])
	return out, nil
}

// ErrSignature reports an AUTH payload whose signature does not verify or
// whose algorithm is not acceptable for the key.
var ErrSignature = errors.New("ike/crypto: AUTH signature invalid")

// VerifySignature checks signature-based AUTH data against the peer's
// public key (from its certificate).
func VerifySignature(pub crypto.PublicKey, method AuthMethod, data, signed []byte) error {
	switch method {
	case AuthRSASignature:
		k, ok := pub.(*rsa.PublicKey)
		if !ok || rsa.VerifyPKCS1v15(k, crypto.SHA1, digest(crypto.SHA1, signed), data) != nil {
			return ErrSignature
		}
		return nil
	case AuthECDSA256, AuthECDSA384, AuthECDSA521:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return ErrSignature
		}
		m, h := classicECDSA(k)
		n := (k.Curve.Params().BitSize + 7) / 8
		if m != method || len(data) != 2*n {
			return ErrSignature
		}
		r, s := new(big.Int).SetBytes(data[:n]), new(big.Int).SetBytes(data[n:])
		if !ecdsa.Verify(k, digest(h, signed), r, s) {
			return ErrSignature
		}
		return nil
	case AuthDigitalSignature:
		return verifyDigital(pub, data, signed)
	}
	return &UnsupportedError{Kind: "auth method", ID: uint16(method)}
}

func verifyDigital(pub crypto.PublicKey, data, signed []byte) error {
	if len(data) < 1 || len(data) < 1+int(data[0]) {
		return ErrSignature
	}
	algDER, sig := data[1:1+int(data[0])], data[1+int(data[0]):]
	var ai algorithmIdentifier
	if rest, err := asn1.Unmarshal(algDER, &ai); err != nil || len(rest) != 0 {
		return ErrSignature
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		h := map[string]crypto.Hash{oidECDSAWithSHA256.String(): crypto.SHA256, oidECDSAWithSHA384.String(): crypto.SHA384, oidECDSAWithSHA512.String(): crypto.SHA512}[ai.Algorithm.String()]
		if h == 0 || !ecdsa.VerifyASN1(k, digest(h, signed), sig) {
			return ErrSignature
		}
		return nil
	case *rsa.PublicKey:
		return verifyRSA(k, ai, sig, signed)
	case ed25519.PublicKey:
		if !ai.Algorithm.Equal(oidEd25519) || !ed25519.Verify(k, signed, sig) {
			return ErrSignature
		}
		return nil
	}
	return ErrSignature
}

func verifyRSA(k *rsa.PublicKey, ai algorithmIdentifier, sig, signed []byte) error {
	if ai.Algorithm.Equal(oidRSASSAPSS) {
		var p pssParameters
		if _, err := asn1.Unmarshal(ai.Parameters.FullBytes, &p); err != nil {
			return ErrSignature
		}
		h := map[string]crypto.Hash{oidSHA256.String(): crypto.SHA256, oidSHA384.String(): crypto.SHA384, oidSHA512.String(): crypto.SHA512}[p.Hash.Algorithm.String()]
		if h == 0 || rsa.VerifyPSS(k, h, digest(h, signed), sig, &rsa.PSSOptions{SaltLength: p.SaltLength, Hash: h}) != nil {
			return ErrSignature
		}
		return nil
	}
	h := map[string]crypto.Hash{oidSHA256WithRSA.String(): crypto.SHA256, oidSHA384WithRSA.String(): crypto.SHA384, oidSHA512WithRSA.String(): crypto.SHA512}[ai.Algorithm.String()]
	if h == 0 || rsa.VerifyPKCS1v15(k, h, digest(h, signed), sig) != nil {
		return ErrSignature
	}
	return nil
}
