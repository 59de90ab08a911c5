package daemon_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"mip6/internal/control"
	"mip6/internal/netns"
)

// The mobile node rekeys its IKE SA and CHILD_SAs while registered (RFC
// 7296 §2.8; ike.lifetime, ike.child_lifetime): the correspondent's pings
// keep flowing across the rekeys, the home agent ends up with new SPIs,
// and a move afterwards still carries the binding, the tunnel and (K
// flag) the new IKE SA to the new care-of address.
func TestDaemonsRekeyWhileRegistered(t *testing.T) {
	netns.Require(t, "ping")
	bin := buildMIP6(t)
	dir := t.TempDir()
	l := newLab(t)
	l.attach(t, "a0", "2001:db8:a::100", "2001:db8:a::1")
	haConf, mnConf := writePSKConfigs(t, dir)
	editFile(t, mnConf, "[daemon]\n", "[ike]\nlifetime = \"4s\"\nchild_lifetime = \"3s\"\n[daemon]\n")
	_, _, haSock, _ := l.startDaemons(t, bin, dir, haConf, mnConf, "2001:db8:a::100")
	before, err := status(t, bin, haSock)
	if err != nil {
		t.Fatal(err)
	}
	hoa := before.Bindings[0].HomeAddress

	// 40 pings over 8 s: two CHILD_SA rekeys and two IKE SA rekeys happen meanwhile.
	out, _ := l.cn.Exec("ping", "-6", "-n", "-c", "40", "-i", "0.2", "-W", "1", hoa)
	var sent, got int
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "packets transmitted") {
			fmt.Sscanf(line, "%d packets transmitted, %d received", &sent, &got)
		}
	}
	if sent != 40 || got < 38 {
		t.Fatalf("pings across the rekeys: %d of %d answered\n%s", got, sent, out)
	}
	after, err := status(t, bin, haSock)
	if err != nil {
		t.Fatal(err)
	}
	if spis(after) == spis(before) || len(after.IKESAs) != 1 || after.IKESAs[0].SPIi == before.IKESAs[0].SPIi {
		t.Fatalf("no rekey seen at the home agent:\nbefore %s\nafter  %s", spis(before), spis(after))
	}
	t.Logf("%d of %d pings answered across the rekeys; SAs before %s, after %s", got, sent, spis(before), spis(after))

	l.attach(t, "b0", "2001:db8:b::100", "2001:db8:b::1")
	netns.Eventually(t, 15*time.Second, bindingTo(t, bin, haSock, "2001:db8:b::100"))
	l.cn.Run(t, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", hoa)
	netns.Eventually(t, 5*time.Second, func() error {
		s, err := status(t, bin, haSock)
		if err == nil && (len(s.IKESAs) != 1 || !strings.HasPrefix(s.IKESAs[0].Remote, "[2001:db8:b::100]")) {
			err = fmt.Errorf("IKE SAs after the move: %+v", s.IKESAs)
		}
		return err
	})
}

// spis lists the IKE and CHILD SA SPIs of a status.
func spis(s *control.Status) string {
	var b strings.Builder
	for _, a := range s.IKESAs {
		fmt.Fprintf(&b, "ike %s/%s ", a.SPIi, a.SPIr)
	}
	for _, c := range s.ChildSAs {
		fmt.Fprintf(&b, "child %s/%s ", c.SPIIn, c.SPIOut)
	}
	return b.String()
}
