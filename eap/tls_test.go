package eap

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	wire "mip6/wire/eap"
)

// testPKI is a CA with one server and one client certificate.
type testPKI struct {
	pool   *x509.CertPool
	server tls.Certificate
	client tls.Certificate
}

func newTestPKI(t testing.TB) testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(cn string, usage x509.ExtKeyUsage) tls.Certificate {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
			DNSNames: []string{cn}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return testPKI{pool: pool, server: leaf("radius.example.net", x509.ExtKeyUsageServerAuth),
		client: leaf("alice@example.net", x509.ExtKeyUsageClientAuth)}
}

// eapTLSServer is a minimal EAP-TLS server for the tests, fragmenting at frag.
type eapTLSServer struct {
	conn     *eapConn
	ts       *tls.Conn
	hs       chan error
	finished bool
	id       uint8
	frag     int
	out, in  []byte
}

func (s *eapTLSServer) req(body wire.Body) []byte {
	s.id++
	b, _ := wire.Append(nil, wire.CodeRequest, s.id, body)
	return b
}

func (s *eapTLSServer) fragment() []byte {
	body := &wire.TLS{}
	if len(s.out) > s.frag {
		body.Flags = wire.TLSMoreFragments | wire.TLSLengthIncluded
		body.MessageLength = uint32(len(s.out))
		body.Data, s.out = s.out[:s.frag], s.out[s.frag:]
	} else {
		body.Data, s.out = s.out, nil
	}
	return s.req(body)
}

// next answers one peer response; it returns the next request and
// whether the handshake finished with nothing left to send.
func (s *eapTLSServer) next(t *testing.T, resp []byte) ([]byte, bool) {
	var p wire.Packet
	var m wire.TLS
	if err := wire.Parse(resp, &p); err != nil || wire.ParseTLS(p.Type, p.TypeData, &m) != nil || p.Identifier != s.id {
		t.Fatalf("bad response %x", resp)
	}
	if len(m.Data) == 0 {
		if len(s.out) > 0 {
			return s.fragment(), false
		}
		return nil, s.finished
	}
	s.in = append(s.in, m.Data...)
	if m.Flags&wire.TLSMoreFragments != 0 {
		return s.req(&wire.TLS{}), false
	}
	s.conn.feed(s.in)
	s.in = nil
	select {
	case <-s.conn.waiting:
	case err := <-s.hs:
		if err != nil {
			t.Logf("server handshake: %v", err)
			f, _ := wire.Append(nil, wire.CodeFailure, s.id, nil)
			return f, true
		}
		s.finished = true
	}
	s.out = append(s.out, s.conn.drain()...)
	return s.fragment(), false
}

func runTLS(t *testing.T, peerCfg, srvCfg *tls.Config, frag int) (*Peer, *eapTLSServer, error) {
	conn := newEAPConn()
	srv := &eapTLSServer{conn: conn, ts: tls.Server(conn, srvCfg), hs: make(chan error, 1), frag: frag}
	go func() { srv.hs <- srv.ts.Handshake() }()
	<-conn.waiting // the server reads before anything arrived
	t.Cleanup(func() { conn.Close() })
	method := NewTLS(peerCfg)
	method.Fragment = frag
	t.Cleanup(method.Close)
	peer := NewPeer("alice@example.net", method)
	msg := srv.req(&wire.TLS{Flags: wire.TLSStart})
	for i := 0; i < 100; i++ {
		resp, err := peer.Handle(msg)
		if err != nil {
			return peer, srv, err
		}
		var done bool
		msg, done = srv.next(t, resp)
		if done {
			succ, _ := wire.Append(nil, wire.CodeSuccess, srv.id, nil)
			_, err := peer.Handle(succ)
			return peer, srv, err
		}
	}
	t.Fatal("EAP-TLS did not finish")
	return nil, nil, nil
}

