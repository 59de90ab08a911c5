// Package eap encodes and decodes Extensible Authentication Protocol packets
// (RFC 3748) and the Type-Data of the methods mip6 uses: Identity,
// Notification, Nak, MD5-Challenge (RFC 3748 §5), EAP-TLS and the TLS-based
// framing shared by TTLS and PEAP (RFC 5216 §3), EAP-MSCHAPv2
// (draft-kamath-pppext-eap-mschapv2) and Expanded Types (RFC 3748 §5.7).
//
// It is a codec only: it knows nothing of sockets, timers or method state.
//
// Decoding is allocation-free: Parse fills a caller-provided Packet whose
// TypeData is a view into the input, and ParseXxx functions fill
// caller-provided structs whose byte-slice fields are views as well.
// Every length is checked against the bytes present before it is used;
// failures are *Error values naming the message and the field.
//
// Encoding appends to a caller's buffer: Append builds a whole packet from
// a Body (any Type-Data value such as MD5Challenge or MSCHAPv2) and patches
// the Length field; Packet.Append re-encodes a parsed packet.
//
//	var p eap.Packet
//	if err := eap.Parse(b, &p); err != nil { ... }
//	if p.Type == eap.TypeMD5Challenge {
//		var c eap.MD5Challenge
//		err := eap.ParseMD5Challenge(p.TypeData, &c)
//	}
//	out, err := eap.Append(nil, eap.CodeResponse, p.Identifier, eap.Identity("alice@example.net"))
package eap
