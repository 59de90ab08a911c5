package eap

import (
	"encoding/binary"
	"strconv"
)

// MSCHAPv2OpCode is the OpCode of EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2-02 §2).
type MSCHAPv2OpCode uint8

// EAP-MSCHAPv2 OpCodes.
const (
	MSCHAPv2Challenge      MSCHAPv2OpCode = 1
	MSCHAPv2Response       MSCHAPv2OpCode = 2
	MSCHAPv2Success        MSCHAPv2OpCode = 3
	MSCHAPv2Failure        MSCHAPv2OpCode = 4
	MSCHAPv2ChangePassword MSCHAPv2OpCode = 7
)

func (o MSCHAPv2OpCode) String() string {
	switch o {
	case MSCHAPv2Challenge:
		return "Challenge"
	case MSCHAPv2Response:
		return "Response"
	case MSCHAPv2Success:
		return "Success"
	case MSCHAPv2Failure:
		return "Failure"
	case MSCHAPv2ChangePassword:
		return "Change-Password"
	}
	return "OpCode(" + strconv.Itoa(int(o)) + ")"
}

// Sizes of the fixed MSCHAPv2 fields (RFC 2759 §4, §7).
const (
	MSCHAPv2ChallengeLen     = 16
	MSCHAPv2ResponseLen      = 49 // Peer-Challenge, Reserved, NT-Response, Flags
	MSCHAPv2NTResponseLen    = 24
	MSCHAPv2EncPasswordLen   = 516
	MSCHAPv2EncHashLen       = 16
	mschapv2HeaderLen        = 4 // OpCode, MS-CHAPv2-ID, MS-Length
	mschapv2ChangePasswordLn = MSCHAPv2EncPasswordLen + MSCHAPv2EncHashLen + 16 + 8 + 24 + 2
)

// MSCHAPv2 is the Type-Data of EAP-MSCHAPv2. Which fields are used depends
// on OpCode; byte-slice fields are views after parsing. MS-Length is
// derived (it equals the EAP Length minus 5) and checked on parsing.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Code      |   Identifier  |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |    OpCode     |  MS-CHAPv2-ID |  MS-Length...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   MS-Length   |     Data...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//	Challenge:  Value-Size (16) | Challenge (16) | Name ...
//	Response:   Value-Size (49) | Peer-Challenge (16) | Reserved (8) |
//	            NT-Response (24) | Flags (1) | Name ...
//	Success, Failure (Request): Message ("S=<auth> M=<msg>", "E=... R=... C=... V=... M=...")
//	Success, Failure (Response): the OpCode alone, no ID and no MS-Length
//	Change-Password: Encrypted-Password (516) | Encrypted-Hash (16) |
//	            Peer-Challenge (16) | Reserved (8) | NT-Response (24) | Flags (2)
type MSCHAPv2 struct {
	OpCode MSCHAPv2OpCode
	// OpCodeOnly marks the one-octet Success and Failure Responses.
	OpCodeOnly bool
	MSCHAPv2ID uint8

	Challenge         []byte // Challenge: 16 bytes
	PeerChallenge     []byte // Response, Change-Password: 16 bytes
	NTResponse        []byte // Response, Change-Password: 24 bytes
	Flags             uint16 // Response (8 bits), Change-Password
	Name              []byte // Challenge, Response
	Message           []byte // Success, Failure
	EncryptedPassword []byte // Change-Password: 516 bytes
	EncryptedHash     []byte // Change-Password: 16 bytes
}

func (m *MSCHAPv2) EAPType() Type { return TypeMSCHAPv2 }

