package node

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"mip6/dataplane"
	"mip6/esp"
	"mip6/ipsec"
)

// maxPacket bounds one IKE datagram read.
const maxPacket = 65535

// tunnel is the ESP side shared by both roles. The data plane carries the
// payload: spd holds one PROTECT entry per Child, whose outbound SA sits
// in the SAD only while the tunnel is active; signalling is sealed and
// sent by the plane (Plane.SendTo).
type tunnel struct {
	sad      *ipsec.SAD
	spd      *ipsec.SPD
	counters counters
	plane    atomic.Pointer[dataplane.Plane]
	pmu      sync.Mutex // serialises policy changes
}

// addChild puts a Child's SAs in the SAD and its PROTECT entry (sel: the
// home address's side) in the SPD, leaving the outbound SA out until the
// tunnel is active.
func (t *tunnel) addChild(c *Child, sel ipsec.Selectors, to netip.Addr) error {
	if err := t.sad.Add(c.In); err != nil {
		return err
	}
	t.pmu.Lock()
	defer t.pmu.Unlock()
	c.policy = t.spd.Add(ipsec.Entry{Name: c.In.Identity, Priority: ipsec.PriorityPayload, Class: ipsec.ClassPayload,
		Selectors: sel, Action: ipsec.Protect, Mode: ipsec.Tunnel, TunnelTo: to})[0]
	c.Out.PolicyID = c.policy
	return nil
}

// removeChild deletes a Child's SAs and policy.
func (t *tunnel) removeChild(c *Child) {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	t.spd.Remove(c.policy)
	t.sad.Remove(c.In)
	t.sad.Remove(c.Out)
}

// setActive turns the Child's tunnel on or off: its outbound SA goes into
// the SAD or out of it.
func (t *tunnel) setActive(c *Child, on bool) {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	if c.active.Swap(on) == on {
		return
	}
	if on {
		t.sad.Add(c.Out) // outbound: replaces, never fails
	} else {
		t.sad.Remove(c.Out)
	}
}

// send seals inner through the outbound SA of c and sends it to the SA's
// remote endpoint.
func (t *tunnel) send(out *ipsec.SAEntry, inner []byte) error {
	return t.sendTo(out, inner, out.SA.Endpoints().Remote)
}

// sendTo is send with an explicit outer destination, through the plane.
func (t *tunnel) sendTo(out *ipsec.SAEntry, inner []byte, to netip.AddrPort) error {
	p := t.plane.Load()
	if p == nil {
		t.counters.inc(cDropSend)
		return errNoPlane
	}
	if err := p.SendTo(out, inner, to); err != nil {
		t.counters.inc(cDropSend)
		return err
	}
	t.counters.inc(cESPOut)
	return nil
}

// moveRemote points the outbound SA at a new remote endpoint; raw ESP
// has no port.
func moveRemote(e *ipsec.SAEntry, remote netip.AddrPort) {
	ep := e.SA.Endpoints()
	ep.Remote = remote
	switch ep.Carrier {
	case 0:
		ep.Carrier = esp.CarrierUDP
	case esp.CarrierESP:
		ep.Remote = netip.AddrPortFrom(remote.Addr(), 0)
	}
	e.SA.MoveEndpoints(ep)
}

// carrierName names how a Child's packets travel, for status output.
func carrierName(c *Child) string {
	if c.Out.SA.Endpoints().Carrier == esp.CarrierESP {
		return "esp"
	}
	return "udp"
}

// moveLocal sets the local outer address of an SA.
func moveLocal(e *ipsec.SAEntry, local netip.Addr) {
	ep := e.SA.Endpoints()
	ep.Local = netip.AddrPortFrom(local, ep.Local.Port())
	e.SA.MoveEndpoints(ep)
}

type nodeError string

func (e nodeError) Error() string { return string(e) }

const errNoPlane = nodeError("node: no data plane attached yet")
