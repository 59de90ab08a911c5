package ike

import (
	"context"
	"errors"
	"strings"
	"time"

	"mip6/eap"
)

// EAPTimeout bounds one step of an EAP conversation with an authenticator
// (a RADIUS round trip); the IKE SA waits for it.
const EAPTimeout = 10 * time.Second

// EAPServer adapts an eap.Authenticator (a local EAP server or a RADIUS
// pass-through) for PeerConfig.EAPServer.
func EAPServer(a eap.Authenticator) func() EAPAuthenticator {
	return func() EAPAuthenticator { return &eapAdapter{a: a} }
}

type eapAdapter struct {
	a    eap.Authenticator
	conv eap.Conversation
}

func (e *eapAdapter) Start(id Identity) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), EAPTimeout)
	defer cancel()
	conv, err := e.a.Start(ctx, string(id.Data))
	if err != nil {
		return nil, err
	}
	e.conv = conv
	out, err := conv.Next(ctx, nil)
	if err != nil {
		return nil, err
	}
	if out.Done {
		return nil, errors.New("ike: EAP conversation ended before it began")
	}
	return out.Message, nil
}

func (e *eapAdapter) Next(resp []byte) ([]byte, *EAPResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), EAPTimeout)
	defer cancel()
	out, err := e.conv.Next(ctx, resp)
	if err != nil {
		return nil, nil, err
	}
	if !out.Done {
		return out.Message, nil, nil
	}
	r := &EAPResult{Success: out.Accepted, MSK: out.MSK}
	switch {
	case out.UserName == "":
	case strings.Contains(out.UserName, "@"):
		r.Identity = RFC822(out.UserName)
	default:
		r.Identity = FQDN(out.UserName)
	}
	return out.Message, r, nil
}
