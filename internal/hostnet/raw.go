package hostnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"mip6/wire/ipv6"
)

// RawRole says which of the RFC 3776 transport-mode signalling packets a
// RawMobility takes from the host.
type RawRole uint8

const (
	// RawHomeAgent takes packets to the home agent's address whose first
	// extension header is Destination Options (where a Binding Update's
	// Home Address option travels).
	RawHomeAgent RawRole = iota + 1
	// RawMobileNode takes packets, to any address (the care-of address
	// changes as the node moves), with a Type 2 Routing header (what a
	// Binding Acknowledgement carries).
	RawMobileNode
)

func (r RawRole) String() string {
	switch r {
	case RawHomeAgent:
		return "home agent"
	case RawMobileNode:
		return "mobile node"
	}
	return fmt.Sprintf("RawRole(%d)", uint8(r))
}

// RawConfig configures OpenRawMobility.
type RawConfig struct {
	Role RawRole
	// HomeAgent is the home agent's own address (RawHomeAgent only).
	HomeAgent netip.Addr
	// HomeAddress is the mobile node's home address (RawMobileNode with
	// PlainESP only).
	HomeAddress netip.Addr
	// PlainESP also takes ESP (Next Header 50) right behind the IPv6
	// header to the home agent's address, or to the home address: the
	// transport form at home (RFC 6275 §11.5.4) has neither a Home Address
	// option nor a Type 2 Routing header. Leave it off when a raw ESP
	// socket (dataplane.ESPBind) must see such packets: the drop rule runs
	// before any socket of the IP stack.
	PlainESP bool
	// Interface, if set, limits both the capture and the kernel's drop rule
	// to packets arriving on this interface: a host whose address sits on
	// a bridge sees each packet on the port and on the bridge, so it names
	// the bridge. It also scopes link-local destinations of SendRaw.
	Interface string
}

func unicast6(a netip.Addr) bool {
	return a.Is6() && !a.Is4In6() && !a.IsUnspecified() && !a.IsMulticast() && a.Zone() == ""
}

func (c RawConfig) check() error {
	switch c.Role {
	case RawHomeAgent:
		if !unicast6(c.HomeAgent) {
			return fmt.Errorf("hostnet: raw mobility: home agent address %v is not a unicast IPv6 address", c.HomeAgent)
		}
		if c.HomeAddress.IsValid() {
			return errors.New("hostnet: raw mobility: a home agent filters on its own address, not a home address")
		}
	case RawMobileNode:
		if c.HomeAgent.IsValid() {
			return errors.New("hostnet: raw mobility: a mobile node has no home agent address to filter on")
		}
		if c.PlainESP != c.HomeAddress.IsValid() || (c.PlainESP && !unicast6(c.HomeAddress)) {
			return fmt.Errorf("hostnet: raw mobility: a mobile node needs a unicast home address with PlainESP and none without (got %v)", c.HomeAddress)
		}
	default:
		return fmt.Errorf("hostnet: raw mobility: unknown role %v", c.Role)
	}
	if len(c.Interface) >= unix.IFNAMSIZ || (c.Interface != "" && !validIfName(c.Interface)) {
		return fmt.Errorf("hostnet: raw mobility: bad interface name %q", c.Interface)
	}
	return nil
}

func validIfName(s string) bool {
	for _, r := range s {
		if r <= ' ' || r > '~' || r == '"' || r == '/' || r == '\\' {
			return false
		}
	}
	return true
}

// RawMobility carries the RFC 3776 transport-mode Mobile IPv6 signalling
// the kernel cannot (no CONFIG_IPV6_MIP6: it drops packets to itself with
// a Home Address option or a Type 2 Routing header with Segments Left > 0,
// answering ICMPv6 Parameter Problem). It
//   - receives them before the IP stack on a cooked AF_PACKET socket whose
//     classic BPF filter passes only the role's packets (ReadPacket, Serve);
//   - keeps the kernel from processing them with an nftables table of its
//     own ("mip6_raw_<pid>_<n>", a prerouting chain at priority raw that
//     drops exactly those packets; AF_PACKET taps before netfilter);
//   - sends whole IPv6 packets with their extension headers as built
//     through an IPPROTO_RAW socket (SendRaw).
//
// OpenRawMobility works in the calling thread's network namespace; the
// methods may run on any goroutine, Close included.
type RawMobility struct {
	cfg     RawConfig
	ifindex int
	table   string
	nft     string
	netns   *os.File // where the table lives, for Close
	recv    *os.File // AF_PACKET, non-blocking, on Go's poller
	send    *os.File // AF_INET6 SOCK_RAW IPPROTO_RAW
	tableUp bool
	closed  atomic.Bool
	once    sync.Once
	err     error
}

