package freeradius_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mip6/aaa"
	"mip6/eap"
	"mip6/internal/peers/freeradius"
	wire "mip6/wire/eap"
)

var users = []freeradius.User{
	{Name: "alice@example.net", Password: "alice-secret"},
	{Name: "bob@example.net", Password: "bob-secret"},
}

func client(s *freeradius.Server, secret string) *aaa.Client {
	return &aaa.Client{Servers: []aaa.Server{{Addr: s.AuthAddr(), Secret: []byte(secret)}},
		Timeout: time.Second, Retries: 1, NASIdentifier: "mip6-ha-test"}
}

// authenticate runs peer through the RADIUS pass-through to the end.
func authenticate(t *testing.T, a *aaa.EAPAuthenticator, peer *eap.Peer) (eap.Outcome, error, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conv, err := a.StartSession(ctx, peer.Identity(), "2001:db8:2::5")
	if err != nil {
		t.Fatal(err)
	}
	var resp []byte
	for i := 0; i < 40; i++ {
		out, err := conv.Next(ctx, resp)
		if err != nil {
			return out, err, nil
		}
		var perr error
		resp, perr = peer.Handle(out.Message)
		if out.Done || perr != nil {
			return out, nil, perr
		}
	}
	t.Fatal("EAP conversation did not end in 40 rounds")
	return eap.Outcome{}, nil, nil
}

func TestFreeRADIUS(t *testing.T) {
	s := freeradius.Start(t, freeradius.Config{Secret: "s3cret-1", Users: users})
	a := &aaa.EAPAuthenticator{Client: client(s, "s3cret-1"), CalledStationID: "2001:db8:1::1"}

	for _, c := range []struct {
		name string
		f    func(*testing.T, *freeradius.Server, *aaa.EAPAuthenticator)
	}{
		{"MD5", testFRMD5},
		{"MSCHAPv2", testFRMSCHAPv2},
		{"TLS", testFRTLS},
		{"TLSRealIdentity", testFRTLSRealIdentity},
		{"TLSUntrustedServer", testFRTLSUntrustedServer},
		{"WrongPassword", testFRWrongPassword},
		{"WrongSharedSecret", testFRWrongSharedSecret},
		{"StatusServer", testFRStatusServer},
		{"Accounting", testFRAccounting},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, s, a) })
	}
}

func testFRMD5(t *testing.T, s *freeradius.Server, a *aaa.EAPAuthenticator) {
	peer := eap.NewPeer("alice@example.net", eap.NewMD5("alice@example.net", "alice-secret"))
	out, err, perr := authenticate(t, a, peer)
	if err != nil || perr != nil || !out.Accepted || !peer.Succeeded() {
		t.Fatalf("radius %v, peer %v, outcome %+v", err, perr, out)
	}
	if out.MSK != nil || peer.MSK() != nil {
		t.Fatalf("EAP-MD5 produced an MSK: %x / %x", out.MSK, peer.MSK())
	}
}

func testFRMSCHAPv2(t *testing.T, s *freeradius.Server, a *aaa.EAPAuthenticator) {
	peer := eap.NewPeer("bob@example.net", eap.NewMSCHAPv2("bob@example.net", "bob-secret"))
	out, err, perr := authenticate(t, a, peer)
	if err != nil || perr != nil || !out.Accepted {
		t.Fatalf("radius %v, peer %v, outcome %+v", err, perr, out)
	}
	if len(out.MSK) != 64 || !bytes.Equal(out.MSK, peer.MSK()) {
		t.Fatalf("MSK from FreeRADIUS %x, peer %x", out.MSK, peer.MSK())
	}
	if out.UserName != "bob@example.net" || peer.Method() != wire.TypeMSCHAPv2 {
		t.Fatalf("user %q, method %v", out.UserName, peer.Method())
	}
}

func testFRTLS(t *testing.T, s *freeradius.Server, a *aaa.EAPAuthenticator) {
	cfg := &tls.Config{RootCAs: s.PKI.Pool, ServerName: s.Name,
		Certificates: []tls.Certificate{s.PKI.ClientCertificate(t, "carol@example.net")}}
	m := eap.NewTLS(cfg)
	m.Fragment = 300 // our L/M fragments and FreeRADIUS's ACKs
	defer m.Close()
	peer := eap.NewPeer("carol@example.net", m)
	out, err, perr := authenticate(t, a, peer)
	if err != nil || perr != nil || !out.Accepted {
		t.Fatalf("radius %v, peer %v, outcome %+v", err, perr, out)
	}
	// Both directions fragmented: FreeRADIUS reassembled ours and we ACKed its.
	for _, want := range []string{"Got first TLS fragment (300 bytes)", "Got final fragment", "Peer ACKed our handshake fragment"} {
		if len(s.TranscriptLines(want)) == 0 {
			t.Fatalf("FreeRADIUS transcript lacks %q", want)
		}
	}
	if len(out.MSK) != 64 || !bytes.Equal(out.MSK, peer.MSK()) {
		t.Fatalf("MSK from FreeRADIUS %x, peer %x", out.MSK, peer.MSK())
	}
}

