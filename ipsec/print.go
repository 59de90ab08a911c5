package ipsec

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// Names gives the symbols the printer uses in place of raw values, as RFC
// 4877 writes home_address_1 or spi_a. Values without a name print as
// themselves (addresses in RFC 5952 form, SPIs in hex).
type Names struct {
	Addr     map[netip.Addr]string
	SPI      map[uint32]string // spi_a
	SA       map[uint32]string // SA1, by SPI
	AnyProto string            // how "any protocol" prints; "any" by default
}

func (n *Names) addr(a netip.Addr) string {
	if s, ok := n.Addr[a]; ok {
		return s
	}
	return a.String()
}

func (n *Names) rng(r AddrRange) string {
	if r.IsAny() {
		return "any"
	}
	if a, ok := r.Single(); ok {
		return n.addr(a)
	}
	for bits := 0; bits <= 128; bits++ {
		if p := netip.PrefixFrom(r.From, bits); Prefix(p) == r {
			return p.String()
		}
	}
	return n.addr(r.From) + "-" + n.addr(r.To)
}

func (n *Names) spi(v uint32) string {
	if s, ok := n.SPI[v]; ok {
		return s
	}
	return fmt.Sprintf("0x%08x", v)
}

// sa is the label of an SA: its name, or def.
func (n *Names) sa(v uint32, def string) string {
	if s, ok := n.SA[v]; ok {
		return s
	}
	return def
}

var mhTypeNames = map[uint8]string{
	MHBindingRefreshRequest: "BRR", MHHomeTestInit: "HoTi", MHCareOfTestInit: "CoTi", MHHomeTest: "HoT",
	MHCareOfTest: "CoT", MHBindingUpdate: "BU", MHBindingAck: "BAck", MHBindingError: "BE",
}

var icmpTypeNames = map[uint8]string{
	ICMPv6HAADRequest: "DHAAD_Request", ICMPv6HAADReply: "DHAAD_Reply",
	ICMPv6MobilePrefixSolicitation: "MPS", ICMPv6MobilePrefixAdvertisement: "MPA",
}

func protoName(p uint8) string {
	switch p {
	case ProtoMH:
		return "MH"
	case ProtoICMPv6:
		return "ICMPv6"
	case ProtoTCP:
		return "TCP"
	case ProtoUDP:
		return "UDP"
	}
	return fmt.Sprint(p)
}

