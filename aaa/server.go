package aaa

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log"
	"net"
	"sync"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/vendors/microsoft"

	"mip6/eap"
	wire "mip6/wire/eap"
)

// LocalServer is a small RADIUS server for `mip6 demo` and tests: EAP
// (through an eap.Authenticator, normally *eap.LocalAuthenticator) with
// Message-Authenticator checks, MS-MPPE keys in the Access-Accept, and
// accounting records handed to OnAccounting.
type LocalServer struct {
	Secret        []byte
	Authenticator eap.Authenticator
	// OnAccounting, if set, receives each accepted Accounting-Request.
	OnAccounting func(AccountingRecord)
	// Logf, if set, receives one line per dropped request.
	Logf func(format string, args ...any)

	mu       sync.Mutex
	sessions map[string]*serverSession
	srv      *radius.PacketServer
}

// AccountingRecord is what LocalServer saw in an Accounting-Request.
type AccountingRecord struct {
	Status      rfc2866.AcctStatusType
	SessionID   string
	UserName    string
	HomeAddress net.IP
	SessionTime uint32
	InputOctets uint64
}

// Session table bounds: a flood of Access-Requests cannot grow it without limit.
const (
	maxServerSessions = 4096
	serverSessionTTL  = 60 * time.Second
)

type serverSession struct {
	mu       sync.Mutex
	conv     eap.Conversation
	created  time.Time
	lastAuth [16]byte // request authenticator of the last request answered
	lastResp *radius.Packet
}

// Serve answers requests on conn until Close.
func (s *LocalServer) Serve(conn net.PacketConn) error {
	s.mu.Lock()
	s.sessions = make(map[string]*serverSession)
	s.srv = &radius.PacketServer{
		SecretSource: radius.StaticSecretSource(s.Secret),
		Handler:      radius.HandlerFunc(s.serveRADIUS),
		ErrorLog:     log.New(logWriter{s}, "", 0),
	}
	srv := s.srv
	s.mu.Unlock()
	err := srv.Serve(conn)
	if errors.Is(err, radius.ErrServerShutdown) {
		return nil
	}
	return err
}

// Close stops Serve.
func (s *LocalServer) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

type logWriter struct{ s *LocalServer }

func (w logWriter) Write(b []byte) (int, error) {
	w.s.logf("%s", bytes.TrimSpace(b))
	return len(b), nil
}

func (s *LocalServer) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *LocalServer) serveRADIUS(w radius.ResponseWriter, r *radius.Request) {
	switch r.Code {
	case radius.CodeAccessRequest:
		s.access(w, r)
	case radius.CodeAccountingRequest:
		s.accounting(w, r)
	case radius.CodeStatusServer: // RFC 5997: alive, if the request is authentic
		if s.requestMAValid(r.Packet) {
			w.Write(s.sign(r.Response(radius.CodeAccessAccept)))
		}
	}
}

func (s *LocalServer) accounting(w radius.ResponseWriter, r *radius.Request) {
	if s.OnAccounting != nil {
		rec := AccountingRecord{
			Status:      rfc2866.AcctStatusType_Get(r.Packet),
			SessionID:   rfc2866.AcctSessionID_GetString(r.Packet),
			UserName:    rfc2865.UserName_GetString(r.Packet),
			SessionTime: uint32(rfc2866.AcctSessionTime_Get(r.Packet)),
			InputOctets: uint64(rfc2869.AcctInputGigawords_Get(r.Packet))<<32 | uint64(rfc2866.AcctInputOctets_Get(r.Packet)),
		}
		if a, ok := r.Lookup(168); ok { // Framed-IPv6-Address
			rec.HomeAddress = net.IP(a)
		}
		s.OnAccounting(rec)
	}
	w.Write(r.Response(radius.CodeAccountingResponse))
}

