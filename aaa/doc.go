// Package aaa is mip6's RADIUS side: the home agent's EAP pass-through
// authenticator (RFC 3579), per-binding accounting (RFC 2866), and a small
// in-process RADIUS server for `mip6 demo` and tests. It uses layeh.com/radius
// for attribute encoding.
//
// # Client
//
// Client sends requests to Servers in order with retransmission (1+Retries
// transmissions, Timeout apart) and failover; the last server that answered
// is tried first next time. Answers are verified: Response Authenticator
// always, Message-Authenticator (HMAC-MD5) whenever the request carried
// one (all EAP requests). Errors are typed:
//   - *TimeoutError: no answer from a server (down, unreachable); names it.
//   - *BadAuthenticatorError: answers that fail verification (shared secret
//     mismatch or forgery). Because servers silently drop requests whose
//     Message-Authenticator fails, a silent server gets one probe
//     Access-Request without EAP to tell a wrong secret from a dead server.
//   - *ServersError: every server failed; unwraps to the errors above.
//   - *ProtocolError: malformed answers.
//
// Client.Status probes every server with Status-Server (RFC 5997) for
// health checks; each result is nil or one of the errors above.
//
// An Access-Reject is not an error of the transport: EAPAuthenticator
// reports it as a final eap.Outcome with Accepted false and Reason set
// (the text of a *RejectError).
//
// # EAP pass-through (home agent)
//
//	a := &aaa.EAPAuthenticator{Client: client, CalledStationID: haAddr}
//	conv, _ := a.StartSession(ctx, idi, careOfAddr) // or Start (eap.Authenticator)
//	out, err := conv.Next(ctx, nil)                  // then Next(ctx, peerResponse)
//
// Each Access-Request carries User-Name (the EAP identity), EAP-Message
// split into 253-byte attributes, Message-Authenticator, State echoed from
// the last Access-Challenge, NAS-Identifier, Service-Type, NAS-Port-Type
// Virtual, Framed-MTU (keeps EAP-TLS fragments inside an IKE message) and
// Called/Calling-Station-Id. With a non-empty IDi the first request
// carries it as the peer's EAP-Response/Identity; with an empty one the
// peer is first sent an EAP-Request/Identity. On Access-Accept the MSK is
// MS-MPPE-Recv-Key | MS-MPPE-Send-Key (RFC 2548 salt-decrypted) padded
// with zeros to 64 bytes, equal to what package eap's peer methods derive;
// Outcome.UserName is the answer's User-Name (the real identity) or the
// EAP identity.
//
// # Accounting
//
// Client.AccountingStart / AccountingInterim / AccountingStop send
// Accounting-Requests for a Session (Acct-Session-Id, User-Name,
// Framed-IPv6-Address = home address, Calling-Station-Id = care-of
// address, Event-Timestamp, Acct-Session-Time, octet/packet counters with
// gigawords, Acct-Terminate-Cause). AccountingOn / AccountingOff announce
// a home agent start and shutdown. Use a Client whose Servers are the
// accounting ports (1813).
//
// # LocalServer
//
// LocalServer answers EAP Access-Requests with an eap.Authenticator
// (normally *eap.LocalAuthenticator: EAP-MD5 and EAP-MSCHAPv2 from a user
// map, EAP-AKA' and EAP-TLS when configured), answers Status-Server, signs every answer with Message-Authenticator, returns MS-MPPE keys
// and User-Name on accept, and acknowledges accounting. Its session table
// is bounded (4096 conversations, 60 s each).
package aaa
