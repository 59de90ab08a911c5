package lease

import (
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mip6/store"
)

var fakeServerID = []byte{0, 2, 0, 0, 0x7e, 0x99, 0xfa, 0xce}

// fakeServer answers the client's messages with whatever answer returns
// (nil: silence) and records what it received.
type fakeServer struct {
	mu   sync.Mutex
	got  []Message
	conn net.PacketConn
}

func (f *fakeServer) received(typ uint8) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.got {
		if m.Type == typ {
			n++
		}
	}
	return n
}

// newFakeLab starts a fake server and a client on a fresh store.
func newFakeLab(t *testing.T, trusted [][]byte, answer func(req *Message) *Message) (*DHCPv6, *fakeServer, *store.Store) {
	t.Helper()
	st := openStore(t, filepath.Join(t.TempDir(), "ha.db"))
	t.Cleanup(func() { st.Close() })
	sc, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{conn: sc}
	t.Cleanup(func() { sc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := sc.ReadFrom(buf)
			if err != nil {
				return
			}
			var m Message
			if ParseMessage(append([]byte(nil), buf[:n]...), &m) != nil {
				continue
			}
			f.mu.Lock()
			f.got = append(f.got, m)
			f.mu.Unlock()
			if rep := answer(&m); rep != nil {
				rep.TransactionID, rep.ClientID = m.TransactionID, m.ClientID
				sc.WriteTo(AppendMessage(nil, rep), from)
			}
		}
	}()
	cc, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDHCPv6(DHCPv6Config{Policy: Policy{Store: st, HomePrefix: home, LeaseTime: time.Hour}, Conn: cc,
		Server: sc.LocalAddr().(*net.UDPAddr).AddrPort(), Timeout: 30 * time.Millisecond, Tries: 2, TrustedServers: trusted})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, f, st
}

// grant answers Solicit with Advertise and Request/Renew with Reply, for
// address a; Release with a plain Reply.
func grant(a netip.Addr) func(req *Message) *Message {
	return func(req *Message) *Message {
		rep := &Message{Type: dhcpReply, ServerID: fakeServerID}
		if req.Type == dhcpSolicit {
			rep.Type = dhcpAdvertise
		}
		if req.Type != dhcpRelease {
			rep.HasIANA = true
			rep.IANA = IANA{IAID: req.IANA.IAID, T1: 100, T2: 160, HasAddr: true, Addr: IAAddr{Address: a, Preferred: 300, Valid: 400}}
		}
		return rep
	}
}

func TestDHCPv6UntrustedServer(t *testing.T) {
	d, _, st := newFakeLab(t, [][]byte{{0, 2, 0, 0, 0, 1}}, grant(netip.MustParseAddr("2001:db8:1::100")))
	_, err := d.Assign("alice@example.net", netip.Addr{})
	var de *DHCPv6Error
	if !errors.As(err, &de) || d.Stats.Untrusted.Load() == 0 {
		t.Fatalf("rogue server's answer taken: %v", err)
	}
	checkNoLease(t, st, "alice@example.net")
}

// A granted address outside the home prefix is refused and released.
func TestDHCPv6OffLinkAddress(t *testing.T) {
	d, f, st := newFakeLab(t, nil, grant(netip.MustParseAddr("2001:db8:99::1")))
	_, err := d.Assign("alice@example.net", netip.Addr{})
	var de *DHCPv6Error
	if !errors.As(err, &de) || f.received(dhcpRelease) != 1 {
		t.Fatalf("%v; %d releases", err, f.received(dhcpRelease))
	}
	t.Log(err)
	checkNoLease(t, st, "alice@example.net")
}

// A server that hands out an address the store has live-leased to another
// identity (it lost its state): refused, released, the holder untouched.
func TestDHCPv6ServerDoubleAssigns(t *testing.T) {
	a := netip.MustParseAddr("2001:db8:1::100")
	d, f, st := newFakeLab(t, nil, grant(a))
	if _, err := d.Assign("alice@example.net", netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	_, err := d.Assign("mallory@example.net", netip.Addr{})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Holder != "alice@example.net" || f.received(dhcpRelease) != 1 {
		t.Fatalf("%v; %d releases", err, f.received(dhcpRelease))
	}
	checkNoLease(t, st, "mallory@example.net")
	if m := leases(t, st); m[a] != "alice@example.net" {
		t.Fatalf("%v", m)
	}
}

// The server forgot a lease (NoBinding on Renew): a re-bootstrap starts
// afresh with Solicit.
func TestDHCPv6NoBinding(t *testing.T) {
	a := netip.MustParseAddr("2001:db8:1::100")
	forgot := false
	var mu sync.Mutex
	d, f, st := newFakeLab(t, nil, func(req *Message) *Message {
		mu.Lock()
		defer mu.Unlock()
		if req.Type == dhcpRenew && forgot {
			return &Message{Type: dhcpReply, ServerID: fakeServerID, HasIANA: true,
				IANA: IANA{IAID: req.IANA.IAID, HasStatus: true, Status: Status{Code: StatusNoBinding}}}
		}
		return grant(a)(req)
	})
	if _, err := d.Assign("alice@example.net", netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	forgot = true
	mu.Unlock()
	err := d.Renew("alice@example.net", a)
	var de *DHCPv6Error
	if !errors.As(err, &de) || de.Status != StatusNoBinding {
		t.Fatalf("renew: %v", err)
	}
	p, err := d.Assign("alice@example.net", netip.Addr{})
	if err != nil || p.Addr() != a || f.received(dhcpSolicit) != 2 {
		t.Fatalf("re-bootstrap after NoBinding: %v %v, %d solicits", p, err, f.received(dhcpSolicit))
	}
	if m := leases(t, st); len(m) != 1 {
		t.Fatalf("%v", m)
	}
}