func (s *LocalServer) access(w radius.ResponseWriter, r *radius.Request) {
	if _, ok := r.Lookup(rfc2869.MessageAuthenticator_Type); !ok && len(eapMessage(r.Packet)) == 0 {
		w.Write(r.Response(radius.CodeAccessReject)) // nothing this server can authenticate
		return
	}
	if !s.requestMAValid(r.Packet) {
		s.logf("aaa: local server: Access-Request from %v without valid Message-Authenticator, dropped", r.RemoteAddr)
		return
	}
	msg := eapMessage(r.Packet)
	if len(msg) == 0 {
		w.Write(s.sign(r.Response(radius.CodeAccessReject)))
		return
	}
	sess, key := s.session(r.Context(), rfc2865.State_Get(r.Packet))
	if sess == nil {
		s.logf("aaa: local server: unknown State or session table full, rejecting")
		w.Write(s.sign(r.Response(radius.CodeAccessReject)))
		return
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.lastResp != nil && sess.lastAuth == r.Authenticator {
		w.Write(sess.lastResp) // retransmission
		return
	}
	out, err := sess.conv.Next(r.Context(), msg)
	resp := s.answer(r.Packet, key, out, err)
	// Finished sessions stay until they expire so that a retransmitted
	// final request gets the same answer.
	sess.lastAuth, sess.lastResp = r.Authenticator, resp
	w.Write(resp)
}

// answer turns an EAP outcome into the RADIUS reply.
func (s *LocalServer) answer(req *radius.Packet, key string, out eap.Outcome, err error) *radius.Packet {
	switch {
	case err != nil:
		s.logf("aaa: local server: %v", err)
		resp := req.Response(radius.CodeAccessReject)
		addEAPMessage(resp, failure(req))
		return s.sign(resp)
	case !out.Done:
		resp := req.Response(radius.CodeAccessChallenge)
		rfc2865.State_Set(resp, []byte(key))
		addEAPMessage(resp, out.Message)
		return s.sign(resp)
	case !out.Accepted:
		resp := req.Response(radius.CodeAccessReject)
		addEAPMessage(resp, out.Message)
		if out.Reason != "" {
			rfc2865.ReplyMessage_SetString(resp, out.Reason)
		}
		return s.sign(resp)
	}
	resp := req.Response(radius.CodeAccessAccept)
	addEAPMessage(resp, out.Message)
	rfc2865.UserName_SetString(resp, out.UserName)
	if out.MSK != nil {
		recv, send := splitMSK(out.MSK)
		microsoft.MSMPPERecvKey_Add(resp, recv)
		microsoft.MSMPPESendKey_Add(resp, send)
	}
	return s.sign(resp)
}

// splitMSK gives the MS-MPPE keys for an MSK: 16+16 bytes when the MSK is
// two 16-byte keys padded with zeros (MSCHAPv2), else 32+32 (EAP-TLS).
func splitMSK(msk []byte) (recv, send []byte) {
	if len(msk) == eap.MSKLen && bytes.Equal(msk[32:], make([]byte, 32)) {
		return msk[:16], msk[16:32]
	}
	h := len(msk) / 2
	return msk[:h], msk[h:]
}

func failure(req *radius.Packet) []byte {
	var p wire.Packet
	id := uint8(0)
	if wire.Parse(eapMessage(req), &p) == nil {
		id = p.Identifier
	}
	b, _ := wire.Append(nil, wire.CodeFailure, id, nil)
	return b
}

// sign adds the Message-Authenticator of a reply (the Authenticator field
// still holds the request's, as RFC 3579 §3.2 requires for the HMAC).
func (s *LocalServer) sign(p *radius.Packet) *radius.Packet {
	p.Secret = s.Secret
	p.Set(rfc2869.MessageAuthenticator_Type, make(radius.Attribute, maLen))
	b, err := p.MarshalBinary()
	if err != nil {
		return p
	}
	off := findMA(b)
	p.Set(rfc2869.MessageAuthenticator_Type, messageAuthenticator(b, off, p.Authenticator[:], s.Secret))
	return p
}

func (s *LocalServer) requestMAValid(p *radius.Packet) bool {
	b, err := p.MarshalBinary()
	if err != nil {
		return false
	}
	off := findMA(b)
	if off < 0 {
		return false
	}
	return hmacEqual(messageAuthenticator(b, off, b[4:20], s.Secret), b[off:off+maLen])
}

// session finds the conversation for a State, or opens one when there is none.
func (s *LocalServer) session(ctx context.Context, state []byte) (*serverSession, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if state != nil {
		sess := s.sessions[string(state)]
		if sess == nil || now.Sub(sess.created) > serverSessionTTL {
			return nil, ""
		}
		return sess, string(state)
	}
	s.expireLocked(now)
	if len(s.sessions) >= maxServerSessions {
		return nil, ""
	}
	conv, err := s.Authenticator.Start(ctx, "")
	if err != nil {
		return nil, ""
	}
	var k [16]byte
	rand.Read(k[:])
	sess := &serverSession{conv: conv, created: now}
	s.sessions[string(k[:])] = sess
	return sess, string(k[:])
}

func (s *LocalServer) expireLocked(now time.Time) {
	for k, sess := range s.sessions {
		if now.Sub(sess.created) > serverSessionTTL {
			if c, ok := sess.conv.(interface{ Close() }); ok {
				c.Close()
			}
			delete(s.sessions, k)
		}
	}
}
