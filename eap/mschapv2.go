package eap

import (
	"crypto/rand"
	"crypto/subtle"
	"strconv"
	"strings"

	wire "mip6/wire/eap"
)

// MSCHAPv2 is the peer side of EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2,
// RFC 2759). It verifies the server's authenticator response before it
// accepts success (mutual authentication) and derives the MSK of RFC 3079.
type MSCHAPv2 struct {
	UserName string // sent as Name; a "DOMAIN\" prefix is left out of the hashes
	Password string

	authResponse string // expected "S=" value, 40 upper-case hex digits
	ntResponse   [24]byte
	state        mschapv2State
	failErr      *FailureError
	msk          []byte
}

type mschapv2State uint8

const (
	mschapv2ExpectChallenge mschapv2State = iota
	mschapv2ExpectSuccess
	mschapv2Done
	mschapv2Failed
)

// NewMSCHAPv2 returns an EAP-MSCHAPv2 method for a user name and password.
func NewMSCHAPv2(userName, password string) *MSCHAPv2 {
	return &MSCHAPv2{UserName: userName, Password: password}
}

func (m *MSCHAPv2) Type() wire.Type { return wire.TypeMSCHAPv2 }
func (m *MSCHAPv2) Done() bool      { return m.state == mschapv2Done }

// MSK is the 64-byte MSK after the server proved itself, else nil.
func (m *MSCHAPv2) MSK() []byte {
	if m.state != mschapv2Done {
		return nil
	}
	return m.msk
}

func (m *MSCHAPv2) failure() *FailureError { return m.failErr }

// Process answers a Challenge, Success or Failure request.
func (m *MSCHAPv2) Process(req *wire.Packet) (wire.Body, error) {
	var in wire.MSCHAPv2
	if err := wire.ParseMSCHAPv2(req.TypeData, &in); err != nil {
		return nil, &ProtocolError{Method: m.Type(), Detail: "malformed request", Err: err}
	}
	switch {
	case in.OpCode == wire.MSCHAPv2Challenge && m.state == mschapv2ExpectChallenge:
		return m.challenge(&in)
	case in.OpCode == wire.MSCHAPv2Success && m.state == mschapv2ExpectSuccess && !in.OpCodeOnly:
		return m.success(&in)
	case in.OpCode == wire.MSCHAPv2Failure && !in.OpCodeOnly:
		m.state = mschapv2Failed
		m.failErr = parseMSCHAPv2Failure(in.Message)
		return &wire.MSCHAPv2{OpCode: wire.MSCHAPv2Failure, OpCodeOnly: true}, nil
	}
	return nil, &ProtocolError{Method: m.Type(), Detail: "unexpected " + in.OpCode.String() + " request"}
}

func (m *MSCHAPv2) challenge(in *wire.MSCHAPv2) (wire.Body, error) {
	var peerChallenge [16]byte
	if _, err := rand.Read(peerChallenge[:]); err != nil {
		return nil, err
	}
	return m.respond(in, peerChallenge[:]), nil
}

// respond builds the Response for a given peer challenge (tests fix it).
func (m *MSCHAPv2) respond(in *wire.MSCHAPv2, peerChallenge []byte) wire.Body {
	m.ntResponse = generateNTResponse(in.Challenge, peerChallenge, m.UserName, m.Password)
	m.authResponse = generateAuthenticatorResponse(m.Password, m.ntResponse, peerChallenge, in.Challenge, m.UserName)
	m.state = mschapv2ExpectSuccess
	return &wire.MSCHAPv2{
		OpCode: wire.MSCHAPv2Response, MSCHAPv2ID: in.MSCHAPv2ID,
		PeerChallenge: peerChallenge, NTResponse: m.ntResponse[:], Name: []byte(m.UserName),
	}
}

func (m *MSCHAPv2) success(in *wire.MSCHAPv2) (wire.Body, error) {
	got, _ := mschapv2Field(string(in.Message), "S=")
	if len(got) != 40 || subtle.ConstantTimeCompare([]byte(strings.ToUpper(got)), []byte(m.authResponse)) != 1 {
		m.state = mschapv2Failed
		return nil, &ServerAuthError{Method: m.Type(), Detail: "authenticator response does not prove knowledge of the password"}
	}
	m.state = mschapv2Done
	m.msk = mschapv2MSK(m.Password, m.ntResponse)
	return &wire.MSCHAPv2{OpCode: wire.MSCHAPv2Success, OpCodeOnly: true}, nil
}

// mschapv2Field returns the value of "K=..." in a space-separated message;
// M= runs to the end of the message.
func mschapv2Field(msg, key string) (string, bool) {
	for rest := msg; rest != ""; {
		tok := rest
		if key != "M=" || !strings.HasPrefix(rest, "M=") {
			tok, rest, _ = strings.Cut(rest, " ")
		} else {
			rest = ""
		}
		if v, ok := strings.CutPrefix(tok, key); ok {
			return v, true
		}
	}
	return "", false
}

// parseMSCHAPv2Failure reads "E=eeeeeeeeee R=r C=... V=v M=msg" (RFC 2759 §6).
func parseMSCHAPv2Failure(msg []byte) *FailureError {
	s := string(msg)
	e := &FailureError{Method: wire.TypeMSCHAPv2}
	if v, ok := mschapv2Field(s, "E="); ok {
		e.Code, _ = strconv.Atoi(v)
	}
	e.Detail, _ = mschapv2Field(s, "M=")
	if e.Detail == "" {
		e.Detail = mschapv2ErrorText(e.Code)
	}
	return e
}

func mschapv2ErrorText(code int) string {
	switch code {
	case 646:
		return "restricted logon hours"
	case 647:
		return "account disabled"
	case 648:
		return "password expired"
	case 649:
		return "no dial-in permission"
	case 691:
		return "wrong user name or password"
	case 709:
		return "error changing password"
	}
	return ""
}
