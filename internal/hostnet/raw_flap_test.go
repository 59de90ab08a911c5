package hostnet

import (
	"bytes"
	"testing"
	"time"
)

// A RawMobility limited to an interface keeps receiving after that
// interface went down and up again: the kernel reports the link's going
// down to a bound AF_PACKET socket once (ENETDOWN) and re-arms it when the
// link comes back, while the drop rule stays in force all along.
func TestRawServeSurvivesLinkFlap(t *testing.T) {
	l := newRawLab(t)
	l.host.Sysctl(t, "net.ipv6.conf.b0.keep_addr_on_down", "1")
	sender := openRaw(t, l.peer, RawConfig{Role: RawHomeAgent, HomeAgent: rawPeer})
	r := openRaw(t, l.host, RawConfig{Role: RawMobileNode, Interface: "b0"})
	pkts, done := serveRaw(r)
	hit := rawBA(rawPeer, rawHost)
	if err := sender.SendRaw(hit); err != nil {
		t.Fatal(err)
	}
	if got := nextRaw(t, pkts); !bytes.Equal(got, hit) {
		t.Fatalf("received\n% x\nsent\n% x", got, hit)
	}
	l.host.Run(t, "ip", "link", "set", "b0", "down")
	l.host.Run(t, "ip", "link", "set", "b0", "up")
	select {
	case err := <-done:
		t.Fatalf("Serve ended when the link went down: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	l.ping(t, rawHost) // the link works again
	if err := sender.SendRaw(hit); err != nil {
		t.Fatal(err)
	}
	if got := nextRaw(t, pkts); !bytes.Equal(got, hit) {
		t.Fatalf("after the flap received\n% x\nsent\n% x", got, hit)
	}
}
