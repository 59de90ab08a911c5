// Package ipsec holds the three IPsec databases of RFC 4301 as RFC 4877
// uses them to protect Mobile IPv6: the SPD (what to protect, bypass or
// discard), the SAD (the ESP SAs) and the PAD (who may create SAs for
// which addresses).
//
// SPD. Entries have selectors for local/remote address ranges, the next
// layer protocol, ports, and for the Mobility Header and ICMPv6 the message
// type (and code) in the 16-bit "port" selector exactly as RFC 4301
// §4.4.1.1 and IKEv2 traffic selectors carry them (MHType, ICMPv6Type).
// The local range holds the types this node sends, the remote range those
// it receives (RFC 4877: local_mh_type = BU & remote_mh_type = BAck). An
// entry carries the "Name" selector (the mobile node's identity), its
// action, mode, and either the manual SAs it uses or how to initiate IKE.
// Lookup(dir, &pkt) is the packet-path call: first match by priority and
// insertion order; nil means no entry matched.
//
//	pkt := ipsec.InboundPacket(src, dst, ipsec.ProtoMH, uint16(mhType)<<8, 0)
//	e := spd.Lookup(ipsec.Inbound, &pkt)
//
// AdmitClear and AdmitProtected make the inbound decisions of RFC 4301
// §5.2 for packets that came without ESP or out of an SA, counting refusals
// by reason (Drops: unprotected, discard policy, no policy, selector
// mismatch) for status output.
//
// SAD. Inbound SAs by SPI (Inbound counts unknown SPIs), outbound SAs by
// the SPD entry they serve (Outbound). Each SAEntry remembers the IKE
// identity and home address it was created for: a home agent accepts a
// Binding Update only if e.CreatedFor(bu.HomeAddress), and any decrypted
// packet only if e.Allows(&pkt) (RFC 4301 §5.2, RFC 4877 §4.2).
//
// PAD. Identity -> authentication methods and the child-SA addresses it
// may claim (Authorize); AddTemporary/RemoveTemporary link an identity to
// a dynamically assigned home address (RFC 4877 §4.2, §9).
//
// RFC 4877's entries. MobileNode.Entries, PayloadEntry, ManualSAs and
// PADEntry build exactly the SPD/SAD/PAD entries of RFC 4877 §6 and §7 for
// either side; GenericHomeAgentEntries are the per-HA entries that discard
// MH and mobile prefix traffic until a mobile node has authenticated and
// its own entries (higher priority, named by its identity) are added
// (§7.2.1). WriteSPD, WriteSAD and WritePAD print entries in the RFC's
// notation; a test holds their output for the RFC's home_address_1 /
// home_agent_1 example against the RFC text.
//
// Concurrency: Lookup, Inbound and Outbound run on the packet path with
// sharded read locks and atomic loads, without allocating; all writes come
// from the control plane.
package ipsec
