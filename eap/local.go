package eap

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"strings"

	wire "mip6/wire/eap"
)

// LocalAuthenticator is an EAP server for EAP-MD5 and EAP-MSCHAPv2 with a
// password table: the back end of the in-process RADIUS server of
// `mip6 demo` and of tests, or the HA's authenticator when no AAA exists.
type LocalAuthenticator struct {
	// Users maps user names to passwords.
	Users map[string]string
	// Methods offered, in order of preference; default MSCHAPv2 then MD5.
	Methods []wire.Type
	// Name is the MSCHAPv2 authenticator name; default "mip6".
	Name string
	// AKA maps identities to USIM records for EAP-AKA'.
	AKA map[string]*AKASubscriber
	// NetworkName is the EAP-AKA' access network name (AT_KDF_INPUT); default "WLAN".
	NetworkName string
	// TLS, if set, enables EAP-TLS: the server certificate (Certificates)
	// and the CAs client certificates must chain to (ClientCAs).
	TLS *tls.Config
	// TLSFragment is the TLS data per EAP-TLS Request; DefaultTLSFragment if 0.
	TLSFragment int
	// TLSWithoutEMS accepts peers that do not negotiate the extended master
	// secret (strongSwan's eap-tls), restricted to full ECDHE handshakes;
	// see tlsnoems.go.
	TLSWithoutEMS bool
}

// Start implements Authenticator.
func (a *LocalAuthenticator) Start(ctx context.Context, identity string) (Conversation, error) {
	var id [1]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	methods := a.Methods
	if len(methods) == 0 {
		methods = []wire.Type{wire.TypeMSCHAPv2}
		if len(a.AKA) > 0 {
			methods = append(methods, wire.TypeAKAPrime)
		}
		if a.TLS != nil {
			methods = append(methods, wire.TypeTLS)
		}
		methods = append(methods, wire.TypeMD5Challenge)
	}
	return &localConversation{a: a, identity: identity, methods: methods, id: id[0]}, nil
}

type localStage uint8

const (
	localStart localStage = iota
	localExpectIdentity
	localExpectMethod
	localExpectSuccessAck // MSCHAPv2: Success request sent
	localExpectFailureAck // MSCHAPv2: Failure request sent
	localDone
)

// localConversation is one LocalAuthenticator conversation.
type localConversation struct {
	a         *LocalAuthenticator
	identity  string
	methods   []wire.Type
	tried     int // methods[:tried] were proposed
	method    wire.Type
	stage     localStage
	id        uint8
	challenge [16]byte
	userName  string
	msk       []byte
	aka       *akaServerState
	tls       *tlsServerState
}

// Next implements Conversation. The first response may also be the
// peer's Identity Response received by someone else (a RADIUS NAS).
func (c *localConversation) Next(ctx context.Context, response []byte) (Outcome, error) {
	if c.stage == localDone {
		return Outcome{}, &ProtocolError{Detail: "conversation finished"}
	}
	if response == nil {
		if c.stage != localStart {
			return Outcome{}, &ProtocolError{Detail: "missing response"}
		}
		if c.identity == "" {
			c.stage = localExpectIdentity
			return c.request(wire.Identity(nil))
		}
		return c.propose()
	}
	var p wire.Packet
	if err := wire.Parse(response, &p); err != nil {
		return Outcome{}, &ProtocolError{Detail: "malformed response", Err: err}
	}
	if p.Code != wire.CodeResponse {
		return Outcome{}, &ProtocolError{Detail: "expected a Response, got " + p.Code.String()}
	}
	if c.stage == localStart && p.Type == wire.TypeIdentity {
		c.id = p.Identifier // an Identity Response relayed by a NAS
		c.stage = localExpectIdentity
	} else if p.Identifier != c.id {
		return Outcome{}, &ProtocolError{Detail: fmt.Sprintf("response identifier %d, expected %d", p.Identifier, c.id)}
	}
	return c.handle(&p)
}

func (c *localConversation) handle(p *wire.Packet) (Outcome, error) {
	switch {
	case c.stage == localExpectIdentity && p.Type == wire.TypeIdentity:
		c.identity = string(p.TypeData)
		return c.propose()
	case c.stage == localExpectMethod && p.Type == wire.TypeNak:
		return c.nak(p.TypeData)
	case c.stage == localExpectMethod && p.Type == c.method && p.Type == wire.TypeMD5Challenge:
		return c.md5(p.TypeData)
	case p.Type == wire.TypeMSCHAPv2 && c.method == wire.TypeMSCHAPv2:
		return c.mschapv2(p.TypeData)
	case p.Type == wire.TypeAKAPrime && c.method == wire.TypeAKAPrime && c.aka != nil:
		return c.akaResponse(p)
	case p.Type == wire.TypeTLS && c.method == wire.TypeTLS && c.tls != nil:
		return c.tlsResponse(p)
	}
	return Outcome{}, &ProtocolError{Method: p.Type, Detail: "unexpected response"}
}

