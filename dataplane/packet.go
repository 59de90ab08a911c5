package dataplane

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"mip6/esp"
	"mip6/ipsec"
	"mip6/wire/ipv6"
)

var netErrClosed = net.ErrClosed

// selectorOf is the SPD's view of an IPv6 packet. The common cases (TCP,
// UDP, ICMPv6, MH right after the fixed header) are read directly; packets
// with extension headers take the full parser, which also applies the Home
// Address option and Type 2 Routing header rules of RFC 4877 §4.2.
func selectorOf(dir ipsec.Direction, pkt []byte) (ipsec.Packet, bool) {
	if len(pkt) < ipv6.HeaderLen || pkt[0]>>4 != 6 {
		return ipsec.Packet{}, false
	}
	src := netip.AddrFrom16([16]byte(pkt[8:24]))
	dst := netip.AddrFrom16([16]byte(pkt[24:40]))
	nh, up := pkt[6], pkt[ipv6.HeaderLen:]
	var sp, dp uint16
	switch {
	case nh == ipsec.ProtoTCP || nh == ipsec.ProtoUDP:
		if len(up) < 4 {
			return ipsec.Packet{}, false
		}
		sp, dp = binary.BigEndian.Uint16(up), binary.BigEndian.Uint16(up[2:])
	case nh == ipsec.ProtoICMPv6:
		if len(up) < 2 {
			return ipsec.Packet{}, false
		}
		sp = uint16(up[0])<<8 | uint16(up[1])
	case nh == ipsec.ProtoMH:
		if len(up) < 3 {
			return ipsec.Packet{}, false
		}
		sp = uint16(up[2]) << 8
	case ipv6.IsExtension(nh):
		var ip ipv6.Packet
		if err := ipv6.ParsePacket(pkt, &ip); err != nil {
			return ipsec.Packet{}, false
		}
		sel, _ := ipsec.FromIPv6(dir, &ip) // non-first fragments: ports unknown, policy decides
		return sel, true
	}
	if dir == ipsec.Outbound {
		return ipsec.OutboundPacket(src, dst, nh, sp, dp), true
	}
	return ipsec.InboundPacket(src, dst, nh, sp, dp), true
}

// sealCache remembers, within one batch, the SA the last packet's
// selectors led to: the segments of one offloaded TCP super-packet share
// them, so the policy lookups of a batch mostly collapse into one.
type sealCache struct {
	sel ipsec.Packet
	sae *ipsec.SAEntry
}

// seal protects packet i of an outbound batch in place (RFC 4877 §3
// tunnel form: the whole inner packet, next header 41). It reports whether
// the packet is to be sent.
func (p *Plane) seal(b *batch, i int, cache *sealCache) bool {
	b.pkts[i] = nil
	buf := b.bufs[i]
	pkt := buf[txHead : txHead+b.sizes[i]]
	sel, ok := selectorOf(ipsec.Outbound, pkt)
	if !ok {
		p.c.drop(DropMalformed)
		return false
	}
	sae := cache.sae
	if sae == nil || sel != cache.sel {
		if sae = p.outboundSA(&sel, pkt); sae == nil {
			return false
		}
		cache.sel, cache.sae = sel, sae
	}
	ep := sae.SA.Endpoints()
	at := txHead - sae.SA.HeaderLen()
	out, err := sae.SA.Seal(buf[at:at], pkt, protoIPv6)
	if err != nil {
		p.c.drop(DropSealError)
		return false
	}
	b.pkts[i] = out
	b.dgs[i].Addr, b.dgs[i].Src = ep.Remote, ep.Local.Addr()
	b.via[i] = carrierIndex(ep.Carrier)
	return true
}

// outboundSA applies the SPD to an outbound packet and returns the SA to
// protect it with, or nil after counting why it is dropped.
func (p *Plane) outboundSA(sel *ipsec.Packet, pkt []byte) *ipsec.SAEntry {
	e := p.spd.Lookup(ipsec.Outbound, sel)
	switch {
	case e == nil:
		p.c.drop(DropNoPolicy)
		if p.unprot != nil {
			p.unprot(pkt)
		}
		return nil
	case e.Action == ipsec.Discard:
		p.c.drop(DropDiscard)
		return nil
	case e.Action == ipsec.Bypass:
		p.c.drop(DropBypassOnTUN)
		return nil
	}
	sae := p.sad.Outbound(e.ID)
	if sae == nil {
		p.c.drop(DropNoSA)
		p.acquireSA(e)
		return nil
	}
	if sae.Mode != ipsec.Tunnel || p.binds[carrierIndex(sae.SA.Endpoints().Carrier)] == nil {
		p.c.drop(DropUnsupported)
		return nil
	}
	return sae
}

