package ikev2

// ExchangeType is the IKE header's Exchange Type (RFC 7296 §3.1).
type ExchangeType uint8

const (
	ExchangeIKESAInit        ExchangeType = 34 // IKE_SA_INIT
	ExchangeIKEAuth          ExchangeType = 35 // IKE_AUTH
	ExchangeCreateChildSA    ExchangeType = 36 // CREATE_CHILD_SA
	ExchangeInformational    ExchangeType = 37 // INFORMATIONAL
	ExchangeIKESessionResume ExchangeType = 38 // IKE_SESSION_RESUME (RFC 5723)
	ExchangeIKEIntermediate  ExchangeType = 43 // IKE_INTERMEDIATE (RFC 9242)
	ExchangeIKEFollowupKE    ExchangeType = 44 // IKE_FOLLOWUP_KE (RFC 9370)
)

var exchangeNames = [...]string{
	34: "IKE_SA_INIT", 35: "IKE_AUTH", 36: "CREATE_CHILD_SA", 37: "INFORMATIONAL",
	38: "IKE_SESSION_RESUME", 43: "IKE_INTERMEDIATE", 44: "IKE_FOLLOWUP_KE",
}

func (t ExchangeType) String() string { return nameOr(exchangeNames[:], int(t), "EXCHANGE") }

// PayloadType is a Next Payload value (RFC 7296 §3.2, RFC 7383 §2.5).
type PayloadType uint8

const (
	PayloadNone     PayloadType = 0  // No Next Payload
	PayloadSA       PayloadType = 33 // Security Association
	PayloadKE       PayloadType = 34 // Key Exchange
	PayloadIDi      PayloadType = 35 // Identification - Initiator
	PayloadIDr      PayloadType = 36 // Identification - Responder
	PayloadCERT     PayloadType = 37 // Certificate
	PayloadCERTREQ  PayloadType = 38 // Certificate Request
	PayloadAUTH     PayloadType = 39 // Authentication
	PayloadNonce    PayloadType = 40 // Nonce (Ni, Nr)
	PayloadNotify   PayloadType = 41 // Notify (N)
	PayloadDelete   PayloadType = 42 // Delete (D)
	PayloadVendorID PayloadType = 43 // Vendor ID (V)
	PayloadTSi      PayloadType = 44 // Traffic Selector - Initiator
	PayloadTSr      PayloadType = 45 // Traffic Selector - Responder
	PayloadSK       PayloadType = 46 // Encrypted and Authenticated
	PayloadCP       PayloadType = 47 // Configuration
	PayloadEAP      PayloadType = 48 // Extensible Authentication
	PayloadSKF      PayloadType = 53 // Encrypted and Authenticated Fragment (RFC 7383)
)

var payloadNames = [...]string{
	0: "NONE", 33: "SA", 34: "KE", 35: "IDi", 36: "IDr", 37: "CERT", 38: "CERTREQ", 39: "AUTH",
	40: "Nonce", 41: "Notify", 42: "Delete", 43: "VendorID", 44: "TSi", 45: "TSr", 46: "SK",
	47: "CP", 48: "EAP", 53: "SKF",
}

func (t PayloadType) String() string { return nameOr(payloadNames[:], int(t), "PAYLOAD") }

// known reports whether this package decodes payloads of type t.
func (t PayloadType) known() bool {
	return (t >= PayloadSA && t <= PayloadEAP) || t == PayloadSKF
}

// ProtocolID is a Security Protocol Identifier (RFC 7296 §3.3.1).
type ProtocolID uint8

const (
	ProtocolNone ProtocolID = 0
	ProtocolIKE  ProtocolID = 1
	ProtocolAH   ProtocolID = 2
	ProtocolESP  ProtocolID = 3
)

var protocolNames = [...]string{0: "NONE", 1: "IKE", 2: "AH", 3: "ESP"}

func (p ProtocolID) String() string { return nameOr(protocolNames[:], int(p), "PROTOCOL") }

// TransformType is a transform's Transform Type (RFC 7296 §3.3.2).
type TransformType uint8

const (
	TransformENCR  TransformType = 1 // Encryption Algorithm
	TransformPRF   TransformType = 2 // Pseudorandom Function
	TransformINTEG TransformType = 3 // Integrity Algorithm
	TransformDH    TransformType = 4 // Diffie-Hellman Group (Key Exchange Method)
	TransformESN   TransformType = 5 // Extended Sequence Numbers
)

