package mh

import (
	"encoding/binary"
	"net/netip"
)

// Return-routability authorization (RFC 6275 §6.2.7, §5.2.6):
//
//	Mobility Data = care-of address | correspondent | MH Data
//	Authenticator = First (96, HMAC_SHA1 (Kbm, Mobility Data))
//
// MH Data is the Mobility Header without the Authenticator field, its
// Checksum taken as zero. Since the option is last, MH Data is the message
// up to the Authenticator and whatever padding follows it.

// AppendAuthenticatorInput appends the Mobility Data over which the
// Authenticator of msg (a whole Mobility Header holding a Binding
// Authorization Data option) is computed.
func AppendAuthenticatorInput(b []byte, careOf, correspondent netip.Addr, msg []byte) ([]byte, error) {
	h, start, end, err := findAuthenticator(msg)
	if err != nil {
		return b, err
	}
	c, p := careOf.As16(), correspondent.As16()
	b = append(b, c[:]...)
	b = append(b, p[:]...)
	n := len(b)
	b = append(b, h.Data[:start]...)
	b[n+4], b[n+5] = 0, 0
	return append(b, h.Data[end:]...), nil
}

// SetAuthenticator writes auth into the Binding Authorization Data option
// of the encoded message msg (encoded with a placeholder Authenticator of
// the same length) and recomputes the checksum for src and dst.
func SetAuthenticator(msg []byte, src, dst netip.Addr, auth []byte) error {
	h, start, end, err := findAuthenticator(msg)
	if err != nil {
		return err
	}
	if end-start != len(auth) {
		return errAt("Binding Authorization Data option", "length", start-1, "%d, authenticator has %d", end-start, len(auth))
	}
	copy(h.Data[start:end], auth)
	binary.BigEndian.PutUint16(h.Data[4:], 0)
	binary.BigEndian.PutUint16(h.Data[4:], Checksum(src, dst, h.Data))
	return nil
}

// findAuthenticator locates the Authenticator in msg: h.Data[start:end].
func findAuthenticator(msg []byte) (h Header, start, end int, err error) {
	if h, err = ParseHeader(msg); err != nil {
		return Header{}, 0, 0, err
	}
	it := h.Options()
	for it.Next() {
		if o := it.Option(); o.Type == OptBindingAuthorizationData {
			return h, o.Offset + 2, o.Offset + 2 + len(o.Data), nil
		}
	}
	if err := it.Err(); err != nil {
		return Header{}, 0, 0, err
	}
	return Header{}, 0, 0, errAt(h.Type.String(), "options", -1, "no Binding Authorization Data option")
}
