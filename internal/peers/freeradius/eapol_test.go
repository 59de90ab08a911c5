package freeradius_test

import (
	"crypto/tls"
	"encoding/hex"
	"net"
	"strings"
	"testing"

	"mip6/aaa"
	"mip6/eap"
	"mip6/internal/peers/freeradius"
)

// startLocal runs aaa's in-process RADIUS server on ::1.
func startLocal(t *testing.T, secret string) *net.UDPAddr { return startLocalTB(t, secret) }

func startLocalB(b *testing.B, secret string) string { return startLocalTB(b, secret).String() }

func startLocalTB(t testing.TB, secret string) *net.UDPAddr {
	addr, _ := startLocalPKI(t, secret)
	return addr
}

// startLocalPKI also enables EAP-TLS with a fresh CA, returned for clients.
func startLocalPKI(t testing.TB, secret string) (*net.UDPAddr, *freeradius.PKI) {
	pki := freeradius.NewPKI(t)
	conn, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	var k, opc [16]byte
	hex.Decode(k[:], []byte("465b5ce8b199b49faa5f0a2ee238a6bc"))
	hex.Decode(opc[:], []byte("cd63cb71954a9f4e48a5994e37a02baf"))
	s := &aaa.LocalServer{Secret: []byte(secret), Authenticator: &eap.LocalAuthenticator{
		Users: map[string]string{"alice@example.net": "alice-secret", "bob@example.net": "bob-secret"},
		AKA: map[string]*eap.AKASubscriber{
			"6555444333222111@example.net": eap.NewAKASubscriber(eap.Milenage{K: k, OPc: opc}, 0x20)},
		TLS: &tls.Config{Certificates: []tls.Certificate{pki.ServerCertificate(t, "aaa.example.net")}, ClientCAs: pki.Pool},
	}, Logf: t.Logf}
	done := make(chan struct{})
	go func() { s.Serve(conn); close(done) }()
	t.Cleanup(func() { s.Close(); conn.Close(); <-done })
	return conn.LocalAddr().(*net.UDPAddr), pki
}

// Cross-checks with hostapd's EAP peer and RADIUS client: eapol_test
// compares the MS-MPPE keys from our in-process server with the MSK it
// derived itself ("MPPE keys OK").
func TestEapolTestAgainstLocalServer(t *testing.T) {
	addr, pki := startLocalPKI(t, "eapol-secret")
	// EAP-TLS against our in-process server: hostapd's peer checks our
	// certificate, and eapol_test our MS-MPPE keys against its own MSK.
	t.Run("TLS", func(t *testing.T) {
		ca, cert, key := pki.WriteClientFiles(t, t.TempDir(), "dave@example.net")
		r := freeradius.RunEapolTest(t, "::1", addr.Port, "eapol-secret", `eap=TLS
	identity="dave@example.net"
	ca_cert="`+ca+`"
	client_cert="`+cert+`"
	private_key="`+key+`"
	phase1="tls_disable_tlsv1_3=1"`, false)
		if !r.Success || !strings.Contains(r.Output, "MPPE keys OK: 1  mismatch: 0") {
			t.Fatalf("eapol_test:\n%s", r.Output)
		}
	})
	t.Run("MSCHAPv2", func(t *testing.T) {
		r := freeradius.RunEapolTest(t, "::1", addr.Port, "eapol-secret",
			`eap=MSCHAPV2
	identity="alice@example.net"
	password="alice-secret"`, false)
		if !r.Success || !strings.Contains(r.Output, "MPPE keys OK: 1  mismatch: 0") {
			t.Fatalf("eapol_test:\n%s", r.Output)
		}
		if len(r.MSK) < 32 {
			t.Fatalf("no MSK in eapol_test output:\n%s", r.Output)
		}
	})
	t.Run("MD5", func(t *testing.T) {
		r := freeradius.RunEapolTest(t, "::1", addr.Port, "eapol-secret",
			`eap=MD5
	identity="alice@example.net"
	password="alice-secret"`, true)
		if !r.Success {
			t.Fatalf("eapol_test:\n%s", r.Output)
		}
	})
	// EAP-AKA': Debian's eapol_test has no USIM simulator ("No UMTS
	// authentication algorithm enabled"), so it cannot finish; it still
	// parses our AKA-Challenge, which checks the attribute framing and KDF
	// negotiation against wpa_supplicant's parser.
	t.Run("AKAPrimeFraming", func(t *testing.T) {
		r := freeradius.RunEapolTest(t, "::1", addr.Port, "eapol-secret",
			`eap=AKA'
	identity="6555444333222111@example.net"
	password="465b5ce8b199b49faa5f0a2ee238a6bc:cd63cb71954a9f4e48a5994e37a02baf:000000000010"`, false)
		for _, want := range []string{"EAP-AKA: subtype Challenge", "EAP-AKA': KDF 1 selected", "EAP-AKA: UMTS authentication algorithm"} {
			if !strings.Contains(r.Output, want) {
				t.Fatalf("eapol_test output lacks %q:\n%s", want, r.Output)
			}
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		r := freeradius.RunEapolTest(t, "::1", addr.Port, "eapol-secret",
			`eap=MSCHAPV2
	identity="alice@example.net"
	password="wrong"`, false)
		if r.Success {
			t.Fatalf("eapol_test succeeded with a wrong password:\n%s", r.Output)
		}
	})
}

// The same MSK from FreeRADIUS reaches eapol_test and our RADIUS client:
// eapol_test checks FreeRADIUS's keys against hostapd's peer, our system
// test (TestFreeRADIUS/MSCHAPv2) checks them against our peer.
func TestEapolTestAgainstFreeRADIUS(t *testing.T) {
	s := freeradius.Start(t, freeradius.Config{Secret: "s3cret-2", Users: users})
	r := freeradius.RunEapolTest(t, "::1", s.AuthPort, "s3cret-2",
		`eap=MSCHAPV2
	identity="alice@example.net"
	password="alice-secret"`, false)
	if !r.Success || !strings.Contains(r.Output, "MPPE keys OK: 1  mismatch: 0") {
		t.Fatalf("eapol_test:\n%s", r.Output)
	}
}
