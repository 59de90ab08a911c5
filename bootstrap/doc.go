// Package bootstrap turns a mobile node's seed information into a home
// agent, a home address and an IPsec security association with that home
// agent (RFC 4640 §4, §8; RFC 4877 §7–§9), and gives the home agent the
// IKE responder hooks that make it happen.
//
// # Mobile node
//
//	res, err := bootstrap.Run(ctx, bootstrap.Config{
//		Identity:   "alice@example.net",          // NAI: IDi and home domain
//		PSK:        secret,                       // or Certificate, or EAP
//		Local:      netip.MustParseAddrPort("[2001:db8:a::100]:500"), // care-of address
//		DNSServers: dns,
//	})
//	// res.HomeAgent, res.HomeAddress, res.Child (install in the SAD),
//	// res.Endpoint + res.IKESA.LocalSPI() (rekeys, MoveEndpoints), res.Trace
//
// Run discovers home agent candidates with package discovery (static
// addresses, the HA FQDN, DHAAD on the home prefix, DNS SRV of the
// domain or the NAI's realm), the cached home agent first. With each
// candidate in turn it runs IKE_SA_INIT and IKE_AUTH on a fresh
// ike.Endpoint, asking for a home address with CP(CFG_REQUEST
// INTERNAL_IP6_ADDRESS), suggesting the cached or configured one. A
// candidate that does not answer, refuses authentication or answers
// INTERNAL_ADDRESS_FAILURE is recorded and the next one tried (RFC 4877
// §9). Credentials: a PSK (both sides prove it), a certificate (the HA
// proves itself with one too), or EAP-MSCHAPv2 / EAP-MD5 / EAP-TLS
// checked by the home AAA server through the HA (the HA proves itself
// with a certificate); with EAP the IDi may be a routing identity
// (Config.RoutingIdentity, e.g. "@example.net") and the AAA server
// learns the real NAI.
//
// Errors are typed: *ConfigError (unusable seed), *NoHomeAgentError
// (discovery found nothing; it wraps *discovery.InfrastructureLessError
// when the seed names no domain, HA or prefix: refused, RFC 4640 §9.1),
// *CandidatesFailedError (every candidate failed, each with its reason).
//
// Result.Trace times each step (discovery, each IKE exchange from the
// first transmission of the request to the response, with
// retransmissions, and the EAP request each IKE_AUTH response carried)
// for the demo timeline and latency figures.
//
// Result.Lost fires when the IKE SA ends (deleted by the home agent, or
// the home agent stopped answering); MobileNode re-runs the bootstrap
// then, or whenever the caller wants to re-anchor (RFC 4640 §5.3).
//
// What is cached between runs (home agent, home address) is chosen in
// CacheConfig and kept in a small JSON file written atomically.
//
// Parameter Set 2 (RFC 4640 §8, §9.2): with Config.AccessKey the MN's
// credential is the key of its network access authentication (MSK or
// EMSK); both sides derive the IKE PSK from it with DeriveMobilityKey
// (RFC 5295 KDF, a label of its own, the NAI bound in): separate from the
// access key, separately named, with its own lifetime. The HA fetches
// the access key through HomeAgent.AccessKeys (the integrated ASP's AAA,
// §7.2) for Subscribers marked FromAccessKey; how the AAA server hands
// it over is outside this package.
//
// # Home agent
//
// HomeAgent.Configure fills an ike.Config's responder hooks: LookupPeer
// finds configured mobile nodes (Subscribers: PSK, certificate, EAP) and, for the
// AAARealms, any identity, authenticated by EAP through HomeAgent.AAA
// (aaa.EAPAuthenticator: RADIUS pass-through) whose answer's User-Name
// becomes the IKE SA's identity; AssignAddress takes a lease from a
// lease.Assigner (pool or DHCPv6) and links it to the identity in the
// PAD (ipsec.PAD.AddTemporary), both or neither; ReleaseAddress undoes
// both. HomeAgent.OnEvent binds leases to their IKE SA and renews them
// when the IKE SA is rekeyed. BindingStarted/BindingEnded send RADIUS
// accounting Start/Stop per binding.
package bootstrap
