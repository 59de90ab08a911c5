package node

import (
	"net/netip"
	"time"

	"mip6/vnet"
	"mip6/wire/ipv6"
)

// VnetHomeLink is the home link of a home agent that runs on the lab
// network: proxy ND is a claim on the vnet link.
type VnetHomeLink struct {
	Node *vnet.Node
	Ifc  *vnet.Interface
}

func (l VnetHomeLink) Forward(pkt []byte) error { return l.Node.Send(pkt) }
func (l VnetHomeLink) Claim(hoa netip.Addr)     { l.Ifc.Link().Claim(hoa, l.Ifc) }
func (l VnetHomeLink) Release(hoa netip.Addr)   { l.Ifc.Link().Release(hoa, l.Ifc) }

// AttachVnetHomeAgent makes the lab node hand intercepted home-address
// traffic to h, and transport-form Binding Updates (raw ESP to the home
// agent, behind a Destination Options header or not) to HandleRaw.
func AttachVnetHomeAgent(n *vnet.Node, h *HomeAgent) {
	n.SetHandler(func(_ *vnet.Interface, pkt []byte) bool {
		if len(pkt) >= ipv6.HeaderLen && netip.AddrFrom16([16]byte(pkt[24:40])) == h.core.Address() &&
			(pkt[6] == ipv6.ProtoDstOpts || pkt[6] == ipv6.ProtoESP) {
			h.HandleRaw(pkt, time.Now())
			return true
		}
		return h.FromHomeLink(pkt)
	})
}

// VnetRaw sends whole IPv6 packets from a lab node as they are (no output
// hook: the transport form never enters the tunnel).
type VnetRaw struct{ Node *vnet.Node }

func (r VnetRaw) SendRaw(pkt []byte) error { return r.Node.SendDirect(pkt) }

// VnetMobileHost delivers tunnelled packets to a lab node's own stack.
type VnetMobileHost struct{ Node *vnet.Node }

func (h VnetMobileHost) Deliver(pkt []byte) error {
	h.Node.Inject(append([]byte(nil), pkt...))
	return nil
}

// AttachVnetMobileNode makes the lab node reverse-tunnel what it sends from
// its home address while away, and hand transport-form Binding
// Acknowledgements (a Type 2 Routing header, or raw ESP to the home
// address at home) to HandleRaw.
func AttachVnetMobileNode(n *vnet.Node, m *MobileNode) {
	n.SetOutputHook(m.FromHost)
	n.SetHandler(func(_ *vnet.Interface, pkt []byte) bool {
		if len(pkt) < ipv6.HeaderLen+3 {
			return false
		}
		rh2 := pkt[6] == ipv6.ProtoRouting && pkt[ipv6.HeaderLen+2] == ipv6.RoutingType2
		home := pkt[6] == ipv6.ProtoESP && netip.AddrFrom16([16]byte(pkt[24:40])) == m.hoa
		if !rh2 && !home {
			return false
		}
		m.HandleRaw(pkt, time.Now())
		return true
	})
}
