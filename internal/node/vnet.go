package node

import (
	"errors"
	"net/netip"
	"time"

	"mip6/dataplane"
	"mip6/internal/labplane"
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

// VnetRaw sends whole IPv6 packets from a lab node as they are (no output
// hook: the transport form never enters the tunnel).
type VnetRaw struct{ Node *vnet.Node }

func (r VnetRaw) SendRaw(pkt []byte) error { return r.Node.SendDirect(pkt) }

// VnetPlane is a role's data plane on a lab node (mip6/internal/labplane):
// the same packet path as on a host, the node's stack in place of the TUN,
// with both carriers: ESP in UDP on port 4500 and raw ESP.
type VnetPlane struct {
	*dataplane.Plane
	TUN *labplane.TUN
	ESP *labplane.ESPBind
}

// newVnetPlane starts a plane for a role on n with UDP port 4500 conn (an
// IKE endpoint may send from it too: the plane reads it and hands IKE
// messages to c.IKE).
func newVnetPlane(n *vnet.Node, conn *vnet.UDPConn, t *tunnel, c dataplane.Config) (*VnetPlane, error) {
	if t.spd == nil {
		return nil, errors.New("node: a data plane needs the role made with an SPD")
	}
	vp := &VnetPlane{TUN: labplane.NewTUN(n), ESP: labplane.NewESPBind(n)}
	c.TUN, c.Bind, c.RawESP, c.SPD, c.SAD, c.Workers = vp.TUN, labplane.UDPBind{Conn: conn}, vp.ESP, t.spd, t.sad, 2
	p, err := dataplane.New(c)
	if err != nil {
		return nil, err
	}
	vp.Plane = p
	t.plane.Store(p)
	return vp, nil
}

// StartVnetHomeAgent runs h (made with an SPD) on a data plane on lab node
// n, as a daemon runs it on a TUN: what the home link delivers for a
// registered home address (proxy ND) or the Home-Agents anycast address
// goes into the plane; payload leaving the tunnel is routed from n; raw
// ESP to the home agent goes to the plane, which hands transport-mode
// Binding Updates to HandleTransportESP; those behind a Home Address
// option go to HandleRaw.
func StartVnetHomeAgent(n *vnet.Node, h *HomeAgent, conn *vnet.UDPConn, ike func([]byte, netip.AddrPort)) (*VnetPlane, error) {
	addr := h.core.Address()
	vp, err := newVnetPlane(n, conn, &h.t, dataplane.Config{IKE: ike, Local: h.PlaneLocal,
		Unprotected: func(pkt []byte) { h.FromHomeLink(pkt) },
		Transport:   func(esp []byte, from netip.Addr) { h.HandleTransportESP(esp, from, addr, time.Now()) }})
	if err != nil {
		return nil, err
	}
	n.SetHandler(func(_ *vnet.Interface, pkt []byte) bool {
		dst := netip.AddrFrom16([16]byte(pkt[24:40]))
		switch {
		case dst == addr && pkt[6] == ipv6.ProtoDstOpts:
			h.HandleRaw(pkt, time.Now())
		case dst == addr && pkt[6] == ipv6.ProtoESP:
			vp.ESP.Put(pkt)
		case n.IsLocal(dst):
			return false
		default:
			vp.TUN.Put(pkt)
		}
		return true
	})
	return vp, nil
}

// StartVnetMobileNode runs m (made with an SPD) on a data plane on lab
// node n: what n sends from its home address while away goes into the
// plane; payload leaving the tunnel reaches n's stack; raw ESP to a
// care-of address goes to the plane; transport-form Binding
// Acknowledgements (a Type 2 Routing header, or raw ESP to the home
// address at home) go to HandleRaw. Run m.Timers beside it.
func StartVnetMobileNode(n *vnet.Node, m *MobileNode, conn *vnet.UDPConn, ike func([]byte, netip.AddrPort)) (*VnetPlane, error) {
	vp, err := newVnetPlane(n, conn, &m.t, dataplane.Config{IKE: ike, Local: m.PlaneLocal,
		Unprotected: func(pkt []byte) { m.FromHost(pkt) }})
	if err != nil {
		return nil, err
	}
	n.SetOutputHook(func(pkt []byte) bool {
		if m.reverse(pkt) == nil {
			return false
		}
		vp.TUN.Put(pkt)
		return true
	})
	n.SetHandler(func(_ *vnet.Interface, pkt []byte) bool {
		if len(pkt) < ipv6.HeaderLen+3 {
			return false
		}
		dst := netip.AddrFrom16([16]byte(pkt[24:40]))
		switch {
		case pkt[6] == ipv6.ProtoRouting && pkt[ipv6.HeaderLen+2] == ipv6.RoutingType2,
			pkt[6] == ipv6.ProtoESP && dst == m.hoa:
			m.HandleRaw(pkt, time.Now())
		case pkt[6] == ipv6.ProtoESP && n.IsLocal(dst):
			vp.ESP.Put(pkt)
		default:
			return false
		}
		return true
	})
	return vp, nil
}
