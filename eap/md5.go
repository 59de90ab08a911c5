package eap

import (
	"crypto/md5"

	wire "mip6/wire/eap"
)

// MD5 is the peer side of EAP-MD5-Challenge (RFC 3748 §5.4). It
// authenticates the peer only and derives no MSK, so IKEv2 must not rely
// on it for mutual authentication (RFC 7296 §2.16).
type MD5 struct {
	Name     string // the Name field of the response, usually the identity
	Password string
	done     bool
}

// NewMD5 returns an EAP-MD5 method for a user name and password.
func NewMD5(name, password string) *MD5 { return &MD5{Name: name, Password: password} }

func (m *MD5) Type() wire.Type { return wire.TypeMD5Challenge }
func (m *MD5) Done() bool      { return m.done }
func (m *MD5) MSK() []byte     { return nil }

// Process answers a challenge with MD5(Identifier || password || challenge) (RFC 1994 §4.1).
func (m *MD5) Process(req *wire.Packet) (wire.Body, error) {
	var c wire.MD5Challenge
	if err := wire.ParseMD5Challenge(req.TypeData, &c); err != nil {
		return nil, &ProtocolError{Method: m.Type(), Detail: "malformed challenge", Err: err}
	}
	v := md5Response(req.Identifier, m.Password, c.Value)
	m.done = true
	return &wire.MD5Challenge{Value: v[:], Name: []byte(m.Name)}, nil
}

func md5Response(id uint8, password string, challenge []byte) [16]byte {
	h := md5.New()
	h.Write([]byte{id})
	h.Write([]byte(password))
	h.Write(challenge)
	var out [16]byte
	h.Sum(out[:0])
	return out
}
