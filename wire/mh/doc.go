// Package mh encodes and decodes the Mobile IPv6 Mobility Header (RFC 6275
// §6.1-6.2): Binding Refresh Request, Home/Care-of Test Init, Home/Care-of
// Test, Binding Update, Binding Acknowledgement and Binding Error, with the
// Mobility Options Pad1, PadN, Binding Refresh Advice, Alternate Care-of
// Address, Nonce Indices and Binding Authorization Data.
//
// Receiving (the hot path allocates nothing):
//
//	h, err := mh.ParseHeader(b)            // common header; any MH Type
//	err = mh.VerifyChecksum(src, dst, h.Data) // src/dst: ipv6.Packet.PseudoSrc/PseudoDst
//	switch h.Type {
//	case mh.TypeBindingUpdate:
//		bu, err := mh.ParseBindingUpdate(h.Data)
//		if bu.Options.Has(mh.HasAlternateCareOfAddress) { coa = bu.Options.AlternateCareOfAddress }
//	default:
//		if !h.Type.Known() { /* answer with a Binding Error, BEStatusUnrecognizedMHType */ }
//	}
//
// ParseMessage decodes any type into a Message (allocates) and returns
// *UnknownTypeError for unknown types. Malformed input gives *Error naming
// message and field, with Offset for an ICMPv6 Parameter Problem pointer.
// Options of unknown type are skipped; known options are checked for
// length, alignment (Alternate CoA 8n+6, Binding Refresh Advice and Nonce
// Indices 2n, Binding Authorization Data 8n+2 and last) and repetition.
// Header.Options iterates raw options.
//
// Sending: every message has Append(b, src, dst) which writes canonical
// padding, Header Len and the checksum over the pseudo-header (next header
// 135). Options are set with Options.Present bits:
//
//	bu := mh.BindingUpdate{Sequence: seq, Acknowledge: true, HomeRegistration: true,
//		KeyManagementMobilityCapability: true, Lifetime: mh.LifetimeUnits(10 * time.Minute),
//		Options: mh.Options{Present: mh.HasAlternateCareOfAddress, AlternateCareOfAddress: coa}}
//	b = bu.Append(b, hoa, ha) // inside ESP (RFC 4877): inner HoA -> HA
//
// Lifetimes and refresh intervals are in units of 4 seconds
// (LifetimeDuration, LifetimeUnits).
//
// Return-routability authorization (correspondent registrations): encode
// with a zero Authenticator of the right length, HMAC the bytes from
// AppendAuthenticatorInput, then SetAuthenticator (which redoes the checksum).
package mh
