package etcd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TLSFiles are PEM files for a TLS etcd: the CA that signed both
// certificates, and the client's certificate and key (the server asks
// for one, --client-cert-auth).
type TLSFiles struct {
	CA, Cert, Key string
}

// makeTLS writes a fresh CA, a server certificate for ::1 and a client
// certificate into dir.
func makeTLS(t testing.TB, dir string) (server, client TLSFiles) {
	t.Helper()
	caKey, caDER := newCert(t, "mip6 test etcd CA", nil, nil, nil)
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("etcd: %v", err)
	}
	caFile := writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	files := func(name string, usage x509.ExtKeyUsage) TLSFiles {
		key, der := newCert(t, name, ca, caKey, &usage)
		kb, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatalf("etcd: %v", err)
		}
		return TLSFiles{CA: caFile, Cert: writePEM(t, dir, name+".pem", "CERTIFICATE", der),
			Key: writePEM(t, dir, name+"-key.pem", "EC PRIVATE KEY", kb)}
	}
	return files("server", x509.ExtKeyUsageServerAuth), files("client", x509.ExtKeyUsageClientAuth)
}

// newCert makes a self-signed CA when parent is nil, else a leaf for ::1
// signed by parent.
func newCert(t testing.TB, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, usage *x509.ExtKeyUsage) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("etcd: %v", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{*usage}
		tmpl.IPAddresses = []net.IP{net.IPv6loopback}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatalf("etcd: %v", err)
	}
	return key, der
}

func writePEM(t testing.TB, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatalf("etcd: %v", err)
	}
	return path
}

// clientTLS is the readiness probe's TLS config.
func (f TLSFiles) clientTLS() (*tls.Config, error) {
	pem, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
