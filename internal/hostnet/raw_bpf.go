package hostnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

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
// nftables rules drop (rawRules). A load past the packet's end rejects it.
//
//	home agent:  destination HA, Next Header 60 (or 50 with PlainESP)
//	mobile node: Next Header 43 with Routing Type 2, any destination;
//	             with PlainESP also Next Header 50 to the home address
func rawMatch(cfg RawConfig) ([]bpf.Instruction, error) {
	var a rawAsm
	a.op(bpf.LoadAbsolute{Off: offNextHeader, Size: 1})
	notFirst := "reject"
	if cfg.PlainESP {
		notFirst = "esp"
	}
	if cfg.Role == RawMobileNode {
		a.jeq(uint32(ipv6.ProtoRouting), "", notFirst)
		a.op(bpf.LoadAbsolute{Off: offRoutingType, Size: 1})
		a.jeq(uint32(ipv6.RoutingType2), "accept", "reject")
		if cfg.PlainESP {
			a.label("esp")
			a.jeq(uint32(ipv6.ProtoESP), "", "reject")
			a.dstIs(cfg.HomeAddress)
		}
	} else {
		a.jeq(uint32(ipv6.ProtoDstOpts), "dst", notFirst)
		if cfg.PlainESP {
			a.label("esp")
			a.jeq(uint32(ipv6.ProtoESP), "", "reject")
		}
		a.label("dst")
		a.dstIs(cfg.HomeAgent)
	}
	a.label("accept")
	a.op(bpf.RetConstant{Val: rawAcceptLen})
	a.label("reject")
	a.op(bpf.RetConstant{Val: 0})
	return a.assemble()
}

// rawAsm writes a classic BPF program whose conditional jumps name labels
// ("" for the next instruction) instead of counting instructions.
type rawAsm struct {
	ins    []bpf.Instruction
	jumps  map[int][2]string // instruction index -> true, false label
	labels map[string]int
}

func (a *rawAsm) op(i bpf.Instruction) { a.ins = append(a.ins, i) }

func (a *rawAsm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.ins)
}

// jeq compares register A with v.
func (a *rawAsm) jeq(v uint32, ifTrue, ifFalse string) {
	if a.jumps == nil {
		a.jumps = map[int][2]string{}
	}
	a.jumps[len(a.ins)] = [2]string{ifTrue, ifFalse}
	a.op(bpf.JumpIf{Cond: bpf.JumpEqual, Val: v})
}

// dstIs goes on if the destination address is addr, to "reject" if not.
func (a *rawAsm) dstIs(addr netip.Addr) {
	b := addr.As16()
	for i := 0; i < 16; i += 4 {
		a.op(bpf.LoadAbsolute{Off: uint32(offDst + i), Size: 4})
		a.jeq(binary.BigEndian.Uint32(b[i:]), "", "reject")
	}
}

// assemble resolves the labels; jumps only go forward, by at most 255.
func (a *rawAsm) assemble() ([]bpf.Instruction, error) {
	skip := func(from int, label string) (uint8, error) {
		if label == "" {
			return 0, nil
		}
		to, ok := a.labels[label]
		if !ok || to <= from || to-from-1 > 255 {
			return 0, fmt.Errorf("hostnet: BPF label %q unusable from instruction %d", label, from)
		}
		return uint8(to - from - 1), nil
	}
	for i, j := range a.jumps {
		t, terr := skip(i, j[0])
		f, ferr := skip(i, j[1])
		if err := errors.Join(terr, ferr); err != nil {
			return nil, err
		}
		ji := a.ins[i].(bpf.JumpIf)
		ji.SkipTrue, ji.SkipFalse = t, f
		a.ins[i] = ji
	}
	return a.ins, nil
}

// rawFilter is rawMatch behind a check that the packet is addressed to this
// host at the link layer (PACKET_HOST), as the IPv6 stack itself requires:
// nothing another host's, no copies of our own sends (PACKET_OUTGOING;
// a socket bound to one protocol gets none anyway, only ETH_P_ALL taps do).
func rawFilter(cfg RawConfig) ([]unix.SockFilter, error) {
	match, err := rawMatch(cfg)
	if err != nil {
		return nil, err
	}
	prog := append([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_HOST, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
	}, match...)
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

// rawRules are the nftables rules (inside a prerouting chain at priority
// raw) that keep the kernel from processing, and answering with an ICMPv6
// Parameter Problem, the packets rawMatch takes.
func rawRules(cfg RawConfig) string {
	iif := ""
	if cfg.Interface != "" {
		iif = fmt.Sprintf("iifname %q ", cfg.Interface)
	}
	var rules []string
	if cfg.Role == RawMobileNode {
		rules = append(rules, iif+"ip6 nexthdr 43 rt type 2 drop")
		if cfg.PlainESP {
			rules = append(rules, fmt.Sprintf("%sip6 daddr %s ip6 nexthdr 50 drop", iif, cfg.HomeAddress))
		}
	} else {
		next := "60"
		if cfg.PlainESP {
			next = "{ 50, 60 }"
		}
		rules = append(rules, fmt.Sprintf("%sip6 daddr %s ip6 nexthdr %s drop", iif, cfg.HomeAgent, next))
	}
	return strings.Join(rules, "\n\t\t")
}
