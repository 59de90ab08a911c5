package ike

import (
	gocrypto "crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mip6/ike/crypto"
	"mip6/internal/peers/strongswan"
)

// testPKI is a CA with leaf certificates for the tests.
type testPKI struct {
	ca    *x509.Certificate
	caKey gocrypto.Signer
	pool  *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mip6 test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{ca: ca, caKey: k, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	return p
}

// leaf issues a certificate for key with the given SANs.
func (p *testPKI) leaf(t *testing.T, key gocrypto.Signer, cn string, dns, email []string, ips []netip.Addr) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: dns, EmailAddresses: email, KeyUsage: x509.KeyUsageDigitalSignature}
	for _, a := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(a.AsSlice()))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, key.Public(), p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func pemKey(t *testing.T, k gocrypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

type keyKind struct {
	name    string
	gen     func() gocrypto.Signer
	pss     bool
	classic bool // charon without RFC 7427: auth methods 1 and 9/10
	frag    bool // fragment everything: charon forced, ours at 400 octets
}

func (kk keyKind) lab(t *testing.T, cfg Config) *interopLab {
	var extra []string
	if kk.classic {
		extra = append(extra, "signature_authentication = no")
	}
	if kk.frag {
		cfg.FragmentSize = 400
		extra = append(extra, "fragment_size = 500")
	}
	return newInteropLab(t, cfg, extra...)
}

var keyKinds = []keyKind{
	{name: "ecdsa-p256", gen: genP256},
	{name: "ecdsa-p384", gen: genP384},
	{name: "rsa2048-pkcs1", gen: genRSA},
	{name: "rsa2048-pss", gen: genRSA, pss: true},
	{name: "rsa2048-classic", gen: genRSA, classic: true},
	{name: "ecdsa-p256-classic", gen: genP256, classic: true},
	{name: "rsa2048-fragmented", gen: genRSA, frag: true},
}

func genP256() gocrypto.Signer { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k }
func genP384() gocrypto.Signer { k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader); return k }
func genRSA() gocrypto.Signer  { k, _ := rsa.GenerateKey(rand.Reader, 2048); return k }

// certSetup installs the CA and charon's certificate and key, and returns
// our certificate, key and PAD entry pieces.
type certSetup struct {
	pki       *testPKI
	ourKey    gocrypto.Signer
	ourCert   *x509.Certificate
	theirKey  gocrypto.Signer
	theirCert *x509.Certificate
}

// newCertSetup makes the CA, our certificate and charon's; configure our
// side before the endpoint runs, then install charon's files.
func newCertSetup(t *testing.T, kk keyKind, ourDNS, ourEmail, theirDNS, theirEmail []string, theirIPs []netip.Addr) *certSetup {
	s := &certSetup{pki: newTestPKI(t), ourKey: kk.gen(), theirKey: kk.gen()}
	s.ourCert = s.pki.leaf(t, s.ourKey, "mip6", ourDNS, ourEmail, nil)
	s.theirCert = s.pki.leaf(t, s.theirKey, "charon", theirDNS, theirEmail, theirIPs)
	return s
}

