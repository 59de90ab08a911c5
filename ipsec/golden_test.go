package ipsec

import (
	"bufio"
	"net/netip"
	"os"
	"strings"
	"testing"

	"mip6/esp"
)

// The RFC's example parties, from the documentation prefix.
var (
	homeAddress1 = netip.MustParseAddr("2001:db8:1::100")
	homeAgent1   = netip.MustParseAddr("2001:db8:1::1")
	careOf1      = netip.MustParseAddr("2001:db8:c0a::10")
	example      = MobileNode{Identity: "user_1", HomeAddress: homeAddress1, CareOf: careOf1,
		HomeAgent: homeAgent1, HomeAgentIdentity: "home_agent_identity_1"}
	manualSPIs = ManualSPIs{BU: 0x1001, BAck: 0x1002, HoTi: 0x1003, HoT: 0x1004, MPS: 0x1005, MPA: 0x1006}
	rfcNames   = Names{
		Addr:     map[netip.Addr]string{homeAddress1: "home_address_1", homeAgent1: "home_agent_1", careOf1: "care_of_address_1"},
		SPI:      map[uint32]string{0x1001: "spi_a", 0x1002: "spi_b", 0x1003: "spi_c", 0x1004: "spi_d", 0x1005: "spi_e", 0x1006: "spi_f"},
		SA:       map[uint32]string{0x1001: "SA1", 0x1002: "SA2", 0x1003: "SA3", 0x1004: "SA4", 0x1005: "SA5", 0x1006: "SA6"},
		AnyProto: "X", // §7.2.4 writes "proto = X" for any protocol
	}
)

// rfcErrata are the places where the RFC's examples disagree with
// themselves; the RFC text is corrected before comparison, nothing else.
var rfcErrata = []struct{ block, wrong, right, why string }{
	{"6.2 home agent", "remote_address = home_address_1 & local_address = any",
		"local_address = any & remote_address = home_address_1",
		"same conjunction, terms in the order every other entry and §7.2.2 use"},
	{"7.1 mobile node", "(shared secret/certificate/)", "(shared secret/certificate)",
		"stray separator after the last method"},
	{"7.1 mobile node", "authorize CHILD_SA for", "authorize CHILD_SAs for",
		"the HA's entry says CHILD_SAs; the MN creates several SAs with its HA too"},
}

func readGolden(t *testing.T) map[string]string {
	f, err := os.Open("testdata/rfc4877-policy.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks := map[string]string{}
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "=== "):
			cur = strings.TrimPrefix(line, "=== ")
		case strings.HasPrefix(line, "#"):
		case cur != "":
			blocks[cur] += line + "\n"
		}
	}
	return blocks
}

func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }

// render prints one side's databases for one RFC section the way the RFC
// block shows them, going through real SPD, SAD and PAD instances.
func render(t *testing.T, section string, r Role) string {
	var b strings.Builder
	head := r.String()
	manual := PolicyOptions{SignallingMode: Transport, Manual: &manualSPIs}
	dynamic := PolicyOptions{SignallingMode: Transport}
	class := map[string]Class{"6.1": ClassBinding, "6.2": ClassReturnRouting, "6.3": ClassPrefixDiscovery,
		"7.2.1": ClassBinding, "7.2.2": ClassReturnRouting, "7.2.3": ClassPrefixDiscovery, "7.2.4": ClassPayload}[section]
	switch {
	case section == "7.1":
		pad := NewPAD()
		auth := AuthSharedSecret | AuthCertificate
		if r == RoleHomeAgent {
			auth |= AuthEAP
		}
		pad.Set(example.PADEntry(r, auth))
		must(t, WritePAD(&b, head+" PAD", pad.Entries(), rfcNames))
	case strings.HasPrefix(section, "6."):
		spd, sad := NewSPD(), NewSAD()
		spd.Add(ofClass(example.Entries(r, manual), class)...)
		for _, s := range example.ManualSAs(r, manual) {
			if s.Class != class {
				continue
			}
			sa, err := esp.New(esp.Config{SPI: s.SPI, Direction: s.Dir, Transform: esp.AESGCM128, Key: make([]byte, 20)})
			must(t, err)
			must(t, sad.Add(s.Entry(sa, example.Identity, homeAddress1)))
		}
		must(t, WriteSPD(&b, head+" SPD-S", spd.Entries(), rfcNames))
		b.WriteString("\n")
		must(t, WriteSAD(&b, head+" SAD", sad.All(), rfcNames))
	default:
		spd := NewSPD()
		entries := append(example.Entries(r, dynamic), example.PayloadEntry(r))
		spd.Add(ofClass(entries, class)...)
		must(t, WriteSPD(&b, head+" SPD-S", spd.Entries(), rfcNames))
	}
	return b.String()
}

