package daemon_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/netns"
	"mip6/internal/peers/freeradius"
)

// writeHACertificate issues the home agent's certificate (SubjectAltName
// ha.example.net) from a new CA and writes CA, certificate and key as PEM.
func writeHACertificate(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mip6 test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	haKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	haTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "ha.example.net"},
		DNSNames: []string{"ha.example.net"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
	haDER, err := x509.CreateCertificate(rand.Reader, haTmpl, caCert, &haKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(haKey)
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ha.pem"), filepath.Join(dir, "ha.key")
	write(t, ca, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))
	write(t, cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: haDER})))
	write(t, key, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	return
}

// RFC 4640 §7.1 with the real daemons: the MN knows only its NAI and EAP
// password; the HA authenticates it with EAP-MSCHAPv2 through a real
// FreeRADIUS (RADIUS pass-through, RFC 4877 §8), proves itself with its
// certificate, assigns a home address from its pool, and accounts the
// binding (start and interim updates). A wrong password gets nothing.
func TestDaemonsEAPViaFreeRADIUS(t *testing.T) {
	netns.Require(t, "ping", "freeradius")
	bin := buildMIP6(t)
	dir := t.TempDir()
	l := newLab(t)
	l.attach(t, "a0", "2001:db8:a::100", "2001:db8:a::1")
	radius := freeradius.Start(t, freeradius.Config{NS: l.ha, Secret: "radius secret",
		Users: []freeradius.User{{Name: "alice@example.net", Password: "alice-eap-password"}}})
	ca, cert, key := writeHACertificate(t, dir)
	haConf := filepath.Join(dir, "ha.conf")
	write(t, haConf, fmt.Sprintf(`
[home_agent]
address = "2001:db8:1::2"
home_prefix = "2001:db8:1::/64"
home_interface = "ha0"
[ike]
listen = ["[2001:db8:1::2]:500", "[2001:db8:1::2]:4500"]
identity = "ha.example.net"
certificate = "%s"
private_key = "%s"
[addresses]
pool = "2001:db8:1::2000/116"
[radius]
servers = ["%s"]
secret = "radius secret"
realms = ["example.net"]
accounting = true
interim_interval = "1s"
[store]
path = "%s/ha.db"
[daemon]
control_socket = "%s/ha.sock"
`, cert, key, radius.AuthAddr(), dir, dir))
	mnConf := func(password string) string {
		p := filepath.Join(dir, "mn-"+password+".conf")
		write(t, p, fmt.Sprintf(`
identity = "alice@example.net"
[credential]
eap_method = "mschapv2"
password = "%s"
ca = ["%s"]
[home_agent]
address = "2001:db8:1::2"
identity = "ha.example.net"
[mobility]
interfaces = ["a0", "b0"]
[daemon]
control_socket = "%s/mn-%s.sock"
`, password, ca, dir, password))
		return p
	}
	ha := l.ha.Start(t, bin, "ha", "-c", haConf)
	haSock := filepath.Join(dir, "ha.sock")
	netns.Eventually(t, 10*time.Second, func() error { _, err := status(t, bin, haSock); return err })

	bad := l.mn.Start(t, bin, "mn", "-c", mnConf("wrong-password"))
	time.Sleep(3 * time.Second)
	if s, err := status(t, bin, haSock); err != nil || len(s.Bindings) != 0 || len(s.ChildSAs) != 0 {
		t.Fatalf("a wrong password got something: %+v %v\n%s", s, err, bad.Output())
	}
	if !strings.Contains(bad.Output(), "re-bootstrapping") {
		t.Errorf("the refused MN does not say so:\n%s", bad.Output())
	}
	bad.Stop()

	mn := l.mn.Start(t, bin, "mn", "-c", mnConf("alice-eap-password"))
	defer func() {
		if t.Failed() {
			t.Logf("home agent:\n%s\nmobile node:\n%s\nfreeradius:\n%s", ha.Output(), mn.Output(), radius.Log())
		}
	}()
	netns.Eventually(t, 20*time.Second, bindingTo(t, bin, haSock, "2001:db8:a::100"))
	s, _ := status(t, bin, haSock)
	hoa := s.Bindings[0].HomeAddress
	if !strings.HasPrefix(hoa, "2001:db8:1::2") || s.Bindings[0].Identity != "alice@example.net" {
		t.Fatalf("binding %+v", s.Bindings[0])
	}
	l.cn.Run(t, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", hoa)
	netns.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(radius.Log(), "Acct-Status-Type = Start") {
			return fmt.Errorf("no Accounting-Start at the RADIUS server")
		}
		if !strings.Contains(radius.Log(), "Acct-Status-Type = Interim-Update") {
			return fmt.Errorf("no Accounting Interim-Update at the RADIUS server")
		}
		return nil
	})
}
