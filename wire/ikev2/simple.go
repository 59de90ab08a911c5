package ikev2

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// KE is the Key Exchange payload (RFC 7296 §3.4).
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Diffie-Hellman Group Num    |           RESERVED            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                       Key Exchange Data                       ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The parser does not check len(Data) against Group.PublicKeyLen(): the
// engine does, for the groups it supports (INVALID_SYNTAX otherwise).
type KE struct {
	Group DHGroup
	Data  []byte
}

func (*KE) PayloadType() PayloadType { return PayloadKE }

func (p *KE) AppendBody(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, uint16(p.Group))
	return append(append(b, 0, 0), p.Data...), nil
}

func parseKE(b []byte) (*KE, error) {
	if len(b) < 4 {
		return nil, errf("KE", "", "length", ProblemShort, len(b)+4, 8)
	}
	return &KE{Group: DHGroup(binary.BigEndian.Uint16(b)), Data: orNil(b[4:])}, nil
}

// ID is the Identification payload, IDi or IDr (RFC 7296 §3.5).
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   ID Type     |                 RESERVED                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                   Identification Data                         ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The AUTH computation (RFC 7296 §2.15) signs the body of this payload:
// AppendBody gives exactly those octets (RestOfInitIDPayload).
type ID struct {
	Responder bool // IDr rather than IDi
	Type      IDType
	Data      []byte
}

// IDFromAddr returns an ID_IPV4_ADDR or ID_IPV6_ADDR identity.
func IDFromAddr(a netip.Addr) ID {
	if a.Is4() {
		v := a.As4()
		return ID{Type: IDIPv4Addr, Data: v[:]}
	}
	v := a.As16()
	return ID{Type: IDIPv6Addr, Data: v[:]}
}

// Addr returns the address of an ID_IPV4_ADDR or ID_IPV6_ADDR identity.
func (p *ID) Addr() (netip.Addr, bool) {
	switch {
	case p.Type == IDIPv4Addr && len(p.Data) == 4:
		return netip.AddrFrom4([4]byte(p.Data)), true
	case p.Type == IDIPv6Addr && len(p.Data) == 16:
		return netip.AddrFrom16([16]byte(p.Data)), true
	}
	return netip.Addr{}, false
}

// String renders the identity for logs: addresses and names as text, other
// types as type and length.
func (p *ID) String() string {
	if a, ok := p.Addr(); ok {
		return a.String()
	}
	switch p.Type {
	case IDFQDN, IDRFC822Addr:
		return string(p.Data)
	}
	return p.Type.String() + "(" + strconv.Itoa(len(p.Data)) + " octets)"
}

func (p *ID) PayloadType() PayloadType {
	if p.Responder {
		return PayloadIDr
	}
	return PayloadIDi
}

func (p *ID) AppendBody(b []byte) ([]byte, error) {
	if err := checkIDData(p.PayloadType().String(), p.Type, len(p.Data), true); err != nil {
		return b, err
	}
	return append(append(b, byte(p.Type), 0, 0, 0), p.Data...), nil
}

// checkIDData enforces the fixed lengths of address identities and the
// emptiness rules of RFC 7296 §3.5 and RFC 7619.
func checkIDData(where string, t IDType, n int, enc bool) error {
	mk := errf
	if enc {
		mk = encErr
	}
	switch t {
	case IDIPv4Addr:
		if n != 4 {
			return mk(where, "", "ID_IPV4_ADDR length", ProblemMismatch, n, 4)
		}
	case IDIPv6Addr:
		if n != 16 {
			return mk(where, "", "ID_IPV6_ADDR length", ProblemMismatch, n, 16)
		}
	case IDNull:
		if n != 0 {
			return mk(where, "", "ID_NULL length", ProblemMismatch, n, 0)
		}
	case IDFQDN, IDRFC822Addr, IDDERASN1DN, IDDERASN1GN, IDKeyID:
		if n == 0 {
			return mk(where, "", "identification data length", ProblemShort, 0, 1)
		}
	}
	return nil
}

