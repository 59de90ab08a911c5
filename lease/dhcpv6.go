package lease

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DHCPv6Config configures home-address assignment by a DHCPv6 server on
// the home link.
type DHCPv6Config struct {
	Policy
	// Interface is the home link interface; the client binds UDP port 546
	// on it and multicasts to All_DHCP_Relay_Agents_and_Servers.
	Interface string
	// Conn replaces the socket (tests, simulated networks).
	Conn net.PacketConn
	// Server is where messages go (default [ff02::1:2%Interface]:547).
	Server netip.AddrPort
	// Timeout is the first retransmission timeout, doubled per try
	// (default 1 s, RFC 8415 SOL_TIMEOUT/REQ_TIMEOUT).
	Timeout time.Duration
	// Tries bounds transmissions per exchange (default 4).
	Tries int
	// RapidCommit asks for the two-message exchange (RFC 8415 §18.2.1):
	// a server configured for it answers the Solicit with a Reply.
	RapidCommit bool
	// TrustedServers, when set, are the only server DUIDs whose answers
	// are accepted (a rogue DHCPv6 server on the home link is ignored).
	TrustedServers [][]byte
}

// DHCPv6Stats counts messages, for operators.
type DHCPv6Stats struct {
	Sent            [16]atomic.Uint64 // by message type
	Retransmissions atomic.Uint64
	Timeouts        atomic.Uint64 // exchanges that got no answer
	Refusals        atomic.Uint64 // answers with a failure status
	Untrusted       atomic.Uint64 // answers from servers not in TrustedServers
	ReadErrors      atomic.Uint64
}

// DHCPv6 assigns home addresses obtained from a DHCPv6 server, acting as
// one DHCPv6 client per identity (DUIDFor). Exchanges run concurrently on
// one socket; a reader goroutine hands each answer to its exchange by
// transaction ID.
type DHCPv6 struct {
	cfg    DHCPv6Config
	conn   net.PacketConn
	server *net.UDPAddr
	Stats  DHCPv6Stats

	mu      sync.Mutex
	pending map[uint32]*pending
	done    chan struct{}
}

// pending is an exchange waiting for its answer.
type pending struct {
	clientID []byte
	want     []uint8
	ch       chan *Message
}

// DHCPv6Error: the server did not answer, or refused.
type DHCPv6Error struct {
	Server   string
	Identity string
	Exchange string // message sent: "Solicit", "Request", "Renew", "Release"
	Tries    int
	// Status is the server's status code when it refused (HasStatus).
	Status        uint16
	HasStatus     bool
	StatusMessage string
	Reason        string
	Err           error
}

func (e *DHCPv6Error) Error() string {
	s := fmt.Sprintf("lease: DHCPv6 server %s, %s for %q: %s", e.Server, e.Exchange, e.Identity, e.Reason)
	if e.HasStatus {
		s += fmt.Sprintf(" (status %s", StatusName(e.Status))
		if e.StatusMessage != "" {
			s += fmt.Sprintf(": %q", e.StatusMessage)
		}
		s += ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DHCPv6Error) Unwrap() error { return e.Err }

// DUIDFor derives identity's DHCPv6 client DUID: a DUID-UUID (RFC 6355)
// whose UUID is a hash of the identity, stable across HA restarts.
func DUIDFor(identity string) []byte {
	h := sha256.Sum256([]byte("mip6 DHCPv6 DUID\x00" + identity))
	u := h[:16]
	u[6] = u[6]&0x0f | 0x50 // name-based UUID
	u[8] = u[8]&0x3f | 0x80
	return append([]byte{0, 4}, u...)
}

// IAIDFor derives identity's IA_NA IAID.
func IAIDFor(identity string) uint32 {
	h := sha256.Sum256([]byte("mip6 DHCPv6 IAID\x00" + identity))
	return binary.BigEndian.Uint32(h[:4])
}

// NewDHCPv6 opens the client socket (unless cfg.Conn is set).
func NewDHCPv6(cfg DHCPv6Config) (*DHCPv6, error) {
	if err := cfg.Policy.check(); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.Tries <= 0 {
		cfg.Tries = 4
	}
	if !cfg.Server.IsValid() {
		if cfg.Interface == "" {
			return nil, errors.New("lease: DHCPv6 needs the home link interface or a server address")
		}
		cfg.Server = netip.AddrPortFrom(netip.MustParseAddr("ff02::1:2").WithZone(cfg.Interface), 547)
	}
	d := &DHCPv6{cfg: cfg, conn: cfg.Conn, server: net.UDPAddrFromAddrPort(cfg.Server),
		pending: map[uint32]*pending{}, done: make(chan struct{})}
	if d.conn == nil {
		c, err := listenClient(cfg.Interface)
		if err != nil {
			return nil, err
		}
		d.conn = c
	}
	go d.read()
	return d, nil
}

// listenClient binds UDP [::]:546 to the home link interface.
func listenClient(iface string) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			if iface != "" {
				serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, iface)
			}
		})
		return errors.Join(err, serr)
	}}
	c, err := lc.ListenPacket(nil, "udp6", "[::]:546")
	if err != nil {
		return nil, fmt.Errorf("lease: DHCPv6 client socket on %s port 546: %w", iface, err)
	}
	return c, nil
}

