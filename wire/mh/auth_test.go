package mh

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"testing"
)

// TestAuthenticator signs a correspondent registration the way RFC 6275
// §5.2.6 describes and checks the receiver's view of it.
func TestAuthenticator(t *testing.T) {
	peer := agent
	kbm := bytes.Repeat([]byte{0x5a}, 20)
	bu := BindingUpdate{Sequence: 3, Acknowledge: true, Lifetime: 10, Options: Options{
		Present:        HasNonceIndices | HasBindingAuthorizationData,
		HomeNonceIndex: 1, CareOfNonceIndex: 2, Authenticator: make([]byte, 12)}}
	msg := bu.Append(nil, home, peer)

	in, err := AppendAuthenticatorInput(nil, careOf, peer, msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 32+len(msg)-12 || !bytes.Equal(in[:16], careOf.AsSlice()) || !bytes.Equal(in[16:32], peer.AsSlice()) || in[32+4] != 0 || in[32+5] != 0 {
		t.Fatalf("input % x", in)
	}
	mac := hmac.New(sha1.New, kbm)
	mac.Write(in)
	auth := mac.Sum(nil)[:12]
	if err := SetAuthenticator(msg, home, peer, auth); err != nil {
		t.Fatal(err)
	}
	if err := VerifyChecksum(home, peer, msg); err != nil {
		t.Fatal(err)
	}
	got, err := ParseBindingUpdate(msg)
	if err != nil || !bytes.Equal(got.Options.Authenticator, auth) {
		t.Fatalf("%+v %v", got, err)
	}
	// The receiver recomputes over the same input: the checksum and the
	// authenticator itself do not change it.
	again, _ := AppendAuthenticatorInput(nil, careOf, peer, msg)
	if !bytes.Equal(again, in) {
		t.Fatal("authenticator input changed after signing")
	}
	if err := SetAuthenticator(msg, home, peer, auth[:8]); err == nil {
		t.Fatal("authenticator of the wrong length accepted")
	}
	plain := (&BindingUpdate{}).Append(nil, home, peer)
	if _, err := AppendAuthenticatorInput(nil, careOf, peer, plain); err == nil {
		t.Fatal("message without the option accepted")
	}
}
