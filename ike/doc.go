// Package ike is the IKEv2 engine (RFC 7296) of mip6, with what Mobile IPv6
// needs of it (RFC 4877 §7–§9): the mobile node is the initiator, the home
// agent the responder.
//
// The engine is shaped like quic-go and libcharon: each IKE SA is state
// owned by one lock holder at a time, and protocol logic is made of
// functions that take the current time and an incoming datagram (or a
// timer) and collect actions: datagrams to send, the next deadline, events.
// Each exchange this side starts is a task with build and process steps;
// one request is in flight at a time (window 1); requests are retransmitted
// with exponential back-off (Config.RetransmitBase, doubled, given up after
// Config.RetransmitTries); duplicate requests are answered from a cache.
//
// # Use
//
// An Endpoint owns the IKE SAs of one node. Datagrams reach it through
// Endpoint.Receive (UDPTransport.Serve does that for real sockets; a data
// plane that owns port 4500 hands over what carries the non-ESP marker,
// Receive returns false for ESP) and leave through the Conn given to
// NewEndpoint. Events arrive at the callback, in order per IKE SA:
//
//	ep := ike.NewEndpoint(ike.Config{
//		LookupPeer:    pad.Lookup,      // responder: PAD entry by IDi
//		AssignAddress: leases.Assign,   // CP INTERNAL_IP6_ADDRESS (RFC 4877 §9)
//	}, transport, func(e ike.Event) {
//		switch e.Kind {
//		case ike.EventChildEstablished: // install e.Child in the SAD
//		case ike.EventChildRekeyed:     // install e.Child, retire e.OldChild
//		case ike.EventChildDeleted:     // remove e.Child
//		}
//	})
//	ep.Initiate(peerConfig, local, remote) // mobile node
//
// ChildSA carries what the SAD needs: SPIs per direction, the negotiated
// ChildSuite, keys per direction (AEAD keys include their 4-octet salt),
// traffic selectors (MH and ICMPv6 types in the port fields), mode, and
// whether ESP is UDP-encapsulated between Local and Remote.
//
// Operations on an established SA take our SPI (SAInfo.LocalSPI):
// CreateChildSA, RekeyChildSA, DeleteChildSA, RekeyIKESA, DeleteIKESA,
// CheckLiveness, and MoveEndpoints, which the mobility layer calls when a
// Binding Update with the K flag moves the peer (RFC 4877 §7.4) — no IKE
// exchange, no rekey. A strongSwan peer that moves with MOBIKE
// (UPDATE_SA_ADDRESSES, RFC 4555) is followed by the responder itself
// (EventAddressesUpdated). As initiator, PeerConfig.MOBIKE offers MOBIKE
// and UpdateLocalAddress moves the SA when our own address changes.
//
// Failures: an error notify in any IKE_AUTH response ends the SA with a
// *Failure of the matching reason (AUTHENTICATION_FAILED after EAP rounds
// too). After INTERNAL_ADDRESS_FAILURE the initiator reports
// ReasonAddress at once and deletes the IKE SA the responder holds; a
// responder whose peer does not do so deletes it after HalfOpenTimeout.
// A responder that sends EAP-Failure drops the SA at once.
//
// Authentication: pre-shared keys, certificates (RFC 7427 signatures with
// ECDSA and RSA PKCS#1 v1.5 or PSS, and the classic methods 1 and 9–11 for
// peers without SIGNATURE_HASH_ALGORITHMS; an ID_IPV6_ADDR must be an
// iPAddress SubjectAltName), and EAP through EAPAuthenticator (EAPServer
// adapts an eap.Authenticator) and EAPPeer (eap.Peer fits).
//
// Callbacks run on the IKE SA's lock and must not wait, except EAP steps
// (always run off the lock, so a RADIUS round trip blocks nothing) and
// AssignAddress with Config.AsyncAssign (for DHCPv6 or disk-synced leases).
//
// Under load the responder answers IKE_SA_INIT with a stateless COOKIE
// (Config.CookieThreshold half-open SAs) and does no Diffie-Hellman before
// a valid cookie. Dropped datagrams are counted by reason (Endpoint.Drops).
// Keys reach no log unless Config.KeyLog is set (Wireshark UAT lines).
package ike
