package eap

import (
	"bytes"
	"crypto/tls"
	"errors"
	"testing"
)

// handshake runs a client and a server driver against each other.
func handshake(t *testing.T, cli, srv *tls.Config, withoutEMS bool) (c, s *tlsDriver) {
	t.Helper()
	s = startTLS(srv, true, withoutEMS)
	<-s.conn.waiting // the server reads first
	c = startTLS(cli, false, withoutEMS)
	t.Cleanup(func() { c.close(); s.close() })
	msg, err := c.step(nil)
	for i := 0; i < 10 && !(c.finished && s.finished); i++ {
		if err != nil {
			t.Fatal(err)
		}
		if msg, err = s.step(msg); err != nil {
			t.Fatal(err)
		}
		if !c.finished {
			msg, err = c.step(msg)
		}
	}
	if !c.finished || !s.finished {
		t.Fatal("handshake did not finish")
	}
	return c, s
}

// TestNoEMSDerivationMatchesExporter: the MSK derived from the captured
// master secret and randoms equals crypto/tls's exporter (which Go offers
// here because two Go ends negotiate the extended master secret; the
// formula is the same), for suites with SHA-256 and SHA-384 PRFs, on both
// sides.
func TestNoEMSDerivationMatchesExporter(t *testing.T) {
	pki := newTestPKI(t)
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256} {
		t.Run(tls.CipherSuiteName(suite), func(t *testing.T) {
			cli := tls12(&tls.Config{RootCAs: pki.pool, ServerName: "radius.example.net", Certificates: []tls.Certificate{pki.client}})
			srv := tls12(&tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool,
				ClientAuth: tls.RequireAndVerifyClientCert, CipherSuites: []uint16{suite}})
			c, s := handshake(t, cli, srv, true)
			for _, d := range []*tlsDriver{c, s} {
				st := d.tc.ConnectionState()
				if st.CipherSuite != suite {
					t.Fatalf("negotiated %s", tls.CipherSuiteName(st.CipherSuite))
				}
				want, err := st.ExportKeyingMaterial(tlsMSKLabel, nil, MSKLen)
				if err != nil {
					t.Fatal(err)
				}
				got, err := noEMSMSK(st, d.noEMS, d.serverRandom)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("server %v: derived %x (%v), exporter %x", d.server, got, err, want)
				}
			}
		})
	}
}

// TestNoEMSRefusesUnsafeHandshakes: no MSK without the extended master
// secret from resumed, non-ECDHE or non-TLS-1.2 handshakes, or without
// the captured secrets.
func TestNoEMSRefusesUnsafeHandshakes(t *testing.T) {
	log := &masterSecretLog{clientRandom: make([]byte, 32), master: make([]byte, 48)}
	sr := make([]byte, 32)
	ok := tls.ConnectionState{Version: tls.VersionTLS12, CipherSuite: tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	for _, c := range []struct {
		name string
		st   tls.ConnectionState
		sr   []byte
		want error
	}{
		{"rsa-key-transport", tls.ConnectionState{Version: tls.VersionTLS12, CipherSuite: tls.TLS_RSA_WITH_AES_128_GCM_SHA256}, sr, errNoEMSUnsafe},
		{"cbc", tls.ConnectionState{Version: tls.VersionTLS12, CipherSuite: tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}, sr, errNoEMSUnsafe},
		{"resumed", tls.ConnectionState{Version: tls.VersionTLS12, CipherSuite: ok.CipherSuite, DidResume: true}, sr, errNoEMSUnsafe},
		{"tls1.1", tls.ConnectionState{Version: tls.VersionTLS11, CipherSuite: ok.CipherSuite}, sr, errNoEMSUnsafe},
		{"no-server-random", ok, nil, errNoEMSSecrets},
	} {
		if _, err := noEMSMSK(c.st, log, c.sr); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := noEMSMSK(ok, &masterSecretLog{}, sr); !errors.Is(err, errNoEMSSecrets) {
		t.Errorf("nothing logged: %v", err)
	}
}

func TestNoEMSConfig(t *testing.T) {
	c := &tls.Config{CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}}
	noEMSConfig(c, &masterSecretLog{})
	if len(c.CipherSuites) != 1 || c.CipherSuites[0] != tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 || !c.SessionTicketsDisabled || c.KeyLogWriter == nil {
		t.Fatalf("suites %v, tickets off %v", c.CipherSuites, c.SessionTicketsDisabled)
	}
}

func TestServerHelloRandom(t *testing.T) {
	hello := append([]byte{22, 3, 3, 0, 38, 2, 0, 0, 34, 3, 3}, bytes.Repeat([]byte{0xaa}, 32)...)
	if r, ok := serverHelloRandom(hello); !ok || !bytes.Equal(r, bytes.Repeat([]byte{0xaa}, 32)) {
		t.Fatalf("random %x %v", r, ok)
	}
	for _, b := range [][]byte{nil, hello[:4], hello[:20], append([]byte{23}, hello[1:]...), append(append([]byte{}, hello[:5]...), append([]byte{1}, hello[6:]...)...)} {
		if _, ok := serverHelloRandom(b); ok {
			t.Errorf("accepted %x", b)
		}
	}
}

func FuzzServerHelloRandom(f *testing.F) {
	f.Add(append([]byte{22, 3, 3, 0, 38, 2, 0, 0, 34, 3, 3}, make([]byte, 32)...))
	f.Add([]byte{22, 3, 3, 0xff, 0xff, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, ok := serverHelloRandom(b); ok && (len(r) != 32 || !bytes.Equal(r, b[11:43])) {
			t.Fatalf("random %x from %x", r, b)
		}
	})
}
