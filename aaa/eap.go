package aaa

import (
	"context"
	"crypto/rand"
	"fmt"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"mip6/eap"
	wire "mip6/wire/eap"
)

// EAPAuthenticator is the home agent's EAP pass-through authenticator
// (RFC 3579): it relays each EAP-Response from the mobile node to a RADIUS
// server in an Access-Request and hands back the server's EAP message.
// It implements eap.Authenticator.
type EAPAuthenticator struct {
	Client *Client
	// CalledStationID names this home agent (RFC 3580 §3.20), e.g. its address.
	CalledStationID string
	// FramedMTU caps the EAP packets the server sends (EAP-TLS fragments),
	// so that they fit an IKE message; default 1100.
	FramedMTU uint32
}

// Start implements eap.Authenticator.
func (a *EAPAuthenticator) Start(ctx context.Context, identity string) (eap.Conversation, error) {
	return a.StartSession(ctx, identity, "")
}

// StartSession is Start with the peer's address (the mobile node's
// care-of address) as Calling-Station-Id.
func (a *EAPAuthenticator) StartSession(ctx context.Context, identity, callingStationID string) (eap.Conversation, error) {
	if a.Client == nil {
		return nil, errNoServers
	}
	return &radiusConversation{a: a, identity: identity, calling: callingStationID}, nil
}

// radiusConversation is one EAP authentication relayed over RADIUS.
type radiusConversation struct {
	a        *EAPAuthenticator
	identity string // RADIUS User-Name: the EAP identity
	calling  string
	state    []byte // RADIUS State to echo
	started  bool
	done     bool
	idReqID  uint8 // Identifier of our own Identity Request
}

// Next implements eap.Conversation. With an identity, the first call sends
// that identity as the peer's EAP-Response/Identity (the IKE IDi); without
// one, it asks the peer with an EAP-Request/Identity.
func (c *radiusConversation) Next(ctx context.Context, response []byte) (eap.Outcome, error) {
	if c.done {
		return eap.Outcome{}, &eap.ProtocolError{Detail: "conversation finished"}
	}
	if response == nil {
		if c.started {
			return eap.Outcome{}, &eap.ProtocolError{Detail: "missing response"}
		}
		c.started = true
		if c.identity == "" {
			var id [1]byte
			rand.Read(id[:])
			c.idReqID = id[0]
			b, _ := wire.Append(nil, wire.CodeRequest, c.idReqID, wire.Identity(nil))
			return eap.Outcome{Message: b}, nil
		}
		response, _ = wire.Append(nil, wire.CodeResponse, 0, wire.Identity(c.identity))
	}
	var p wire.Packet
	if err := wire.Parse(response, &p); err != nil || p.Code != wire.CodeResponse {
		return eap.Outcome{}, &eap.ProtocolError{Detail: "not an EAP-Response", Err: err}
	}
	if c.identity == "" && p.Type == wire.TypeIdentity {
		c.identity = string(p.TypeData)
	}
	req := c.request(response)
	answer, srv, err := c.a.Client.Exchange(ctx, req)
	if err != nil {
		return eap.Outcome{}, err
	}
	return c.outcome(answer, req.Authenticator[:], srv)
}

func (c *radiusConversation) request(eapMsg []byte) *radius.Packet {
	p := c.a.Client.newAccessRequest()
	rfc2865.UserName_SetString(p, c.identity)
	rfc2865.NASIdentifier_SetString(p, c.a.Client.nasID())
	rfc2865.ServiceType_Set(p, rfc2865.ServiceType_Value_FramedUser)
	rfc2865.NASPortType_Set(p, rfc2865.NASPortType_Value_Virtual)
	mtu := c.a.FramedMTU
	if mtu == 0 {
		mtu = 1100
	}
	rfc2865.FramedMTU_Set(p, rfc2865.FramedMTU(mtu))
	if c.a.CalledStationID != "" {
		rfc2865.CalledStationID_SetString(p, c.a.CalledStationID)
	}
	if c.calling != "" {
		rfc2865.CallingStationID_SetString(p, c.calling)
	}
	if c.state != nil {
		rfc2865.State_Set(p, c.state)
	}
	addEAPMessage(p, eapMsg)
	return p
}