// OpenRawMobility opens the sockets and installs the nftables table.
// It fails if nft is missing (Debian package nftables) or without
// CAP_NET_RAW and CAP_NET_ADMIN.
func OpenRawMobility(cfg RawConfig) (*RawMobility, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	nft, err := nftLookPath()
	if err != nil {
		return nil, err
	}
	r := &RawMobility{cfg: cfg, nft: nft, table: rawTableName()}
	if err := r.open(); err != nil {
		r.release()
		return nil, err
	}
	return r, nil
}

func (r *RawMobility) open() error {
	if r.cfg.Interface != "" {
		ifi, err := net.InterfaceByName(r.cfg.Interface)
		if err != nil {
			return fmt.Errorf("hostnet: raw mobility: %w", err)
		}
		r.ifindex = ifi.Index
	}
	var err error
	if r.netns, err = openThreadNetns(); err != nil {
		return err
	}
	if r.recv, err = openPacketSocket(r.cfg, r.ifindex); err != nil {
		return err
	}
	if r.send, err = openRawSender(); err != nil {
		return err
	}
	if err := runNft(r.nft, nftScript(r.table, r.cfg)); err != nil {
		return err
	}
	r.tableUp = true
	return nil
}

// openPacketSocket opens the cooked AF_PACKET socket with the role's
// filter. It is made with protocol 0 (it receives nothing) and bound to
// IPv6 only once the filter is on, so no unfiltered packet is ever queued.
func openPacketSocket(cfg RawConfig, ifindex int) (*os.File, error) {
	filter, err := rawFilter(cfg)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("hostnet: raw mobility: AF_PACKET socket: %w", err)
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("hostnet: raw mobility: attach filter: %w", err)
	}
	// Redundant with the protocol binding and the filter, and cheap: our
	// own sends must never come back as received.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("hostnet: raw mobility: PACKET_IGNORE_OUTGOING: %w", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IPV6), Ifindex: ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("hostnet: raw mobility: bind AF_PACKET: %w", err)
	}
	return os.NewFile(uintptr(fd), "mip6-raw-recv"), nil
}

// openRawSender opens the sending socket. IPPROTO_RAW implies IPV6_HDRINCL
// on Linux: the kernel sends the bytes given, header included.
func openRawSender() (*os.File, error) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return nil, fmt.Errorf("hostnet: raw mobility: IPPROTO_RAW socket: %w", err)
	}
	// A source not (or no longer) assigned here, e.g. a care-of address
	// just removed, is still sent as written.
	if err := unix.SetsockoptInt(fd, unix.SOL_IPV6, unix.IPV6_FREEBIND, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("hostnet: raw mobility: IPV6_FREEBIND: %w", err)
	}
	// It never needs to receive (nothing carries protocol 255 anyway).
	if err := unix.Shutdown(fd, unix.SHUT_RD); err != nil && !errors.Is(err, unix.ENOTCONN) {
		unix.Close(fd)
		return nil, fmt.Errorf("hostnet: raw mobility: shutdown IPPROTO_RAW reads: %w", err)
	}
	return os.NewFile(uintptr(fd), "mip6-raw-send"), nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Table is the name of the nftables table (family ip6) this RawMobility
// installed in its namespace.
func (r *RawMobility) Table() string { return r.table }

// RawTruncatedError says a received packet did not fit the caller's buffer.
type RawTruncatedError struct {
	Len, BufLen int
}

func (e *RawTruncatedError) Error() string {
	return fmt.Sprintf("hostnet: raw mobility: packet of %d bytes truncated to a %d-byte buffer", e.Len, e.BufLen)
}

// ReadPacket blocks until a packet of the role arrives and copies it, from
// its IPv6 header on and without link-layer padding, into b. After Close it
// returns net.ErrClosed; a packet longer than b yields its first len(b)
// bytes and a *RawTruncatedError.
func (r *RawMobility) ReadPacket(b []byte) (int, error) {
	rc, err := r.recv.SyscallConn()
	if err != nil {
		return 0, r.closedOr(err)
	}
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, rerr = recvTrunc(int(fd), b)
		return rerr != unix.EAGAIN
	})
	if err != nil {
		return 0, r.closedOr(err)
	}
	if rerr != nil {
		return 0, r.closedOr(fmt.Errorf("hostnet: raw mobility: recv: %w", rerr))
	}
	if n > len(b) {
		return len(b), &RawTruncatedError{Len: n, BufLen: len(b)}
	}
	return withoutPadding(b[:n]), nil
}

