package strongswan

import (
	"bytes"
	"strings"
	"testing"

	"mip6/internal/netns"
)

// pskConfig is a host-to-host tunnel between l and r: the peers' own
// addresses are inside the traffic selectors, so it also proves that IKE and
// ESP-in-UDP bypass libipsec's routing table (the fwmark).
func pskConfig(l, r string) Config {
	return Config{
		Connections: []Conn{{
			Name: "host", LocalAddrs: []string{l}, RemoteAddrs: []string{r}, Encap: true,
			Proposals: []string{"aes128gcm16-prfsha256-x25519"},
			Local:     []Auth{{Auth: "psk", ID: l}}, Remote: []Auth{{Auth: "psk", ID: r}},
			Children: []Child{{Name: "net", LocalTS: []string{l + "/128"}, RemoteTS: []string{r + "/128"},
				ESPProposals: []string{"aes128gcm16"}}},
		}},
		Secrets: []Secret{{Type: "ike", IDs: []string{l, r}, Data: "correct horse battery staple"}},
	}
}

func TestPSKTunnelPing(t *testing.T) {
	netns.Require(t, "ping")
	a, b := netns.New(t, "swa"), netns.New(t, "swb")
	netns.Link(t, a, "va", b, "vb")
	a.AddAddr(t, "va", "2001:db8:1::1/64")
	b.AddAddr(t, "vb", "2001:db8:1::2/64")
	ca := Start(t, a, Options{KeyLog: true})
	cb := Start(t, b, Options{KeyLog: true})
	if err := ca.Load(pskConfig("2001:db8:1::1", "2001:db8:1::2")); err != nil {
		t.Fatal(err)
	}
	if err := cb.Load(pskConfig("2001:db8:1::2", "2001:db8:1::1")); err != nil {
		t.Fatal(err)
	}
	if err := ca.Initiate("net"); err != nil {
		t.Fatal(err)
	}
	a.Run(t, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "2001:db8:1::2")

	sasA, err := ca.ListSAs()
	if err != nil {
		t.Fatal(err)
	}
	if len(sasA) != 1 || len(sasA[0].Children) != 1 {
		t.Fatalf("A's SAs: %+v", sasA)
	}
	ike, ch := sasA[0], sasA[0].Children[0]
	if ike.State != "ESTABLISHED" || !ike.Initiator || ike.RemotePort != 4500 || ike.EncrAlg != "AES_GCM_16" {
		t.Errorf("IKE SA: %+v", ike)
	}
	if ch.State != "INSTALLED" || !ch.Encap || ch.PacketsOut < 3 || ch.PacketsIn < 3 {
		t.Errorf("CHILD_SA (the pings must have used it): %+v", ch)
	}
	if !equal(ch.LocalTS, []string{"2001:db8:1::1/128"}) || !equal(ch.RemoteTS, []string{"2001:db8:1::2/128"}) {
		t.Errorf("TS: %v === %v", ch.LocalTS, ch.RemoteTS)
	}
	checkKeys(t, ca, cb, ch)
	if err := ca.Terminate("host"); err != nil {
		t.Fatal(err)
	}
	if sas, _ := cb.ListSAs(); len(sas) != 0 {
		t.Errorf("B still has SAs after A's delete: %+v", sas)
	}
}

