// Package lease assigns home addresses for the home agent (RFC 4877 §9):
// the IKE engine's CP handler calls Assign for a CFG_REQUEST with
// INTERNAL_IP6_ADDRESS, Renew when the IKE SA is rekeyed and Release when
// it is deleted. These implement Assigner:
//
//   - Pool: a range of the home prefix, next-fit. Never hands out the
//     Subnet-Router anycast address nor the RFC 2526 reserved anycast range
//     (see Reserved), nor Exclude'd addresses (the HA's own).
//
//   - DHCPv6: asks a DHCPv6 server on the home link (RFC 8415
//     Solicit/Advertise/Request/Reply for IA_NA, Renew, Release), with a
//     DUID derived from the identity so a restarted HA, or a re-bootstrapping
//     MN, is given the same address again.
//
//   - Fallback: DHCPv6 first, the local pool when the server does not
//     answer (OnRefusal: also when it refuses); ranges must be disjoint.
//
// Rules, common to all:
//   - an identity with a live lease in the home prefix gets that address
//     back (re-bootstrapping), whatever it suggests;
//   - otherwise a suggested address is kept when it is inside the home
//     prefix, not reserved, free, and Policy.Authorize (if set) allows it;
//   - the pool then prefers the address of the identity's expired lease
//     when nobody took it since (DHCPv6 gets this from the stable DUID);
//   - a lease lasts Policy.LeaseTime (the IKE SA lifetime) and Renew
//     extends it by as much again; Release ends it;
//   - the lease and a temporary PAD entry (identity -> address) are written
//     in one store transaction: both or neither. Leases are keyed by
//     address in the store, which refuses a live-leased address to another
//     identity, also after a restart, so no address ever has two holders;
//   - failures leave nothing behind: *ExhaustedError (pool full),
//     *DHCPv6Error (server silent or refusing), *store.ConflictError,
//     *NotHeldError (Renew/Release of an address the identity does not
//     hold).
//
// An identity holds at most one live lease per home prefix: repeated
// INTERNAL_IP6_ADDRESS requests get the same address. BindSA records the
// IKE SA (its SPIs) a lease belongs to. The HA calls Pool.Expire (or
// DHCPv6.Expire) periodically to drop leases whose IKE SA went away
// without a Release.
//
// DHCPv6: a lease's Expiry follows the IKE SA (LeaseTime from Assign or
// Renew); its RenewAt is the server's T1. The HA calls DHCPv6.Maintain
// periodically: it expires leases and renews with the server those past
// T1, so a server lifetime shorter than the IKE SA's is fine. Exchanges
// for different identities run concurrently over one socket bound to UDP
// port 546 of the home link interface; RapidCommit saves a round trip
// when the server allows it; TrustedServers ignores rogue servers on the
// home link; Stats counts messages.
package lease
