package ike

import (
	"testing"
	"time"

	"mip6/eap"
	"mip6/internal/peers/strongswan"
	wire "mip6/wire/eap"
)

// EAP inside IKE_AUTH (RFC 7296 §2.16, RFC 4877 §8). Debian's strongSwan has
// no eap-mschapv2 plugin; EAP-MD5 derives no MSK, so AUTH is computed with
// SK_pi/SK_pr on both sides.
func TestInteropEAPCharonInitiator(t *testing.T) {
	peer := haPeer()
	peer.RemoteAuth = AuthEAP
	peer.EAPServer = EAPServer(&eap.LocalAuthenticator{Users: map[string]string{"alice@example.net": "eap password"}, Methods: []wire.Type{wire.TypeMD5Challenge}})
	l := newInteropLab(t, responderConfig(peer))
	c := charonMN(algSets[0].ike, algSets[0].esp)
	c.Connections[0].Local = []strongswan.Auth{{Auth: "eap-md5", ID: "alice@example.net"}}
	c.Secrets = append(c.Secrets, strongswan.Secret{Type: "eap", IDs: []string{"alice@example.net"}, Data: "eap password"})
	if err := l.charon.Load(c); err != nil {
		t.Fatal(err)
	}
	if err := l.charon.Initiate("home"); err != nil {
		t.Fatalf("charon initiate: %v", err)
	}
	ev := l.log.wait(t, EventChildEstablished, 1, 15*time.Second)
	checkCharonChild(t, l.charon, ev.Child, "2001:db8:2::100")
}

func TestInteropEAPCharonResponder(t *testing.T) {
	l := newInteropLab(t, Config{})
	c := charonHA(algSets[0].ike, algSets[0].esp)
	c.Connections[0].Remote = []strongswan.Auth{{Auth: "eap-md5", ID: "alice@example.net", EAPID: "%any"}}
	c.Secrets = append(c.Secrets, strongswan.Secret{Type: "eap", IDs: []string{"alice@example.net"}, Data: "eap password"})
	if err := l.charon.Load(c); err != nil {
		t.Fatal(err)
	}
	p := mnPeer(algSets[0])
	p.LocalAuth = AuthEAP
	p.EAP = eap.NewPeer("alice@example.net", eap.NewMD5("alice@example.net", "eap password"))
	l.initiate(t, p)
	ev := l.log.wait(t, EventChildEstablished, 1, 15*time.Second)
	checkCharonChild(t, l.charon, ev.Child, "2001:db8:2::201")
}
