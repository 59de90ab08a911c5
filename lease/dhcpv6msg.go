package lease

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// DHCPv6 message and option codes (RFC 8415 §7.3, §21).
const (
	dhcpSolicit   uint8 = 1
	dhcpAdvertise uint8 = 2
	dhcpRequest   uint8 = 3
	dhcpRenew     uint8 = 5
	dhcpReply     uint8 = 7
	dhcpRelease   uint8 = 8

	optClientID    uint16 = 1
	optServerID    uint16 = 2
	optIANA        uint16 = 3
	optIAAddr      uint16 = 5
	optPreference  uint16 = 7
	optElapsedTime uint16 = 8
	optStatusCode  uint16 = 13
	optRapidCommit uint16 = 14

	// Status codes (RFC 8415 §21.13).
	StatusSuccess      uint16 = 0
	StatusUnspecFail   uint16 = 1
	StatusNoAddrsAvail uint16 = 2
	StatusNoBinding    uint16 = 3
	StatusNotOnLink    uint16 = 4
	StatusUseMulticast uint16 = 5

	maxDUIDLen = 130 // RFC 8415 §11.1: at most 128 octets plus the type
)

var dhcpMsgNames = map[uint8]string{dhcpSolicit: "Solicit", dhcpAdvertise: "Advertise", dhcpRequest: "Request",
	dhcpRenew: "Renew", dhcpReply: "Reply", dhcpRelease: "Release"}

func dhcpMsgName(t uint8) string {
	if n, ok := dhcpMsgNames[t]; ok {
		return n
	}
	return fmt.Sprintf("message type %d", t)
}

// StatusName names a DHCPv6 status code.
func StatusName(code uint16) string {
	switch code {
	case StatusSuccess:
		return "Success"
	case StatusUnspecFail:
		return "UnspecFail"
	case StatusNoAddrsAvail:
		return "NoAddrsAvail"
	case StatusNoBinding:
		return "NoBinding"
	case StatusNotOnLink:
		return "NotOnLink"
	case StatusUseMulticast:
		return "UseMulticast"
	}
	return fmt.Sprintf("status %d", code)
}

// MessageError reports a DHCPv6 message that cannot be decoded.
type MessageError struct {
	Message string // "Reply"
	Field   string // "IA_NA", "IAADDR", ...
	Offset  int
	Reason  string
}

func (e *MessageError) Error() string {
	return fmt.Sprintf("dhcpv6: %s: %s at offset %d: %s", e.Message, e.Field, e.Offset, e.Reason)
}

// Status is a Status Code option; Message is a view into the packet.
type Status struct {
	Code    uint16
	Message []byte
}

// IAAddr is an IA Address option (RFC 8415 §21.6).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          OPTION_IAADDR        |          option-len           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         IPv6-address                          |
//	|                          (16 octets)                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      preferred-lifetime                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        valid-lifetime                         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                        IAaddr-options                         .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type IAAddr struct {
	Address          netip.Addr
	Preferred, Valid uint32
	Status           Status
	HasStatus        bool
}

// IANA is an Identity Association for Non-temporary Addresses option
// (RFC 8415 §21.4); Addr is its first IA Address (we ask for one).
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          OPTION_IA_NA         |          option-len           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        IAID (4 octets)                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                              T1                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                              T2                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                         IA_NA-options                         .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type IANA struct {
	IAID, T1, T2 uint32
	Addr         IAAddr
	HasAddr      bool
	Status       Status
	HasStatus    bool
}

// Message is a client/server DHCPv6 message (RFC 8415 §8); byte slices
// are views into the packet.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|    msg-type   |               transaction-id                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                            options                            .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Message struct {
	Type          uint8
	TransactionID uint32 // 24 bits
	ClientID      []byte
	ServerID      []byte
	IANA          IANA
	HasIANA       bool
	Status        Status
	HasStatus     bool
	Preference    uint8
	RapidCommit   bool
	ElapsedTime   uint16 // hundredths of a second
}

// ParseMessage decodes b into m. Only the first IA_NA and its first IA
// Address are kept; unknown options are skipped.
func ParseMessage(b []byte, m *Message) error {
	*m = Message{}
	if len(b) < 4 {
		return &MessageError{"DHCPv6", "header", 0, fmt.Sprintf("%d octets, need 4", len(b))}
	}
	m.Type = b[0]
	m.TransactionID = uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	name := dhcpMsgName(m.Type)
	return walkOptions(name, "options", b[4:], 4, func(code uint16, v []byte, off int) error {
		switch code {
		case optClientID, optServerID:
			if len(v) < 2 || len(v) > maxDUIDLen {
				return &MessageError{name, "DUID", off, fmt.Sprintf("length %d outside 2..%d", len(v), maxDUIDLen)}
			}
			if code == optClientID {
				m.ClientID = v
			} else {
				m.ServerID = v
			}
		case optIANA:
			if m.HasIANA {
				return nil
			}
			m.HasIANA = true
			return parseIANA(name, v, off, &m.IANA)
		case optStatusCode:
			m.HasStatus = true
			return parseStatus(name, v, off, &m.Status)
		case optPreference:
			if len(v) != 1 {
				return &MessageError{name, "Preference", off, fmt.Sprintf("length %d, want 1", len(v))}
			}
			m.Preference = v[0]
		case optRapidCommit:
			m.RapidCommit = true
		case optElapsedTime:
			if len(v) != 2 {
				return &MessageError{name, "Elapsed Time", off, fmt.Sprintf("length %d, want 2", len(v))}
			}
			m.ElapsedTime = binary.BigEndian.Uint16(v)
		}
		return nil
	})
}

