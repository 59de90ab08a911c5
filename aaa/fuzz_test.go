package aaa

import (
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/vendors/microsoft"

	wire "mip6/wire/eap"
)

// FuzzAnswer processes arbitrary bytes as a verified RADIUS answer: the
// framing checks, EAP-Message reassembly and MS-MPPE decryption must fail
// cleanly, never panic.
func FuzzAnswer(f *testing.F) {
	secret := []byte("s")
	req := radius.New(radius.CodeAccessRequest, secret)
	for _, code := range []radius.Code{radius.CodeAccessAccept, radius.CodeAccessChallenge, radius.CodeAccessReject} {
		p := req.Response(code)
		msg, _ := wire.Append(nil, wire.CodeRequest, 1, wire.Identity(nil))
		if code == radius.CodeAccessAccept {
			msg, _ = wire.Append(nil, wire.CodeSuccess, 1, nil)
			microsoft.MSMPPERecvKey_Add(p, make([]byte, 32))
			microsoft.MSMPPESendKey_Add(p, make([]byte, 32))
			rfc2865.UserName_SetString(p, "alice")
		}
		addEAPMessage(p, msg)
		rfc2865.State_Set(p, []byte("st"))
		b, _ := p.Encode()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !validLength(b) {
			return
		}
		if off := findMA(b); off >= 0 {
			messageAuthenticator(b, off, req.Authenticator[:], secret)
		}
		answer, err := radius.Parse(b, secret)
		if err != nil {
			return
		}
		c := &radiusConversation{a: &EAPAuthenticator{Client: &Client{}}, identity: "alice"}
		out, err := c.outcome(answer, req.Authenticator[:], Server{Addr: "fuzz", Secret: secret})
		if err == nil && out.Accepted && out.MSK != nil && len(out.MSK) < 64 {
			t.Fatalf("short MSK %x", out.MSK)
		}
	})
}
