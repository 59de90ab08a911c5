package vnet

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"time"

	"mip6/wire/ipv6"
)

// icmpError sends an ICMPv6 error about pkt back to its source, if the
// network has ICMP errors on and pkt is not itself an ICMPv6 error.
func (nd *Node) icmpError(in *Interface, pkt []byte, typ, code uint8) {
	if !nd.net.ICMPErrors {
		return
	}
	h, ok := parseHeader(pkt)
	if !ok || h.src.IsUnspecified() || h.src.IsMulticast() {
		return
	}
	if h.next == protoICMPv6 && len(h.payload) > 0 && h.payload[0] < 128 {
		return // never an error about an error (RFC 4443 §2.4)
	}
	src := in.firstAddr()
	if !src.IsValid() {
		return
	}
	// Invoking packet, as much as fits in the minimum MTU.
	max := ipv6.MinMTU - ipv6.HeaderLen - 8
	quote := pkt
	if len(quote) > max {
		quote = quote[:max]
	}
	body := make([]byte, 4, 4+len(quote))
	body = append(body, quote...)
	_ = nd.SendDirect(appendICMP(nil, src, h.src, typ, code, body))
}

// deliverICMP answers echo requests and hands echo replies to pingers.
func (nd *Node) deliverICMP(h header, pkt []byte) bool {
	m := h.payload
	if len(m) < 8 || ipv6.Checksum(h.src, h.dst, ipv6.ProtoICMPv6, m) != 0 {
		return false
	}
	switch m[0] {
	case icmpEchoRequest:
		_ = nd.Send(appendICMP(nil, h.dst, h.src, icmpEchoReply, 0, m[4:]))
		return true
	case icmpEchoReply:
		id := binary.BigEndian.Uint16(m[4:])
		nd.mu.RLock()
		p := nd.pingers[id]
		nd.mu.RUnlock()
		if p != nil {
			p.reply(h.src, binary.BigEndian.Uint16(m[6:]), m[8:])
			return true
		}
	}
	return nd.deliverICMPConn(h)
}

// Pinger sends ICMPv6 echo requests with one identifier and collects replies.
type Pinger struct {
	node *Node
	id   uint16
	src  netip.Addr
	mu   sync.Mutex
	sent map[uint16]time.Time
	C    chan EchoReply // replies; a full channel drops them
}

// EchoReply is one answered echo request.
type EchoReply struct {
	From netip.Addr
	Seq  uint16
	RTT  time.Duration
}

// NewPinger registers a pinger for identifier id; src may be invalid to let
// the node choose.
func (nd *Node) NewPinger(id uint16, src netip.Addr) *Pinger {
	p := &Pinger{node: nd, id: id, src: src, sent: map[uint16]time.Time{}, C: make(chan EchoReply, 256)}
	nd.mu.Lock()
	nd.pingers[id] = p
	nd.mu.Unlock()
	return p
}

// Send sends echo request seq to dst.
func (p *Pinger) Send(dst netip.Addr, seq uint16) error {
	src := p.src
	if !src.IsValid() {
		var err error
		if src, err = p.node.SourceFor(dst); err != nil {
			return err
		}
	}
	body := binary.BigEndian.AppendUint16(nil, p.id)
	body = binary.BigEndian.AppendUint16(body, seq)
	body = append(body, "mip6-vnet"...)
	p.mu.Lock()
	p.sent[seq] = time.Now()
	p.mu.Unlock()
	return p.node.Send(appendICMP(nil, src, dst, icmpEchoRequest, 0, body))
}

func (p *Pinger) reply(from netip.Addr, seq uint16, _ []byte) {
	p.mu.Lock()
	t, ok := p.sent[seq]
	delete(p.sent, seq)
	p.mu.Unlock()
	if !ok {
		return
	}
	select {
	case p.C <- EchoReply{From: from, Seq: seq, RTT: time.Since(t)}:
	default:
	}
}
