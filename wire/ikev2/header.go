package ikev2

import "encoding/binary"

// HeaderLen is the length of the IKE header.
const HeaderLen = 28

// Flags are the IKE header flags (RFC 7296 §3.1).
type Flags uint8

const (
	FlagInitiator Flags = 0x08 // I: sent by the original initiator of the IKE SA
	FlagVersion   Flags = 0x10 // V: sender can speak a higher major version
	FlagResponse  Flags = 0x20 // R: this message is a response
)

func (f Flags) String() string {
	b := make([]byte, 0, 8)
	for _, x := range [...]struct {
		f Flags
		c byte
	}{{FlagInitiator, 'I'}, {FlagVersion, 'V'}, {FlagResponse, 'R'}} {
		if f&x.f != 0 {
			b = append(b, x.c)
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// Header is the IKE header (RFC 7296 §3.1). Version is always 2.0: ParseHeader
// rejects other major versions and AppendHeader writes 2.0.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       IKE SA Initiator's SPI                  |
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       IKE SA Responder's SPI                  |
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                          Message ID                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                            Length                             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Header struct {
	InitiatorSPI uint64 // big-endian value of the 8 SPI octets
	ResponderSPI uint64
	NextPayload  PayloadType
	Exchange     ExchangeType
	Flags        Flags
	MessageID    uint32
	Length       uint32 // whole message, header included
}

// IsResponse reports whether the R flag is set.
func (h *Header) IsResponse() bool { return h.Flags&FlagResponse != 0 }

// IsInitiator reports whether the I flag is set.
func (h *Header) IsInitiator() bool { return h.Flags&FlagInitiator != 0 }

// ParseHeader decodes the IKE header at the start of b without allocating.
// It checks that Length is at least HeaderLen, not that it equals len(b)
// (ParseMessage does). On *UnsupportedVersionError the returned Header is
// filled in, so that a responder can answer INVALID_MAJOR_VERSION.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, errf("header", "", "length", ProblemShort, len(b), HeaderLen)
	}
	h := Header{
		InitiatorSPI: binary.BigEndian.Uint64(b[0:8]),
		ResponderSPI: binary.BigEndian.Uint64(b[8:16]),
		NextPayload:  PayloadType(b[16]),
		Exchange:     ExchangeType(b[18]),
		Flags:        Flags(b[19]),
		MessageID:    binary.BigEndian.Uint32(b[20:24]),
		Length:       binary.BigEndian.Uint32(b[24:28]),
	}
	if b[17]>>4 != 2 {
		return h, &UnsupportedVersionError{Major: b[17] >> 4, Minor: b[17] & 0xf}
	}
	if h.Length < HeaderLen {
		return h, errf("header", "", "length", ProblemShort, int(h.Length), HeaderLen)
	}
	return h, nil
}

// AppendHeader appends the encoded header (version 2.0) to b, as given:
// the caller sets NextPayload and Length (Message.Marshal does that).
func AppendHeader(b []byte, h Header) []byte {
	b = binary.BigEndian.AppendUint64(b, h.InitiatorSPI)
	b = binary.BigEndian.AppendUint64(b, h.ResponderSPI)
	b = append(b, byte(h.NextPayload), 0x20, byte(h.Exchange), byte(h.Flags))
	b = binary.BigEndian.AppendUint32(b, h.MessageID)
	return binary.BigEndian.AppendUint32(b, h.Length)
}

// NonESPMarkerLen is the length of the non-ESP marker (RFC 3948 §2.2).
const NonESPMarkerLen = 4

// AppendNonESPMarker appends the four zero octets that precede an IKE
// message sent on UDP port 4500 (RFC 3948 §2.2, RFC 7296 §2.23).
func AppendNonESPMarker(b []byte) []byte { return append(b, 0, 0, 0, 0) }

// StripNonESPMarker classifies a UDP port 4500 datagram. If it starts with
// the non-ESP marker it returns the IKE message after it and true; otherwise
// (ESP, whose SPI is never zero, or a NAT-keepalive 0xFF) it returns b, false.
func StripNonESPMarker(b []byte) ([]byte, bool) {
	if len(b) >= NonESPMarkerLen && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0 {
		return b[NonESPMarkerLen:], true
	}
	return b, false
}