func parseID(t PayloadType, b []byte) (*ID, error) {
	if len(b) < 4 {
		return nil, errf(t.String(), "", "length", ProblemShort, len(b)+4, 8)
	}
	p := &ID{Responder: t == PayloadIDr, Type: IDType(b[0]), Data: orNil(b[4:])}
	if err := checkIDData(t.String(), p.Type, len(p.Data), false); err != nil {
		return nil, err
	}
	return p, nil
}

// Cert is the Certificate payload (RFC 7296 §3.6).
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Cert Encoding |                                               |
//	+-+-+-+-+-+-+-+-+                                               |
//	~                       Certificate Data                        ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Cert struct {
	Encoding CertEncoding
	Data     []byte
}

func (*Cert) PayloadType() PayloadType { return PayloadCERT }

func (p *Cert) AppendBody(b []byte) ([]byte, error) {
	return append(append(b, byte(p.Encoding)), p.Data...), nil
}

func parseCert(b []byte) (*Cert, error) {
	if len(b) < 1 {
		return nil, errf("CERT", "", "length", ProblemShort, len(b)+4, 5)
	}
	return &Cert{Encoding: CertEncoding(b[0]), Data: orNil(b[1:])}, nil
}

// CertReq is the Certificate Request payload (RFC 7296 §3.7). For X.509
// encodings, Authority holds concatenated 20-octet SHA-1 hashes of trusted
// CAs' public keys; see CAHashes.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Cert Encoding |                                               |
//	+-+-+-+-+-+-+-+-+                                               |
//	~                    Certification Authority                    ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type CertReq struct {
	Encoding  CertEncoding
	Authority []byte
}

func (*CertReq) PayloadType() PayloadType { return PayloadCERTREQ }

func (p *CertReq) AppendBody(b []byte) ([]byte, error) {
	return append(append(b, byte(p.Encoding)), p.Authority...), nil
}

// CAHashes splits Authority into 20-octet SHA-1 hashes; the slices alias it.
func (p *CertReq) CAHashes() ([][]byte, error) {
	if len(p.Authority)%20 != 0 {
		return nil, errf("CERTREQ", "", "certification authority length", ProblemInvalid, len(p.Authority), 0)
	}
	out := make([][]byte, 0, len(p.Authority)/20)
	for a := p.Authority; len(a) > 0; a = a[20:] {
		out = append(out, a[:20])
	}
	return out, nil
}

func parseCertReq(b []byte) (*CertReq, error) {
	if len(b) < 1 {
		return nil, errf("CERTREQ", "", "length", ProblemShort, len(b)+4, 5)
	}
	return &CertReq{Encoding: CertEncoding(b[0]), Authority: orNil(b[1:])}, nil
}

// Auth is the Authentication payload (RFC 7296 §3.8). For Digital Signature
// (RFC 7427) Data starts with the ASN.1 AlgorithmIdentifier; see
// SplitSignatureAuth.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Auth Method   |                RESERVED                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                      Authentication Data                      ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Auth struct {
	Method AuthMethod
	Data   []byte
}

func (*Auth) PayloadType() PayloadType { return PayloadAUTH }

func (p *Auth) AppendBody(b []byte) ([]byte, error) {
	return append(append(b, byte(p.Method), 0, 0, 0), p.Data...), nil
}

func parseAuth(b []byte) (*Auth, error) {
	if len(b) < 4 {
		return nil, errf("AUTH", "", "length", ProblemShort, len(b)+4, 8)
	}
	if len(b) == 4 {
		return nil, errf("AUTH", "", "authentication data length", ProblemShort, 0, 1)
	}
	return &Auth{Method: AuthMethod(b[0]), Data: orNil(b[4:])}, nil
}

