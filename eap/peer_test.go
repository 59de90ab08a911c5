package eap

import (
	"context"
	"errors"
	"strings"
	"testing"

	wire "mip6/wire/eap"
)

func mschapChallenge(ch []byte) wire.MSCHAPv2 {
	return wire.MSCHAPv2{OpCode: wire.MSCHAPv2Challenge, MSCHAPv2ID: 1, Challenge: ch, Name: []byte("srv")}
}

func appendResp(body wire.Body) ([]byte, error) {
	return wire.Append(nil, wire.CodeResponse, 1, body)
}

var users = map[string]string{"alice@example.net": "alice-secret", "bob@example.net": "bob-secret"}

// run drives peer and authenticator to the end and returns both sides' results.
func run(t *testing.T, peer *Peer, auth Authenticator, idi string) (Outcome, error) {
	t.Helper()
	ctx := context.Background()
	conv, err := auth.Start(ctx, idi)
	if err != nil {
		t.Fatal(err)
	}
	var resp []byte
	for i := 0; i < 50; i++ {
		out, err := conv.Next(ctx, resp)
		if err != nil {
			t.Fatalf("authenticator: %v", err)
		}
		resp, err = peer.Handle(out.Message)
		if out.Done {
			return out, err
		}
		if err != nil {
			return out, err
		}
	}
	t.Fatal("conversation did not end")
	return Outcome{}, nil
}

func TestMSCHAPv2Local(t *testing.T) {
	peer := NewPeer("alice@example.net", NewMSCHAPv2("alice@example.net", "alice-secret"))
	out, err := run(t, peer, &LocalAuthenticator{Users: users}, "alice@example.net")
	if err != nil || !out.Accepted || !peer.Succeeded() {
		t.Fatalf("err %v, outcome %+v", err, out)
	}
	if len(peer.MSK()) != 64 || string(peer.MSK()) != string(out.MSK) {
		t.Fatalf("MSK peer %x server %x", peer.MSK(), out.MSK)
	}
	if out.UserName != "alice@example.net" || peer.Method() != wire.TypeMSCHAPv2 {
		t.Fatalf("user %q method %v", out.UserName, peer.Method())
	}
}

func TestRoutingIdentityDiffersFromUser(t *testing.T) {
	// IDi is only a routing identity; the method carries the real one.
	peer := NewPeer("anonymous@example.net", NewMSCHAPv2("bob@example.net", "bob-secret"))
	out, err := run(t, peer, &LocalAuthenticator{Users: users}, "")
	if err != nil || out.UserName != "bob@example.net" {
		t.Fatalf("err %v, user %q", err, out.UserName)
	}
}

func TestMSCHAPv2WrongPassword(t *testing.T) {
	peer := NewPeer("alice@example.net", NewMSCHAPv2("alice@example.net", "wrong"))
	out, err := run(t, peer, &LocalAuthenticator{Users: users}, "alice@example.net")
	var f *FailureError
	if !errors.As(err, &f) || f.Code != 691 || out.Accepted || peer.MSK() != nil {
		t.Fatalf("err %v, outcome %+v", err, out)
	}
	if !strings.Contains(err.Error(), "authentication failed (error 691)") {
		t.Fatalf("error text %q", err)
	}
}

func TestMD5ViaNak(t *testing.T) {
	// The server proposes MSCHAPv2 first; the peer Naks it for MD5.
	peer := NewPeer("alice@example.net", NewMD5("alice@example.net", "alice-secret"))
	out, err := run(t, peer, &LocalAuthenticator{Users: users}, "alice@example.net")
	if err != nil || !out.Accepted || !peer.Succeeded() || peer.MSK() != nil || out.MSK != nil {
		t.Fatalf("err %v, outcome %+v msk %x", err, out, peer.MSK())
	}
	if peer.Method() != wire.TypeMD5Challenge {
		t.Fatalf("method %v", peer.Method())
	}
}

func TestMD5WrongPassword(t *testing.T) {
	peer := NewPeer("alice@example.net", NewMD5("alice@example.net", "nope"))
	_, err := run(t, peer, &LocalAuthenticator{Users: users, Methods: []wire.Type{wire.TypeMD5Challenge}}, "alice@example.net")
	var f *FailureError
	if !errors.As(err, &f) {
		t.Fatalf("err %v", err)
	}
}

