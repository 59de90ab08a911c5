package strongswan

import (
	"strings"
	"testing"
)

func TestSwanctlConf(t *testing.T) {
	c := Config{
		Connections: []Conn{{Name: "ha", LocalAddrs: []string{"2001:db8::1"}, Encap: true, Pools: []string{"hoa"},
			Local:  []Auth{{Auth: "pubkey", ID: "ha.example.net", Certs: []string{"ha.pem"}}},
			Remote: []Auth{{Auth: "eap-mschapv2", EAPID: "%any"}},
			Children: []Child{{Name: "bu", LocalTS: []string{"2001:db8::1/128[135/1536]"},
				RemoteTS: []string{"dynamic[135/1280]"}, ESPProposals: []string{"aes128gcm16", "chacha20poly1305"}}}}},
		Pools: []Pool{{Name: "hoa", Addrs: "2001:db8:0:1::/64"}},
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := c.SwanctlConf()
	for _, want := range []string{
		`remote_ts = "dynamic[135/1280]"`, `esp_proposals = "aes128gcm16,chacha20poly1305"`,
		`encap = "yes"`, `pools = "hoa"`, `certs = "ha.pem"`, `addrs = "2001:db8:0:1::/64"`, `eap_id = "%any"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in:\n%s", want, got)
		}
	}
	if strings.Count(got, "{") != strings.Count(got, "}") {
		t.Errorf("unbalanced:\n%s", got)
	}
	bad := Config{Connections: []Conn{{Name: "x"}}}
	if err := bad.Validate(); err == nil {
		t.Error("connection without auth rounds accepted")
	}
}

const prettySample = `list-sa event {
  c {
    uniqueid = 1
    state = ESTABLISHED
    local-host = 2001:db8:1::1
    remote-port = 4500
    initiator = yes
    child-sas {
      net-1 {
        name = net
        state = INSTALLED
        encap = yes
        spi-in = 42268f61
        spi-out = 5f84394b
        packets-in = 2
        local-ts = [
          2001:db8:1::1/128
          2001:db8:1::5/128
        ]
        remote-ts = [
          2001:db8:1::2/128
        ]
      }
    }
  }
}
list-sas reply {
}
`

func TestParseListSAs(t *testing.T) {
	sas, err := parseListSAs(prettySample)
	if err != nil {
		t.Fatal(err)
	}
	if len(sas) != 1 || sas[0].Name != "c" || sas[0].RemotePort != 4500 || !sas[0].Initiator || len(sas[0].Children) != 1 {
		t.Fatalf("%+v", sas)
	}
	c := sas[0].Children[0]
	if c.SPIIn != 0x42268f61 || c.SPIOut != 0x5f84394b || c.PacketsIn != 2 || !c.Encap ||
		!equal(c.LocalTS, []string{"2001:db8:1::1/128", "2001:db8:1::5/128"}) || !equal(c.RemoteTS, []string{"2001:db8:1::2/128"}) {
		t.Fatalf("%+v", c)
	}
	if _, err := parseListSAs("a {\n}\n}\n"); err == nil {
		t.Error("unbalanced input accepted")
	}
}

const keySample = `12:39:47 15[IKE] <c|1> establishing CHILD_SA net{1}
12:39:47 15[IKE] <c|1> Sk_d secret => 4 bytes @ 0x7f35e000ab10
12:39:47 15[IKE] <c|1>    0: A3 B5 8F 51                                      ...Q
12:39:47 15[IKE] <c|1> Sk_ei secret => 20 bytes @ 0x7f35e000a6b0
12:39:47 15[IKE] <c|1>    0: 28 24 EE D9 9A 2F 46 FD 61 9B A4 24 45 AA B4 06  ($.../F.a..$E...
12:39:47 15[IKE] <c|1>   16: D6 E3 35 D8                                      ..5.
12:39:47 11[IKE] <c|1> IKE_SA c[1] established between 2001:db8:1::1[2001:db8:1::1]...2001:db8:1::2[2001:db8:1::2]
12:39:47 11[CHD] <c|1>   using AES_GCM_16 for encryption
12:39:47 11[CHD] <c|1> encryption initiator key => 4 bytes @ 0x7f35e4003df0
12:39:47 11[CHD] <c|1>    0: 62 EF 18 8B                                      b...
12:39:47 11[CHD] <c|1> encryption responder key => 4 bytes @ 0x7f35e4005280
12:39:47 11[CHD] <c|1>    0: 99 B0 1C 3D                                      ...=
12:39:47 11[CHD] <c|1> adding inbound ESP SA
12:39:47 11[CHD] <c|1>   SPI 0x42268f61, src 2001:db8:1::2 dst 2001:db8:1::1
12:39:47 11[CHD] <c|1> adding outbound ESP SA
12:39:47 11[CHD] <c|1>   SPI 0x5f84394b, src 2001:db8:1::1 dst 2001:db8:1::2
12:39:47 11[IKE] <c|1> CHILD_SA net{1} established with SPIs 42268f61_i 5f84394b_o and TS 2001:db8:1::1/128 === 2001:db8:1::2/128
`

func TestParseKeys(t *testing.T) {
	k, err := ParseKeys(keySample)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.IKE) != 1 || k.IKE[0].Conn != "c" || k.IKE[0].UniqueID != 1 || len(k.IKE[0].SKei) != 20 ||
		k.IKE[0].SKei[19] != 0xd8 || k.IKE[0].SKd[0] != 0xa3 {
		t.Fatalf("IKE: %+v", k.IKE)
	}
	in, ok := k.Find(0x42268f61)
	// We initiated: inbound traffic comes from the responder.
	if !ok || !in.Inbound || in.EncKey[0] != 0x99 || in.Child != "net" || in.ChildID != 1 || in.Encr != "AES_GCM_16" ||
		in.Src.String() != "2001:db8:1::2" {
		t.Fatalf("inbound: %+v", in)
	}
	out, ok := k.Find(0x5f84394b)
	if !ok || out.Inbound || out.EncKey[0] != 0x62 {
		t.Fatalf("outbound: %+v", out)
	}
	// Responder's view: no "establishing" line flips which key is which.
	k2, err := ParseKeys(strings.Replace(keySample, "establishing CHILD_SA net{1}", "received packet", 1))
	if err != nil {
		t.Fatal(err)
	}
	if in2, _ := k2.Find(0x42268f61); in2.EncKey[0] != 0x62 {
		t.Fatalf("responder inbound key %x", in2.EncKey)
	}
	if _, err := ParseKeys(strings.Replace(keySample, "encryption responder key", "other", 1)); err == nil {
		t.Error("missing key not reported")
	}
}

// A CHILD_SA rekeyed by us (here after a MOBIKE move, charon 5.9.8): the
// outbound SA is registered with the inbound one, the inbound half
// established, then the outbound SA added and established.
const rekeySample = `15:09:16 08[IKE] <ha|1> establishing CHILD_SA home{2} reqid 1
15:09:16 09[CHD] <ha|1>   using AES_GCM_16 for encryption
15:09:16 09[CHD] <ha|1> encryption initiator key => 4 bytes @ 0x7f4f5c00cc30
15:09:16 09[CHD] <ha|1>    0: A8 2D CF D7                                      .-..
15:09:16 09[CHD] <ha|1> encryption responder key => 4 bytes @ 0x7f4f5c00b5e0
15:09:16 09[CHD] <ha|1>    0: D5 08 AC 8A                                      ....
15:09:16 09[CHD] <ha|1> adding inbound ESP SA
15:09:16 09[CHD] <ha|1>   SPI 0x4640c893, src 2001:db8:1::2 dst 2001:db8:b::100
15:09:16 09[CHD] <ha|1> registering outbound ESP SA
15:09:16 09[CHD] <ha|1>   SPI 0x15c3c8c1, src 2001:db8:b::100 dst 2001:db8:1::2
15:09:16 09[IKE] <ha|1> inbound CHILD_SA home{2} established with SPIs 4640c893_i 15c3c8c1_o and TS 2001:db8:1::1000/128 === ::/0
15:09:16 09[CHD] <ha|1> CHILD_SA home{2} state change: INSTALLING => INSTALLED
15:09:16 09[CHD] <ha|1> adding outbound ESP SA
15:09:16 09[CHD] <ha|1>   SPI 0x15c3c8c1, src 2001:db8:b::100 dst 2001:db8:1::2
15:09:16 09[IKE] <ha|1> outbound CHILD_SA home{2} established with SPIs 4640c893_i 15c3c8c1_o and TS 2001:db8:1::1000/128 === ::/0
`

func TestParseKeysRekey(t *testing.T) {
	k, err := ParseKeys(keySample + rekeySample)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.ESP) != 4 {
		t.Fatalf("%d ESP SAs, want 4: %+v", len(k.ESP), k.ESP)
	}
	in, ok := k.Find(0x4640c893)
	if !ok || !in.Inbound || in.EncKey[0] != 0xd5 || in.Child != "home" || in.ChildID != 2 || !in.Initiator {
		t.Fatalf("rekeyed inbound: %+v", in)
	}
	out, ok := k.Find(0x15c3c8c1)
	if !ok || out.Inbound || out.EncKey[0] != 0xa8 || out.ChildID != 2 || out.Src.String() != "2001:db8:b::100" {
		t.Fatalf("rekeyed outbound: %+v", out)
	}
}
