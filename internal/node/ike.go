package node

import (
	"fmt"
	"net/netip"

	"mip6/esp"
	"mip6/ike"
	"mip6/ipsec"
)

// ChildFromIKE turns a CHILD_SA that IKE negotiated into the SAD entries of
// a Child, remembering the identity and home address it was created for
// (RFC 4877 §4.2). A tunnel-mode CHILD_SA travels as IKE decided, the
// same on both ends (ChildSA.Encap, RFC 7296 §2.23): in UDP on port 4500
// (RFC 3948; a NAT's mapping is learnt from the Binding Update) when a NAT
// was detected or IKE ran on port 4500, else as raw ESP (IP protocol 50,
// port 0). A transport-mode CHILD_SA
// protects Binding Updates and Acknowledgements in the RFC 3776 transport
// form, always raw ESP.
func ChildFromIKE(c *ike.ChildSA, ikeSA uint64, identity string, hoa netip.Addr) (*Child, error) {
	t := esp.Transform{Encryption: esp.EncryptionID(c.Suite.Encr.ID), KeyBits: c.Suite.Encr.KeyLen,
		Integrity: esp.IntegrityID(c.Suite.Integ)}
	local := netip.AddrPortFrom(c.Local.Addr(), ike.PortNATT)
	remote := netip.AddrPortFrom(c.Remote.Addr(), ike.PortNATT)
	carrier := esp.CarrierUDP
	if c.Transport || !c.Encap {
		local, remote, carrier = netip.AddrPortFrom(local.Addr(), 0), netip.AddrPortFrom(remote.Addr(), 0), esp.CarrierESP
	}
	mk := func(spi uint32, dir esp.Direction, encr, integ []byte) (*ipsec.SAEntry, error) {
		key := append(append([]byte(nil), encr...), integ...)
		sa, err := esp.New(esp.Config{SPI: spi, Direction: dir, Transform: t, Key: key, ESN: c.Suite.ESN,
			Endpoints: esp.Endpoints{Local: local, Remote: remote, Carrier: carrier}})
		if err != nil {
			return nil, fmt.Errorf("CHILD_SA %s SPI %08x: %w", c.Name, spi, err)
		}
		mode := ipsec.Tunnel
		if c.Transport {
			mode = ipsec.Transport
		}
		sel := selectorsOf(c.LocalTS, c.RemoteTS)
		if dir == esp.Inbound { // from the sender's view
			sel.Local, sel.Remote = sel.Remote, sel.Local
			sel.LocalPort, sel.RemotePort = sel.RemotePort, sel.LocalPort
		}
		return &ipsec.SAEntry{SA: sa, Mode: mode, Dst: remote.Addr(), Identity: identity, HomeAddress: hoa,
			PolicyID: uint64(spi), Selectors: sel}, nil
	}
	in, err := mk(c.InboundSPI, esp.Inbound, c.InEncr, c.InInteg)
	if err != nil {
		return nil, err
	}
	out, err := mk(c.OutboundSPI, esp.Outbound, c.OutEncr, c.OutInteg)
	if err != nil {
		return nil, err
	}
	return &Child{In: in, Out: out, IKESA: ikeSA}, nil
}

// selectorsOf turns the negotiated traffic selectors into the SA's
// (outbound view): the address ranges when each side is one IPv6 range,
// so that a data plane's ingress check (SAEntry.Allows) holds a packet
// leaving the tunnel to what IKE agreed. Several ranges stay "any"; the
// node's own checks (TunnelSourceAllowed) still apply. One protocol on
// both sides is kept with its port ranges (for MH and ICMPv6 the message
// types): it tells the BU/BA transport SA (MH) from the MPS/MPA one
// (ICMPv6), and what each may carry.
func selectorsOf(local, remote []ike.Selector) ipsec.Selectors {
	sel := ipsec.Selectors{LocalPort: ipsec.AnyPort, RemotePort: ipsec.AnyPort}
	if len(local) == 1 && len(remote) == 1 && local[0].Proto != ike.ProtoAny && local[0].Proto == remote[0].Proto {
		sel.Proto = local[0].Proto
		sel.LocalPort = ipsec.PortRange{From: local[0].StartPort, To: local[0].EndPort}
		sel.RemotePort = ipsec.PortRange{From: remote[0].StartPort, To: remote[0].EndPort}
	}
	if len(local) == 1 && local[0].Start.Is6() && local[0].End.Is6() {
		sel.Local = ipsec.AddrRange{From: local[0].Start, To: local[0].End}
	}
	if len(remote) == 1 && remote[0].Start.Is6() && remote[0].End.Is6() {
		sel.Remote = ipsec.AddrRange{From: remote[0].Start, To: remote[0].End}
	}
	return sel
}
