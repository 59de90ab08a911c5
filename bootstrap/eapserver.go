package bootstrap

import (
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"mip6/eap"
	"mip6/ike"
	"mip6/wire/ikev2"
)

// identityKey is the string an IKE identity is known by in the PAD, the
// lease store and RADIUS: the NAI or FQDN itself, the address, or the
// subject DN.
func identityKey(id ike.Identity) string {
	switch id.Type {
	case ikev2.IDDERASN1DN:
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(id.Data, &rdn); err == nil && len(rest) == 0 {
			var n pkix.Name
			n.FillFromRDNSequence(&rdn)
			return n.String()
		}
	case ikev2.IDKeyID:
		return "keyid:" + hex.EncodeToString(id.Data)
	}
	return id.String()
}

// eapServer runs one EAP conversation of an IKE_AUTH through an
// eap.Authenticator (normally aaa.EAPAuthenticator: RADIUS pass-through).
// It runs on the IKE SA's goroutine; each AAA round trip is bounded.
type eapServer struct {
	auth    eap.Authenticator
	timeout time.Duration
	idi     ike.Identity
	conv    eap.Conversation
}

func (s *eapServer) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

func (s *eapServer) Start(id ike.Identity) ([]byte, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	s.idi = id
	eapID := identityKey(id)
	if strings.HasPrefix(eapID, "@") {
		// A routing identity only (RFC 4877 §8): ask the MN who it is.
		eapID = ""
	}
	conv, err := s.auth.Start(ctx, eapID)
	if err != nil {
		return nil, err
	}
	s.conv = conv
	out, err := conv.Next(ctx, nil)
	if err != nil {
		return nil, err
	}
	if out.Done {
		return nil, &eapRefusedError{Identity: identityKey(id), Reason: out.Reason}
	}
	return out.Message, nil
}

func (s *eapServer) Next(resp []byte) ([]byte, *ike.EAPResult, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	out, err := s.conv.Next(ctx, resp)
	if err != nil {
		return nil, nil, err
	}
	if !out.Done {
		return out.Message, nil, nil
	}
	res := &ike.EAPResult{Success: out.Accepted, MSK: out.MSK}
	// The AAA server's User-Name is the real identity when the IDi was
	// only a routing identity (RFC 4877 §8).
	if out.Accepted && out.UserName != "" && out.UserName != identityKey(s.idi) {
		res.Identity = ike.RFC822(out.UserName)
	}
	return out.Message, res, nil
}

// eapRefusedError: the EAP server refused before any method ran.
type eapRefusedError struct {
	Identity, Reason string
}

func (e *eapRefusedError) Error() string {
	return "bootstrap: EAP refused for " + e.Identity + ": " + e.Reason
}

var errNoAAA = errors.New("no AAA server configured for EAP")