var transformTypeNames = [...]string{1: "ENCR", 2: "PRF", 3: "INTEG", 4: "D-H", 5: "ESN"}

func (t TransformType) String() string { return nameOr(transformTypeNames[:], int(t), "TRANSFORM") }

// EncrID is a Transform ID of type ENCR.
type EncrID uint16

const (
	EncrDESIV64          EncrID = 1
	EncrDES              EncrID = 2
	Encr3DES             EncrID = 3
	EncrNull             EncrID = 11
	EncrAESCBC           EncrID = 12
	EncrAESCTR           EncrID = 13
	EncrAESCCM8          EncrID = 14
	EncrAESCCM12         EncrID = 15
	EncrAESCCM16         EncrID = 16
	EncrAESGCM8          EncrID = 18
	EncrAESGCM12         EncrID = 19
	EncrAESGCM16         EncrID = 20
	EncrNullAuthAESGMAC  EncrID = 21
	EncrCamelliaCBC      EncrID = 23
	EncrCamelliaCTR      EncrID = 24
	EncrChaCha20Poly1305 EncrID = 28
)

var encrNames = [...]string{
	1: "ENCR_DES_IV64", 2: "ENCR_DES", 3: "ENCR_3DES", 4: "ENCR_RC5", 5: "ENCR_IDEA", 6: "ENCR_CAST",
	7: "ENCR_BLOWFISH", 8: "ENCR_3IDEA", 9: "ENCR_DES_IV32", 11: "ENCR_NULL", 12: "ENCR_AES_CBC",
	13: "ENCR_AES_CTR", 14: "ENCR_AES_CCM_8", 15: "ENCR_AES_CCM_12", 16: "ENCR_AES_CCM_16",
	18: "ENCR_AES_GCM_8", 19: "ENCR_AES_GCM_12", 20: "ENCR_AES_GCM_16", 21: "ENCR_NULL_AUTH_AES_GMAC",
	23: "ENCR_CAMELLIA_CBC", 24: "ENCR_CAMELLIA_CTR", 25: "ENCR_CAMELLIA_CCM_8",
	26: "ENCR_CAMELLIA_CCM_12", 27: "ENCR_CAMELLIA_CCM_16", 28: "ENCR_CHACHA20_POLY1305",
}

func (id EncrID) String() string { return nameOr(encrNames[:], int(id), "ENCR") }

// IsAEAD reports whether the algorithm is a combined mode (no INTEG transform).
func (id EncrID) IsAEAD() bool {
	switch id {
	case EncrAESCCM8, EncrAESCCM12, EncrAESCCM16, EncrAESGCM8, EncrAESGCM12, EncrAESGCM16,
		EncrNullAuthAESGMAC, 25, 26, 27, EncrChaCha20Poly1305:
		return true
	}
	return false
}

// PRFID is a Transform ID of type PRF.
type PRFID uint16

const (
	PRFHMACMD5      PRFID = 1
	PRFHMACSHA1     PRFID = 2
	PRFAES128XCBC   PRFID = 4
	PRFHMACSHA2_256 PRFID = 5
	PRFHMACSHA2_384 PRFID = 6
	PRFHMACSHA2_512 PRFID = 7
	PRFAES128CMAC   PRFID = 8
)

var prfNames = [...]string{
	1: "PRF_HMAC_MD5", 2: "PRF_HMAC_SHA1", 3: "PRF_HMAC_TIGER", 4: "PRF_AES128_XCBC",
	5: "PRF_HMAC_SHA2_256", 6: "PRF_HMAC_SHA2_384", 7: "PRF_HMAC_SHA2_512", 8: "PRF_AES128_CMAC",
}

func (id PRFID) String() string { return nameOr(prfNames[:], int(id), "PRF") }

// IntegID is a Transform ID of type INTEG.
type IntegID uint16

const (
	IntegNone             IntegID = 0
	IntegHMACMD5_96       IntegID = 1
	IntegHMACSHA1_96      IntegID = 2
	IntegAESXCBC96        IntegID = 5
	IntegAESCMAC96        IntegID = 8
	IntegAES128GMAC       IntegID = 9
	IntegAES192GMAC       IntegID = 10
	IntegAES256GMAC       IntegID = 11
	IntegHMACSHA2_256_128 IntegID = 12
	IntegHMACSHA2_384_192 IntegID = 13
	IntegHMACSHA2_512_256 IntegID = 14
)

