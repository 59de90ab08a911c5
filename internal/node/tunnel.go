package node

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"

	"mip6/dataplane"
	"mip6/esp"
	"mip6/ipsec"
	wesp "mip6/wire/esp"
	"mip6/wire/ipv6"
)

// maxPacket bounds one datagram; buffers come from a pool.
const maxPacket = 65535

// headroom lets an inner packet be sealed in place: the ESP header and IV
// go in front of it.
const headroom = 64

var bufPool = sync.Pool{New: func() any { b := make([]byte, maxPacket+headroom); return &b }}

// tunnel is the ESP-in-UDP path shared by both roles.
type tunnel struct {
	conn     PacketConn
	sad      *ipsec.SAD
	ike      IKEHandler
	counters counters
	// With a data plane, the plane carries the payload: spd holds one
	// PROTECT entry per Child, whose outbound SA sits in the SAD only while
	// the tunnel is active; signalling is sealed and sent by the plane.
	spd   *ipsec.SPD
	plane atomic.Pointer[dataplane.Plane]
	pmu   sync.Mutex // serialises policy changes
}

// addChild puts a Child's SAs in the SAD. With a plane, it also adds the
// Child's PROTECT entry (sel: the home address's side) and leaves the
// outbound SA out until the tunnel is active.
func (t *tunnel) addChild(c *Child, sel ipsec.Selectors, to netip.Addr) error {
	if t.spd == nil {
		// Without a data plane the node has only its UDP socket.
		udpCarrier(c.In)
		udpCarrier(c.Out)
	}
	if err := t.sad.Add(c.In); err != nil {
		return err
	}
	if t.spd == nil {
		if err := t.sad.Add(c.Out); err != nil {
			t.sad.Remove(c.In)
			return err
		}
		return nil
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
	if t.spd != nil {
		t.spd.Remove(c.policy)
	}
	t.sad.Remove(c.In)
	t.sad.Remove(c.Out)
}

// setActive turns the Child's tunnel on or off; with a plane that puts
// its outbound SA in the SAD or takes it out.
func (t *tunnel) setActive(c *Child, on bool) {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	if c.active.Swap(on) == on || t.spd == nil {
		return
	}
	if on {
		t.sad.Add(c.Out) // outbound: replaces, never fails
	} else {
		t.sad.Remove(c.Out)
	}
}

// classify sorts one datagram received on port 4500. It returns the inbound
// SAD entry and the decrypted inner IPv6 packet (a view into p) for ESP; IKE
// messages go to the IKE handler and nil is returned.
func (t *tunnel) classify(p []byte, from netip.AddrPort) (*ipsec.SAEntry, []byte) {
	kind, body, err := wesp.Classify(p)
	switch {
	case err != nil:
		t.counters.inc(cDropESP)
		return nil, nil
	case kind == wesp.KindNATKeepalive:
		t.counters.inc(cKeepalive)
		return nil, nil
	case kind == wesp.KindIKEMessage:
		t.counters.inc(cIKEIn)
		if t.ike != nil {
			t.ike(p, from)
		}
		return nil, nil
	}
	e := t.sad.Inbound(binary.BigEndian.Uint32(body))
	if e == nil {
		t.counters.inc(cDropUnknownSPI)
		return nil, nil
	}
	if e.Mode == ipsec.Transport {
		// A signalling SA's keys never carry tunnelled packets; checked
		// before Open so its replay window stays untouched.
		t.counters.inc(cDropNotTunnel)
		return nil, nil
	}
	inner, nh, err := e.SA.Open(body)
	if err != nil {
		t.counters.inc(cDropESP) // the SA counts the precise reason
		return nil, nil
	}
	if nh == wesp.NextHeaderNone {
		return nil, nil // dummy packet (RFC 4303 §2.6)
	}
	if nh != ipv6.ProtoIPv6 {
		t.counters.inc(cDropNotTunnel)
		return nil, nil
	}
	t.counters.inc(cESPIn)
	return e, inner
}

// send seals inner through the outbound SA of c and sends it to the SA's
// remote endpoint.
func (t *tunnel) send(out *ipsec.SAEntry, inner []byte) error {
	return t.sendTo(out, inner, out.SA.Endpoints().Remote)
}

// sendTo is send with an explicit outer destination.
func (t *tunnel) sendTo(out *ipsec.SAEntry, inner []byte, to netip.AddrPort) error {
	if p := t.plane.Load(); p != nil {
		if err := p.SendTo(out, inner, to); err != nil {
			t.counters.inc(cDropSend)
			return err
		}
		t.counters.inc(cESPOut)
		return nil
	}
	if t.conn == nil {
		t.counters.inc(cDropSend)
		return errNoConn
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	hl := out.SA.HeaderLen()
	if len(inner)+hl+out.SA.MaxOverhead() > len(buf) {
		t.counters.inc(cDropSend)
		return errTooBig
	}
	copy(buf[hl:], inner)
	pkt, err := out.SA.Seal(buf[:0], buf[hl:hl+len(inner)], ipv6.ProtoIPv6)
	if err != nil {
		t.counters.inc(cDropSend)
		return err
	}
	if _, err := t.write(pkt, out.SA.Endpoints().Local.Addr(), to); err != nil {
		t.counters.inc(cDropSend)
		return err
	}
	t.counters.inc(cESPOut)
	return nil
}

// sourceWriter is a socket that can choose the source address (HostConn).
type sourceWriter interface {
	WriteFrom(b []byte, src netip.Addr, dst netip.AddrPort) (int, error)
}

// write sends from src when the socket can choose it.
func (t *tunnel) write(b []byte, src netip.Addr, to netip.AddrPort) (int, error) {
	if sw, ok := t.conn.(sourceWriter); ok {
		return sw.WriteFrom(b, src, to)
	}
	return t.conn.WriteToUDPAddrPort(b, to)
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

// udpCarrier makes a raw ESP SA's endpoints ESP in UDP on port 4500.
func udpCarrier(e *ipsec.SAEntry) {
	ep := e.SA.Endpoints()
	if ep.Carrier != esp.CarrierESP {
		return
	}
	ep.Local = netip.AddrPortFrom(ep.Local.Addr(), 4500)
	ep.Remote = netip.AddrPortFrom(ep.Remote.Addr(), 4500)
	ep.Carrier = esp.CarrierUDP
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

const (
	errTooBig = nodeError("node: packet too big for the tunnel")
	errNoConn = nodeError("node: no socket and no data plane yet")
)
