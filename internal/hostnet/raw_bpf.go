package hostnet

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"mip6/wire/ipv6"
)

// Offsets into the IPv6 header and a routing header right behind it (a
// cooked AF_PACKET socket's filter sees the packet from the IPv6 header on).
const (
	offNextHeader  = 6
	offDst         = 24
	offRoutingType = ipv6.HeaderLen + 2
)

// rawAcceptLen is what an accepting filter returns: the number of bytes to
// keep, more than any IPv6 packet without a jumbo payload.
const rawAcceptLen = 0x40000

// rawMatch is the classic BPF program deciding whether a packet (from its
// IPv6 header on) is one the role takes: exactly the packets the role's
// nftables rule drops (rawRule). A load past the packet's end rejects it.
//
//	home agent:  Next Header 60 (Destination Options), destination HA
//	mobile node: Next Header 43 (Routing) with Routing Type 2
func rawMatch(cfg RawConfig) []bpf.Instruction {
	reject := bpf.RetConstant{Val: 0}
	accept := bpf.RetConstant{Val: rawAcceptLen}
	if cfg.Role == RawMobileNode {
		return []bpf.Instruction{
			bpf.LoadAbsolute{Off: offNextHeader, Size: 1},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(ipv6.ProtoRouting), SkipFalse: 2},
			bpf.LoadAbsolute{Off: offRoutingType, Size: 1},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(ipv6.RoutingType2), SkipTrue: 1},
			reject,
			accept,
		}
	}
	p := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offNextHeader, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(ipv6.ProtoDstOpts), SkipFalse: 9},
	}
	ha := cfg.HomeAgent.As16()
	for i := 0; i < 16; i += 4 {
		// A failing comparison skips the loads and compares of the
		// remaining words and the accept: it lands on the reject.
		p = append(p,
			bpf.LoadAbsolute{Off: uint32(offDst + i), Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: binary.BigEndian.Uint32(ha[i:]), SkipFalse: uint8(7 - i/2)},
		)
	}
	return append(p, accept, reject)
}

// rawFilter is rawMatch behind a check that the packet is addressed to this
// host at the link layer (PACKET_HOST), as the IPv6 stack itself requires:
// nothing another host's, no copies of our own sends (PACKET_OUTGOING;
// a socket bound to one protocol gets none anyway, only ETH_P_ALL taps do).
func rawFilter(cfg RawConfig) ([]unix.SockFilter, error) {
	prog := append([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_HOST, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
	}, rawMatch(cfg)...)
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("hostnet: assemble the %s filter: %w", cfg.Role, err)
	}
	f := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		f[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return f, nil
}

// rawRule is the nftables rule (inside a prerouting chain at priority raw)
// that keeps the kernel from processing, and answering with an ICMPv6
// Parameter Problem, the packets rawMatch takes.
func rawRule(cfg RawConfig) string {
	iif := ""
	if cfg.Interface != "" {
		iif = fmt.Sprintf("iifname %q ", cfg.Interface)
	}
	if cfg.Role == RawMobileNode {
		return iif + "ip6 nexthdr 43 rt type 2 drop"
	}
	return fmt.Sprintf("%sip6 daddr %s ip6 nexthdr 60 drop", iif, cfg.HomeAgent.String())
}