// AppendTypeData encodes m. Fixed-size fields shorter than their size are
// zero-padded, longer ones truncated; callers supply the right sizes.
func (m *MSCHAPv2) AppendTypeData(b []byte) []byte {
	if m.OpCodeOnly {
		return append(b, byte(m.OpCode))
	}
	start := len(b)
	b = append(b, byte(m.OpCode), m.MSCHAPv2ID, 0, 0)
	switch m.OpCode {
	case MSCHAPv2Challenge:
		b = append(b, MSCHAPv2ChallengeLen)
		b = appendFixed(b, m.Challenge, MSCHAPv2ChallengeLen)
		b = append(b, m.Name...)
	case MSCHAPv2Response:
		b = append(b, MSCHAPv2ResponseLen)
		b = appendFixed(b, m.PeerChallenge, 16)
		b = appendFixed(b, nil, 8)
		b = appendFixed(b, m.NTResponse, MSCHAPv2NTResponseLen)
		b = append(b, byte(m.Flags))
		b = append(b, m.Name...)
	case MSCHAPv2ChangePassword:
		b = appendFixed(b, m.EncryptedPassword, MSCHAPv2EncPasswordLen)
		b = appendFixed(b, m.EncryptedHash, MSCHAPv2EncHashLen)
		b = appendFixed(b, m.PeerChallenge, 16)
		b = appendFixed(b, nil, 8)
		b = appendFixed(b, m.NTResponse, MSCHAPv2NTResponseLen)
		b = binary.BigEndian.AppendUint16(b, m.Flags)
	default:
		b = append(b, m.Message...)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

func appendFixed(b, v []byte, n int) []byte {
	if len(v) > n {
		v = v[:n]
	}
	b = append(b, v...)
	for i := len(v); i < n; i++ {
		b = append(b, 0)
	}
	return b
}

// ParseMSCHAPv2 decodes EAP-MSCHAPv2 Type-Data into m (views into data).
func ParseMSCHAPv2(data []byte, m *MSCHAPv2) error {
	if len(data) < 1 {
		return errf("MSCHAPv2", "OpCode", ErrTruncated, 0, 1)
	}
	op := MSCHAPv2OpCode(data[0])
	*m = MSCHAPv2{OpCode: op}
	switch op {
	case MSCHAPv2Challenge, MSCHAPv2Response, MSCHAPv2Success, MSCHAPv2Failure, MSCHAPv2ChangePassword:
	default:
		return errf("MSCHAPv2", "OpCode", ErrInvalid, int(op), 0)
	}
	if len(data) == 1 && (op == MSCHAPv2Success || op == MSCHAPv2Failure) {
		m.OpCodeOnly = true
		return nil
	}
	if len(data) < mschapv2HeaderLen {
		return mserr(op, "MS-Length", ErrTruncated, len(data), mschapv2HeaderLen)
	}
	m.MSCHAPv2ID = data[1]
	if msLen := int(binary.BigEndian.Uint16(data[2:])); msLen != len(data) {
		return mserr(op, "MS-Length", ErrMismatch, msLen, len(data))
	}
	body := data[mschapv2HeaderLen:]
	switch op {
	case MSCHAPv2Challenge:
		return parseMSCHAPv2Challenge(body, m)
	case MSCHAPv2Response:
		return parseMSCHAPv2Response(body, m)
	case MSCHAPv2ChangePassword:
		return parseMSCHAPv2ChangePassword(body, m)
	}
	m.Message = body
	return nil
}

func parseMSCHAPv2Challenge(body []byte, m *MSCHAPv2) error {
	if len(body) < 1 {
		return mserr(m.OpCode, "Value-Size", ErrTruncated, 0, 1)
	}
	if body[0] != MSCHAPv2ChallengeLen {
		return mserr(m.OpCode, "Value-Size", ErrMismatch, int(body[0]), MSCHAPv2ChallengeLen)
	}
	if len(body) < 1+MSCHAPv2ChallengeLen {
		return mserr(m.OpCode, "Challenge", ErrTruncated, len(body)-1, MSCHAPv2ChallengeLen)
	}
	m.Challenge = body[1 : 1+MSCHAPv2ChallengeLen : 1+MSCHAPv2ChallengeLen]
	m.Name = body[1+MSCHAPv2ChallengeLen:]
	return nil
}

func parseMSCHAPv2Response(body []byte, m *MSCHAPv2) error {
	if len(body) < 1 {
		return mserr(m.OpCode, "Value-Size", ErrTruncated, 0, 1)
	}
	if body[0] != MSCHAPv2ResponseLen {
		return mserr(m.OpCode, "Value-Size", ErrMismatch, int(body[0]), MSCHAPv2ResponseLen)
	}
	if len(body) < 1+MSCHAPv2ResponseLen {
		return mserr(m.OpCode, "Response", ErrTruncated, len(body)-1, MSCHAPv2ResponseLen)
	}
	v := body[1 : 1+MSCHAPv2ResponseLen]
	m.PeerChallenge = v[0:16:16]
	m.NTResponse = v[24:48:48]
	m.Flags = uint16(v[48])
	m.Name = body[1+MSCHAPv2ResponseLen:]
	return nil
}

func parseMSCHAPv2ChangePassword(body []byte, m *MSCHAPv2) error {
	if len(body) != mschapv2ChangePasswordLn {
		return mserr(m.OpCode, "MS-Length", ErrMismatch, len(body)+mschapv2HeaderLen, mschapv2ChangePasswordLn+mschapv2HeaderLen)
	}
	const encHash = MSCHAPv2EncPasswordLen
	const peerChal = encHash + MSCHAPv2EncHashLen
	const ntResp = peerChal + 16 + 8 // after Reserved
	const flags = ntResp + MSCHAPv2NTResponseLen
	m.EncryptedPassword = body[:encHash:encHash]
	m.EncryptedHash = body[encHash:peerChal:peerChal]
	m.PeerChallenge = body[peerChal : peerChal+16 : peerChal+16]
	m.NTResponse = body[ntResp:flags:flags]
	m.Flags = binary.BigEndian.Uint16(body[flags:])
	return nil
}

func mserr(op MSCHAPv2OpCode, field string, kind ErrorKind, value, limit int) *Error {
	return errf("MSCHAPv2 "+op.String(), field, kind, value, limit)
}
