package mh_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"mip6/internal/tshark"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

var (
	home   = netip.MustParseAddr("2001:db8:1::100")
	careOf = netip.MustParseAddr("2001:db8:2::200")
	agent  = netip.MustParseAddr("2001:db8:1::1")
	peer   = netip.MustParseAddr("2001:db8:3::3") // correspondent node
)

// wrap puts an MH message into the packet p describes, the checksum
// computed over the pseudo-header p implies.
func wrap(p ipv6.Packet, m mh.Message) []byte {
	p.Header.HopLimit, p.Proto = 64, ipv6.ProtoMobility
	return p.Append(nil, m.Append(nil, p.PseudoSrc(), p.PseudoDst()))
}

type check struct {
	pkt    []byte
	fields map[string]string // tshark field -> all values joined by ","
}

func signalling() []check {
	hdr := func(src, dst netip.Addr) ipv6.Header { return ipv6.Header{Src: src, Dst: dst} }
	fromMN := ipv6.Packet{Header: hdr(careOf, agent), HomeAddress: home}
	toMN := ipv6.Packet{Header: hdr(agent, careOf), RoutingHomeAddress: home, SegmentsLeft: 1}
	cookie := [8]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	token := [8]byte{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}
	return []check{
		{wrap(fromMN, &mh.BindingUpdate{Sequence: 4711, Acknowledge: true, HomeRegistration: true, KeyManagementMobilityCapability: true, Lifetime: 75,
			Options: mh.Options{Present: mh.HasAlternateCareOfAddress, AlternateCareOfAddress: careOf}}),
			map[string]string{"mip6.mhtype": "5", "mip6.bu.seqnr": "4711", "mip6.bu.lifetime": "75", "mip6.bu.a_flag": "1", "mip6.bu.h_flag": "1",
				"mip6.bu.l_flag": "0", "mip6.bu.k_flag": "1", "mip6.acoa.acoa": careOf.String(), "ipv6.opt.mipv6.home_address": home.String()}},
		{wrap(toMN, &mh.BindingAck{Status: mh.StatusAccepted, KeyManagementMobilityCapability: true, Sequence: 4711, Lifetime: 75,
			Options: mh.Options{Present: mh.HasBindingRefreshAdvice, RefreshInterval: 60}}),
			map[string]string{"mip6.mhtype": "6", "mip6.ba.status": "0", "mip6.ba.k_flag": "1", "mip6.ba.seqnr": "4711", "mip6.ba.lifetime": "75",
				"mip6.bra.interval": "60", "ipv6.routing.mipv6.home_address": home.String()}},
		{wrap(toMN, &mh.BindingAck{Status: mh.StatusNotHomeAgentForThisMobileNode, Sequence: 1}),
			map[string]string{"mip6.ba.status": "133"}},
		{wrap(ipv6.Packet{Header: hdr(home, peer)}, &mh.HomeTestInit{HomeInitCookie: cookie}),
			map[string]string{"mip6.mhtype": "1", "mip6.hoti.cookie": "0x0123456789abcdef"}},
		{wrap(ipv6.Packet{Header: hdr(peer, home)}, &mh.HomeTest{HomeNonceIndex: 77, HomeInitCookie: cookie, HomeKeygenToken: token}),
			map[string]string{"mip6.mhtype": "3", "mip6.hot.nindex": "77", "mip6.hot.cookie": "0x0123456789abcdef", "mip6.hot.token": "0xfedcba9876543210"}},
		{wrap(ipv6.Packet{Header: hdr(careOf, peer)}, &mh.CareOfTestInit{CareOfInitCookie: token}),
			map[string]string{"mip6.mhtype": "2", "mip6.coti.cookie": "0xfedcba9876543210"}},
		{wrap(ipv6.Packet{Header: hdr(peer, careOf)}, &mh.CareOfTest{CareOfNonceIndex: 78, CareOfInitCookie: token, CareOfKeygenToken: cookie}),
			map[string]string{"mip6.mhtype": "4", "mip6.cot.nindex": "78", "mip6.cot.cookie": "0xfedcba9876543210"}},
		{wrap(ipv6.Packet{Header: hdr(careOf, peer), HomeAddress: home}, &mh.BindingUpdate{Sequence: 2, Lifetime: 10,
			Options: mh.Options{Present: mh.HasNonceIndices | mh.HasBindingAuthorizationData, HomeNonceIndex: 77, CareOfNonceIndex: 78,
				Authenticator: []byte{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab}}}),
			map[string]string{"mip6.ni.hni": "77", "mip6.ni.cni": "78", "mip6.bad.auth": "a0a1a2a3a4a5a6a7a8a9aaab"}},
		{wrap(ipv6.Packet{Header: hdr(agent, careOf)}, &mh.BindingError{Status: mh.BEStatusUnrecognizedMHType, HomeAddress: home}),
			map[string]string{"mip6.mhtype": "7", "mip6.be.status": "2", "mip6.be.haddr": home.String()}},
		{wrap(ipv6.Packet{Header: hdr(peer, home)}, &mh.BindingRefreshRequest{}),
			map[string]string{"mip6.mhtype": "0"}},
	}
}

func TestTsharkMobilityHeader(t *testing.T) {
	checks := signalling()
	fieldSet := map[string]bool{"mip6.csum": true}
	pkts := make([][]byte, len(checks))
	for i, c := range checks {
		pkts[i] = c.pkt
		for k := range c.fields {
			fieldSet[k] = true
		}
	}
	path := tshark.WritePcap(t, pkts...)
	tshark.RequireClean(t, path, tshark.Options{})
	var fields []string
	for k := range fieldSet {
		fields = append(fields, k)
	}
	got := tshark.Run(t, path, tshark.Options{}, fields...)
	if len(got) != len(checks) {
		t.Fatalf("tshark read %d packets, wrote %d", len(got), len(checks))
	}
	for i, c := range checks {
		for field, want := range c.fields {
			if v := strings.Join(got[i].All(field), ","); v != want {
				t.Errorf("packet %d: %s = %q, want %q", i+1, field, v, want)
			}
		}
		// tshark does not verify the MH checksum: do it here, and make
		// sure tshark saw the same field.
		var p ipv6.Packet
		if err := ipv6.ParsePacket(c.pkt, &p); err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		if err := mh.VerifyChecksum(p.PseudoSrc(), p.PseudoDst(), p.Payload); err != nil {
			t.Errorf("packet %d: %v", i+1, err)
		}
		if want := fmt.Sprintf("0x%04x", binary.BigEndian.Uint16(p.Payload[4:])); got[i].Get("mip6.csum") != want {
			t.Errorf("packet %d: mip6.csum = %q, want %q", i+1, got[i].Get("mip6.csum"), want)
		}
	}
}
