package ha

import (
	"net/netip"
	"testing"

	"mip6/wire/ipv6"
)

func TestDHAAD(t *testing.T) {
	h, _ := newHA(t, func(c *Config) { c.HomeAgents = []netip.Addr{haAddr, netip.MustParseAddr("2001:db8:1::3")} })
	any := HomeAgentsAnycast(home)
	if any != netip.MustParseAddr("2001:db8:1:0:fdff:ffff:ffff:fffe") {
		t.Fatalf("anycast %v", any)
	}
	req := ipv6.DHAADRequest{Identifier: 0x4242}
	msg := req.Append(nil, coa1, any)
	pkt, ok := h.HandleDHAADRequest(nil, coa1, any, msg)
	if !ok {
		t.Fatal("no reply")
	}
	var p ipv6.Packet
	if err := ipv6.ParsePacket(pkt, &p); err != nil || p.Header.Src != haAddr || p.Header.Dst != coa1 {
		t.Fatalf("reply packet %+v %v", p.Header, err)
	}
	if err := ipv6.VerifyICMPv6(haAddr, coa1, p.Payload); err != nil {
		t.Fatal(err)
	}
	rep, err := ipv6.ParseDHAADReply(p.Payload)
	if err != nil || rep.Identifier != 0x4242 || rep.HomeAgentAddresses.Len() != 2 || rep.HomeAgentAddresses.At(0) != haAddr {
		t.Fatalf("reply %+v %v", rep, err)
	}
	msg[5] ^= 1 // checksum now wrong
	if _, ok := h.HandleDHAADRequest(nil, coa1, any, msg); ok {
		t.Fatal("bad checksum answered")
	}
	msg = req.Append(nil, coa1, haAddr)
	if _, ok := h.HandleDHAADRequest(nil, coa1, haAddr, msg); ok {
		t.Fatal("request not to the anycast address answered")
	}
	if c := h.Counters(); c.Drops[DropBadChecksum] != 1 || c.Drops[DropBadHomeAddress] != 1 {
		t.Fatalf("drops %v", c.Drops)
	}
}

func TestPrefixSolicitation(t *testing.T) {
	h, _ := newHA(t, nil)
	mps := ipv6.MobilePrefixSolicitation{Identifier: 9}
	msg := mps.Append(nil, hoaA, haAddr)
	if _, ok := h.HandlePrefixSolicitation(nil, secAlice(coa1), hoaA, haAddr, msg); ok {
		t.Fatal("answered without a binding")
	}
	mustAccept(t, h.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, 1, 10)))
	if _, ok := h.HandlePrefixSolicitation(nil, secBob(coaB), hoaA, haAddr, msg); ok {
		t.Fatal("answered through another MN's SA")
	}
	pkt, ok := h.HandlePrefixSolicitation(nil, secAlice(coa1), hoaA, haAddr, msg)
	if !ok {
		t.Fatal("no advertisement")
	}
	var p ipv6.Packet
	if err := ipv6.ParsePacket(pkt, &p); err != nil || p.Header.Dst != hoaA {
		t.Fatal(err)
	}
	mpa, err := ipv6.ParseMobilePrefixAdvertisement(p.Payload)
	if err != nil || mpa.Identifier != 9 {
		t.Fatalf("%+v %v", mpa, err)
	}
	it := mpa.Prefixes()
	if !it.Next() || it.Prefix().Prefix != home.Addr() || it.Prefix().PrefixLength != 64 || it.Prefix().ValidLifetime != 86400 {
		t.Fatalf("prefix %+v", it.Prefix())
	}
}
