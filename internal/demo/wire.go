package demo

import (
	"encoding/binary"
	"fmt"
	"time"

	"mip6/ipsec"
	"mip6/vnet"
	"mip6/wire/ipv6"
)

// tapSignalling puts every transport-form Binding Update and
// Acknowledgement (and Mobile Prefix Solicitation and Advertisement) that
// crosses the home link on the timeline, as the wire shows it: raw ESP (no
// UDP) behind a Home Address option or a Type 2 Routing header; which
// message, the receiver's SA says. Every one crosses the home link, wherever the mobile
// node is; the tunnelled form and the payload are ESP in UDP and not shown.
func (l *lab) tapSignalling() {
	l.d.Home.Tap(func(ts time.Time, pkt []byte) {
		var p ipv6.Packet
		if ipv6.ParsePacket(pkt, &p) != nil || p.Proto != ipv6.ProtoESP || len(p.Payload) < 8 {
			return
		}
		spi, seq := binary.BigEndian.Uint32(p.Payload), binary.BigEndian.Uint32(p.Payload[4:])
		step, _ := l.step.Load().(string)
		e := Event{At: ts, Actor: "wire", Step: step}
		switch {
		case p.Header.Dst == vnet.HAAddr:
			e.What = "BU on the wire"
			if l.prefixDiscoverySA(spi) {
				e.What = "MPS on the wire"
			}
			via := "from the home address itself, no Home Address option (at home, RFC 6275 §11.5.4)"
			if p.HomeAddress.IsValid() {
				via = fmt.Sprintf("Home Address option %s", p.HomeAddress)
			}
			e.Detail = fmt.Sprintf("RFC 3776 transport form: %s -> %s, %s, ESP transport SPI %08x seq %d, no UDP",
				p.Header.Src, p.Header.Dst, via, spi, seq)
		case p.Header.Src == vnet.HAAddr:
			e.What = "BA on the wire"
			if l.prefixDiscoverySA(spi) {
				e.What = "MPA on the wire"
			}
			via := "to the home address itself, no routing header (at home)"
			if p.RoutingHomeAddress.IsValid() {
				via = fmt.Sprintf("type 2 routing header %s, segments left %d", p.RoutingHomeAddress, p.SegmentsLeft)
			}
			e.Detail = fmt.Sprintf("RFC 3776 transport form: %s -> %s, %s, ESP transport SPI %08x seq %d, no UDP",
				p.Header.Src, p.Header.Dst, via, spi, seq)
		default:
			return
		}
		l.tl.Add(e)
	})
}

// prefixDiscoverySA reports whether spi names an SA of the MPS/MPA pair,
// as the receiving side installed it: its selectors name ICMPv6.
func (l *lab) prefixDiscoverySA(spi uint32) bool {
	sads := []*ipsec.SAD{l.mnSAD.Load()}
	if l.ha != nil {
		sads = append(sads, l.ha.SAD())
	}
	for _, sad := range sads {
		if sad == nil {
			continue
		}
		if e := sad.Inbound(spi); e != nil {
			return e.Selectors.Proto == ipsec.ProtoICMPv6
		}
	}
	return false
}
