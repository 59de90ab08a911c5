package daemon_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mip6/internal/netns"
)

// RFC 4640 Parameter Set 2 with the real daemons: the mobility key comes
// from the network access key, which the access client left for the MN
// and the integrated ASP's AAA server left in the HA's access_keys.dir.
// A stale access key on the MN gets nothing.
func TestDaemonsParameterSet2(t *testing.T) {
	netns.Require(t)
	bin := buildMIP6(t)
	dir := t.TempDir()
	l := newLab(t)
	l.attach(t, "a0", "2001:db8:a::100", "2001:db8:a::1")
	keys := filepath.Join(dir, "access-keys")
	os.Mkdir(keys, 0o700)
	key := func(b byte) string {
		return fmt.Sprintf(`{"name": "%s", "key": "%s", "issued": "%s"}`, strings.Repeat("ab", 16),
			strings.Repeat(fmt.Sprintf("%02x", b), 64), time.Now().UTC().Format(time.RFC3339))
	}
	write(t, filepath.Join(keys, "alice@example.net"), key(0x42))
	haConf := filepath.Join(dir, "ha.conf")
	write(t, haConf, fmt.Sprintf(`
[home_agent]
address = "2001:db8:1::2"
home_prefix = "2001:db8:1::/64"
home_interface = "ha0"
[ike]
listen = ["[2001:db8:1::2]:500", "[2001:db8:1::2]:4500"]
identity = "ha.example.net"
[addresses]
pool = "2001:db8:1::3000/116"
[[mobile_node]]
identity = "alice@example.net"
auth = "access_key"
[access_keys]
dir = "%s"
lifetime = "2h"
[store]
path = "%s/ha.db"
[daemon]
control_socket = "%s/ha.sock"
`, keys, dir, dir))
	mnConf := func(name string, b byte) string {
		kf := filepath.Join(dir, name+".key")
		write(t, kf, key(b))
		p := filepath.Join(dir, name+".conf")
		write(t, p, fmt.Sprintf(`
identity = "alice@example.net"
[credential]
access_key_file = "%s"
[home_agent]
address = "2001:db8:1::2"
identity = "ha.example.net"
[mobility]
interfaces = ["a0", "b0"]
[daemon]
control_socket = "%s/%s.sock"
`, kf, dir, name))
		return p
	}
	l.ha.Start(t, bin, "ha", "-c", haConf)
	haSock := filepath.Join(dir, "ha.sock")
	netns.Eventually(t, 10*time.Second, func() error { _, err := status(t, bin, haSock); return err })

	stale := l.mn.Start(t, bin, "mn", "-c", mnConf("stale", 0x17))
	time.Sleep(3 * time.Second)
	if s, err := status(t, bin, haSock); err != nil || len(s.Bindings) != 0 || len(s.ChildSAs) != 0 {
		t.Fatalf("a stale access key got something: %+v %v\n%s", s, err, stale.Output())
	}
	stale.Stop()

	mn := l.mn.Start(t, bin, "mn", "-c", mnConf("fresh", 0x42))
	defer func() {
		if t.Failed() {
			t.Logf("mobile node:\n%s", mn.Output())
		}
	}()
	netns.Eventually(t, 20*time.Second, bindingTo(t, bin, haSock, "2001:db8:a::100"))
}