// open authenticates and decrypts datagram i of an inbound batch and
// leaves the inner packet at tunOffset of its buffer. It reports whether
// the packet is to be written to the TUN.
func (p *Plane) open(b *batch, i int) bool {
	b.pkts[i] = nil
	d := b.dgs[i].Buf
	udp := b.from == carrierIndex(esp.CarrierUDP)
	switch {
	case udp && len(d) == 1 && d[0] == 0xff: // NAT keepalive (RFC 3948 §2.3)
		p.c.keepalive.Add(1)
		return false
	case udp && len(d) >= 4 && binary.BigEndian.Uint32(d) == 0: // non-ESP marker: IKE
		p.c.ike.Add(1)
		if p.ike != nil {
			p.ike(d[4:], b.dgs[i].Addr)
		}
		return false
	case len(d) < 8:
		p.c.drop(DropMalformed)
		return false
	}
	sae := p.sad.Inbound(binary.BigEndian.Uint32(d))
	if sae == nil {
		p.c.drop(DropUnknownSPI)
		return false
	}
	if sae.Mode == ipsec.Transport {
		// A transport-mode SA (the RFC 3776 BU/BA) is the mobility layer's:
		// opening it here would spend its replay window on a copy. On the
		// raw carrier it is handed over whole; it never travels in UDP.
		if udp || p.transp == nil {
			p.c.drop(DropNotTunnel)
			return false
		}
		p.c.transport.Add(1)
		p.transp(d, b.dgs[i].Addr.Addr())
		return false
	}
	inner, nh, err := sae.SA.Open(d)
	if err != nil {
		p.c.drop(openDrop(err))
		return false
	}
	return p.admit(b, i, sae, inner, nh)
}

// admit checks a decrypted packet against its SA (RFC 4301 §5.2 step 4)
// and places it for the TUN write.
func (p *Plane) admit(b *batch, i int, sae *ipsec.SAEntry, inner []byte, nh uint8) bool {
	switch {
	case nh == protoNoNxt:
		p.c.drop(DropDummy)
		return false
	case nh != protoIPv6:
		p.c.drop(DropNotTunnel)
		return false
	}
	if len(inner) < ipv6.HeaderLen {
		p.c.drop(DropMalformed)
		return false
	}
	total := ipv6.HeaderLen + int(binary.BigEndian.Uint16(inner[4:6]))
	if total > len(inner) {
		p.c.drop(DropMalformed)
		return false
	}
	inner = inner[:total]
	sel, ok := selectorOf(ipsec.Inbound, inner)
	if !ok || !sae.Allows(&sel) {
		p.c.drop(DropSelector)
		return false
	}
	if p.local != nil && p.local(sae, inner, b.dgs[i].Addr) {
		p.c.local.Add(1)
		return false
	}
	buf := b.bufs[i]
	if off := cap(buf) - cap(inner); off != tunOffset {
		copy(buf[tunOffset:], inner)
	}
	b.pkts[i] = buf[:tunOffset+total]
	return true
}

func openDrop(err error) Drop {
	e, ok := err.(*esp.Error)
	if !ok {
		return DropMalformed
	}
	switch e.Reason {
	case esp.DropReplay:
		return DropReplay
	case esp.DropTooOld:
		return DropTooOld
	case esp.DropBadICV:
		return DropBadICV
	case esp.DropBadPadding:
		return DropBadPadding
	}
	return DropMalformed
}

// acquireSA tells the keying layer, at most once a second per entry, that
// traffic waits for an SA.
func (p *Plane) acquireSA(e *ipsec.Entry) {
	if p.acquire == nil {
		return
	}
	v, ok := p.acquired.Load(e.ID)
	if !ok {
		v, _ = p.acquired.LoadOrStore(e.ID, new(atomic.Int64))
	}
	last, now := v.(*atomic.Int64), time.Now().UnixNano()
	if prev := last.Load(); (prev == 0 || now-prev >= int64(time.Second)) && last.CompareAndSwap(prev, now) {
		p.acquire(e)
	}
}
