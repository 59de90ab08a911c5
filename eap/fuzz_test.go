package eap

import (
	"context"
	"crypto/tls"
	"testing"

	wire "mip6/wire/eap"
)

func seedRequests(f *testing.F) {
	for _, b := range []wire.Body{
		wire.Identity(nil), wire.Notification("hello"),
		&wire.MD5Challenge{Value: make([]byte, 16)},
		&wire.MSCHAPv2{OpCode: wire.MSCHAPv2Challenge, MSCHAPv2ID: 1, Challenge: make([]byte, 16), Name: []byte("s")},
		&wire.MSCHAPv2{OpCode: wire.MSCHAPv2Success, MSCHAPv2ID: 1, Message: []byte("S=0000 M=x")},
		&wire.MSCHAPv2{OpCode: wire.MSCHAPv2Failure, MSCHAPv2ID: 1, Message: []byte("E=691 R=0 M=no")},
		&wire.TLS{Flags: wire.TLSStart},
		&wire.AKA{Subtype: wire.AKAIdentity, Attributes: wire.AppendAKAAttr(nil, wire.ATAnyIDReq, []byte{0, 0})},
		&wire.AKA{Subtype: wire.AKAChallenge, Attributes: wire.AppendAKAFixed(wire.AppendAKAFixed(nil, wire.ATRand, make([]byte, 16)), wire.ATAutn, make([]byte, 16))},
		&wire.TLS{Flags: wire.TLSLengthIncluded | wire.TLSMoreFragments, MessageLength: 9, Data: []byte{22, 3, 3}},
	} {
		msg, _ := wire.Append(nil, wire.CodeRequest, 1, b)
		f.Add(msg, msg)
	}
	s, _ := wire.Append(nil, wire.CodeSuccess, 2, nil)
	f.Add(s, s)
}

// FuzzPeer feeds two arbitrary messages to peers of every method: they
// must answer or fail with a typed error, never panic, and never report
// success.
func FuzzPeer(f *testing.F) {
	seedRequests(f)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		tlsM := NewTLS(&tls.Config{ServerName: "x"})
		defer tlsM.Close()
		aka := NewAKAPrime("u", &SoftUSIM{})
		for _, m := range []Method{NewMD5("u", "p"), NewMSCHAPv2("u", "p"), tlsM, aka} {
			p := NewPeer("u", m)
			for _, msg := range [][]byte{a, b} {
				if _, err := p.Handle(msg); err != nil {
					break
				}
			}
			if p.Succeeded() || p.MSK() != nil {
				t.Fatalf("%v peer succeeded on fuzz input", m.Type())
			}
		}
	})
}

// FuzzLocalAuthenticator feeds arbitrary responses to the local EAP server.
func FuzzLocalAuthenticator(f *testing.F) {
	id, _ := wire.Append(nil, wire.CodeResponse, 0, wire.Identity("alice@example.net"))
	nak, _ := wire.Append(nil, wire.CodeResponse, 1, wire.Nak{4})
	f.Add(id, nak)
	tlsStart, _ := wire.Append(nil, wire.CodeResponse, 2, &wire.TLS{Flags: wire.TLSLengthIncluded, MessageLength: 5, Data: []byte{22, 3, 1, 0, 0}})
	f.Add(id, tlsStart)
	pki := newTestPKI(f)
	srvTLS := &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		auth := &LocalAuthenticator{Users: map[string]string{"alice@example.net": "pw"}, TLS: srvTLS,
			Methods: []wire.Type{wire.TypeTLS, wire.TypeMSCHAPv2, wire.TypeMD5Challenge}}
		conv, _ := auth.Start(context.Background(), "")
		defer conv.(*localConversation).Close()
		for _, msg := range [][]byte{a, b} {
			out, err := conv.Next(context.Background(), msg)
			if err != nil || out.Done {
				if out.Accepted {
					t.Fatal("accepted fuzz input")
				}
				return
			}
		}
	})
}