// SplitSignatureAuth splits the Authentication Data of a Digital Signature
// AUTH payload (RFC 7427 §3) into the DER AlgorithmIdentifier and the
// signature value; both alias data.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| ASN.1 Length  | AlgorithmIdentifier ASN.1 object              |
//	+-+-+-+-+-+-+-+-+                                               +
//	~                           Signature Value                     ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
func SplitSignatureAuth(data []byte) (algorithm, signature []byte, err error) {
	if len(data) < 1 {
		return nil, nil, errf("AUTH", "", "ASN.1 length", ProblemOverrun, 1, 0)
	}
	n := int(data[0])
	if 1+n > len(data) {
		return nil, nil, errf("AUTH", "", "ASN.1 length", ProblemOverrun, n, len(data)-1)
	}
	return data[1 : 1+n], data[1+n:], nil
}

// AppendSignatureAuth appends Authentication Data for a Digital Signature
// AUTH payload: the AlgorithmIdentifier length, the identifier, the signature.
func AppendSignatureAuth(b, algorithm, signature []byte) ([]byte, error) {
	if len(algorithm) > 255 {
		return b, encErr("AUTH", "", "ASN.1 length", ProblemLong, len(algorithm), 255)
	}
	b = append(b, byte(len(algorithm)))
	return append(append(b, algorithm...), signature...), nil
}

// Nonce is the Nonce payload, Ni or Nr (RFC 7296 §3.9): 16 to 256 octets.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                            Nonce Data                         ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Nonce struct {
	Data []byte
}

// Nonce length limits (RFC 7296 §3.9).
const (
	MinNonceLen = 16
	MaxNonceLen = 256
)

func (*Nonce) PayloadType() PayloadType { return PayloadNonce }

func (p *Nonce) AppendBody(b []byte) ([]byte, error) {
	if err := checkNonce(len(p.Data), encErr); err != nil {
		return b, err
	}
	return append(b, p.Data...), nil
}

func checkNonce(n int, mk func(string, string, string, Problem, int, int) error) error {
	if n < MinNonceLen {
		return mk("Nonce", "", "nonce data length", ProblemShort, n, MinNonceLen)
	}
	if n > MaxNonceLen {
		return mk("Nonce", "", "nonce data length", ProblemLong, n, MaxNonceLen)
	}
	return nil
}

func parseNonce(b []byte) (*Nonce, error) {
	if err := checkNonce(len(b), errf); err != nil {
		return nil, err
	}
	return &Nonce{Data: b}, nil
}

// VendorID is the Vendor ID payload (RFC 7296 §3.12).
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                        Vendor ID (VID)                        ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type VendorID struct {
	Data []byte
}

func (*VendorID) PayloadType() PayloadType { return PayloadVendorID }

func (p *VendorID) AppendBody(b []byte) ([]byte, error) { return append(b, p.Data...), nil }

// EAP is the Extensible Authentication payload (RFC 7296 §3.16). Data is one
// whole EAP message (RFC 3748), decoded by another package; the parser only
// checks that its Length field matches.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                       EAP Message                             ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Code      | Identifier    |           Length              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      | Type_Data...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type EAP struct {
	Data []byte
}

func (*EAP) PayloadType() PayloadType { return PayloadEAP }

func (p *EAP) AppendBody(b []byte) ([]byte, error) {
	if err := checkEAP(p.Data, encErr); err != nil {
		return b, err
	}
	return append(b, p.Data...), nil
}

func checkEAP(d []byte, mk func(string, string, string, Problem, int, int) error) error {
	if len(d) < 4 {
		return mk("EAP", "", "EAP message length", ProblemShort, len(d), 4)
	}
	if l := int(binary.BigEndian.Uint16(d[2:4])); l != len(d) {
		return mk("EAP", "", "EAP Length", ProblemMismatch, l, len(d))
	}
	return nil
}

func parseEAP(b []byte) (*EAP, error) {
	if err := checkEAP(b, errf); err != nil {
		return nil, err
	}
	return &EAP{Data: b}, nil
}