// walkOptions calls fn for each option in b; base is b's offset in the
// message, for error reports.
func walkOptions(msg, field string, b []byte, base int, fn func(code uint16, v []byte, off int) error) error {
	for off := 0; off < len(b); {
		if len(b)-off < 4 {
			return &MessageError{msg, field, base + off, fmt.Sprintf("%d octets left, option header needs 4", len(b)-off)}
		}
		code := binary.BigEndian.Uint16(b[off:])
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if n > len(b)-off-4 {
			return &MessageError{msg, field, base + off, fmt.Sprintf("option %d length %d exceeds the %d octets left", code, n, len(b)-off-4)}
		}
		if err := fn(code, b[off+4:off+4+n], base+off+4); err != nil {
			return err
		}
		off += 4 + n
	}
	return nil
}

func parseStatus(msg string, v []byte, off int, s *Status) error {
	if len(v) < 2 {
		return &MessageError{msg, "Status Code", off, fmt.Sprintf("length %d, need 2", len(v))}
	}
	s.Code = binary.BigEndian.Uint16(v)
	s.Message = v[2:]
	return nil
}

func parseIANA(msg string, v []byte, off int, ia *IANA) error {
	if len(v) < 12 {
		return &MessageError{msg, "IA_NA", off, fmt.Sprintf("length %d, need 12", len(v))}
	}
	ia.IAID = binary.BigEndian.Uint32(v)
	ia.T1 = binary.BigEndian.Uint32(v[4:])
	ia.T2 = binary.BigEndian.Uint32(v[8:])
	return walkOptions(msg, "IA_NA options", v[12:], off+12, func(code uint16, o []byte, ooff int) error {
		switch code {
		case optIAAddr:
			if ia.HasAddr {
				return nil
			}
			ia.HasAddr = true
			return parseIAAddr(msg, o, ooff, &ia.Addr)
		case optStatusCode:
			ia.HasStatus = true
			return parseStatus(msg, o, ooff, &ia.Status)
		}
		return nil
	})
}

func parseIAAddr(msg string, v []byte, off int, a *IAAddr) error {
	if len(v) < 24 {
		return &MessageError{msg, "IAADDR", off, fmt.Sprintf("length %d, need 24", len(v))}
	}
	a.Address = netip.AddrFrom16([16]byte(v[:16]))
	a.Preferred = binary.BigEndian.Uint32(v[16:])
	a.Valid = binary.BigEndian.Uint32(v[20:])
	return walkOptions(msg, "IAADDR options", v[24:], off+24, func(code uint16, o []byte, ooff int) error {
		if code == optStatusCode {
			a.HasStatus = true
			return parseStatus(msg, o, ooff, &a.Status)
		}
		return nil
	})
}

func appendOption(b []byte, code uint16, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// AppendMessage appends m's encoding to b. It writes Client and Server
// Identifier, Elapsed Time, Rapid Commit, a top-level Status and the IA_NA
// (with its IA Address when HasAddr) — what a client sends.
func AppendMessage(b []byte, m *Message) []byte {
	b = append(b, m.Type, byte(m.TransactionID>>16), byte(m.TransactionID>>8), byte(m.TransactionID))
	if m.ClientID != nil {
		b = appendOption(b, optClientID, m.ClientID)
	}
	if m.ServerID != nil {
		b = appendOption(b, optServerID, m.ServerID)
	}
	b = appendOption(b, optElapsedTime, binary.BigEndian.AppendUint16(nil, m.ElapsedTime))
	if m.RapidCommit {
		b = appendOption(b, optRapidCommit, nil)
	}
	if m.HasStatus {
		b = appendOption(b, optStatusCode, append(binary.BigEndian.AppendUint16(nil, m.Status.Code), m.Status.Message...))
	}
	if m.Preference != 0 {
		b = appendOption(b, optPreference, []byte{m.Preference})
	}
	if m.HasIANA {
		b = appendOption(b, optIANA, appendIANABody(nil, &m.IANA))
	}
	return b
}

func appendIANABody(b []byte, ia *IANA) []byte {
	b = binary.BigEndian.AppendUint32(b, ia.IAID)
	b = binary.BigEndian.AppendUint32(b, ia.T1)
	b = binary.BigEndian.AppendUint32(b, ia.T2)
	if ia.HasAddr {
		a := ia.Addr.Address.As16()
		v := append([]byte(nil), a[:]...)
		v = binary.BigEndian.AppendUint32(v, ia.Addr.Preferred)
		v = binary.BigEndian.AppendUint32(v, ia.Addr.Valid)
		if ia.Addr.HasStatus {
			v = appendOption(v, optStatusCode, append(binary.BigEndian.AppendUint16(nil, ia.Addr.Status.Code), ia.Addr.Status.Message...))
		}
		b = appendOption(b, optIAAddr, v)
	}
	if ia.HasStatus {
		b = appendOption(b, optStatusCode, append(binary.BigEndian.AppendUint16(nil, ia.Status.Code), ia.Status.Message...))
	}
	return b
}
