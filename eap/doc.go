// Package eap implements EAP methods for mip6 (RFC 3748): the peer side
// used by the mobile node inside IKEv2 (RFC 7296 §2.16, RFC 4877 §8), and
// the authenticator interface the home agent drives.
//
// # Peer (mobile node)
//
//	peer := eap.NewPeer("alice@example.net",
//		eap.NewMSCHAPv2("alice@example.net", password)) // or NewMD5, NewTLS
//	// for each EAP payload from the responder:
//	resp, err := peer.Handle(msg) // or Respond; resp: EAP-Response for the next IKE_AUTH
//	// after EAP-Success: Handle returns (nil, nil), peer.Succeeded() is true
//	msk := peer.MSK() // AUTH shared key; nil for EAP-MD5
//
// MSK() is already set once the method completed (the server proved
// itself), before the EAP-Success, for IKE engines that consume the
// Success themselves; such an engine should still hand the Success to
// Handle, which refuses one that arrives before the method completed.
//
// Methods:
//   - MD5: EAP-MD5-Challenge; one-way, no MSK.
//   - MSCHAPv2: RFC 2759 NT-Response; the server's authenticator response
//     is verified before Success is accepted; MSK = server MS-MPPE-Recv-Key
//     | MS-MPPE-Send-Key | 32 zero bytes (RFC 3079 keys, as hostapd and
//     strongSwan do; RADIUS hands the same two keys to the HA).
//   - TLS: EAP-TLS (RFC 5216) on crypto/tls, TLS 1.2 at most, fragments of
//     TLS.Fragment bytes with L/M flags and ACKs; MSK = first 64 bytes of the
//     "client EAP encryption" exporter. crypto/tls exports only with the
//     extended master secret (RFC 7627), which strongSwan's libtls does not
//     negotiate: TLS.WithoutEMS / LocalAuthenticator.TLSWithoutEMS accept
//     such peers and derive the same RFC 5216 MSK from full ECDHE
//     handshakes only (tlsnoems.go says why that is safe). Call Close if
//     the conversation is abandoned.
//   - AKAPrime: EAP-AKA' (RFC 9048) over a USIM interface; SoftUSIM runs
//     Milenage (TS 35.206) in software. AUTN and AT_MAC authenticate the
//     network; keys are bound to the access network name (AT_KDF_INPUT,
//     checked when AKAPrime.NetworkName is set). MSK = MK[80:144].
//     The Identity must equal the identity the server derives keys with
//     (the EAP identity, i.e. the IKE IDi when no Identity exchange ran).
//
// Handle errors are typed: *FailureError (the server refused: EAP-Failure,
// MSCHAPv2 E=691...), *ServerAuthError (the server failed to prove itself
// or sent Success too early: treat as an attack), *ProtocolError
// (malformed or out-of-sequence messages).
//
// # Authenticator (home agent)
//
// Authenticator.Start opens a Conversation per IKE_AUTH; Conversation.Next
// takes each EAP-Response from the peer (nil first) and returns an Outcome:
// the EAP message to send, and at the end Accepted, the MSK and the
// authenticated UserName (which may differ from IDi). Package aaa
// implements it over RADIUS; LocalAuthenticator implements EAP-MD5 and
// EAP-MSCHAPv2 against a password table, EAP-AKA' against USIM records
// (AKASubscriber: Milenage keys and SQN, with resynchronisation from AUTS)
// and EAP-TLS with a server certificate and client CAs (the user name is
// the client certificate's e-mail SAN or common name), for the demo,
// tests, and the back end of aaa's in-process RADIUS server. Its
// conversations have a Close method for abandoned EAP-TLS handshakes.
//
// # Plugging into mip6/ike
//
// *Peer satisfies ike.EAPPeer (Respond, MSK). ike.EAPAuthenticator wraps a
// Conversation in a few lines (ha does it; eap does not import ike):
//
//	Start(id):  conv, err = auth.Start(ctx, string(id.Data)); out, err := conv.Next(ctx, nil); return out.Message, err
//	Next(resp): out, err := conv.Next(ctx, resp)
//	            if out.Done { res = &ike.EAPResult{Success: out.Accepted, MSK: out.MSK, Identity: ike.RFC822(out.UserName)} }
//	            return out.Message, res, err
//
// With aaa's RADIUS authenticator, Next blocks for a RADIUS round trip (up
// to the client's timeouts and failover).
package eap
