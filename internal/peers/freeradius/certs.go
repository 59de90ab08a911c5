package freeradius

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a test CA that issued the server's certificate and issues
// client certificates for EAP-TLS.
type PKI struct {
	Pool   *x509.CertPool
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  []byte
	serial int64
}

// NewPKI makes a fresh CA (for an untrusted-server test, say).
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mip6 test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &PKI{Pool: x509.NewCertPool(), ca: ca, caKey: key, serial: 1,
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	p.Pool.AddCert(ca)
	return p
}

// issue makes a leaf certificate for name with the given extended usage.
func (p *PKI) issue(t testing.TB, name string, usage x509.ExtKeyUsage) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.DNSNames = []string{name}
	} else {
		tmpl.EmailAddresses = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, keyPEM
}

// ClientCertificate issues an EAP-TLS client certificate for an identity.
func (p *PKI) ClientCertificate(t testing.TB, identity string) tls.Certificate {
	c, _, _ := p.issue(t, identity, x509.ExtKeyUsageClientAuth)
	return c
}

// writeServerFiles writes ca.pem, server.pem and server.key into dir.
func (p *PKI) writeServerFiles(t testing.TB, dir, serverName string) {
	t.Helper()
	_, certPEM, keyPEM := p.issue(t, serverName, x509.ExtKeyUsageServerAuth)
	for name, data := range map[string][]byte{"ca.pem": p.caPEM, "server.pem": certPEM, "server.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// ServerCertificate issues a server certificate for name (for an
// in-process EAP-TLS server).
func (p *PKI) ServerCertificate(t testing.TB, name string) tls.Certificate {
	c, _, _ := p.issue(t, name, x509.ExtKeyUsageServerAuth)
	return c
}

// WriteClientFiles writes ca.pem, client.pem and client.key for identity
// into dir (for eapol_test) and returns their paths.
func (p *PKI) WriteClientFiles(t testing.TB, dir, identity string) (ca, cert, key string) {
	t.Helper()
	_, certPEM, keyPEM := p.issue(t, identity, x509.ExtKeyUsageClientAuth)
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	for path, data := range map[string][]byte{ca: p.caPEM, cert: certPEM, key: keyPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca, cert, key
}