// RFC 4877 §8: IDi is only a routing identity; the HA learns the real
// one (here the certificate's) from the AAA answer.
func testFRTLSRealIdentity(t *testing.T, s *freeradius.Server, a *aaa.EAPAuthenticator) {
	cfg := &tls.Config{RootCAs: s.PKI.Pool, ServerName: s.Name,
		Certificates: []tls.Certificate{s.PKI.ClientCertificate(t, "dave@example.net")}}
	m := eap.NewTLS(cfg)
	defer m.Close()
	peer := eap.NewPeer("anonymous@example.net", m)
	out, err, perr := authenticate(t, a, peer)
	if err != nil || perr != nil || !out.Accepted || out.UserName != "dave@example.net" {
		t.Fatalf("radius %v, peer %v, outcome %+v", err, perr, out)
	}
}

func testFRTLSUntrustedServer(t *testing.T, s *freeradius.Server, a *aaa.EAPAuthenticator) {
	other := freeradius.NewPKI(t)
	cfg := &tls.Config{RootCAs: other.Pool, ServerName: s.Name,
		Certificates: []tls.Certificate{s.PKI.ClientCertificate(t, "carol@example.net")}}
	m := eap.NewTLS(cfg)
	defer m.Close()
	peer := eap.NewPeer("carol@example.net", m)
	out, _, perr := authenticate(t, a, peer)
	var sa *eap.ServerAuthError
	if !errors.As(perr, &sa) || out.Accepted || peer.MSK() != nil {
		t.Fatalf("peer %v, outcome %+v", perr, out)
	}
}

func testFRWrongPassword(t *testing.T, s *freeradius.Server, a *aaa.EAPAuthenticator) {
	peer := eap.NewPeer("alice@example.net", eap.NewMSCHAPv2("alice@example.net", "not-it"))
	out, err, perr := authenticate(t, a, peer)
	var f *eap.FailureError
	if err != nil || out.Accepted || !errors.As(perr, &f) {
		t.Fatalf("radius %v, peer %v, outcome %+v", err, perr, out)
	}
	if !strings.Contains(out.Reason, "rejected \"alice@example.net\"") || !strings.Contains(out.Reason, s.AuthAddr()) {
		t.Fatalf("reason %q", out.Reason)
	}
}

func testFRWrongSharedSecret(t *testing.T, s *freeradius.Server, a *aaa.EAPAuthenticator) {
	c := client(s, "not-the-secret")
	c.Timeout = 300 * time.Millisecond
	bad := &aaa.EAPAuthenticator{Client: c}
	peer := eap.NewPeer("alice@example.net", eap.NewMD5("alice@example.net", "alice-secret"))
	_, err, _ := authenticate(t, bad, peer)
	var be *aaa.BadAuthenticatorError
	if !errors.As(err, &be) || be.Server != s.AuthAddr() {
		t.Fatalf("err %v", err)
	}
	t.Log(err)
}

func testFRStatusServer(t *testing.T, s *freeradius.Server, a *aaa.EAPAuthenticator) {
	c := client(s, "s3cret-1")
	c.Timeout = 300 * time.Millisecond
	c.Servers = append(c.Servers, aaa.Server{Addr: s.AuthAddr(), Secret: []byte("wrong")})
	st := c.Status(context.Background())
	var be *aaa.BadAuthenticatorError
	if st[0].Err != nil || !errors.As(st[1].Err, &be) {
		t.Fatalf("status %+v", st)
	}
}

