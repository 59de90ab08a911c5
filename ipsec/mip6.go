package ipsec

import (
	"net/netip"

	"mip6/esp"
)

// SA is an ESP security association.
type SA = esp.SA

// MobileNode names the parties of RFC 4877's examples: a mobile node of
// identity user_1 with home address home_address_1 and primary care-of
// address care_of_address_1, served by home agent home_agent_1 whose IKE
// identity is home_agent_identity_1.
type MobileNode struct {
	Identity          string
	HomeAddress       netip.Addr
	CareOf            netip.Addr
	HomeAgent         netip.Addr
	HomeAgentIdentity string
}

// Role is the side whose databases are built.
type Role uint8

const (
	RoleMobileNode Role = iota + 1
	RoleHomeAgent
)

func (r Role) String() string {
	if r == RoleHomeAgent {
		return "home agent"
	}
	return "mobile node"
}

// ManualSPIs are the SPIs of the six manually keyed SAs of RFC 4877 §6:
// SA1 (spi_a, BU), SA2 (spi_b, BAck), SA3 (spi_c, HoTi), SA4 (spi_d, HoT),
// SA5 (spi_e, MPS), SA6 (spi_f, MPA). Each is named by the message it
// carries, sent by the MN for BU, HoTi, MPS and by the HA for the others.
type ManualSPIs struct {
	BU, BAck, HoTi, HoT, MPS, MPA uint32
}

// PolicyOptions choose among the forms RFC 4877 allows.
type PolicyOptions struct {
	// SignallingMode protects BU/BAck and MPS/MPA: Transport as in §6.1
	// and §7.2.1, or Tunnel, the §3 form (inner HoA packet in ESP tunnel
	// mode) this project uses by default.
	SignallingMode Mode
	// Manual, when set, makes the entries point at manually keyed SAs
	// (§6); otherwise they say how IKE creates them (§7).
	Manual *ManualSPIs
}

// pair is one message exchange: what the MN sends and what the HA answers.
type pair struct {
	class            Class
	proto            uint8
	mnSends, haSends uint8
	mode             Mode
	mnSPI, haSPI     uint32
	remoteAny        bool // HoTi/HoT go to and come from any correspondent
}

func (mn MobileNode) pairs(o PolicyOptions) []pair {
	m := o.Manual
	if m == nil {
		m = &ManualSPIs{}
	}
	mode := o.SignallingMode
	if mode == 0 {
		mode = Transport
	}
	return []pair{
		{ClassBinding, ProtoMH, MHBindingUpdate, MHBindingAck, mode, m.BU, m.BAck, false},
		{ClassReturnRouting, ProtoMH, MHHomeTestInit, MHHomeTest, Tunnel, m.HoTi, m.HoT, true},
		{ClassPrefixDiscovery, ProtoICMPv6, ICMPv6MobilePrefixSolicitation, ICMPv6MobilePrefixAdvertisement, mode, m.MPS, m.MPA, false},
	}
}

// Entries returns the SPD-S entries RFC 4877 §6.1-§6.3 (manual) or
// §7.2.1-§7.2.3 (dynamic) give for one side, signalling only. Add
// PayloadEntry for §7.2.4. On the home agent the entries carry the Name
// selector (the MN's identity) so that RemoveName withdraws them.
func (mn MobileNode) Entries(r Role, o PolicyOptions) []Entry {
	var out []Entry
	for _, p := range mn.pairs(o) {
		out = append(out, mn.entry(r, o, p))
	}
	return out
}

func (mn MobileNode) entry(r Role, o PolicyOptions, p pair) Entry {
	e := Entry{Priority: PrioritySignalling, Class: p.class, Action: Protect, Mode: p.mode}
	e.Proto = p.proto
	peer := Addr(mn.HomeAgent)
	if p.remoteAny {
		peer = AnyAddr
	}
	sends, receives := p.mnSends, p.haSends
	outSPI, inSPI := p.mnSPI, p.haSPI
	if r == RoleMobileNode {
		e.Local, e.Remote = Addr(mn.HomeAddress), peer
		e.Initiate = &Initiate{IDi: mn.Identity, Peer: mn.HomeAgent}
	} else {
		e.Local, e.Remote = peer, Addr(mn.HomeAddress)
		sends, receives = receives, sends
		outSPI, inSPI = inSPI, outSPI
		e.Name = mn.Identity
	}
	e.LocalPort, e.RemotePort = MHType(sends), MHType(receives)
	if o.Manual != nil {
		e.Initiate = nil
		e.SAs = []SARef{{SPI: outSPI, Dir: Outbound}, {SPI: inSPI, Dir: Inbound}}
	}
	return e
}

// PayloadEntry is the §7.2.4 entry protecting payload traffic tunnelled
// between the MN and the HA, any protocol, below the signalling entries.
func (mn MobileNode) PayloadEntry(r Role) Entry {
	e := Entry{Priority: PriorityPayload, Class: ClassPayload, Action: Protect, Mode: Tunnel}
	if r == RoleMobileNode {
		e.TunnelTo = mn.HomeAgent
		e.Local, e.Remote = Addr(mn.HomeAddress), AnyAddr
		e.Initiate = &Initiate{IDi: mn.Identity, Peer: mn.HomeAgent}
	} else {
		e.TunnelTo = mn.HomeAddress
		e.Local, e.Remote = AnyAddr, Addr(mn.HomeAddress)
		e.Name = mn.Identity
	}
	return e
}