func TestNoCommonMethod(t *testing.T) {
	peer := NewPeer("alice@example.net", NewMD5("alice@example.net", "alice-secret"))
	out, err := run(t, peer, &LocalAuthenticator{Users: users, Methods: []wire.Type{wire.TypeMSCHAPv2}}, "alice@example.net")
	if err == nil || out.Accepted {
		t.Fatalf("accepted without a common method: %+v", out)
	}
}

// A server that does not know the password cannot forge the
// authenticator response, and the peer refuses its Success.
func TestMSCHAPv2BogusServer(t *testing.T) {
	peer := NewPeer("alice@example.net", NewMSCHAPv2("alice@example.net", "alice-secret"))
	ch, _ := wire.Append(nil, wire.CodeRequest, 1, &wire.MSCHAPv2{OpCode: wire.MSCHAPv2Challenge, MSCHAPv2ID: 1,
		Challenge: make([]byte, 16), Name: []byte("evil")})
	if _, err := peer.Handle(ch); err != nil {
		t.Fatal(err)
	}
	succ, _ := wire.Append(nil, wire.CodeRequest, 2, &wire.MSCHAPv2{OpCode: wire.MSCHAPv2Success, MSCHAPv2ID: 1,
		Message: []byte("S=" + strings.Repeat("A", 40) + " M=welcome")})
	_, err := peer.Handle(succ)
	var s *ServerAuthError
	if !errors.As(err, &s) {
		t.Fatalf("forged Success request: err %v", err)
	}
	eapSuccess, _ := wire.Append(nil, wire.CodeSuccess, 2, nil)
	if _, err := peer.Handle(eapSuccess); err == nil || peer.Succeeded() || peer.MSK() != nil {
		t.Fatal("peer accepted Success after failed server authentication")
	}
}

func TestEarlySuccessRefused(t *testing.T) {
	peer := NewPeer("alice@example.net", NewMSCHAPv2("alice@example.net", "alice-secret"))
	ch, _ := wire.Append(nil, wire.CodeRequest, 1, &wire.MSCHAPv2{OpCode: wire.MSCHAPv2Challenge, MSCHAPv2ID: 1,
		Challenge: make([]byte, 16), Name: []byte("x")})
	if _, err := peer.Handle(ch); err != nil {
		t.Fatal(err)
	}
	eapSuccess, _ := wire.Append(nil, wire.CodeSuccess, 2, nil)
	_, err := peer.Handle(eapSuccess)
	var s *ServerAuthError
	if !errors.As(err, &s) || peer.MSK() != nil {
		t.Fatalf("early Success: %v", err)
	}
}

func TestRetransmittedRequestGetsSameResponse(t *testing.T) {
	peer := NewPeer("alice@example.net", NewMSCHAPv2("alice@example.net", "alice-secret"))
	ch, _ := wire.Append(nil, wire.CodeRequest, 7, &wire.MSCHAPv2{OpCode: wire.MSCHAPv2Challenge, MSCHAPv2ID: 7,
		Challenge: make([]byte, 16), Name: []byte("x")})
	a, err := peer.Handle(ch)
	if err != nil {
		t.Fatal(err)
	}
	b, err := peer.Handle(ch)
	if err != nil || string(a) != string(b) {
		t.Fatalf("retransmission: %v, %x vs %x", err, a, b)
	}
}

func TestPeerRejectsGarbage(t *testing.T) {
	peer := NewPeer("a", NewMD5("a", "b"))
	_, err := peer.Handle([]byte{1, 1, 0, 9})
	var p *ProtocolError
	if !errors.As(err, &p) {
		t.Fatalf("err %v", err)
	}
}

// An IKE initiator may consume EAP-Success itself: the MSK is there once
// the method (with the server's proof) is complete.
func TestMSKBeforeSuccess(t *testing.T) {
	ctx := context.Background()
	peer := NewPeer("alice@example.net", NewMSCHAPv2("alice@example.net", "alice-secret"))
	conv, _ := (&LocalAuthenticator{Users: users}).Start(ctx, "alice@example.net")
	var resp []byte
	for {
		out, err := conv.Next(ctx, resp)
		if err != nil {
			t.Fatal(err)
		}
		if out.Done {
			if len(peer.MSK()) != 64 || string(peer.MSK()) != string(out.MSK) || peer.Succeeded() {
				t.Fatalf("before Success: MSK %x, server %x", peer.MSK(), out.MSK)
			}
			return
		}
		if peer.MSK() != nil {
			t.Fatal("MSK before the server proved itself")
		}
		if resp, err = peer.Respond(out.Message); err != nil {
			t.Fatal(err)
		}
	}
}
