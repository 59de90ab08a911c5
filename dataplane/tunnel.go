package dataplane

import (
	"errors"
	"fmt"
	"net/netip"

	"mip6/esp"
	"mip6/ipsec"
)

// TunnelSA is a negotiated pair of ESP tunnel-mode SAs (one CHILD_SA) as a
// keying source hands it over: IKEv2, a static configuration, or keys read
// from a peer's log in tests. Keys are KEYMAT as RFC 7296 §2.17 derives it
// (for AEADs the key followed by the 4-byte salt).
type TunnelSA struct {
	Name          string // the SPD "Name" selector: the peer's identity
	Transform     esp.Transform
	ESN           bool
	SPIOut, SPIIn uint32
	KeyOut, KeyIn []byte
	Local, Remote netip.AddrPort // outer endpoints: UDP 4500, or port 0 for raw ESP
	Carrier       esp.Carrier    // 0: esp.CarrierUDP
	LocalTS       netip.Prefix   // inner traffic selectors
	RemoteTS      netip.Prefix
	Proto         uint8 // 0: any protocol
	HomeAddress   netip.Addr
	Priority      int // 0: ipsec.PriorityPayload
}

// Tunnel is an installed TunnelSA: an SPD entry and its two SAD entries.
type Tunnel struct {
	Out, In  *ipsec.SAEntry
	PolicyID uint64
	spd      *ipsec.SPD
	sad      *ipsec.SAD
}

// InstallTunnel creates the SAs of t and installs them with a PROTECT
// policy for LocalTS -> RemoteTS in the SPD and SAD the plane uses.
func (p *Plane) InstallTunnel(t TunnelSA) (*Tunnel, error) {
	return InstallTunnel(p.spd, p.sad, t)
}

// InstallTunnel is the keying entry point on an SPD/SAD pair.
func InstallTunnel(spd *ipsec.SPD, sad *ipsec.SAD, t TunnelSA) (*Tunnel, error) {
	if !t.LocalTS.IsValid() || !t.RemoteTS.IsValid() || !t.Remote.IsValid() {
		return nil, errors.New("dataplane: tunnel needs LocalTS, RemoteTS and Remote")
	}
	carrier := t.Carrier
	if carrier == 0 {
		carrier = esp.CarrierUDP
	}
	ep := esp.Endpoints{Local: t.Local, Remote: t.Remote, Carrier: carrier}
	out, err := esp.New(esp.Config{SPI: t.SPIOut, Direction: esp.Outbound, Transform: t.Transform, Key: t.KeyOut, ESN: t.ESN, Endpoints: ep})
	if err != nil {
		return nil, fmt.Errorf("dataplane: outbound SA: %w", err)
	}
	in, err := esp.New(esp.Config{SPI: t.SPIIn, Direction: esp.Inbound, Transform: t.Transform, Key: t.KeyIn, ESN: t.ESN, Endpoints: ep})
	if err != nil {
		return nil, fmt.Errorf("dataplane: inbound SA: %w", err)
	}
	prio := t.Priority
	if prio == 0 {
		prio = ipsec.PriorityPayload
	}
	sel := ipsec.Selectors{Local: ipsec.Prefix(t.LocalTS), Remote: ipsec.Prefix(t.RemoteTS), Proto: t.Proto}
	ids := spd.Add(ipsec.Entry{Name: t.Name, Priority: prio, Class: ipsec.ClassPayload, Selectors: sel,
		Action: ipsec.Protect, Mode: ipsec.Tunnel, TunnelTo: t.Remote.Addr()})
	tn := &Tunnel{PolicyID: ids[0], spd: spd, sad: sad,
		Out: &ipsec.SAEntry{SA: out, Mode: ipsec.Tunnel, Dst: t.Remote.Addr(), Class: ipsec.ClassPayload,
			Selectors: sel, Identity: t.Name, HomeAddress: t.HomeAddress, PolicyID: ids[0]},
		In: &ipsec.SAEntry{SA: in, Mode: ipsec.Tunnel, Dst: t.Local.Addr(), Class: ipsec.ClassPayload,
			Selectors: ipsec.Selectors{Local: sel.Remote, Remote: sel.Local, Proto: t.Proto},
			Identity:  t.Name, HomeAddress: t.HomeAddress}}
	if err := sad.Add(tn.In); err != nil {
		spd.Remove(ids[0])
		return nil, err
	}
	if err := sad.Add(tn.Out); err != nil {
		sad.Remove(tn.In)
		spd.Remove(ids[0])
		return nil, err
	}
	return tn, nil
}

// Remove deletes the tunnel's policy and SAs.
func (t *Tunnel) Remove() {
	t.spd.Remove(t.PolicyID)
	t.sad.Remove(t.Out)
	t.sad.Remove(t.In)
}

// MoveRemote points both SAs at new outer endpoints (the mobility layer's
// call after a protected Binding Update, RFC 4877 §4.3); the next packet
// the plane seals goes there. The carrier stays.
func (t *Tunnel) MoveRemote(local, remote netip.AddrPort) {
	ep := esp.Endpoints{Local: local, Remote: remote, Carrier: t.Out.SA.Endpoints().Carrier}
	t.Out.SA.MoveEndpoints(ep)
	t.In.SA.MoveEndpoints(ep)
}

// Send seals one inner packet with out and sends it to the SA's remote
// endpoint on the plane's bind for the SA's carrier (signalling such as a Binding Update; the
// bulk of the traffic comes through the TUN). It is safe alongside the
// plane's own writer.
func (p *Plane) Send(out *ipsec.SAEntry, inner []byte) error {
	return p.SendTo(out, inner, out.SA.Endpoints().Remote)
}

// SendTo is Send to an explicit outer destination.
func (p *Plane) SendTo(out *ipsec.SAEntry, inner []byte, to netip.AddrPort) error {
	ep := out.SA.Endpoints()
	c := carrierIndex(ep.Carrier)
	bind := p.binds[c]
	if bind == nil {
		p.c.drop(DropUnsupported)
		return fmt.Errorf("dataplane: no bind for the %v carrier of SA %08x", ep.Carrier, out.SA.SPI())
	}
	hl := out.SA.HeaderLen()
	buf := make([]byte, hl+len(inner)+out.SA.MaxOverhead()) // signalling only: rare
	copy(buf[hl:], inner)
	pkt, err := out.SA.Seal(buf[:0], buf[hl:hl+len(inner)], protoIPv6)
	if err != nil {
		return fmt.Errorf("dataplane: seal: %w", err)
	}
	_, err = bind.WriteBatch([]Datagram{{Buf: pkt, Addr: to, Src: ep.Local.Addr()}})
	if err == nil {
		p.c.written[c].Add(1)
	}
	return err
}