// SASpec describes one manually keyed SA of RFC 4877 §6 without its keys.
type SASpec struct {
	SPI       uint32
	Dir       Direction
	Mode      Mode
	Dst       netip.Addr
	Class     Class
	Selectors // from the sender's view
}

// Entry makes the SAD entry for a created SA, whose SPI and direction
// must be the spec's.
func (s SASpec) Entry(sa *SA, identity string, hoa netip.Addr) *SAEntry {
	return &SAEntry{SA: sa, Mode: s.Mode, Dst: s.Dst, Class: s.Class, Selectors: s.Selectors, Identity: identity, HomeAddress: hoa}
}

// ManualSAs returns the SAD entries of §6.1-§6.3 for one side: per message
// exchange the outbound SA, then the inbound one. Tunnel-mode SAs carry the
// outer destination: the home agent, or on the HA the care-of address.
func (mn MobileNode) ManualSAs(r Role, o PolicyOptions) []SASpec {
	if o.Manual == nil {
		return nil
	}
	var out []SASpec
	for _, p := range mn.pairs(o) {
		fromMN := mn.saSpec(p, true)
		fromHA := mn.saSpec(p, false)
		fromMN.Dir, fromHA.Dir = Outbound, Inbound
		if r == RoleHomeAgent {
			fromMN.Dir, fromHA.Dir = Inbound, Outbound
			out = append(out, fromHA, fromMN)
		} else {
			out = append(out, fromMN, fromHA)
		}
	}
	return out
}

// saSpec builds the SA carrying one direction of an exchange.
func (mn MobileNode) saSpec(p pair, fromMN bool) SASpec {
	s := SASpec{Mode: p.mode, Class: p.class}
	s.Proto = p.proto
	peer := Addr(mn.HomeAgent)
	if p.remoteAny {
		peer = AnyAddr
	}
	if fromMN {
		s.SPI, s.Dst = p.mnSPI, mn.HomeAgent
		s.Local, s.Remote = Addr(mn.HomeAddress), peer
		s.LocalPort = MHType(p.mnSends)
	} else {
		s.SPI, s.Dst = p.haSPI, mn.HomeAddress
		if p.mode == Tunnel {
			s.Dst = mn.CareOf
		}
		s.Local, s.Remote = peer, Addr(mn.HomeAddress)
		s.LocalPort = MHType(p.haSends)
	}
	return s
}

// PADEntry returns the §7.1 PAD entry one side keeps about the other: the
// MN's entry for its home agent, or the HA's entry for the MN (for a
// dynamically assigned home address, leave HomeAddress unset here and use
// PAD.AddTemporary once it is assigned).
func (mn MobileNode) PADEntry(r Role, auth AuthMethods) PADEntry {
	if r == RoleMobileNode {
		return PADEntry{Identity: mn.HomeAgentIdentity, Auth: auth, ChildSAAddrs: []AddrRange{Addr(mn.HomeAgent)}}
	}
	e := PADEntry{Identity: mn.Identity, Auth: auth}
	if mn.HomeAddress.IsValid() {
		e.ChildSAAddrs = []AddrRange{Addr(mn.HomeAddress)}
	}
	return e
}

// GenericHomeAgentEntries are the per-HA entries of RFC 4877 §7.2.1 that
// exist before any MN authenticates: IKE passes in the clear, and Binding
// Updates, Acknowledgements and Mobile Prefix messages, and HoTi/HoT for
// addresses of the home prefix, are discarded unless a per-MN entry (of
// higher priority) protects them. The data plane's default for packets no
// entry matches is its own choice.
func GenericHomeAgentEntries(ha netip.Addr, homePrefix netip.Prefix) []Entry {
	mk := func(class Class, a Action, prio int, proto uint8, local, remote AddrRange, lp, rp PortRange) Entry {
		e := Entry{Priority: prio, Class: class, Action: a}
		e.Proto, e.Local, e.Remote, e.LocalPort, e.RemotePort = proto, local, remote, lp, rp
		return e
	}
	me := Addr(ha)
	out := []Entry{
		mk(ClassKeyExchange, Bypass, 0, ProtoUDP, me, AnyAddr, Port(500), AnyPort),
		mk(ClassKeyExchange, Bypass, 0, ProtoUDP, me, AnyAddr, Port(4500), AnyPort),
		mk(ClassBinding, Discard, PriorityGeneric, ProtoMH, me, AnyAddr, MHType(MHBindingAck), MHType(MHBindingUpdate)),
		mk(ClassPrefixDiscovery, Discard, PriorityGeneric, ProtoICMPv6, me, AnyAddr,
			ICMPv6Type(ICMPv6MobilePrefixAdvertisement), ICMPv6Type(ICMPv6MobilePrefixSolicitation)),
	}
	if homePrefix.IsValid() {
		out = append(out, mk(ClassReturnRouting, Discard, PriorityGeneric, ProtoMH, AnyAddr, Prefix(homePrefix),
			MHType(MHHomeTest), MHType(MHHomeTestInit)))
	}
	return out
}