func (c *radiusConversation) outcome(answer *radius.Packet, reqAuth []byte, srv Server) (eap.Outcome, error) {
	msg := eapMessage(answer)
	switch answer.Code {
	case radius.CodeAccessChallenge:
		var p wire.Packet
		if err := wire.Parse(msg, &p); err != nil || p.Code != wire.CodeRequest {
			return eap.Outcome{}, &ProtocolError{Server: srv.Addr, Detail: "Access-Challenge without an EAP-Request"}
		}
		c.state = rfc2865.State_Get(answer)
		return eap.Outcome{Message: msg}, nil
	case radius.CodeAccessAccept:
		c.done = true
		msk, err := mskFromMPPE(answer, reqAuth, srv)
		if err != nil {
			return eap.Outcome{}, err
		}
		user := rfc2865.UserName_GetString(answer)
		if user == "" {
			user = c.identity
		}
		return eap.Outcome{Message: finalEAP(msg, wire.CodeSuccess), Done: true, Accepted: true, MSK: msk, UserName: user}, nil
	}
	c.done = true
	rej := &RejectError{Server: srv.Addr, UserName: c.identity, ReplyMessage: rfc2865.ReplyMessage_GetString(answer)}
	return eap.Outcome{Message: finalEAP(msg, wire.CodeFailure), Done: true, Reason: rej.Error()}, nil
}

// finalEAP is the server's EAP-Success/Failure, or one made up when the
// server sent none (RFC 3579 §2.6.3 lets the NAS do so).
func finalEAP(msg []byte, code wire.Code) []byte {
	var p wire.Packet
	if wire.Parse(msg, &p) == nil && p.Code == code {
		return msg
	}
	b, _ := wire.Append(nil, code, 0, nil)
	return b
}

// mskFromMPPE decrypts MS-MPPE-Recv-Key and MS-MPPE-Send-Key (RFC 2548
// §2.4.2-3) into MSK = Recv | Send, zero-padded to 64 bytes. Accepts
// without keys (EAP-MD5) give a nil MSK.
func mskFromMPPE(answer *radius.Packet, reqAuth []byte, srv Server) ([]byte, error) {
	recvAttr, hasRecv := msAttr(answer, msMPPERecvKey)
	sendAttr, hasSend := msAttr(answer, msMPPESendKey)
	if !hasRecv && !hasSend {
		return nil, nil
	}
	if !hasRecv || !hasSend {
		return nil, &ProtocolError{Server: srv.Addr, Detail: "Access-Accept with only one MS-MPPE key"}
	}
	recv, _, err := radius.TunnelPassword(recvAttr, srv.Secret, reqAuth)
	if err != nil {
		return nil, &ProtocolError{Server: srv.Addr, Detail: fmt.Sprintf("MS-MPPE-Recv-Key: %v", err)}
	}
	send, _, err := radius.TunnelPassword(sendAttr, srv.Secret, reqAuth)
	if err != nil {
		return nil, &ProtocolError{Server: srv.Addr, Detail: fmt.Sprintf("MS-MPPE-Send-Key: %v", err)}
	}
	msk := make([]byte, max(eap.MSKLen, len(recv)+len(send)))
	copy(msk, recv)
	copy(msk[len(recv):], send)
	return msk, nil
}

// Microsoft vendor attribute numbers (RFC 2548).
const (
	microsoftVendorID = 311
	msMPPESendKey     = 16
	msMPPERecvKey     = 17
)

// msAttr finds Microsoft vendor attribute t in p.
func msAttr(p *radius.Packet, t byte) (radius.Attribute, bool) {
	for _, avp := range p.Attributes {
		if avp.Type != rfc2865.VendorSpecific_Type {
			continue
		}
		vendor, vsa, err := radius.VendorSpecific(avp.Attribute)
		if err != nil || vendor != microsoftVendorID {
			continue
		}
		for len(vsa) >= 2 {
			l := int(vsa[1])
			if l < 2 || l > len(vsa) {
				break
			}
			if vsa[0] == t {
				return vsa[2:l], true
			}
			vsa = vsa[l:]
		}
	}
	return nil, false
}