// propose sends the next method's first request.
func (c *localConversation) propose() (Outcome, error) {
	if c.tried >= len(c.methods) {
		return c.finish(false)
	}
	c.method = c.methods[c.tried]
	c.tried++
	c.stage = localExpectMethod
	if _, err := rand.Read(c.challenge[:]); err != nil {
		return Outcome{}, err
	}
	switch c.method {
	case wire.TypeMD5Challenge:
		return c.request(&wire.MD5Challenge{Value: c.challenge[:], Name: []byte(c.name())})
	case wire.TypeAKAPrime:
		if c.a.AKA[c.identity] == nil {
			return c.propose() // no USIM record: try the next method
		}
		return c.akaChallenge()
	case wire.TypeTLS:
		if c.a.TLS == nil {
			return c.propose()
		}
		return c.tlsStart()
	}
	return c.request(&wire.MSCHAPv2{OpCode: wire.MSCHAPv2Challenge, MSCHAPv2ID: c.id + 1,
		Challenge: c.challenge[:], Name: []byte(c.name())})
}

func (c *localConversation) nak(data []byte) (Outcome, error) {
	desired, err := wire.ParseNak(data)
	if err != nil {
		return Outcome{}, &ProtocolError{Method: wire.TypeNak, Detail: "malformed Nak", Err: err}
	}
	// Move the first desired method we offer but did not propose yet next.
	for _, t := range desired {
		for i := c.tried; i < len(c.methods); i++ {
			if c.methods[i] == wire.Type(t) {
				c.methods = append([]wire.Type(nil), c.methods...)
				c.methods[c.tried], c.methods[i] = c.methods[i], c.methods[c.tried]
				return c.propose()
			}
		}
	}
	return c.finish(false)
}

func (c *localConversation) md5(data []byte) (Outcome, error) {
	var r wire.MD5Challenge
	if err := wire.ParseMD5Challenge(data, &r); err != nil {
		return Outcome{}, &ProtocolError{Method: wire.TypeMD5Challenge, Detail: "malformed response", Err: err}
	}
	pw, ok := c.a.Users[c.identity]
	want := md5Response(c.id, pw, c.challenge[:])
	if !ok || subtle.ConstantTimeCompare(r.Value, want[:]) != 1 {
		return c.finish(false)
	}
	c.userName = c.identity
	return c.finish(true)
}

func (c *localConversation) mschapv2(data []byte) (Outcome, error) {
	var r wire.MSCHAPv2
	if err := wire.ParseMSCHAPv2(data, &r); err != nil {
		return Outcome{}, &ProtocolError{Method: wire.TypeMSCHAPv2, Detail: "malformed response", Err: err}
	}
	switch {
	case c.stage == localExpectMethod && r.OpCode == wire.MSCHAPv2Response:
		return c.mschapv2Verify(&r)
	case c.stage == localExpectSuccessAck && r.OpCode == wire.MSCHAPv2Success:
		return c.finish(true)
	case c.stage == localExpectFailureAck && r.OpCode == wire.MSCHAPv2Failure:
		return c.finish(false)
	}
	return Outcome{}, &ProtocolError{Method: wire.TypeMSCHAPv2, Detail: "unexpected " + r.OpCode.String()}
}

func (c *localConversation) mschapv2Verify(r *wire.MSCHAPv2) (Outcome, error) {
	name := string(r.Name)
	pw, ok := c.a.Users[name]
	nt := generateNTResponse(c.challenge[:], r.PeerChallenge, name, pw)
	if !ok || subtle.ConstantTimeCompare(nt[:], r.NTResponse) != 1 {
		c.stage = localExpectFailureAck
		return c.request(&wire.MSCHAPv2{OpCode: wire.MSCHAPv2Failure, MSCHAPv2ID: r.MSCHAPv2ID,
			Message: []byte("E=691 R=0 C=" + strings.Repeat("0", 32) + " V=3 M=Authentication failed")})
	}
	c.userName = name
	c.msk = mschapv2MSK(pw, nt)
	auth := generateAuthenticatorResponse(pw, nt, r.PeerChallenge, c.challenge[:], name)
	c.stage = localExpectSuccessAck
	return c.request(&wire.MSCHAPv2{OpCode: wire.MSCHAPv2Success, MSCHAPv2ID: r.MSCHAPv2ID,
		Message: []byte("S=" + auth + " M=Authentication succeeded")})
}

func (c *localConversation) request(body wire.Body) (Outcome, error) {
	c.id++
	b, err := wire.Append(nil, wire.CodeRequest, c.id, body)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Message: b}, nil
}

func (c *localConversation) finish(ok bool) (Outcome, error) {
	c.stage = localDone
	code := wire.CodeFailure
	if ok {
		code = wire.CodeSuccess
	}
	b, _ := wire.Append(nil, code, c.id, nil)
	if !ok {
		return Outcome{Message: b, Done: true, Reason: fmt.Sprintf("EAP %v authentication of %q failed", c.method, c.identity)}, nil
	}
	return Outcome{Message: b, Done: true, Accepted: true, MSK: c.msk, UserName: c.userName}, nil
}

func (c *localConversation) name() string {
	if c.a.Name != "" {
		return c.a.Name
	}
	return "mip6"
}
