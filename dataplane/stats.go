package dataplane

import (
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"mip6/esp"
)

// Drop is a reason the data plane dropped a packet.
type Drop uint8

// Drop reasons, counted separately.
const (
	DropMalformed   Drop = iota // not a well-formed IPv6 packet / ESP datagram
	DropNoPolicy                // no SPD entry matched (default DISCARD)
	DropDiscard                 // an SPD entry said DISCARD
	DropBypassOnTUN             // BYPASS traffic routed into the tunnel device
	DropNoSA                    // PROTECT entry without an SA yet (IKE must negotiate)
	DropUnsupported             // transport mode, or a carrier the plane has no bind for
	DropSealError               // sequence number exhausted, lifetime expired
	DropUnknownSPI              // inbound SPI matches no SA
	DropReplay                  // sequence number seen before
	DropTooOld                  // sequence number left of the window
	DropBadICV                  // integrity check failed (tampered or wrong key)
	DropBadPadding              // padding or pad length wrong
	DropNotTunnel               // decrypted next header is not IPv6 (41)
	DropSelector                // inner packet outside the SA's selectors
	DropDummy                   // TFC dummy packet (next header 59), by design
	DropWriteError              // the TUN or socket refused the packet
	numDrops
)

var dropNames = [numDrops]string{
	"malformed", "no_policy", "discard", "bypass_on_tun", "no_sa", "unsupported", "seal_error",
	"unknown_spi", "replay", "too_old", "bad_icv", "bad_padding", "not_tunnel", "selector",
	"dummy", "write_error",
}

func (d Drop) String() string {
	if d < numDrops {
		return dropNames[d]
	}
	return fmt.Sprintf("drop(%d)", uint8(d))
}

type counters struct {
	tunIn, tunOut, sealed, opened, ike, keepalive, readErrors, local, transport atomic.Uint64
	read, written                                                               [numCarriers]atomic.Uint64 // by carrierIndex
	drops                                                                       [numDrops]atomic.Uint64
}

func (c *counters) drop(d Drop) { c.drops[d].Add(1) }

// Stats is a snapshot of the data plane's counters.
type Stats struct {
	TUNRead, TUNWritten uint64 // packets
	UDPRead, UDPWritten uint64 // datagrams (ESP in UDP, IKE, keepalives)
	ESPRead, ESPWritten uint64 // raw ESP packets (IP protocol 50)
	Sealed, Opened      uint64
	IKE, NATKeepalives  uint64 // non-ESP datagrams handed on / dropped keepalives
	ReadErrors          uint64 // failed reads from the TUN or the socket (see Plane.Err)
	Local               uint64 // decrypted packets Config.Local consumed
	Transport           uint64 // raw ESP packets of transport-mode SAs handed to Config.Transport
	Drops               [numDrops]uint64
}

// Drop returns the count for one reason.
func (s Stats) Drop(d Drop) uint64 { return s.Drops[d] }

// String prints the counters, drop reasons that occurred sorted by name.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tun_read=%d tun_written=%d udp_read=%d udp_written=%d esp_read=%d esp_written=%d sealed=%d opened=%d ike=%d keepalives=%d read_errors=%d transport=%d",
		s.TUNRead, s.TUNWritten, s.UDPRead, s.UDPWritten, s.ESPRead, s.ESPWritten, s.Sealed, s.Opened, s.IKE, s.NATKeepalives, s.ReadErrors, s.Transport)
	var names []string
	for i, n := range s.Drops {
		if n != 0 {
			names = append(names, fmt.Sprintf(" drop_%s=%d", Drop(i), n))
		}
	}
	sort.Strings(names)
	b.WriteString(strings.Join(names, ""))
	return b.String()
}

func (c *counters) snapshot() Stats {
	udp, raw := carrierIndex(esp.CarrierUDP), carrierIndex(esp.CarrierESP)
	s := Stats{TUNRead: c.tunIn.Load(), TUNWritten: c.tunOut.Load(), UDPRead: c.read[udp].Load(),
		UDPWritten: c.written[udp].Load(), ESPRead: c.read[raw].Load(), ESPWritten: c.written[raw].Load(),
		Sealed: c.sealed.Load(), Opened: c.opened.Load(), IKE: c.ike.Load(),
		NATKeepalives: c.keepalive.Load(), ReadErrors: c.readErrors.Load(), Local: c.local.Load(), Transport: c.transport.Load()}
	for i := range s.Drops {
		s.Drops[i] = c.drops[i].Load()
	}
	return s
}

// AddTo adds the counters to a status map (control.Status.Counters), as
// "dataplane_<name>" and "dataplane_drop_<reason>".
func (s Stats) AddTo(m map[string]uint64) {
	for k, v := range map[string]uint64{"tun_read": s.TUNRead, "tun_written": s.TUNWritten, "udp_read": s.UDPRead,
		"udp_written": s.UDPWritten, "sealed": s.Sealed, "opened": s.Opened, "ike": s.IKE, "nat_keepalives": s.NATKeepalives,
		"read_errors": s.ReadErrors, "local": s.Local, "esp_read": s.ESPRead, "esp_written": s.ESPWritten, "transport": s.Transport} {
		m["dataplane_"+k] += v
	}
	for i, v := range s.Drops {
		m["dataplane_drop_"+Drop(i).String()] += v
	}
}