func testFRAccounting(t *testing.T, s *freeradius.Server, a *aaa.EAPAuthenticator) {
	c := &aaa.Client{Servers: []aaa.Server{{Addr: s.AcctAddr(), Secret: []byte("s3cret-1")}}, Timeout: time.Second}
	ctx := context.Background()
	now := time.Now()
	sess := &aaa.Session{ID: "mip6-binding-42", UserName: "alice@example.net",
		HomeAddress: netip.MustParseAddr("2001:db8:1::100"), CareOf: netip.MustParseAddr("2001:db8:2::5"), Started: now}
	if err := c.AccountingOn(ctx, now); err != nil {
		t.Fatal(err)
	}
	if err := c.AccountingStart(ctx, sess, now); err != nil {
		t.Fatal(err)
	}
	sess.InputOctets, sess.OutputOctets = 1500, 3000
	if err := c.AccountingInterim(ctx, sess, now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := c.AccountingStop(ctx, sess, now.Add(20*time.Second), aaa.CauseUserRequest); err != nil {
		t.Fatal(err)
	}
	d := s.Detail()
	for _, want := range []string{"Acct-Status-Type = Start", "Acct-Status-Type = Interim-Update", "Acct-Status-Type = Stop",
		"Framed-IPv6-Address = 2001:db8:1::100", "Acct-Session-Id = \"mip6-binding-42\"", "Acct-Session-Time = 20",
		"Acct-Output-Octets = 3000", "Acct-Terminate-Cause = User-Request", "Acct-Status-Type = Accounting-On"} {
		if !strings.Contains(d, want) {
			t.Fatalf("detail file lacks %q:\n%s", want, d)
		}
	}
}

func TestFreeRADIUSDown(t *testing.T) {
	// A bound socket that never answers stands for a dead server.
	conn, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	addr := conn.LocalAddr().String()
	a := &aaa.EAPAuthenticator{Client: &aaa.Client{Servers: []aaa.Server{{Addr: addr, Secret: []byte("x")}},
		Timeout: 200 * time.Millisecond, Retries: 1}}
	peer := eap.NewPeer("alice@example.net", eap.NewMD5("alice@example.net", "alice-secret"))
	_, err, _ = authenticate(t, a, peer)
	var te *aaa.TimeoutError
	if !errors.As(err, &te) || te.Server != addr || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err %v", err)
	}
}

// RFC 4640 §7.3: the serving MSP's AAA server proxies by realm to the
// mobility service authorizer's AAA server in another domain.
func TestFreeRADIUSProxyByRealm(t *testing.T) {
	home := freeradius.Start(t, freeradius.Config{Secret: "msa-secret",
		Users: []freeradius.User{{Name: "carol@msa.example", Password: "carol-secret"}}})
	serving := freeradius.Start(t, freeradius.Config{Secret: "msp-secret", Users: users,
		Realms: []freeradius.Realm{{Name: "msa.example", Server: home}}})
	a := &aaa.EAPAuthenticator{Client: client(serving, "msp-secret")}

	peer := eap.NewPeer("carol@msa.example", eap.NewMSCHAPv2("carol@msa.example", "carol-secret"))
	out, err, perr := authenticate(t, a, peer)
	if err != nil || perr != nil || !out.Accepted {
		t.Fatalf("radius %v, peer %v, outcome %+v", err, perr, out)
	}
	if len(out.MSK) != 64 || !bytes.Equal(out.MSK, peer.MSK()) || out.UserName != "carol@msa.example" {
		t.Fatalf("MSK %x vs %x, user %q", out.MSK, peer.MSK(), out.UserName)
	}
	if len(home.TranscriptLines("carol@msa.example")) == 0 {
		t.Fatal("home server never saw the proxied request")
	}
	// Accounting for the roaming user reaches the home domain too.
	acct := &aaa.Client{Servers: []aaa.Server{{Addr: serving.AcctAddr(), Secret: []byte("msp-secret")}}, Timeout: 2 * time.Second}
	now := time.Now()
	sess := &aaa.Session{ID: "roam-1", UserName: "carol@msa.example", HomeAddress: netip.MustParseAddr("2001:db8:7::9"), Started: now}
	if err := acct.AccountingStart(context.Background(), sess, now); err != nil {
		t.Fatal(err)
	}
	if d := home.Detail(); !strings.Contains(d, "Acct-Session-Id = \"roam-1\"") || !strings.Contains(d, "Framed-IPv6-Address = 2001:db8:7::9") {
		t.Fatalf("home server's detail file:\n%s", d)
	}
	// A local user of the serving domain is still served locally.
	local := eap.NewPeer("alice@example.net", eap.NewMSCHAPv2("alice@example.net", "alice-secret"))
	if out, err, perr := authenticate(t, a, local); err != nil || perr != nil || !out.Accepted {
		t.Fatalf("local user: %v %v %+v", err, perr, out)
	}
}
