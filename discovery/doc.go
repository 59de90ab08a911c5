// Package discovery finds a mobile node's home agent (RFC 4640 §5.1.2,
// §8) and keeps the candidate list the MN falls back through.
//
//	l, err := discovery.Discover(ctx, discovery.Config{
//		Identity: "alice@example.net",                 // realm -> home domain
//		Resolver: &discovery.Resolver{Servers: dnsServers},
//	})
//	for c, err := l.Current(); err == nil; c, err = l.Failed(discovery.FailNoAnswer, ikeErr) {
//		... IKE_SA_INIT / IKE_AUTH with c.Addr; return on success ...
//	}
//	// err is *ExhaustedError listing every attempt: run Discover again.
//
// Methods, in the order their candidates appear in the list:
//
//  1. Config.Static addresses;
//  2. Config.HAName: AAAA of the home agent's FQDN (RFC 5026 §3.2.1);
//  3. Config.HomePrefix: DHAAD (RFC 6275 §11.4.1): a Home Agent Address
//     Discovery Request to the prefix's Home-Agents anycast address (RFC
//     2526, HomeAgentsAnycast), retransmitted from 3 s doubling up to 4
//     times; the reply's list keeps its preference order (DHAADClient,
//     ListenICMPv6 for a raw socket);
//  4. the home domain — Config.Domain, or when nothing else is configured
//     the realm of the NAI (Realm) — SRV _mip6._ipv6.<domain> (RFC 5026
//     §3.2.2) ordered by priority and RFC 2782 weighted random selection
//     (Config.Intn injects the randomness), then each target's AAAA
//     (taken from the additional section when present).
//
// Addresses that cannot be a home agent (loopback, link-local, multicast,
// unspecified, IPv4) are dropped; duplicates keep their first place. A
// method that fails is skipped when another yields candidates.
//
// Errors name their cause and are typed for errors.As:
// *InfrastructureLessError (no domain, name, prefix, address and no realm:
// RFC 4640 §7.4/§9.1 refuse this case), *NotFoundError (each method's
// error, Unwrap() []error), *NoRecordsError (NXDOMAIN/NODATA),
// *UnusableError (records exist, nothing usable behind them, with the
// reasons), *ServerError (no DNS server answered within Tries×Timeout),
// *RcodeError (SERVFAIL, REFUSED, ...), *DHAADError, *ExhaustedError.
//
// The List is advanced by the caller reporting why a candidate failed: no
// answer, authentication refused, or INTERNAL_ADDRESS_FAILURE (RFC 4877
// §9: the MN MAY switch to another home agent from the list). Candidates
// carry their DNS TTL and marshal to JSON, so an MN can cache them between
// runs; List.RefreshAfter says when to discover again.
//
// AppendDHAADReply is the home agent's side of DHAAD (RFC 6275 §10.5),
// for the HA daemon: it checks a request and builds the reply carrying the
// home agents list, cut to fit the minimum MTU.
//
// Server is a small authoritative DNS server (miekg/dns) for `mip6 demo`
// and tests: it serves Zones parsed from master-file text (ParseZone) over
// UDP and TCP (Serve) or on any UDPConn (ServeUDP: *net.UDPConn or a
// simulated network's socket), adds the targets' AAAA records to SRV
// answers, and answers NXDOMAIN, NODATA with the SOA, or REFUSED outside
// its zones. Resolver.Listen runs the client over such sockets too.
package discovery
