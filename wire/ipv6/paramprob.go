package ipv6

import (
	"encoding/binary"
	"net/netip"
)

// Parameter Problem codes (RFC 4443 §3.4).
const (
	ParamProbErroneousHeaderField   uint8 = 0
	ParamProbUnrecognizedNextHeader uint8 = 1
	ParamProbUnrecognizedIPv6Option uint8 = 2
	paramProbHeaderLen                    = 8
)

// ParameterProblem is the ICMPv6 Parameter Problem message (RFC 4443
// §3.4), which RFC 6275 §9.2 asks for on a bad MH Payload Proto or Header
// Len. Invoking is as much of the offending packet as fits.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                            Pointer                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    As much of invoking packet                 |
//	+               as possible without the ICMPv6 packet           +
//	|               exceeding the minimum IPv6 MTU                  |
type ParameterProblem struct {
	Code     uint8
	Pointer  uint32 // offset of the offending octet in the invoking packet
	Invoking []byte
}

const msgParamProb = "Parameter Problem"

// ParseParameterProblem decodes the ICMPv6 message b; Invoking is a view.
func ParseParameterProblem(b []byte) (ParameterProblem, error) {
	if len(b) < paramProbHeaderLen {
		return ParameterProblem{}, icmpErr(msgParamProb, "length", 0, "%d bytes, need %d", len(b), paramProbHeaderLen)
	}
	if b[0] != ICMPv6ParameterProblem {
		return ParameterProblem{}, icmpErr(msgParamProb, "type", 0, "%d, want %d", b[0], ICMPv6ParameterProblem)
	}
	return ParameterProblem{Code: b[1], Pointer: binary.BigEndian.Uint32(b[4:]), Invoking: b[8:]}, nil
}

// Append appends the message with its checksum, cutting Invoking so that
// an IPv6 packet carrying it, without extension headers, fits MinMTU.
func (m *ParameterProblem) Append(b []byte, src, dst netip.Addr) []byte {
	start := len(b)
	b = append(b, ICMPv6ParameterProblem, m.Code, 0, 0)
	b = binary.BigEndian.AppendUint32(b, m.Pointer)
	inv := m.Invoking[:min(len(m.Invoking), MinMTU-HeaderLen-paramProbHeaderLen)]
	b = append(b, inv...)
	return finishICMPv6(b, start, src, dst)
}