func TestEAPTLS(t *testing.T) {
	pki := newTestPKI(t)
	peerCfg := &tls.Config{RootCAs: pki.pool, ServerName: "radius.example.net", Certificates: []tls.Certificate{pki.client}}
	srvCfg := &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool, ClientAuth: tls.RequireAndVerifyClientCert}
	for _, frag := range []int{200, 4000} { // fragmented both ways, and whole
		peer, srv, err := runTLS(t, peerCfg, srvCfg, frag)
		if err != nil {
			t.Fatalf("fragment %d: %v", frag, err)
		}
		st := srv.ts.ConnectionState()
		if st.Version != tls.VersionTLS12 {
			t.Fatalf("TLS version %x", st.Version)
		}
		want, err := st.ExportKeyingMaterial("client EAP encryption", nil, 64)
		if err != nil || !peer.Succeeded() || !bytes.Equal(peer.MSK(), want) {
			t.Fatalf("MSK %x, server %x (%v)", peer.MSK(), want, err)
		}
	}
}

func TestEAPTLSUntrustedServer(t *testing.T) {
	pki, other := newTestPKI(t), newTestPKI(t)
	peerCfg := &tls.Config{RootCAs: other.pool, ServerName: "radius.example.net", Certificates: []tls.Certificate{pki.client}}
	srvCfg := &tls.Config{Certificates: []tls.Certificate{pki.server}}
	peer, _, err := runTLS(t, peerCfg, srvCfg, 500)
	var s *ServerAuthError
	if !errors.As(err, &s) || peer.MSK() != nil {
		t.Fatalf("untrusted server: %v", err)
	}
}

func TestEAPTLSOversizedMessage(t *testing.T) {
	m := NewTLS(&tls.Config{ServerName: "radius.example.net"})
	t.Cleanup(m.Close)
	start, _ := wire.Append(nil, wire.CodeRequest, 1, &wire.TLS{Flags: wire.TLSStart})
	peer := NewPeer("a", m)
	if _, err := peer.Handle(start); err != nil {
		t.Fatal(err)
	}
	big, _ := wire.Append(nil, wire.CodeRequest, 2, &wire.TLS{Flags: wire.TLSLengthIncluded | wire.TLSMoreFragments,
		MessageLength: 1 << 30, Data: []byte{1}})
	var p *ProtocolError
	if _, err := peer.Handle(big); !errors.As(err, &p) {
		t.Fatalf("1 GiB announced: %v", err)
	}
}

func TestEAPTLSLocalAuthenticator(t *testing.T) {
	pki := newTestPKI(t)
	auth := &LocalAuthenticator{Methods: []wire.Type{wire.TypeTLS}, TLSFragment: 250,
		TLS: &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool}}
	m := NewTLS(&tls.Config{RootCAs: pki.pool, ServerName: "radius.example.net", Certificates: []tls.Certificate{pki.client}})
	m.Fragment = 300
	defer m.Close()
	// IDi is a routing identity; the certificate names the user.
	peer := NewPeer("anonymous@example.net", m)
	out, err := run(t, peer, auth, "anonymous@example.net")
	if err != nil || !out.Accepted || len(out.MSK) != 64 || !bytes.Equal(out.MSK, peer.MSK()) {
		t.Fatalf("err %v, outcome %+v", err, out)
	}
	if out.UserName != "alice@example.net" {
		t.Fatalf("user %q", out.UserName)
	}
}

func TestEAPTLSLocalAuthenticatorRejectsUnknownCA(t *testing.T) {
	pki, other := newTestPKI(t), newTestPKI(t)
	auth := &LocalAuthenticator{Methods: []wire.Type{wire.TypeTLS},
		TLS: &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool}}
	m := NewTLS(&tls.Config{RootCAs: pki.pool, ServerName: "radius.example.net", Certificates: []tls.Certificate{other.client}})
	defer m.Close()
	out, err := run(t, NewPeer("alice@example.net", m), auth, "alice@example.net")
	if err == nil || out.Accepted {
		t.Fatalf("client with an untrusted certificate accepted: %+v", out)
	}
}