var integNames = [...]string{
	0: "NONE", 1: "AUTH_HMAC_MD5_96", 2: "AUTH_HMAC_SHA1_96", 3: "AUTH_DES_MAC", 4: "AUTH_KPDK_MD5",
	5: "AUTH_AES_XCBC_96", 6: "AUTH_HMAC_MD5_128", 7: "AUTH_HMAC_SHA1_160", 8: "AUTH_AES_CMAC_96",
	9: "AUTH_AES_128_GMAC", 10: "AUTH_AES_192_GMAC", 11: "AUTH_AES_256_GMAC",
	12: "AUTH_HMAC_SHA2_256_128", 13: "AUTH_HMAC_SHA2_384_192", 14: "AUTH_HMAC_SHA2_512_256",
}

func (id IntegID) String() string { return nameOr(integNames[:], int(id), "AUTH") }

// DHGroup is a Diffie-Hellman group (Key Exchange Method) number, the
// Transform ID of a D-H transform and the group of a KE payload.
type DHGroup uint16

const (
	DHNone       DHGroup = 0
	DHMODP768    DHGroup = 1
	DHMODP1024   DHGroup = 2
	DHMODP1536   DHGroup = 5
	DHMODP2048   DHGroup = 14
	DHMODP3072   DHGroup = 15
	DHMODP4096   DHGroup = 16
	DHMODP6144   DHGroup = 17
	DHMODP8192   DHGroup = 18
	DHECP256     DHGroup = 19
	DHECP384     DHGroup = 20
	DHECP521     DHGroup = 21
	DHCurve25519 DHGroup = 31
	DHCurve448   DHGroup = 32
)

var dhNames = [...]string{
	0: "NONE", 1: "MODP_768", 2: "MODP_1024", 5: "MODP_1536", 14: "MODP_2048", 15: "MODP_3072",
	16: "MODP_4096", 17: "MODP_6144", 18: "MODP_8192", 19: "ECP_256", 20: "ECP_384", 21: "ECP_521",
	22: "MODP_1024_160", 23: "MODP_2048_224", 24: "MODP_2048_256", 25: "ECP_192", 26: "ECP_224",
	27: "ECP_224_BP", 28: "ECP_256_BP", 29: "ECP_384_BP", 30: "ECP_512_BP", 31: "CURVE_25519",
	32: "CURVE_448",
}

func (g DHGroup) String() string { return nameOr(dhNames[:], int(g), "DH") }

var dhKeyLens = [...]uint16{
	1: 96, 2: 128, 5: 192, 14: 256, 15: 384, 16: 512, 17: 768, 18: 1024,
	19: 64, 20: 96, 21: 132, 22: 128, 23: 256, 24: 256, 25: 48, 26: 56,
	27: 56, 28: 64, 29: 96, 30: 128, 31: 32, 32: 56,
}

// PublicKeyLen returns the length of the Key Exchange Data of a KE payload
// for group g (RFC 7296 §3.4, RFC 5903 §7, RFC 8031 §3.1), or 0 if unknown.
func (g DHGroup) PublicKeyLen() int {
	if int(g) < len(dhKeyLens) {
		return int(dhKeyLens[g])
	}
	return 0
}

// ESNMode is a Transform ID of type ESN.
type ESNMode uint16

const (
	ESNNo  ESNMode = 0 // No Extended Sequence Numbers
	ESNYes ESNMode = 1 // Extended Sequence Numbers
)

var esnNames = [...]string{0: "NO_ESN", 1: "ESN"}

func (m ESNMode) String() string { return nameOr(esnNames[:], int(m), "ESN") }

// AuthMethod is an AUTH payload's Auth Method (RFC 7296 §3.8, RFC 7427).
type AuthMethod uint8

const (
	AuthRSASignature     AuthMethod = 1  // RSA Digital Signature
	AuthSharedKeyMIC     AuthMethod = 2  // Shared Key Message Integrity Code (PSK)
	AuthDSSSignature     AuthMethod = 3  // DSS Digital Signature
	AuthECDSASHA256P256  AuthMethod = 9  // RFC 4754
	AuthECDSASHA384P384  AuthMethod = 10 // RFC 4754
	AuthECDSASHA512P521  AuthMethod = 11 // RFC 4754
	AuthGenericSecurePwd AuthMethod = 12 // RFC 6467
	AuthNull             AuthMethod = 13 // RFC 7619
	AuthDigitalSignature AuthMethod = 14 // RFC 7427
)

