package ike

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"mip6/wire/ikev2"
)

// downEAP starts a conversation, then loses its back end (a RADIUS server
// that stopped answering): the responder refuses with AUTHENTICATION_FAILED
// instead of an EAP-Failure.
type downEAP struct{ testEAPServer }

func (s *downEAP) Next([]byte) ([]byte, *EAPResult, error) {
	return nil, nil, errors.New("radius: no answer from any server")
}

// wrongMSKPeer answers the challenge but derives another MSK, so the
// responder refuses the AUTH of the final round.
type wrongMSKPeer struct{ testEAPPeer }

func (p *wrongMSKPeer) MSK() []byte { return []byte("not the MSK the server derived, 32+") }

// TestAuthenticationFailedInLaterRounds: a refusal after the first
// IKE_AUTH round is an authentication failure with its notify, not a
// protocol error.
func TestAuthenticationFailedInLaterRounds(t *testing.T) {
	for _, c := range []struct {
		name   string
		server func() EAPAuthenticator
		peer   EAPPeer
	}{
		{"eap-round", func() EAPAuthenticator { return &downEAP{} }, &testEAPPeer{}},
		{"final-auth", func() EAPAuthenticator { return &testEAPServer{} }, &wrongMSKPeer{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, nil, nil)
				defer p.stop()
				p.haPeer.RemoteAuth = AuthEAP
				p.haPeer.EAPServer = c.server
				p.mnPeer.LocalAuth = AuthEAP
				p.mnPeer.EAP = c.peer
				p.start(t)
				p.settle()
				var fe *Failure
				f := p.mnLog.find(EventFailed)
				if f == nil || !errors.As(f.Err, &fe) {
					t.Fatalf("mn: %v", p.mnLog.kinds())
				}
				if fe.Reason != ReasonAuthentication || fe.Notify != ikev2.NotifyAuthenticationFailed {
					t.Fatalf("mn failed with %v, want authentication failed (AUTHENTICATION_FAILED)", fe)
				}
				if p.mnLog.find(EventIKEEstablished) != nil || p.haLog.find(EventIKEEstablished) != nil {
					t.Fatal("IKE SA established despite the refusal")
				}
			})
		})
	}
}

// wrongSecretPeer answers with a response the server refuses (EAP-Failure).
type wrongSecretPeer struct{}

func (wrongSecretPeer) Respond(req []byte) ([]byte, error) {
	return append([]byte{2, req[1], 0, 5 + 32, 254}, make([]byte, 32)...), nil
}

func (wrongSecretPeer) MSK() []byte { return nil }

// TestEAPFailureEndsResponderSA: after sending EAP-Failure the responder
// drops the SA at once, not at the half-open timeout.
func TestEAPFailureEndsResponderSA(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.ha.cfg.HalfOpenTimeout = time.Hour
		p.haPeer.RemoteAuth = AuthEAP
		p.haPeer.EAPServer = func() EAPAuthenticator { return &testEAPServer{} }
		p.mnPeer.LocalAuth = AuthEAP
		p.mnPeer.EAP = wrongSecretPeer{}
		p.start(t)
		p.settle()
		var fe *Failure
		if f := p.haLog.find(EventFailed); f == nil || !errors.As(f.Err, &fe) || fe.Reason != ReasonAuthentication {
			t.Fatalf("ha: %v", p.haLog.kinds())
		}
		if f := p.mnLog.find(EventFailed); f == nil || !errors.As(f.Err, &fe) || fe.Reason != ReasonAuthentication {
			t.Fatalf("mn: %v", p.mnLog.kinds())
		}
		if n := p.ha.numSAs(); n != 0 {
			t.Fatalf("home agent holds %d SAs", n)
		}
	})
}
