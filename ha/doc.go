// Package ha is the protocol core of a Mobile IPv6 home agent (RFC 6275)
// secured with IPsec and IKEv2 (RFC 4877): the binding cache, Binding Update
// processing, Binding Acknowledgements and Errors, the DHAAD responder and
// Mobile Prefix Advertisements. It does no I/O and keeps no timers: callers
// pass the current time and decoded input with its security context, and
// apply the returned results.
//
// Registration:
//
//	h, _ := ha.New(ha.Config{Address: haAddr, HomePrefixes: []netip.Prefix{home}, KeyMgmtMobility: true}, pad)
//	r := h.ProcessBU(now, sec, &bu) // or h.HandleMH for the raw Mobility Header
//	if r.SendAck  { send r.Ack through the SA paired with r.Ack.SA, outer destination r.Ack.CareOf }
//	if r.SendError { send r.Error }
//	r.Effects.Has(ha.EffectMoveTunnel)       // move the HoA's ESP tunnel SAs' remote endpoint to r.Binding.CareOf
//	r.Effects.Has(ha.EffectMoveIKE)          // and the IKE SA r.Binding.IKESA (K flag)
//	r.Effects.Has(ha.EffectClaimHomeAddress) // proxy ND for r.Binding.HomeAddress on the home link
//	r.Effects.Has(ha.EffectTunnelInactive)   // de-registration: tunnel SPD entries inactive, BU/BA SAs kept
//	expired, next := h.Expire(now)           // call again at next
//
// Authorisation (RFC 4877 §4.2): SecurityContext carries what the SAD
// remembers about the SA that protected the BU: the identity it was created
// for and the home address it is bound to. A BU is processed only if that
// home address is the BU's, the PAD (interface PAD) links the identity to
// it, and an existing binding belongs to the same identity; the Alternate
// Care-of Address must equal the outer source (RFC 4877 §4.3). Any SA
// created for the identity and bound to the home address qualifies, so a
// strongSwan-based MN that sends its BU through its any-protocol tunnel SA
// is accepted; every other SA is refused. Refusals that could only come
// from an attacker are dropped and counted (Counters().Drops), never
// answered through another MN's SA; the binding of another MN never
// changes.
//
// Statuses: 0 accepted (1 when Config.PrefixDiscoveryNecessary says so);
// 129 PAD or local policy refuses; 130 cache full; 131 home registration
// disabled; 132 home address not on a home prefix; 133 de-registration
// without a binding; 134 DAD failed (Config.DuplicateAddress); 135
// sequence number not newer modulo 2^16 (the ack carries the last accepted
// number); 139 H=0 over a home registration. A BU with H=0 otherwise gets
// a Binding Error, status 2 (no correspondent registration here).
// Lifetimes are capped by Config.MaxLifetime and PrefixValidLifetime; the
// ack carries a Binding Refresh Advice of Config.RefreshFraction of the
// grant.
//
// Wire forms: HandleMH takes the raw Mobility Header with its pseudo-header
// addresses (inner header in the RFC 4877 §3 tunnelled form; HoA from the
// Home Address option in the RFC 3776 transport form). AppendAck builds the
// tunnelled form's inner packet; AppendAckMessage just the MH, for the
// transport form (ESP transport mode, Type 2 Routing header). A packet with
// a Home Address option that is not a BU goes through
// CheckHomeAddressOption: no binding for it means a Binding Error, status 1
// (rate-limited by Config.BindingErrorRate).
//
// Discovery: HandleDHAADRequest answers ICMPv6 144 sent to
// HomeAgentsAnycast(prefix) (claim that address on the home link);
// HandlePrefixSolicitation answers ICMPv6 146 from a registered home
// address through its SA; PrefixAdvertisement builds unsolicited ones.
//
// Forwarding: TunnelDestination(dst) gives the care-of address for traffic
// intercepted for a home address; TunnelSourceAllowed(sec, innerSrc) is the
// ingress check for packets leaving the tunnel (reverse tunnelling, HoTi
// relayed to correspondents).
//
// The binding cache is sharded by a hash of the home address (256 shards);
// ProcessBU allocates nothing on the refresh and move paths.
package ha