// checkKeys cross-checks the two logs: the SA A sends on is the SA B
// receives on, with the same key, and A's IKE keys are B's.
func checkKeys(t *testing.T, ca, cb *Charon, ch ChildSA) {
	t.Helper()
	ka, err := ca.Keys()
	if err != nil {
		t.Fatal(err)
	}
	kb, err := cb.Keys()
	if err != nil {
		t.Fatal(err)
	}
	for _, spi := range []uint32{ch.SPIIn, ch.SPIOut} {
		ea, okA := ka.Find(spi)
		eb, okB := kb.Find(spi)
		if !okA || !okB {
			t.Fatalf("SPI %08x: in A's log %v, in B's %v", spi, okA, okB)
		}
		if ea.Inbound == eb.Inbound || ea.Src != eb.Src || ea.Dst != eb.Dst || ea.Encr != "AES_GCM_16" {
			t.Errorf("SPI %08x: A %+v B %+v", spi, ea, eb)
		}
		if len(ea.EncKey) != 20 || !bytes.Equal(ea.EncKey, eb.EncKey) {
			t.Errorf("SPI %08x: keys differ or wrong length: %x / %x", spi, ea.EncKey, eb.EncKey)
		}
		if ea.Inbound != (spi == ch.SPIIn) || !ea.Initiator || eb.Initiator {
			t.Errorf("SPI %08x: direction/role wrong: %+v", spi, ea)
		}
	}
	if len(ka.IKE) != 1 || len(kb.IKE) != 1 || !bytes.Equal(ka.IKE[0].SKei, kb.IKE[0].SKei) ||
		!bytes.Equal(ka.IKE[0].SKd, kb.IKE[0].SKd) || len(ka.IKE[0].SKei) != 20 {
		t.Errorf("IKE keys: A %+v B %+v", ka.IKE, kb.IKE)
	}
}

func equal(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// TestMobilityHeaderSelectors negotiates a CHILD_SA limited to Mobility
// Header Binding Updates and Acknowledgements (type in the port's high
// byte, RFC 4301 §4.4.1.1) with a virtual address from a pool, the shape
// RFC 4877 gives the BU/BAck SAs.
func TestMobilityHeaderSelectors(t *testing.T) {
	a, b := netns.New(t, "swa"), netns.New(t, "swb")
	netns.Link(t, a, "va", b, "vb")
	a.AddAddr(t, "va", "2001:db8:1::1/64")
	b.AddAddr(t, "vb", "2001:db8:1::2/64")
	mn, ha := Start(t, a, Options{}), Start(t, b, Options{})
	secret := []Secret{{Type: "ike", IDs: []string{"mn@example.net", "ha.example.net"}, Data: "mobile ipv6 bootstrap test"}}
	if err := mn.Load(Config{Secrets: secret, Connections: []Conn{{
		Name: "ha", LocalAddrs: []string{"2001:db8:1::1"}, RemoteAddrs: []string{"2001:db8:1::2"}, Encap: true, Vips: []string{"::"},
		Local: []Auth{{Auth: "psk", ID: "mn@example.net"}}, Remote: []Auth{{Auth: "psk", ID: "ha.example.net"}},
		Children: []Child{{Name: "bu", LocalTS: []string{"dynamic[135/1280]"}, RemoteTS: []string{"dynamic[135/1536]"}}},
	}}}); err != nil {
		t.Fatal(err)
	}
	if err := ha.Load(Config{Secrets: secret, Pools: []Pool{{Name: "hoa", Addrs: "2001:db8:0:1::10/128"}}, Connections: []Conn{{
		Name: "mn", LocalAddrs: []string{"2001:db8:1::2"}, Encap: true, Pools: []string{"hoa"},
		Local: []Auth{{Auth: "psk", ID: "ha.example.net"}}, Remote: []Auth{{Auth: "psk", ID: "mn@example.net"}},
		Children: []Child{{Name: "bu", LocalTS: []string{"dynamic[135/1536]"}, RemoteTS: []string{"dynamic[135/1280]"}}},
	}}}); err != nil {
		t.Fatal(err)
	}
	if err := mn.Initiate("bu"); err != nil {
		t.Fatal(err)
	}
	sas, err := mn.ListSAs()
	if err != nil || len(sas) != 1 || len(sas[0].Children) != 1 {
		t.Fatalf("%+v %v", sas, err)
	}
	ch := sas[0].Children[0]
	if !equal(sas[0].LocalVIPs, []string{"2001:db8:0:1::10"}) || len(ch.LocalTS) != 1 ||
		!strings.HasPrefix(ch.LocalTS[0], "2001:db8:0:1::10/128[") || !strings.HasSuffix(ch.LocalTS[0], "/1280]") ||
		!strings.HasSuffix(ch.RemoteTS[0], "/1536]") {
		t.Fatalf("virtual IP %v, TS %v === %v", sas[0].LocalVIPs, ch.LocalTS, ch.RemoteTS)
	}
	t.Logf("TS %v === %v", ch.LocalTS, ch.RemoteTS)
}