// withoutPadding is the length of the IPv6 packet in b without the
// link-layer padding a short Ethernet frame brings along (AF_PACKET taps
// before the IPv6 stack trims it). Anything else is left to the parser.
func withoutPadding(b []byte) int {
	if len(b) < ipv6.HeaderLen {
		return len(b)
	}
	return min(len(b), ipv6.HeaderLen+int(binary.BigEndian.Uint16(b[4:])))
}

// recvTrunc is recv(2) with MSG_TRUNC: the packet's full length is
// returned even when b is shorter. It allocates nothing.
func recvTrunc(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(p), uintptr(len(b)), unix.MSG_TRUNC, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func (r *RawMobility) closedOr(err error) error {
	if r.closed.Load() {
		return net.ErrClosed
	}
	return err
}

// rawMaxPacket is the largest IPv6 packet without a jumbo payload.
const rawMaxPacket = ipv6.HeaderLen + 0xffff

// Serve calls handle with each packet received, from its IPv6 header on,
// until Close; it then returns nil, or the first receive error. The
// Interface going down is none: the kernel reports it once (ENETDOWN) and
// delivers again once the link is back, with the drop rule in force all
// along. The slice is valid only during the call. Packets come one at a
// time.
func (r *RawMobility) Serve(handle func(pkt []byte)) error {
	buf := make([]byte, rawMaxPacket)
	for {
		n, err := r.ReadPacket(buf)
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if errors.Is(err, unix.ENETDOWN) {
			continue
		}
		if err != nil {
			return err
		}
		handle(buf[:n])
	}
}

// RawPacketError says SendRaw was given something that is not one whole
// IPv6 packet.
type RawPacketError struct {
	Field  string
	Detail string
}

func (e *RawPacketError) Error() string {
	return fmt.Sprintf("hostnet: raw mobility: SendRaw: %s: %s", e.Field, e.Detail)
}

// SendRaw sends pkt, a whole IPv6 packet with its header, as it is: the
// kernel keeps the source, the hop limit and the extension headers written
// there and routes by the header's destination and source (as for a socket
// bound to that source: "from" rules apply). The packet must be exactly
// 40 + Payload Length bytes; the kernel does not fragment it (EMSGSIZE
// beyond the route's MTU).
func (r *RawMobility) SendRaw(pkt []byte) error {
	if len(pkt) < ipv6.HeaderLen {
		return &RawPacketError{Field: "length", Detail: fmt.Sprintf("%d bytes, shorter than an IPv6 header", len(pkt))}
	}
	if v := pkt[0] >> 4; v != 6 {
		return &RawPacketError{Field: "version", Detail: fmt.Sprintf("%d, want 6", v)}
	}
	if pl := int(binary.BigEndian.Uint16(pkt[4:])); ipv6.HeaderLen+pl != len(pkt) {
		return &RawPacketError{Field: "payload length", Detail: fmt.Sprintf("%d, but %d bytes follow the header", pl, len(pkt)-ipv6.HeaderLen)}
	}
	dst := netip.AddrFrom16([16]byte(pkt[offDst:]))
	sa := &unix.SockaddrInet6{Addr: dst.As16()}
	if dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() {
		sa.ZoneId = uint32(r.ifindex)
	}
	// The header's source in IPV6_PKTINFO: the kernel routes as for a
	// socket bound to it (source-based rules apply); the bytes stay ours.
	oob := unix.PktInfo6(&unix.Inet6Pktinfo{Addr: [16]byte(pkt[8:24])})
	rc, err := r.send.SyscallConn()
	if err != nil {
		return r.closedOr(err)
	}
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		_, serr = unix.SendmsgN(int(fd), pkt, oob, sa, 0)
		return serr != unix.EAGAIN
	})
	if err != nil {
		return r.closedOr(err)
	}
	if serr != nil {
		return r.closedOr(fmt.Errorf("hostnet: raw mobility: send to %v: %w", dst, serr))
	}
	return nil
}

// Close removes the nftables table and closes the sockets; ReadPacket and
// Serve return. Only the first call does the work; every call returns its
// result.
func (r *RawMobility) Close() error {
	r.once.Do(func() {
		r.closed.Store(true)
		r.err = r.release()
	})
	return r.err
}

// release undoes whatever open did, table first: with the socket gone
// and the table still there the packets would vanish unseen.
func (r *RawMobility) release() error {
	var errs []error
	if r.netns != nil {
		if r.tableUp {
			errs = append(errs, inNetns(r.netns, func() error {
				return runNft(r.nft, "delete table ip6 "+r.table+"\n")
			}))
		}
		errs = append(errs, r.netns.Close())
	}
	for _, f := range []*os.File{r.recv, r.send} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}
