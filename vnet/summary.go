package vnet

import (
	"encoding/binary"
	"fmt"
	"strings"

	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// Summary describes a packet in one line for timelines and logs, e.g.
// "2001:db8:a::a -> 2001:db8:1::2 UDP 4500->4500 ESP spi=0xc0de0001 seq=3"
// or "... MH Binding Update seq=7 lifetime=900 A H K alt-coa=2001:db8:a::a".
// ESP payloads stay opaque; malformed packets say where parsing stopped.
func Summary(pkt []byte) string {
	var p ipv6.Packet
	if err := ipv6.ParsePacket(pkt, &p); err != nil {
		return "malformed: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v -> %v", p.Header.Src, p.Header.Dst)
	if p.HomeAddress.IsValid() {
		fmt.Fprintf(&b, " [HAO %v]", p.HomeAddress)
	}
	if p.RoutingHomeAddress.IsValid() {
		fmt.Fprintf(&b, " [RH2 %v]", p.RoutingHomeAddress)
	}
	switch p.Proto {
	case ipv6.ProtoUDP:
		summarizeUDP(&b, p.Payload)
	case ipv6.ProtoESP:
		summarizeESP(&b, p.Payload)
	case ipv6.ProtoICMPv6:
		summarizeICMP(&b, p.Payload)
	case ipv6.ProtoMobility:
		summarizeMH(&b, p.Payload)
	case ipv6.ProtoIPv6:
		b.WriteString(" IPv6-in-IPv6: " + Summary(p.Payload))
	default:
		fmt.Fprintf(&b, " proto %d len %d", p.Proto, len(p.Payload))
	}
	return b.String()
}

func summarizeUDP(b *strings.Builder, d []byte) {
	u, payload, err := ipv6.ParseUDP(d)
	if err != nil {
		b.WriteString(" UDP malformed")
		return
	}
	fmt.Fprintf(b, " UDP %d->%d", u.SrcPort, u.DstPort)
	if u.SrcPort != 4500 && u.DstPort != 4500 {
		fmt.Fprintf(b, " len %d", len(payload))
		return
	}
	// RFC 3948: a zero non-ESP marker introduces IKE, anything else is ESP.
	if len(payload) >= 4 && binary.BigEndian.Uint32(payload) == 0 {
		fmt.Fprintf(b, " IKE len %d", len(payload)-4)
		return
	}
	summarizeESP(b, payload)
}

func summarizeESP(b *strings.Builder, d []byte) {
	if len(d) < 8 {
		b.WriteString(" ESP malformed")
		return
	}
	fmt.Fprintf(b, " ESP spi=%#08x seq=%d", binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:]))
}

var icmpNames = map[uint8]string{1: "destination unreachable", 3: "time exceeded", 128: "echo request",
	129: "echo reply", 144: "DHAAD request", 145: "DHAAD reply", 146: "mobile prefix solicitation",
	147: "mobile prefix advertisement"}

func summarizeICMP(b *strings.Builder, d []byte) {
	if len(d) < 4 {
		b.WriteString(" ICMPv6 malformed")
		return
	}
	name, ok := icmpNames[d[0]]
	if !ok {
		name = fmt.Sprintf("type %d", d[0])
	}
	b.WriteString(" ICMPv6 " + name)
	if len(d) >= 8 && (d[0] >= 128) {
		fmt.Fprintf(b, " id=%d", binary.BigEndian.Uint16(d[4:]))
		if d[0] == 128 || d[0] == 129 {
			fmt.Fprintf(b, " seq=%d", binary.BigEndian.Uint16(d[6:]))
		}
	}
}

func summarizeMH(b *strings.Builder, d []byte) {
	h, err := mh.ParseHeader(d)
	if err != nil {
		b.WriteString(" MH malformed")
		return
	}
	b.WriteString(" MH " + h.Type.String())
	switch h.Type {
	case mh.TypeBindingUpdate:
		m, err := mh.ParseBindingUpdate(d)
		if err != nil {
			b.WriteString(" malformed")
			return
		}
		fmt.Fprintf(b, " seq=%d lifetime=%ds", m.Sequence, int(m.Lifetime)*4)
		for _, f := range []struct {
			on   bool
			name string
		}{{m.Acknowledge, "A"}, {m.HomeRegistration, "H"}, {m.LinkLocalAddressCompatibility, "L"}, {m.KeyManagementMobilityCapability, "K"}} {
			if f.on {
				b.WriteString(" " + f.name)
			}
		}
		if m.Options.Has(mh.HasAlternateCareOfAddress) {
			fmt.Fprintf(b, " alt-coa=%v", m.Options.AlternateCareOfAddress)
		}
	case mh.TypeBindingAck:
		m, err := mh.ParseBindingAck(d)
		if err != nil {
			b.WriteString(" malformed")
			return
		}
		fmt.Fprintf(b, " status=%d seq=%d lifetime=%ds", m.Status, m.Sequence, int(m.Lifetime)*4)
		if m.KeyManagementMobilityCapability {
			b.WriteString(" K")
		}
		if m.Options.Has(mh.HasBindingRefreshAdvice) {
			fmt.Fprintf(b, " refresh=%ds", int(m.Options.RefreshInterval)*4)
		}
	}
}
