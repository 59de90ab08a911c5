package demo

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"mip6/discovery"
	"mip6/ike"
	"mip6/internal/node"
	"mip6/ipsec"
	"mip6/store"
	"mip6/vnet"
)

// Options configure one demo run.
type Options struct {
	Out     io.Writer // the timeline and summary
	PcapDir string    // one pcap per lab link, when set
	KeyLog  io.Writer // IKE and ESP keys in Wireshark's table formats, when set
	Pings   int       // echo requests per phase (default 3)
	// WireForm is how the mobile node sends Binding Updates: Transport
	// (the default in the lab, where the path always allows it) or Tunnel.
	// The home agent accepts both.
	WireForm WireForm
}

// WireForm names a BU/BA wire form.
type WireForm string

const (
	// Transport is the RFC 3776 transport form: raw ESP in transport mode
	// behind a Home Address option (BU) or a Type 2 Routing header (BA).
	Transport WireForm = "transport"
	// Tunnel is the RFC 4877 §3 tunnelled form: BU/BA inside the ESP
	// tunnel (UDP 4500), the inner source the home address.
	Tunnel WireForm = "tunnel"
)

// WireFormError says a wire form is neither Transport nor Tunnel.
type WireFormError struct{ Value string }

func (e *WireFormError) Error() string {
	return fmt.Sprintf("wire form %q: want %q (RFC 3776) or %q (RFC 4877 §3)", e.Value, Transport, Tunnel)
}

// ParseWireForm checks a wire form's name; "" is the default, Transport.
func ParseWireForm(s string) (WireForm, error) {
	switch w := WireForm(s); w {
	case "":
		return Transport, nil
	case Transport, Tunnel:
		return w, nil
	}
	return "", &WireFormError{Value: s}
}

// describe says in a few words how the form carries BU/BA.
func (w WireForm) describe() string {
	if w == Tunnel {
		return "RFC 4877 §3 tunnelled form: BU/BA inside the ESP tunnel in UDP 4500, inner source the home address"
	}
	return "RFC 3776 transport form: BU with a Home Address option, BA with a type 2 routing header, raw ESP in transport mode"
}

// Identities and addresses of the demo.
const (
	mnIdentity = "alice@example.net"
	haName     = "ha.example.net"
	// eapPassword is the subscriber's credential at the AAA server.
	eapPassword = "alice's EAP password"
)

var (
	mnCoAA  = vnet.AddrOn(vnet.APrefix, 0x100)
	mnCoAB  = vnet.AddrOn(vnet.BPrefix, 0x100)
	dnsAddr = vnet.AddrOn(vnet.CNPrefix, 0x53)
)

// Report is what a run achieved.
type Report struct {
	HomeAddress   netip.Addr
	WireForm      WireForm // of the mobile node's BU/BA
	PingsSent     int
	PingsAnswered int
	Handovers     int
	// ForgedBindingRefused: another subscriber's BU for this home address,
	// through her own valid SA, left the binding alone (RFC 4877 §4.2).
	ForgedBindingRefused bool
	HomeAgentStatus      map[string]uint64
	MobileNodeStatus     map[string]uint64
}

// lab is the running demo.
type lab struct {
	opt  Options
	tl   *Timeline
	d    *vnet.Demo
	st   *store.Store
	pad  *ipsec.PAD
	ha   *node.HomeAgent
	haEP *ike.Endpoint

	mnNode *vnet.Node
	mnIfc  *vnet.Interface
	mn     *node.MobileNode
	mnSAD  atomic.Pointer[ipsec.SAD] // the MN's, for the wire tap

	pki     *pki
	form    WireForm                   // the mobile node's BU/BA form, once bootstrapped
	coa     atomic.Pointer[netip.Addr] // the MN's current care-of address
	step    atomic.Value               // string: the scenario step under way
	closers []func()
}

// Run runs the whole scenario: discovery, bootstrap, registration, pings,
// two moves, and prints the timeline and a summary.
func Run(ctx context.Context, opt Options) (*Report, error) {
	if opt.Out == nil {
		opt.Out = io.Discard
	}
	if opt.Pings <= 0 {
		opt.Pings = 3
	}
	form, err := ParseWireForm(string(opt.WireForm))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	opt.WireForm = form
	l := &lab{opt: opt, d: vnet.NewDemo()}
	if l.pki, err = newPKI(haName); err != nil {
		return nil, err
	}
	l.tl = NewTimeline(time.Now(), nil)
	defer l.close()
	if opt.PcapDir != "" {
		if err := os.MkdirAll(opt.PcapDir, 0o755); err != nil {
			return nil, fmt.Errorf("demo: pcap directory: %w", err)
		}
		if err := l.d.Net.CapturePcap(opt.PcapDir); err != nil {
			return nil, fmt.Errorf("demo: pcap: %w", err)
		}
	}
	fmt.Fprintf(opt.Out, "mip6 demo: home link %s (HA %s), access networks %s and %s, correspondent %s\n",
		vnet.HomePrefix, vnet.HAAddr, vnet.APrefix, vnet.BPrefix, vnet.CNAddr)
	fmt.Fprintf(opt.Out, "wire form of BU/BA: %s (%s); payload: ESP tunnel in UDP 4500\n\n", opt.WireForm, opt.WireForm.describe())
	l.tapSignalling()
	if err := l.startDNS(); err != nil {
		return nil, err
	}
	if err := l.startHomeAgent(); err != nil {
		return nil, err
	}
	rep, err := l.scenario(ctx)
	if opt.PcapDir != "" {
		if ferr := l.d.Net.FlushCaptures(); ferr != nil && err == nil {
			err = ferr
		}
	}
	l.tl.WriteEvents(opt.Out)
	if rep != nil {
		fmt.Fprintf(opt.Out, "\n%d of %d echo requests to the home address %s answered; %d handover(s) at the home agent\n",
			rep.PingsAnswered, rep.PingsSent, rep.HomeAddress, rep.Handovers)
	}
	l.tl.WriteSummary(opt.Out)
	if l.form != "" {
		fmt.Fprintf(opt.Out, "  wire form of BU/BA: %s (%s)\n", l.form, l.form.describe())
	}
	return rep, err
}

func (l *lab) close() {
	for i := len(l.closers) - 1; i >= 0; i-- {
		l.closers[i]()
	}
	l.d.Net.Close()
}

// startDNS serves the home domain's SRV and AAAA records from a node on the
// correspondent's link.
func (l *lab) startDNS() error {
	n := l.d.Net.NewNode("dns")
	n.Attach(l.d.CNLink, dnsAddr)
	conn, err := n.ListenUDP(netip.AddrPortFrom(dnsAddr, 53))
	if err != nil {
		return err
	}
	zone, err := discovery.ParseZone("example.net.", fmt.Sprintf(`
@ 3600 IN SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 60
_mip6._ipv6 3600 IN SRV 10 60 0 ha.example.net.
ha 3600 IN AAAA %s
`, vnet.HAAddr))
	if err != nil {
		return fmt.Errorf("demo: zone: %w", err)
	}
	s := discovery.ServeUDP(conn, netip.AddrPortFrom(dnsAddr, 53), zone)
	l.closers = append(l.closers, func() { s.Close() })
	return nil
}