// Close closes the client socket and waits for the reader.
func (d *DHCPv6) Close() error {
	err := d.conn.Close()
	<-d.done
	return err
}

// read hands each well-formed answer to the exchange it belongs to.
func (d *DHCPv6) read() {
	defer close(d.done)
	buf := make([]byte, 4096)
	for {
		n, _, err := d.conn.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Transient (e.g. a deadline someone set): keep serving, but
			// never spin.
			d.Stats.ReadErrors.Add(1)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		m := new(Message)
		// The parsed views must outlive buf's reuse.
		if ParseMessage(bytes.Clone(buf[:n]), m) != nil {
			continue
		}
		d.mu.Lock()
		p := d.pending[m.TransactionID]
		d.mu.Unlock()
		if p == nil || !bytes.Equal(m.ClientID, p.clientID) || !slices.Contains(p.want, m.Type) {
			continue
		}
		if len(d.cfg.TrustedServers) > 0 && !slices.ContainsFunc(d.cfg.TrustedServers, func(id []byte) bool { return bytes.Equal(id, m.ServerID) }) {
			d.Stats.Untrusted.Add(1)
			continue
		}
		select {
		case p.ch <- m:
		default: // an earlier answer is already waiting
		}
	}
}

func (d *DHCPv6) fail(identity string, req *Message, tries int, reason string, err error) *DHCPv6Error {
	return &DHCPv6Error{Server: d.cfg.Server.String(), Identity: identity, Exchange: dhcpMsgName(req.Type),
		Tries: tries, Reason: reason, Err: err}
}

// exchange sends req (retransmitting, timeout doubling) until an answer
// of one of the wanted types with its transaction ID and client DUID
// arrives.
func (d *DHCPv6) exchange(identity string, req Message, want ...uint8) (*Message, error) {
	p := &pending{clientID: req.ClientID, want: want, ch: make(chan *Message, 1)}
	d.mu.Lock()
	for {
		req.TransactionID = rand.Uint32() & 0xffffff
		if d.pending[req.TransactionID] == nil {
			break
		}
	}
	d.pending[req.TransactionID] = p
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.pending, req.TransactionID)
		d.mu.Unlock()
	}()
	start := time.Now()
	timeout := d.cfg.Timeout
	for try := 1; try <= d.cfg.Tries; try++ {
		req.ElapsedTime = uint16(min(time.Since(start)/(10*time.Millisecond), 0xffff))
		if _, err := d.conn.WriteTo(AppendMessage(nil, &req), d.server); err != nil {
			return nil, d.fail(identity, &req, try, "sending failed", err)
		}
		d.Stats.Sent[req.Type&15].Add(1)
		if try > 1 {
			d.Stats.Retransmissions.Add(1)
		}
		t := time.NewTimer(timeout)
		select {
		case m := <-p.ch:
			t.Stop()
			return m, nil
		case <-d.done:
			t.Stop()
			return nil, d.fail(identity, &req, try, "client closed", net.ErrClosed)
		case <-t.C:
		}
		timeout *= 2
	}
	d.Stats.Timeouts.Add(1)
	return nil, d.fail(identity, &req, d.cfg.Tries, fmt.Sprintf("no %s after %d tries", dhcpMsgName(want[0]), d.cfg.Tries), nil)
}

// granted checks that m grants an address in IA iaid, or says why not.
func (d *DHCPv6) granted(identity string, req, m *Message, iaid uint32) (IAAddr, error) {
	refuse := func(reason string, st Status, has bool) error {
		d.Stats.Refusals.Add(1)
		e := d.fail(identity, req, 0, reason, nil)
		e.Status, e.HasStatus, e.StatusMessage = st.Code, has, string(st.Message)
		return e
	}
	switch {
	case m.HasStatus && m.Status.Code != StatusSuccess:
		return IAAddr{}, refuse("refused", m.Status, true)
	case !m.HasIANA || m.IANA.IAID != iaid:
		return IAAddr{}, refuse("answer has no IA_NA for our IAID", Status{}, false)
	case m.IANA.HasStatus && m.IANA.Status.Code != StatusSuccess:
		return IAAddr{}, refuse("refused the IA_NA", m.IANA.Status, true)
	case !m.IANA.HasAddr:
		return IAAddr{}, refuse("IA_NA holds no address", Status{}, false)
	case m.IANA.Addr.HasStatus && m.IANA.Addr.Status.Code != StatusSuccess:
		return IAAddr{}, refuse("refused the address", m.IANA.Addr.Status, true)
	case m.IANA.Addr.Valid == 0:
		return IAAddr{}, refuse(fmt.Sprintf("address %v has valid lifetime 0", m.IANA.Addr.Address), Status{}, false)
	}
	return m.IANA.Addr, nil
}

// renewAt is when the lease granted in m must be renewed with the
// server: T1, or half the valid lifetime when the server leaves T1 to the
// client (RFC 8415 §21.4); zero for infinite lifetimes.
func renewAt(now time.Time, m *Message) time.Time {
	const infinity = 0xffffffff
	t1, valid := m.IANA.T1, m.IANA.Addr.Valid
	if t1 == infinity || (t1 == 0 && valid == infinity) {
		return time.Time{}
	}
	if t1 == 0 || t1 > valid {
		t1 = valid / 2
	}
	return now.Add(time.Duration(t1) * time.Second)
}
