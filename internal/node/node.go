// Package node runs the mobility roles' packet paths: it joins the protocol
// cores (ha, mn) to the IPsec databases (ipsec), the ESP SAs (esp) and a
// data plane (mip6/dataplane), which owns UDP port 4500, the raw ESP
// socket if any, and the TUN — on a host (the daemons, internal/hostnet)
// or on the in-process lab, whose node stands in for the TUN
// (StartVnetHomeAgent, StartVnetMobileNode; internal/labplane). One path,
// the same in both places.
//
// HomeAgent and MobileNode keep one PROTECT entry per CHILD_SA in the
// plane's SPD, whose outbound SA is in the SAD only while the tunnel is
// active; the plane hands them what left the tunnel (PlaneLocal: their own
// signalling, and the ingress checks) and what no policy covers
// (FromHomeLink, FromHost), and seals their signalling (AttachPlane,
// Plane.SendTo) in the RFC 4877 §3 tunnelled form:
//
//	outer CoA->HA | UDP 4500 | ESP | inner HoA->HA | MH BU + Alt-CoA
//
// or, with a transport-mode signalling CHILD_SA (InstallSignalling) and a
// RawSender, in the RFC 3776 §3.1 transport form (raw ESP, no UDP):
//
//	BU: CoA->HA | Destination Options (Home Address = HoA) | ESP | MH BU + Alt-CoA
//	BA: HA->CoA | Type 2 Routing header (HoA, Segments Left 1) | ESP | MH BA
//
// Port 4500 carries both IKE (after the Non-ESP Marker) and ESP (RFC
// 3948): the plane hands IKE messages on (PlaneIKEHandler). Each CHILD_SA
// travels on the carrier IKE chose for it (ChildFromIKE): ESP in UDP, or
// raw ESP (IP protocol 50) on a plane that has a raw ESP bind; a home
// agent's plane may carry both, and hands it the transport-form packets a
// raw ESP socket read (HandleTransportESP).
package node

import (
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"mip6/ipsec"
)

// PacketConn is a UDP socket that carries IKE (ServeIKE, ConnTransport):
// *net.UDPConn on a host, *vnet.UDPConn in the lab.
type PacketConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	SetReadDeadline(t time.Time) error
	LocalAddr() net.Addr
	Close() error
}

// Child is one CHILD_SA pair installed for a peer: inbound and outbound
// SAD entries, both created for the same identity and home address.
type Child struct {
	In, Out *ipsec.SAEntry
	// IKESA names the IKE SA that created the pair (zero: manual keying).
	IKESA uint64
	// active is false while the home address is at home: the tunnel SPD
	// entries are inactive but the SAs are kept (RFC 4877 §4.2).
	active atomic.Bool
	// policy is the PROTECT entry of the payload when a data plane carries it.
	policy uint64
}

// Counter names used in status output and metrics.
const (
	cESPOut         = "esp_packets_out"
	cDropUnknownSPI = "drop_unknown_spi"
	cDropESP        = "drop_esp_open"
	cDropNotTunnel  = "drop_not_tunnel_mode"
	cDropInner      = "drop_inner_malformed"
	cDropSelectors  = "drop_outside_selectors"
	cDropNoTunnel   = "drop_no_tunnel"
	cDropMH         = "drop_mh_malformed"
	cDropSend       = "drop_send_failed"
	cBUIn           = "binding_updates_in"
	cBAOut          = "binding_acks_out"
	cBEOut          = "binding_errors_out"
	cBAIn           = "binding_acks_in"
	cBUOut          = "binding_updates_out"
	cHandovers      = "handovers"
	cRegistrations  = "registrations"
	cTunnelOut      = "tunnel_packets_out"
	// RFC 3776 transport form: raw ESP with a Home Address option or a
	// Type 2 Routing header.
	cTransportIn        = "esp_transport_in"
	cTransportOut       = "esp_transport_out"
	cDropRawMalformed   = "drop_raw_malformed"      // unparsable, not ESP, or not addressed to us
	cDropNotTransport   = "drop_not_transport_mode" // raw form through a tunnel-mode SA
	cDropTransportNotMH = "drop_transport_not_mh"   // transport SA carrying anything but MH or ICMPv6
	cDropHAOMismatch    = "drop_hao_mismatch"       // home address is not the SA's (RFC 4877 §4.2)
	cDropRH2Mismatch    = "drop_rh2_mismatch"       // Type 2 Routing header not naming our home address
	cDropWrongPeer      = "drop_transport_wrong_peer"
)

// counters is a fixed set of named atomic counters.
type counters struct {
	m map[string]*atomic.Uint64
}

func newCounters(names ...string) counters {
	c := counters{m: make(map[string]*atomic.Uint64, len(names))}
	for _, n := range names {
		c.m[n] = new(atomic.Uint64)
	}
	return c
}

func (c counters) inc(name string) { c.m[name].Add(1) }

func (c counters) snapshot() map[string]uint64 {
	out := make(map[string]uint64, len(c.m))
	for n, v := range c.m {
		out[n] = v.Load()
	}
	return out
}

var allCounters = []string{cESPOut, cDropUnknownSPI, cDropESP, cDropNotTunnel, cDropInner,
	cDropSelectors, cDropNoTunnel, cDropMH, cDropSend, cBUIn, cBAOut, cBEOut, cBAIn, cBUOut,
	cHandovers, cRegistrations, cTunnelOut, cTransportIn, cTransportOut, cDropRawMalformed, cDropNotTransport,
	cDropTransportNotMH, cDropHAOMismatch, cDropRH2Mismatch, cDropWrongPeer,
	cDropTransportSelectors, cMPSIn, cMPSOut, cMPAIn, cMPAOut}
