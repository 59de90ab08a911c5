package node

import (
	"net/netip"

	"mip6/vnet"
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
// traffic to h.
func AttachVnetHomeAgent(n *vnet.Node, h *HomeAgent) {
	n.SetHandler(func(_ *vnet.Interface, pkt []byte) bool { return h.FromHomeLink(pkt) })
}

// VnetMobileHost delivers tunnelled packets to a lab node's own stack.
type VnetMobileHost struct{ Node *vnet.Node }

func (h VnetMobileHost) Deliver(pkt []byte) error {
	h.Node.Inject(append([]byte(nil), pkt...))
	return nil
}

// AttachVnetMobileNode makes the lab node reverse-tunnel what it sends from
// its home address while away.
func AttachVnetMobileNode(n *vnet.Node, m *MobileNode) {
	n.SetOutputHook(m.FromHost)
}
