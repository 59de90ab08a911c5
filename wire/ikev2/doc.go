// Package ikev2 encodes and decodes IKEv2 messages (RFC 7296), with the
// Encrypted Fragment payload (RFC 7383), the MOBIKE notifications (RFC 4555)
// and the non-ESP marker of UDP port 4500 (RFC 3948). It knows nothing of
// sockets, timers, keys or state; it imports only the standard library.
//
// # Receiving
//
// On UDP 4500, StripNonESPMarker first. ParseHeader decodes the 28-octet
// header without allocating (enough to find the IKE SA, check the message
// ID and the R/I flags). ParseMessage decodes a whole message into a Message:
// the header and an ordered Payloads chain of *SA, *KE, *ID, *Cert, *CertReq,
// *Auth, *Nonce, *Notify, *Delete, *VendorID, *TS, *CP, *EAP, *Encrypted,
// *EncryptedFragment and *UnknownPayload (unknown non-critical types, to be
// skipped). An unknown critical payload yields *UnsupportedCriticalPayloadError
// (answer UNSUPPORTED_CRITICAL_PAYLOAD); a major version other than 2 yields
// *UnsupportedVersionError (with the header filled in); every other defect
// yields a *FormatError naming the payload, the position and the field, e.g.
// "ikev2: TSi: selector 2: length 12 shorter than minimum 40" (answer
// INVALID_SYNTAX where RFC 7296 says so). Parsing never panics, and never
// allocates in proportion to a length or count before checking it against the
// octets present. Parsed byte slices alias the input: keep the buffer intact
// while the Message is in use.
//
// Protected messages: SplitEncrypted(msg, ivLen, icvLen) returns, without
// allocating, the AAD (IKE header through the SK or SKF payload header), IV,
// ciphertext and ICV, and the Authenticated span for a separate integrity
// transform. After decrypting, TrimPadding removes the padding and
// ParsePayloads(parts.First, plain) decodes the inner chain. SKF fragments
// (parts.Number of parts.Total) are decrypted one by one; concatenate their
// plaintexts (padding trimmed) in order and parse them with the First of
// fragment 1.
//
// # Sending
//
// Build a Message and call Marshal(buf), which appends to buf, links the
// Next Payload fields, and fills Header.NextPayload and Header.Length.
// For protected messages: AppendPayloads(plain, inner) gives the inner
// chain, AppendPadding pads it, AppendEncryptedHeader (or
// AppendEncryptedFragmentHeader) appends the IKE header and SK header (these
// octets are the AAD); then append IV, ciphertext and ICV. On port 4500,
// AppendNonESPMarker goes before the IKE header.
//
// ID.AppendBody gives the octets the AUTH payload signs (RestOfInitIDPayload,
// RFC 7296 §2.15). NATDetectionHash computes NAT_DETECTION_*_IP data.
// Typed notification data: Notify.Group (INVALID_KE_PAYLOAD), Cookie,
// Cookie2, Addr (ADDITIONAL_IP*_ADDRESS), HashAlgorithms, SPI32; CP
// attributes: CPAttribute.Addr, Prefix, Lifetime and the CPRequest, CPAddr,
// CPPrefix, CPHomePrefix constructors; Digital Signature AUTH data:
// SplitSignatureAuth and AppendSignatureAuth.
//
// # Names
//
// Constants follow the RFC names in Go form with a type prefix: IKE_SA_INIT
// is ExchangeIKESAInit, ENCR_AES_GCM_16 is EncrAESGCM16, PRF_HMAC_SHA2_256 is
// PRFHMACSHA2_256, AUTH_HMAC_SHA2_256_128 is IntegHMACSHA2_256_128, group 19
// is DHECP256, NO_PROPOSAL_CHOSEN is NotifyNoProposalChosen,
// INTERNAL_IP6_ADDRESS is CPInternalIP6Address. String methods return the
// RFC names. Mobility Header and ICMPv6 selectors put the type in the high
// octet of the port (RFC 4301 §4.4.1.1): MHTypePorts(5) is 1280..1280.
package ikev2