func (s *certSetup) install(t *testing.T, l *interopLab) {
	for name, data := range map[string][]byte{
		"x509ca/ca.pem": pemCert(s.pki.ca), "x509/charon.pem": pemCert(s.theirCert), "pkcs8/charon.pem": pemKey(t, s.theirKey),
	} {
		if err := l.charon.AddFile(name, data); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *certSetup) peer(p *PeerConfig, kk keyKind) {
	p.LocalAuth, p.RemoteAuth, p.PSK = AuthCert, AuthCert, nil
	p.Certificates = []*x509.Certificate{s.ourCert}
	p.PrivateKey = s.ourKey
	p.SignatureScheme = crypto.SignatureScheme{PSS: kk.pss}
	p.TrustRoots = s.pki.pool
	p.CACertificates = []*x509.Certificate{s.pki.ca}
}

func TestInteropCertCharonInitiator(t *testing.T) {
	for _, kk := range keyKinds {
		t.Run(kk.name, func(t *testing.T) {
			peer := haPeer()
			// The MN identifies itself by its home address: RFC 4877 §7.3
			// wants it in an iPAddress SubjectAltName.
			mnID := netip.MustParseAddr("2001:db8:2::100")
			peer.RemoteID = AddrIdentity(mnID)
			s := newCertSetup(t, kk, []string{"ha.example.net"}, nil, nil, nil, []netip.Addr{mnID})
			s.peer(peer, kk)
			cfg := responderConfig(peer)
			cfg.CACertificates = []*x509.Certificate{s.pki.ca}
			l := kk.lab(t, cfg)
			s.install(t, l)
			c := charonMN(algSets[0].ike, algSets[0].esp)
			c.Connections[0].Local = []strongswan.Auth{{Auth: "pubkey", ID: mnID.String(), Certs: []string{"charon.pem"}}}
			c.Connections[0].Remote = []strongswan.Auth{{Auth: "pubkey", ID: "ha.example.net"}}
			c.Secrets = nil
			if kk.frag {
				c.Connections[0].Fragment = "force"
			}
			if err := l.charon.Load(c); err != nil {
				t.Fatal(err)
			}
			if err := l.charon.Initiate("home"); err != nil {
				t.Fatalf("charon initiate: %v", err)
			}
			ev := l.log.wait(t, EventChildEstablished, 1, 15*time.Second)
			checkCharonChild(t, l.charon, ev.Child, "2001:db8:2::100")
			kk.checkLog(t, l.charon.Log())
		})
	}
}

func TestInteropCertCharonResponder(t *testing.T) {
	for _, kk := range keyKinds {
		t.Run(kk.name, func(t *testing.T) {
			s := newCertSetup(t, kk, nil, []string{"alice@example.net"}, []string{"ha.example.net"}, nil, nil)
			p := mnPeer(algSets[0])
			s.peer(p, kk)
			l := kk.lab(t, Config{})
			s.install(t, l)
			c := charonHA(algSets[0].ike, algSets[0].esp)
			c.Connections[0].Local = []strongswan.Auth{{Auth: "pubkey", ID: "ha.example.net", Certs: []string{"charon.pem"}}}
			c.Connections[0].Remote = []strongswan.Auth{{Auth: "pubkey", ID: "alice@example.net"}}
			c.Secrets = nil
			if kk.frag {
				c.Connections[0].Fragment = "force"
			}
			if err := l.charon.Load(c); err != nil {
				t.Fatal(err)
			}
			l.initiate(t, p)
			ev := l.log.wait(t, EventChildEstablished, 1, 15*time.Second)
			checkCharonChild(t, l.charon, ev.Child, "2001:db8:2::201")
			kk.checkLog(t, l.charon.Log())
		})
	}
}

// checkLog finds in charon's log that the variant did what it claims:
// the signature scheme charon verified ours with, and fragments.
func (kk keyKind) checkLog(t *testing.T, log string) {
	t.Helper()
	var scheme string
	sent, received := 0, 0
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "authentication of") && !strings.Contains(line, "(myself)") {
			scheme = line
		}
		if strings.Contains(line, "sending packet: from") && strings.Contains(line, "[4500] to") {
			sent++
		}
		if strings.Contains(line, "received packet: from") && strings.Contains(line, "[4500] to") {
			received++
		}
	}
	want := "_SHA2_"
	switch {
	case kk.classic:
		want = " signature successful" // "RSA signature", "ECDSA-256 signature": methods 1, 9
	case strings.HasPrefix(kk.name, "ecdsa"):
		want = "_DER successful"
	case kk.pss:
		want = "RSA_EMSA_PSS_SHA2_256"
	}
	if !strings.Contains(scheme, want) {
		t.Fatalf("charon verified our AUTH as %q, want %q", scheme, want)
	}
	if kk.frag && (sent < 3 || received < 3) {
		t.Fatalf("IKE_AUTH not fragmented: charon sent %d and received %d datagrams on 4500", sent, received)
	}
}

// ID_DER_ASN1_DN identities taken from the certificates' subjects, and
// ID_KEY_ID with a pre-shared key.
func TestInteropDNAndKeyIDIdentities(t *testing.T) {
	t.Run("dn", func(t *testing.T) {
		kk := keyKinds[0]
		s := newCertSetup(t, kk, nil, nil, nil, nil, nil)
		theirs := s.pki.leaf(t, s.theirKey, "charon-ha", nil, nil, nil)
		s.theirCert = theirs
		l := kk.lab(t, Config{})
		s.install(t, l)
		p := mnPeer(algSets[0])
		s.peer(p, kk)
		p.LocalID, p.RemoteID = DN(s.ourCert.RawSubject), DN(theirs.RawSubject)
		c := charonHA(algSets[0].ike, algSets[0].esp)
		c.Connections[0].Local = []strongswan.Auth{{Auth: "pubkey", Certs: []string{"charon.pem"}}} // id: the subject
		c.Connections[0].Remote = []strongswan.Auth{{Auth: "pubkey", ID: "CN=mip6"}}
		c.Secrets = nil
		if err := l.charon.Load(c); err != nil {
			t.Fatal(err)
		}
		l.initiate(t, p)
		ev := l.log.wait(t, EventChildEstablished, 1, 15*time.Second)
		if !ev.IKESA.RemoteID.Equal(DN(theirs.RawSubject)) {
			t.Fatalf("peer identity %s", ev.IKESA.RemoteID)
		}
	})
	t.Run("keyid", func(t *testing.T) {
		l := newInteropLab(t, Config{})
		c := charonHA(algSets[0].ike, algSets[0].esp)
		c.Connections[0].Remote = []strongswan.Auth{{Auth: "psk", ID: "@#616c696365"}} // KEY_ID "alice"
		c.Secrets = []strongswan.Secret{{Type: "ike", IDs: []string{"@#616c696365", "ha.example.net"}, Data: interopPSK}}
		if err := l.charon.Load(c); err != nil {
			t.Fatal(err)
		}
		p := mnPeer(algSets[0])
		p.LocalID = KeyID([]byte("alice"))
		l.initiate(t, p)
		l.log.wait(t, EventChildEstablished, 1, 15*time.Second)
	})
}
