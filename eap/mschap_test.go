package eap

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 2759 §9.2 and RFC 3079 §3.5.3 known-answer vectors.
func TestMSCHAPv2Vectors(t *testing.T) {
	const user, password = "User", "clientPass"
	authChallenge := unhex(t, "5b5d7c7d7b3f2f3e3c2c602132262628")
	peerChallenge := unhex(t, "21402324255e262a28295f2b3a337c7e")

	if got := challengeHash(peerChallenge, authChallenge, user); !bytes.Equal(got[:], unhex(t, "d02e4386bce91226")) {
		t.Errorf("ChallengeHash %x", got)
	}
	pwHash := ntPasswordHash(password)
	if !bytes.Equal(pwHash[:], unhex(t, "44ebba8d5312b8d611474411f56989ae")) {
		t.Errorf("NtPasswordHash %x", pwHash)
	}
	if hh := hashNTPasswordHash(pwHash); !bytes.Equal(hh[:], unhex(t, "41c00c584bd2d91c4017a2a12fa59f3f")) {
		t.Errorf("PasswordHashHash %x", hh)
	}
	nt := generateNTResponse(authChallenge, peerChallenge, user, password)
	if !bytes.Equal(nt[:], unhex(t, "82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df")) {
		t.Errorf("NT-Response %x", nt)
	}
	if got := generateAuthenticatorResponse(password, nt, peerChallenge, authChallenge, user); got != "407A5589115FD0D6209F510FE9C04566932CDA56" {
		t.Errorf("AuthenticatorResponse %s", got)
	}
	mk := masterKey(password, nt)
	if !bytes.Equal(mk[:], unhex(t, "fdece3717a8c838cb388e527ae3cdd31")) {
		t.Errorf("MasterKey %x", mk)
	}
	// RFC 3079 §3.5.3 gives the server's send key (Magic3).
	send := asymmetricStartKey(mk, mppeMagic3)
	if !bytes.Equal(send[:], unhex(t, "8b7cdc149b993a1ba118cb153f56dccb")) {
		t.Errorf("SendStartKey128 %x", send)
	}
	// MSK = server receive key | server send key | 32 zero bytes.
	recv := asymmetricStartKey(mk, mppeMagic2)
	msk := mschapv2MSK(password, nt)
	if len(msk) != 64 || !bytes.Equal(msk[:16], recv[:]) || !bytes.Equal(msk[16:32], send[:]) || !bytes.Equal(msk[32:], make([]byte, 32)) {
		t.Errorf("MSK %x", msk)
	}
	// A domain prefix is not part of the hashed user name (RFC 2759 §4).
	if d := generateNTResponse(authChallenge, peerChallenge, `EXAMPLE\User`, password); d != nt {
		t.Errorf("domain prefix changed the NT-Response")
	}
}

func TestMSCHAPv2PeerKnownAnswer(t *testing.T) {
	m := NewMSCHAPv2("User", "clientPass")
	in := mschapChallenge(unhex(t, "5b5d7c7d7b3f2f3e3c2c602132262628"))
	body := m.respond(&in, unhex(t, "21402324255e262a28295f2b3a337c7e"))
	b, _ := appendResp(body)
	if !bytes.Contains(b, unhex(t, "82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df")) {
		t.Fatalf("response %x lacks the RFC 2759 NT-Response", b)
	}
}
