package ike

import (
	"bytes"
	gocrypto "crypto"
	"crypto/sha1"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"mip6/wire/ikev2"
)

// certReqPayload names CAs by the SHA-1 hash of their public key (§3.7).
func certReqPayload(cas []*x509.Certificate) *ikev2.CertReq {
	if len(cas) == 0 {
		return nil
	}
	var auth []byte
	for _, c := range cas {
		h := sha1.Sum(c.RawSubjectPublicKeyInfo)
		auth = append(auth, h[:]...)
	}
	return &ikev2.CertReq{Encoding: ikev2.CertX509Signature, Authority: auth}
}

func (ep *Endpoint) certReq() ikev2.Payload {
	if cr := certReqPayload(ep.cfg.CACertificates); cr != nil {
		return cr
	}
	return nil
}

// certPayloads carries our chain, leaf first.
func certPayloads(p *PeerConfig) ikev2.Payloads {
	var ps ikev2.Payloads
	for _, c := range p.Certificates {
		ps = append(ps, &ikev2.Cert{Encoding: ikev2.CertX509Signature, Data: c.Raw})
	}
	return ps
}

// peerPublicKey verifies the peer's certificate chain against the trust
// roots and the identity it claims, and returns its public key.
func peerPublicKey(p *PeerConfig, ps ikev2.Payloads, id Identity, now time.Time) (gocrypto.PublicKey, error) {
	var certs []*x509.Certificate
	for _, q := range ps {
		c, ok := q.(*ikev2.Cert)
		if !ok || c.Encoding != ikev2.CertX509Signature {
			continue
		}
		x, err := x509.ParseCertificate(c.Data)
		if err != nil {
			return nil, fmt.Errorf("peer certificate: %w", err)
		}
		certs = append(certs, x)
	}
	if len(certs) == 0 {
		return nil, errors.New("peer sent no X.509 certificate")
	}
	if p.TrustRoots == nil {
		return nil, errors.New("no trust roots configured for certificate authentication")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	leaf := certs[0]
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: p.TrustRoots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("peer certificate: %w", err)
	}
	if !certMatchesID(leaf, id) && !(p.RemoteID.Equal(id) && id.Type == ikev2.IDKeyID) {
		return nil, fmt.Errorf("identity %s not in the peer's certificate", id)
	}
	return leaf.PublicKey, nil
}

// certMatchesID binds an IKE identity to a certificate: an ID_IPV6_ADDR
// must be an iPAddress SubjectAltName (RFC 4877 §7.3), names must be
// dNSName or rfc822Name SANs, a DN the subject.
func certMatchesID(c *x509.Certificate, id Identity) bool {
	switch id.Type {
	case ikev2.IDIPv6Addr, ikev2.IDIPv4Addr:
		p := ikev2.ID{Type: id.Type, Data: id.Data}
		a, ok := p.Addr()
		if !ok {
			return false
		}
		for _, ip := range c.IPAddresses {
			if ip.Equal(a.AsSlice()) {
				return true
			}
		}
	case ikev2.IDFQDN:
		for _, n := range c.DNSNames {
			if strings.EqualFold(n, string(id.Data)) {
				return true
			}
		}
	case ikev2.IDRFC822Addr:
		for _, n := range c.EmailAddresses {
			if strings.EqualFold(n, string(id.Data)) {
				return true
			}
		}
	case ikev2.IDDERASN1DN:
		return bytes.Equal(c.RawSubject, id.Data)
	}
	return false
}
