package lease

import (
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

func TestFallbackToPool(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "ha.db"))
	defer st.Close()
	c := &clock{time.Unix(1_800_000_000, 0)}
	silent, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	conn, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDHCPv6(DHCPv6Config{Policy: Policy{Store: st, HomePrefix: home, LeaseTime: time.Hour, Now: c.now}, Conn: conn,
		Server: silent.LocalAddr().(*net.UDPAddr).AddrPort(), Timeout: 10 * time.Millisecond, Tries: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f := &Fallback{DHCPv6: d, Pool: newPool(t, st, c, "2001:db8:1::f000", "2001:db8:1::f00f")}
	p, err := f.Assign("alice@example.net", netip.Addr{})
	if err != nil || p.Addr() != netip.MustParseAddr("2001:db8:1::f000") {
		t.Fatalf("%v %v", p, err)
	}
	sent := d.Stats.Sent[dhcpSolicit].Load()
	// The live pool lease stays with the pool: no more DHCPv6 traffic.
	if p2, err := f.Assign("alice@example.net", netip.Addr{}); err != nil || p2 != p {
		t.Fatalf("re-bootstrap %v %v", p2, err)
	}
	if err := f.Renew("alice@example.net", p.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := f.Release("alice@example.net", p.Addr()); err != nil {
		t.Fatal(err)
	}
	if n := d.Stats.Sent[dhcpSolicit].Load() + d.Stats.Sent[dhcpRenew].Load() + d.Stats.Sent[dhcpRelease].Load(); n != sent {
		t.Fatalf("%d DHCPv6 messages for a pool lease", n-sent)
	}
	checkNoLease(t, st, "alice@example.net")
	// Both failing: one error naming both causes.
	for i := range 16 {
		f.Pool.Assign(string(rune('a'+i))+"@example.net", netip.Addr{})
	}
	_, err = f.Assign("zed@example.net", netip.Addr{})
	var de *DHCPv6Error
	var ex *ExhaustedError
	if !errors.As(err, &de) || !errors.As(err, &ex) {
		t.Fatalf("%v", err)
	}
	t.Log(err)
}