func ofClass(es []Entry, c Class) []Entry {
	var out []Entry
	for _, e := range es {
		if e.Class == c {
			out = append(out, e)
		}
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRFC4877Examples holds the printer's output for RFC 4877's
// home_address_1 / home_agent_1 example against the RFC's own text of
// §6.1-§6.3 and §7.1-§7.2.4, whitespace aside.
func TestRFC4877Examples(t *testing.T) {
	golden := readGolden(t)
	if len(golden) != 16 {
		t.Fatalf("golden file has %d blocks, want 16", len(golden))
	}
	for _, section := range []string{"6.1", "6.2", "6.3", "7.1", "7.2.1", "7.2.2", "7.2.3", "7.2.4"} {
		for _, r := range []Role{RoleMobileNode, RoleHomeAgent} {
			key := section + " " + r.String()
			want := golden[key]
			for _, e := range rfcErrata {
				if e.block == key {
					if !strings.Contains(normalize(want), e.wrong) {
						t.Fatalf("%s: erratum %q not found in the RFC text", key, e.wrong)
					}
					want = strings.ReplaceAll(normalize(want), e.wrong, e.right)
				}
			}
			got := render(t, section, r)
			if normalize(got) != normalize(want) {
				t.Errorf("§%s:\n--- printed:\n%s--- RFC 4877:\n%s", key, got, golden[key])
			}
		}
	}
}

// TestWritePolicy prints a home agent's whole view of user_1 after
// authentication with a dynamically assigned home address: per-MN entries,
// SAs and the temporary PAD link, and none of another MN's.
func TestWritePolicy(t *testing.T) {
	spd, sad, pad := NewSPD(), NewSAD(), NewPAD()
	spd.Add(GenericHomeAgentEntries(homeAgent1, homePrefix)...)
	mn := example
	mn.HomeAddress = netip.Addr{}
	pad.Set(mn.PADEntry(RoleHomeAgent, AuthEAP))
	must(t, pad.AddTemporary("user_1", homeAddress1))
	ids := spd.Add(example.Entries(RoleHomeAgent, PolicyOptions{SignallingMode: Tunnel})...)
	other := example
	other.Identity, other.HomeAddress = "user_2", stranger
	spd.Add(other.Entries(RoleHomeAgent, PolicyOptions{})...)
	e := &SAEntry{SA: newSA(t, 0x3001, Inbound), Mode: Tunnel, Dst: homeAgent1, Identity: "user_1", HomeAddress: homeAddress1,
		Selectors: Selectors{Local: Addr(homeAddress1), Remote: Addr(homeAgent1), Proto: ProtoMH, LocalPort: MHType(MHBindingUpdate)}}
	must(t, sad.Add(e))
	must(t, sad.Add(&SAEntry{SA: newSA(t, 0x3002, Outbound), Mode: Tunnel, Dst: careOf1, Identity: "user_1", PolicyID: ids[0],
		Selectors: Selectors{Local: Addr(homeAgent1), Remote: Addr(homeAddress1), Proto: ProtoMH, LocalPort: MHType(MHBindingAck)}}))
	var b strings.Builder
	must(t, WritePolicy(&b, RoleHomeAgent, "user_1", spd, sad, pad, rfcNames))
	want := `home agent SPD-S: - IF local_address = home_agent_1 & remote_address = home_address_1 & proto = MH & local_mh_type = BAck & remote_mh_type = BU Then use SA ESP tunnel mode
 - IF local_address = any & remote_address = home_address_1 & proto = MH & local_mh_type = HoT & remote_mh_type = HoTi Then use SA ESP tunnel mode
 - IF local_address = home_agent_1 & remote_address = home_address_1 & proto = ICMPv6 & local_icmp6_type = MPA & remote_icmp6_type = MPS Then use SA ESP tunnel mode
home agent SAD: - SA(OUT, 0x00003002, care_of_address_1, ESP, TUNNEL): local_address = home_agent_1 & remote_address = home_address_1 & proto = MH & mh_type = BAck
 - SA(IN, 0x00003001, home_agent_1, ESP, TUNNEL): local_address = home_address_1 & remote_address = home_agent_1 & proto = MH & mh_type = BU
home agent PAD: - IF remote_identity = user_1 Then authenticate (EAP) and authorize CHILD_SAs for remote address home_address_1`
	if normalize(b.String()) != normalize(want) {
		t.Fatalf("got:\n%s", b.String())
	}
}