var authNames = [...]string{
	1: "RSA_SIG", 2: "PSK", 3: "DSS_SIG", 9: "ECDSA_SHA256_P256", 10: "ECDSA_SHA384_P384",
	11: "ECDSA_SHA512_P521", 12: "GSPAM", 13: "NULL", 14: "DIGITAL_SIGNATURE",
}

func (m AuthMethod) String() string { return nameOr(authNames[:], int(m), "AUTH_METHOD") }

// IDType is an Identification payload's ID Type (RFC 7296 §3.5).
type IDType uint8

const (
	IDIPv4Addr   IDType = 1
	IDFQDN       IDType = 2
	IDRFC822Addr IDType = 3
	IDIPv6Addr   IDType = 5
	IDDERASN1DN  IDType = 9
	IDDERASN1GN  IDType = 10
	IDKeyID      IDType = 11
	IDNull       IDType = 13 // RFC 7619
)

var idNames = [...]string{
	1: "ID_IPV4_ADDR", 2: "ID_FQDN", 3: "ID_RFC822_ADDR", 5: "ID_IPV6_ADDR", 9: "ID_DER_ASN1_DN",
	10: "ID_DER_ASN1_GN", 11: "ID_KEY_ID", 12: "ID_FC_NAME", 13: "ID_NULL",
}

func (t IDType) String() string { return nameOr(idNames[:], int(t), "ID") }

// CertEncoding is a CERT or CERTREQ payload's Cert Encoding (RFC 7296 §3.6).
type CertEncoding uint8

const (
	CertPKCS7             CertEncoding = 1
	CertPGP               CertEncoding = 2
	CertDNSSignedKey      CertEncoding = 3
	CertX509Signature     CertEncoding = 4
	CertKerberos          CertEncoding = 6
	CertCRL               CertEncoding = 7
	CertARL               CertEncoding = 8
	CertSPKI              CertEncoding = 9
	CertX509Attribute     CertEncoding = 10
	CertHashURLX509       CertEncoding = 12
	CertHashURLX509Bundle CertEncoding = 13
	CertOCSPContent       CertEncoding = 14 // RFC 4806
	CertRawPublicKey      CertEncoding = 15 // RFC 7670
)

var certNames = [...]string{
	1: "PKCS7", 2: "PGP", 3: "DNS_SIGNED_KEY", 4: "X509_SIGNATURE", 6: "KERBEROS", 7: "CRL",
	8: "ARL", 9: "SPKI", 10: "X509_ATTRIBUTE", 11: "RAW_RSA_KEY", 12: "HASH_URL_X509",
	13: "HASH_URL_X509_BUNDLE", 14: "OCSP_CONTENT", 15: "RAW_PUBLIC_KEY",
}

func (e CertEncoding) String() string { return nameOr(certNames[:], int(e), "CERT") }

// TSType is a Traffic Selector's TS Type (RFC 7296 §3.13.1).
type TSType uint8

const (
	TSIPv4AddrRange TSType = 7
	TSIPv6AddrRange TSType = 8
)

var tsNames = [...]string{7: "TS_IPV4_ADDR_RANGE", 8: "TS_IPV6_ADDR_RANGE", 9: "TS_FC_ADDR_RANGE", 10: "TS_SECLABEL"}

func (t TSType) String() string { return nameOr(tsNames[:], int(t), "TS") }

// CFGType is a Configuration payload's CFG Type (RFC 7296 §3.15).
type CFGType uint8

const (
	CFGRequest CFGType = 1
	CFGReply   CFGType = 2
	CFGSet     CFGType = 3
	CFGAck     CFGType = 4
)

var cfgNames = [...]string{1: "CFG_REQUEST", 2: "CFG_REPLY", 3: "CFG_SET", 4: "CFG_ACK"}

func (t CFGType) String() string { return nameOr(cfgNames[:], int(t), "CFG") }

// HashAlgorithm is a hash algorithm identifier carried in the
// SIGNATURE_HASH_ALGORITHMS notification (RFC 7427 §4, RFC 8420).
type HashAlgorithm uint16

const (
	HashSHA1     HashAlgorithm = 1
	HashSHA2_256 HashAlgorithm = 2
	HashSHA2_384 HashAlgorithm = 3
	HashSHA2_512 HashAlgorithm = 4
	HashIdentity HashAlgorithm = 5
)

var hashNames = [...]string{1: "SHA1", 2: "SHA2_256", 3: "SHA2_384", 4: "SHA2_512", 5: "IDENTITY"}

func (h HashAlgorithm) String() string { return nameOr(hashNames[:], int(h), "HASH") }
