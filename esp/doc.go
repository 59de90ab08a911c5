// Package esp is the cryptographic core of the ESP data plane (RFC 4303):
// one SA per direction, sealing and opening packets without allocating.
//
// Transforms: AES-GCM-16 with 128/192/256-bit keys (RFC 4106), AES-CBC with
// HMAC-SHA2-256-128 / -384-192 / -512-256 (RFC 3602, RFC 4868; encrypt then
// MAC), ChaCha20-Poly1305 (RFC 7634). Keys are given as the KEYMAT slice
// IKEv2 derives (RFC 7296 §2.17): encryption key, then the 4-byte salt for
// the AEADs, then the integrity key for AES-CBC.
//
// Use:
//
//	out, _ := esp.New(esp.Config{SPI: spiR, Direction: esp.Outbound, Transform: esp.AESGCM128, Key: keymat, ESN: true})
//	// put the inner packet at buf[out.HeaderLen():] to seal in place
//	pkt, err := out.Seal(buf[:0], buf[out.HeaderLen():out.HeaderLen()+n], 41)
//
//	in, _ := esp.New(esp.Config{SPI: spiL, Direction: esp.Inbound, ...})
//	inner, nextHeader, err := in.Open(pkt) // decrypts in place
//	buf, nextHeader, err = in.OpenTo(buf[:0], pkt) // or into another buffer
//
// Sequence numbers are 64-bit when ESN is on (RFC 4303 §2.2.1): only the
// low 32 bits travel; the high bits enter the AEAD's AAD (SPI || high ||
// low) or, for HMAC, are appended to the authenticated data for the ICV
// only. The receiver rebuilds them from its anti-replay window (RFC 4303
// Appendix A2.2). The window holds ReplayWindow (1984) packets; it is
// checked before decryption and advanced only after the ICV verified.
//
// Lifetime sets soft and hard limits in packets and bytes; Expired tells
// the key manager when to rekey, and past the hard limit the SA refuses.
//
// Seal and Open are safe for concurrent use by many workers; packet order
// per SA is the caller's business. Open counts every drop by reason
// (DropReplay, DropTooOld, DropBadICV, DropBadPadding, DropMalformed); read
// them with Stats. An unknown SPI is the SAD's to count (package ipsec).
//
// The outer endpoints (care-of address side, carrier UDP 4500 or raw ESP)
// live in the SA so that a mobile node's move needs no rekeying; only the
// mobility layer moves them, after a protected Binding Update (RFC 4877
// §4.3), through MoveEndpoints.
package esp
