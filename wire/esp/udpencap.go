package esp

// UDP encapsulation of ESP (RFC 3948). IKE and ESP share UDP port 4500;
// the first bytes of the UDP payload tell them apart:
//
// UDP-encapsulated ESP (RFC 3948 §2.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        Source Port            |      Destination Port         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Length              |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      ESP header [RFC4303]                     |
//	~                                                               ~
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// IKE on port 4500 (RFC 3948 §2.2): a Non-ESP Marker (4 zero bytes, which
// no SPI may be) precedes the IKE header:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        Source Port            |      Destination Port         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Length              |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      Non-ESP Marker                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      IKE header [RFC4306]                     |
//	~                                                               ~
//
// NAT-keepalive (RFC 3948 §2.3): a single 0xFF byte.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        Source Port            |      Destination Port         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Length              |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|    0xFF       |
//	+-+-+-+-+-+-+-+-+

// Port is the UDP port shared by IKE and UDP-encapsulated ESP.
const Port = 4500

// NonESPMarkerLen is the length of the Non-ESP Marker before IKE messages.
const NonESPMarkerLen = 4

// NATKeepalive is the one byte payload of a NAT-keepalive packet.
const NATKeepalive = 0xFF

// Kind tells what a UDP payload received on port 4500 carries.
type Kind uint8

const (
	KindESPPacket    Kind = iota + 1 // an ESP packet starting at payload[0]
	KindIKEMessage                   // an IKE message after the Non-ESP Marker
	KindNATKeepalive                 // a NAT-keepalive, to be discarded
)

func (k Kind) String() string {
	switch k {
	case KindESPPacket:
		return "ESP"
	case KindIKEMessage:
		return "IKE"
	case KindNATKeepalive:
		return "NAT-keepalive"
	}
	return "unknown"
}

// Classify tells ESP, IKE and NAT-keepalive apart in a UDP payload
// received on port 4500, and returns the part that the ESP or IKE layer
// parses: the whole payload for ESP, the payload after the Non-ESP Marker
// for IKE, nothing for a keepalive.
func Classify(payload []byte) (Kind, []byte, error) {
	if len(payload) == 1 && payload[0] == NATKeepalive {
		return KindNATKeepalive, nil, nil
	}
	if len(payload) < NonESPMarkerLen {
		return 0, nil, &Error{Field: FieldUDPPayload, Kind: KindShort, Got: len(payload), Want: NonESPMarkerLen}
	}
	if payload[0]|payload[1]|payload[2]|payload[3] == 0 {
		return KindIKEMessage, payload[NonESPMarkerLen:], nil
	}
	if len(payload) < HeaderLen {
		return 0, nil, &Error{Field: FieldHeader, Kind: KindShort, Got: len(payload), Want: HeaderLen}
	}
	return KindESPPacket, payload, nil
}

// AppendNonESPMarker appends the 4 zero bytes that precede an IKE message
// sent on port 4500.
func AppendNonESPMarker(b []byte) []byte {
	return append(b, 0, 0, 0, 0)
}

// AppendNATKeepalive appends the payload of a NAT-keepalive packet.
func AppendNATKeepalive(b []byte) []byte {
	return append(b, NATKeepalive)
}
