package bootstrap

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mip6/discovery"
)

// memICMP is the MN's ICMPv6 socket with the home link's home agent
// behind it: each Home Agent Address Discovery Request sent to the
// home-agents anycast address is answered by the HA (RFC 6275 §10.5).
type memICMP struct {
	src, self netip.Addr
	has       []netip.Addr
	replies   chan []byte
	deadline  time.Time
}

func (m *memICMP) WriteTo(msg []byte, dst netip.Addr) error {
	reply, err := discovery.AppendDHAADReply(nil, msg, m.src, dst, m.self, m.has)
	if err != nil {
		return err
	}
	m.replies <- reply
	return nil
}

func (m *memICMP) ReadFrom(b []byte) (int, netip.Addr, error) {
	select {
	case r := <-m.replies:
		return copy(b, r), m.self, nil
	case <-time.After(time.Until(m.deadline)):
		return 0, netip.Addr{}, errors.New("i/o timeout")
	}
}

func (m *memICMP) SetReadDeadline(t time.Time) error { m.deadline = t; return nil }
func (m *memICMP) LocalAddr() netip.Addr             { return m.src }

// Seed with the home prefix only: DHAAD yields the home agents list in
// preference order, tried in that order.
func TestBootstrapDHAAD(t *testing.T) {
	n := newMemNet()
	th := newTestHA(t, n, ha1Addr, newPKI(t))
	second := netip.MustParseAddr("2001:db8:1::2")
	icmp := &memICMP{src: mnCoA.Addr(), self: ha1Addr, has: []netip.Addr{ha1Addr, second}, replies: make(chan []byte, 4)}
	cfg := mnConfig(n)
	cfg.HomePrefix = homePrefix
	cfg.DHAAD = &discovery.DHAADClient{Conn: icmp, Timeout: 200 * time.Millisecond}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	checkResult(t, res, th, alice)
	if res.HomeAgent.Source != discovery.SourceDHAAD || len(res.Attempts) != 0 || !strings.Contains(res.Trace[0].Detail, second.String()) {
		t.Fatalf("home agent %v after %v; trace:\n%s", res.HomeAgent, res.Attempts, res.Trace)
	}
}
