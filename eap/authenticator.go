package eap

import "context"

// Authenticator is the home agent's side of EAP: a pass-through to an
// authentication server (package aaa does it over RADIUS) or a local
// server (LocalAuthenticator). The IKE responder opens one Conversation
// per IKE_AUTH exchange that asks for EAP.
type Authenticator interface {
	// Start opens a conversation for a peer whose IKE identity (IDi) is
	// identity. The IDi may be only a routing identity (RFC 4877 §8): the
	// authenticated user name comes back in the final Outcome.
	// An empty identity makes the conversation start with an Identity Request.
	Start(ctx context.Context, identity string) (Conversation, error)
}

// Conversation is one EAP authentication as seen by the authenticator.
type Conversation interface {
	// Next takes the peer's EAP-Response (nil on the first call) and
	// returns the EAP packet to send to the peer. An error means the
	// conversation cannot go on (server unreachable, malformed message);
	// the caller then fails the IKE_AUTH exchange.
	Next(ctx context.Context, response []byte) (Outcome, error)
}

// Outcome is what the authenticator says to the peer next.
type Outcome struct {
	// Message is an EAP-Request, or the final EAP-Success / EAP-Failure.
	Message []byte
	// Done is set with the final Success or Failure.
	Done bool
	// Accepted is set with a final Success.
	Accepted bool
	// MSK is the Master Session Key of an accepted method that derives one
	// (64 bytes), nil for EAP-MD5. It is the IKE AUTH shared key
	// (RFC 7296 §2.16) and nothing else.
	MSK []byte
	// UserName is the authenticated identity: the AAA server's User-Name,
	// which may differ from the IKE IDi. Empty unless Accepted.
	UserName string
	// Reason explains a refusal for the operator's log (e.g. the RADIUS
	// server and its Reply-Message); empty on success.
	Reason string
}
