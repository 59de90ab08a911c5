package ike

import (
	gocrypto "crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"mip6/eap"
	"mip6/internal/peers/strongswan"
	wire "mip6/wire/eap"
)

func tlsCert(c *x509.Certificate, k gocrypto.Signer) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: k, Leaf: c}
}

// EAP-TLS (RFC 5216) inside IKE_AUTH against strongSwan, whose libtls
// (5.9) does not negotiate the extended master secret (RFC 7627): the MSK
// is derived as RFC 5216 §2.3 says only with eap's WithoutEMS options; by
// default our side refuses.
func eapTLSCharonInitiator(t *testing.T, withoutEMS bool) (*interopLab, *PeerConfig) {
	s := newCertSetup(t, keyKinds[0], []string{"ha.example.net"}, nil, nil, []string{"alice@example.net"}, nil)
	peer := haPeer()
	peer.RemoteAuth = AuthEAP
	peer.EAPServer = EAPServer(&eap.LocalAuthenticator{Methods: []wire.Type{wire.TypeTLS}, TLSWithoutEMS: withoutEMS,
		TLS: &tls.Config{Certificates: []tls.Certificate{tlsCert(s.ourCert, s.ourKey)}, ClientCAs: s.pki.pool}})
	l := newInteropLab(t, responderConfig(peer))
	s.install(t, l)
	c := charonMN(algSets[0].ike, algSets[0].esp)
	c.Connections[0].Local = []strongswan.Auth{{Auth: "eap-tls", ID: "alice@example.net", Certs: []string{"charon.pem"}}}
	if err := l.charon.Load(c); err != nil {
		t.Fatal(err)
	}
	if err := l.charon.Initiate("home"); err != nil && withoutEMS {
		t.Fatalf("charon initiate: %v", err)
	}
	return l, peer
}

func TestInteropEAPTLSCharonInitiator(t *testing.T) {
	l, _ := eapTLSCharonInitiator(t, true)
	ev := l.log.wait(t, EventChildEstablished, 1, 15*time.Second)
	checkCharonChild(t, l.charon, ev.Child, "2001:db8:2::100")
	if id := ev.IKESA.RemoteID; !id.Equal(RFC822("alice@example.net")) {
		t.Fatalf("peer identity from the certificate: %s", id)
	}
	if !strings.Contains(l.charon.Log(), "EAP method EAP_TLS succeeded, MSK established") {
		t.Fatal("charon did not report an EAP-TLS MSK")
	}
}

// TestInteropEAPTLSCharonInitiatorNeedsOptIn documents the default: a peer
// without the extended master secret is refused (EAP-Failure), as
// crypto/tls refuses to export without it.
func TestInteropEAPTLSCharonInitiatorNeedsOptIn(t *testing.T) {
	l, _ := eapTLSCharonInitiator(t, false)
	ev := l.log.wait(t, EventFailed, 1, 15*time.Second)
	var f *Failure
	if !errors.As(ev.Err, &f) || f.Reason != ReasonAuthentication {
		t.Fatalf("failure %v", ev.Err)
	}
	if l.log.count(EventIKEEstablished) != 0 {
		t.Fatal("IKE SA established without an MSK")
	}
	if !strings.Contains(l.charon.Log(), "received EAP_FAILURE") {
		t.Fatal("charon did not receive EAP-Failure")
	}
}

// Our mobile node as EAP-TLS peer against charon's eap-tls server.
func TestInteropEAPTLSCharonResponder(t *testing.T) {
	s := newCertSetup(t, keyKinds[0], nil, []string{"alice@example.net"}, []string{"ha.example.net"}, nil, nil)
	l := newInteropLab(t, Config{})
	s.install(t, l)
	c := charonHA(algSets[0].ike, algSets[0].esp)
	c.Connections[0].Local = []strongswan.Auth{{Auth: "pubkey", ID: "ha.example.net", Certs: []string{"charon.pem"}}}
	c.Connections[0].Remote = []strongswan.Auth{{Auth: "eap-tls", ID: "alice@example.net", EAPID: "%any"}}
	c.Secrets = nil
	if err := l.charon.Load(c); err != nil {
		t.Fatal(err)
	}
	p := mnPeer(algSets[0])
	p.LocalAuth, p.RemoteAuth, p.PSK = AuthEAP, AuthCert, nil
	p.TrustRoots = s.pki.pool
	p.CACertificates = []*x509.Certificate{s.pki.ca}
	m := eap.NewTLS(&tls.Config{RootCAs: s.pki.pool, ServerName: "ha.example.net", Certificates: []tls.Certificate{tlsCert(s.ourCert, s.ourKey)}})
	m.WithoutEMS = true
	t.Cleanup(m.Close)
	p.EAP = eap.NewPeer("alice@example.net", m)
	l.initiate(t, p)
	ev := l.log.wait(t, EventChildEstablished, 1, 15*time.Second)
	checkCharonChild(t, l.charon, ev.Child, "2001:db8:2::201")
}
