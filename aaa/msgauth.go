package aaa

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"

	"layeh.com/radius"
	"layeh.com/radius/rfc2869"
)

// RADIUS packet layout (RFC 2865 §3): Code, Identifier, Length (2),
// Authenticator (16), then attributes of Type, Length, Value.
const (
	headerLen   = 20
	maLen       = 16 // Message-Authenticator value
	maxAttrData = 253
)

// findMA returns the offset of the Message-Authenticator value in a
// well-formed packet, or -1.
func findMA(b []byte) int {
	for o := headerLen; o+2 <= len(b); {
		l := int(b[o+1])
		if l < 2 || o+l > len(b) {
			return -1
		}
		if radius.Type(b[o]) == rfc2869.MessageAuthenticator_Type && l == 2+maLen {
			return o + 2
		}
		o += l
	}
	return -1
}

// messageAuthenticator is HMAC-MD5(secret, packet) with the Authenticator
// field set to auth and the Message-Authenticator value zeroed (RFC 3579 §3.2).
func messageAuthenticator(b []byte, off int, auth []byte, secret []byte) []byte {
	c := append([]byte(nil), b...)
	copy(c[4:20], auth)
	clear(c[off : off+maLen])
	h := hmac.New(md5.New, secret)
	h.Write(c)
	return h.Sum(nil)
}

// signRequest fills in the Message-Authenticator of an encoded Access-Request.
func signRequest(b, secret []byte) {
	if off := findMA(b); off >= 0 {
		copy(b[off:], messageAuthenticator(b, off, b[4:20], secret))
	}
}

// responseAuthentic checks the Response Authenticator (RFC 2865 §3).
func responseAuthentic(resp, reqAuth, secret []byte) bool {
	h := md5.New()
	h.Write(resp[:4])
	h.Write(reqAuth)
	h.Write(resp[headerLen:])
	h.Write(secret)
	return subtle.ConstantTimeCompare(h.Sum(nil), resp[4:20]) == 1
}

// validLength reports whether b is a RADIUS packet whose Length fits b and
// whose attributes are well formed.
func validLength(b []byte) bool {
	if len(b) < headerLen {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n < headerLen || n > len(b) || n > radius.MaxPacketLength {
		return false
	}
	_, err := radius.ParseAttributes(b[headerLen:n])
	return err == nil
}

// addEAPMessage splits an EAP packet over EAP-Message attributes (RFC 3579 §3.1).
func addEAPMessage(p *radius.Packet, eap []byte) {
	for len(eap) > 0 {
		n := min(len(eap), maxAttrData)
		p.Add(rfc2869.EAPMessage_Type, radius.Attribute(append([]byte(nil), eap[:n]...)))
		eap = eap[n:]
	}
}

// eapMessage concatenates the EAP-Message attributes of p.
func eapMessage(p *radius.Packet) []byte {
	var out []byte
	for _, a := range p.Attributes {
		if a.Type == rfc2869.EAPMessage_Type {
			out = append(out, a.Attribute...)
		}
	}
	return out
}
