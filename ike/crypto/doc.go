// Package crypto holds the cryptography of IKEv2 (RFC 7296) as typed values:
// pseudo-random functions and prf+ (§2.13), the key derivation of IKE SAs and
// CHILD_SAs (§2.14, §2.17, §2.18), Diffie-Hellman groups 14, 19, 20 and 31,
// the protection of the Encrypted payload (§3.14, RFC 5282 AEAD, RFC 7634
// ChaCha20-Poly1305) and the AUTH payload computations (§2.15, RFC 7427).
//
// It knows nothing of messages or state: the engine hands it octets and
// transform identifiers. Identifiers are the IANA numbers of the IKEv2
// registries, so they convert directly from and to the wire.
package crypto