// typeValue prints a type selector: a name for one whole type, else numbers.
func typeValue(proto uint8, r PortRange) string {
	names := mhTypeNames
	if proto == ProtoICMPv6 {
		names = icmpTypeNames
	}
	if t, ok := r.typeOnly(); ok {
		if s, ok := names[t]; ok {
			return s
		}
		return fmt.Sprint(t)
	}
	if r.From == r.To {
		return fmt.Sprintf("%d/%d", r.From>>8, r.From&0xff)
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// conditions renders selectors as RFC 4877's "a = b" terms. side is the
// prefix of the type selectors ("local_", "remote_") or "" for an SA's.
func (n *Names) conditions(s *Selectors, sa bool) []string {
	c := []string{"local_address = " + n.rng(s.Local), "remote_address = " + n.rng(s.Remote)}
	if s.Proto == ProtoAny {
		return append(c, "proto = "+n.anyProto())
	}
	c = append(c, "proto = "+protoName(s.Proto))
	key := "port"
	switch s.Proto {
	case ProtoMH:
		key = "mh_type"
	case ProtoICMPv6:
		key = "icmp6_type"
	}
	if sa && typed(s.Proto) {
		return append(c, key+" = "+typeValue(s.Proto, s.LocalPort))
	}
	for _, x := range []struct {
		side string
		r    PortRange
	}{{"local_", s.LocalPort}, {"remote_", s.RemotePort}} {
		switch {
		case x.r.IsAny():
		case typed(s.Proto):
			c = append(c, x.side+key+" = "+typeValue(s.Proto, x.r))
		case x.r.From == x.r.To:
			c = append(c, fmt.Sprintf("%s%s = %d", x.side, key, x.r.From))
		default:
			c = append(c, fmt.Sprintf("%s%s = %d-%d", x.side, key, x.r.From, x.r.To))
		}
	}
	return c
}

func (n *Names) anyProto() string {
	if n.AnyProto != "" {
		return n.AnyProto
	}
	return "any"
}

// entryConditions renders an SPD entry's IF part; payload entries bound to
// a tunnel interface use RFC 4877 §7.2.4's interface/source/destination.
func (n *Names) entryConditions(e *Entry) []string {
	if !e.TunnelTo.IsValid() {
		return n.conditions(&e.Selectors, false)
	}
	c := []string{"interface = IPv6 tunnel to " + n.addr(e.TunnelTo),
		"source = " + n.rng(e.Local), "destination = " + n.rng(e.Remote)}
	if e.Proto == ProtoAny {
		return append(c, "proto = "+n.anyProto())
	}
	return append(c, "proto = "+protoName(e.Proto))
}

func (n *Names) then(e *Entry) []string {
	switch e.Action {
	case Bypass:
		return []string{"Then bypass"}
	case Discard:
		return []string{"Then discard"}
	}
	if len(e.SAs) > 0 {
		refs := make([]string, len(e.SAs))
		for i, r := range e.SAs {
			refs[i] = fmt.Sprintf("%s (%s)", n.sa(r.SPI, n.spi(r.SPI)), r.Dir)
		}
		return []string{"Then use SA " + strings.Join(refs, " and ")}
	}
	out := []string{"Then use SA ESP " + strings.ToLower(e.Mode.String()) + " mode"}
	if e.Initiate != nil {
		out = append(out, fmt.Sprintf("Initiate using IDi = %s to address %s", e.Initiate.IDi, n.addr(e.Initiate.Peer)))
	}
	return out
}

// WriteSPD prints SPD entries in the notation of RFC 4877 §6 and §7 under
// a heading such as "home agent SPD-S".
func WriteSPD(w io.Writer, heading string, entries []*Entry, n Names) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n", heading)
	for _, e := range entries {
		writeTerms(&b, "  - IF ", "       ", n.entryConditions(e))
		for _, l := range n.then(e) {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteSAD prints SAD entries as RFC 4877 §6 does:
// SA1(OUT, spi_a, home_agent_1, ESP, TRANSPORT): selectors.
func WriteSAD(w io.Writer, heading string, entries []*SAEntry, n Names) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n", heading)
	for _, e := range entries {
		fmt.Fprintf(&b, "  - %s(%s, %s, %s, ESP, %s):\n", n.sa(e.SPI(), "SA"), e.Dir(), n.spi(e.SPI()), n.addr(e.Dst), e.Mode)
		writeTerms(&b, "    ", "    ", n.conditions(&e.Selectors, true))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WritePAD prints PAD entries as RFC 4877 §7.1 does.
func WritePAD(w io.Writer, heading string, entries []PADEntry, n Names) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n", heading)
	for _, e := range entries {
		fmt.Fprintf(&b, "  - IF remote_identity = %s\n", e.Identity)
		fmt.Fprintf(&b, "       Then authenticate (%s)\n", e.Auth)
		addrs := make([]string, len(e.ChildSAAddrs))
		for i, a := range e.ChildSAAddrs {
			addrs[i] = n.rng(a)
		}
		noun := "remote address"
		if len(addrs) != 1 {
			noun = "remote addresses"
		}
		fmt.Fprintf(&b, "       and authorize CHILD_SAs for %s %s\n", noun, strings.Join(addrs, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTerms prints terms joined by " &", one per line.
func writeTerms(b *strings.Builder, first, cont string, terms []string) {
	for i, t := range terms {
		prefix := cont
		if i == 0 {
			prefix = first
		}
		sep := " &"
		if i == len(terms)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "%s%s%s\n", prefix, t, sep)
	}
}

// WritePolicy prints everything one side holds about one mobile node: the
// SPD entries named by its identity (on a mobile node, pass its own
// identity: entries without a Name count as its own), the SAs negotiated
// with it and its PAD entry: what `mip6 ha show policy <identity>` shows.
func WritePolicy(w io.Writer, r Role, identity string, spd *SPD, sad *SAD, pad *PAD, n Names) error {
	var entries []*Entry
	for _, e := range spd.Entries() {
		if e.Name == identity || (r == RoleMobileNode && e.Name == "") {
			entries = append(entries, e)
		}
	}
	var protect, other []*Entry
	for _, e := range entries {
		if e.Action == Protect {
			protect = append(protect, e)
		} else {
			other = append(other, e)
		}
	}
	head := r.String()
	if err := WriteSPD(w, head+" SPD-S", protect, n); err != nil {
		return err
	}
	if len(other) > 0 {
		if err := WriteSPD(w, head+" SPD-I/O", other, n); err != nil {
			return err
		}
	}
	if err := WriteSAD(w, head+" SAD", sad.ByIdentity(identity), n); err != nil {
		return err
	}
	var pads []PADEntry
	if r == RoleHomeAgent {
		if e, ok := pad.Lookup(identity); ok {
			pads = append(pads, e)
		}
	} else {
		pads = pad.Entries()
	}
	return WritePAD(w, head+" PAD", pads, n)
}
