package demo

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"time"
)

// pki is the demo's certificate authority and the home agent's
// certificate: with EAP the home agent proves itself by signature
// (RFC 7296 §2.16), the mobile node checks it against the CA.
type pki struct {
	ca     *x509.Certificate
	roots  *x509.CertPool
	haCert *x509.Certificate
	haKey  crypto.Signer
}

func newPKI(haName string) (*pki, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mip6 demo CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	p := &pki{roots: x509.NewCertPool()}
	if p.ca, err = x509.ParseCertificate(caDER); err != nil {
		return nil, err
	}
	p.roots.AddCert(p.ca)
	haKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	haTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: haName},
		DNSNames: []string{haName}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
	haDER, err := x509.CreateCertificate(rand.Reader, haTmpl, p.ca, &haKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	if p.haCert, err = x509.ParseCertificate(haDER); err != nil {
		return nil, err
	}
	p.haKey = haKey
	return p, nil
}
