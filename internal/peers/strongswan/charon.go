package strongswan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"mip6/internal/netns"
)

// Binaries the harness runs.
const (
	CharonBin  = "/usr/sbin/charon-systemd"
	SwanctlBin = "/usr/sbin/swanctl"
	pluginDir  = "/usr/lib/ipsec/plugins"
)

// DefaultFwmark marks charon's own IKE and ESP-in-UDP packets so that they
// bypass routing table 220, where kernel-libipsec routes protected traffic
// into its TUN device; without it a peer whose address is covered by a
// traffic selector vanishes into its own tunnel.
const DefaultFwmark = 0x4d36

// DefaultPlugins are loaded when Options.Plugins is nil; ones whose shared
// object is absent are left out (Start fails if a required one is missing).
var DefaultPlugins = []string{
	"random", "nonce", "openssl", "aes", "sha1", "sha2", "md5", "hmac", "gcm", "chapoly",
	"curve25519", "gmp", "x509", "pubkey", "pkcs1", "pkcs8", "pem", "revocation",
	"constraints", "kdf", "attr", "kernel-libipsec", "kernel-netlink", "socket-default",
	"vici", "updown", "eap-identity", "eap-md5", "eap-mschapv2", "eap-tls", "eap-radius",
	"eap-dynamic",
}

// requiredPlugins must be present for the harness to work at all.
var requiredPlugins = []string{"kernel-libipsec", "kernel-netlink", "socket-default", "vici", "openssl", "nonce", "random"}

// Options configure one charon instance.
type Options struct {
	// LogLevels per subsystem (dmn, mgr, ike, chd, job, cfg, knl, net, asn,
	// enc, lib, esp, tls, tnc, imc, imv, pts); default 1 each, ike 2.
	LogLevels map[string]int
	// KeyLog sets ike=4 and chd=4 so that charon logs IKE and ESP keys
	// (see ParseKeys). Only for tests.
	KeyLog  bool
	Plugins []string // nil: DefaultPlugins
	Fwmark  uint32   // 0: DefaultFwmark
	Extra   string   // appended inside the charon-systemd section verbatim
}

// Charon is a running charon-systemd in a namespace.
type Charon struct {
	NS       *netns.NS
	Dir      string // private state: strongswan.conf, vici socket, swanctl dir, log
	confPath string
	vici     string
	logPath  string
	proc     *netns.Proc
	t        testing.TB
}

// Start writes a private configuration and starts charon-systemd in ns. It
// waits until the vici socket answers. Charon is stopped at cleanup, and
// its log printed if the test failed.
func Start(t testing.TB, ns *netns.NS, opts Options) *Charon {
	t.Helper()
	netns.Require(t, CharonBin, SwanctlBin)
	c := &Charon{NS: ns, Dir: t.TempDir(), t: t}
	c.confPath = filepath.Join(c.Dir, "strongswan.conf")
	c.vici = filepath.Join(c.Dir, "charon.vici")
	c.logPath = filepath.Join(c.Dir, "charon.log")
	for _, d := range []string{"bliss", "x509", "x509ca", "private", "pubkey", "rsa", "ecdsa", "pkcs8", "pkcs12", "x509crl", "x509aa", "x509ac", "x509ocsp", "conf.d"} {
		if err := os.MkdirAll(filepath.Join(c.SwanctlDir(), d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	conf, err := c.strongswanConf(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	c.proc = ns.StartEnv(t, c.env(), CharonBin)
	t.Cleanup(func() {
		c.proc.Stop()
		if t.Failed() {
			t.Logf("charon in %s: log:\n%s", ns.Name, c.Log())
		}
	})
	netns.Eventually(t, 10*time.Second, func() error {
		if done, err := c.proc.Exited(); done {
			t.Fatalf("strongswan: charon exited: %v\n%s\n%s", err, c.proc.Output(), c.Log())
		}
		_, err := c.NS.ExecWithin(3*time.Second, SwanctlBin, "--stats", "--uri", c.ViciURI())
		return err
	})
	return c
}

func (c *Charon) env() []string {
	return []string{"STRONGSWAN_CONF=" + c.confPath, "SWANCTL_DIR=" + c.SwanctlDir()}
}

// SwanctlDir is the instance's swanctl directory (x509/, private/, ...).
func (c *Charon) SwanctlDir() string { return filepath.Join(c.Dir, "swanctl") }

// ViciURI is the instance's vici socket URI.
func (c *Charon) ViciURI() string { return "unix://" + c.vici }

func (c *Charon) strongswanConf(o Options) (string, error) {
	plugins, err := availablePlugins(o.Plugins)
	if err != nil {
		return "", err
	}
	mark := o.Fwmark
	if mark == 0 {
		mark = DefaultFwmark
	}
	levels := map[string]int{"dmn": 1, "mgr": 1, "ike": 2, "chd": 1, "job": 1, "cfg": 1, "knl": 1, "net": 1, "asn": 0, "enc": 0, "lib": 1, "esp": 1, "tls": 1}
	for k, v := range o.LogLevels {
		levels[k] = v
	}
	if o.KeyLog {
		levels["ike"], levels["chd"] = 4, 4
	}
	var lv []string
	for k, v := range levels {
		lv = append(lv, fmt.Sprintf("        %s = %d", k, v))
	}
	sort.Strings(lv)
	return fmt.Sprintf(`charon-systemd {
  load = %s
  install_virtual_ip = yes
  retransmit_tries = 3
  retransmit_timeout = 1.0
  plugins {
    vici { socket = unix://%s }
    socket-default { fwmark = 0x%x }
    kernel-netlink { fwmark = !0x%x }
    kernel-libipsec { allow_peer_ts = yes }
  }
  journal { default = -1 }
  syslog { daemon { default = -1 } }
  filelog {
    charon {
      path = %s
      append = no
      flush_line = yes
      time_format = %%H:%%M:%%S
      ike_name = yes
      default = 1
%s
    }
  }
%s
}
swanctl { socket = unix://%s }
`, strings.Join(plugins, " "), c.vici, mark, mark, c.logPath, strings.Join(lv, "\n"), o.Extra, c.vici), nil
}

func availablePlugins(want []string) ([]string, error) {
	if want == nil {
		want = DefaultPlugins
	}
	var have []string
	for _, p := range want {
		if _, err := os.Stat(filepath.Join(pluginDir, "libstrongswan-"+p+".so")); err == nil {
			have = append(have, p)
		}
	}
	for _, p := range requiredPlugins {
		if _, err := os.Stat(filepath.Join(pluginDir, "libstrongswan-"+p+".so")); err != nil {
			return nil, fmt.Errorf("strongswan: required plugin %s missing (install libstrongswan-standard-plugins, libcharon-extra-plugins): %v", p, err)
		}
	}
	return have, nil
}

// Swanctl runs swanctl against this instance and returns its output.
func (c *Charon) Swanctl(args ...string) (string, error) {
	full := append([]string{"env", "STRONGSWAN_CONF=" + c.confPath, "SWANCTL_DIR=" + c.SwanctlDir(), SwanctlBin}, args...)
	full = append(full, "--uri", c.ViciURI())
	out, err := c.NS.ExecWithin(30*time.Second, full...)
	if err != nil {
		return out, fmt.Errorf("strongswan: swanctl %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// Load writes cfg as swanctl.conf and loads connections, secrets and pools.
func (c *Charon) Load(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.SwanctlDir(), "swanctl.conf"), []byte(cfg.SwanctlConf()), 0o600); err != nil {
		return err
	}
	out, err := c.Swanctl("--load-all", "--noprompt", "--file", filepath.Join(c.SwanctlDir(), "swanctl.conf"))
	if err != nil {
		return err
	}
	if strings.Contains(out, "failed") {
		return fmt.Errorf("strongswan: swanctl --load-all reported a failure:\n%s\nconfig:\n%s", out, cfg.SwanctlConf())
	}
	return nil
}

// AddFile writes a credential file into the swanctl directory, e.g.
// AddFile("x509/ha.pem", pem).
func (c *Charon) AddFile(rel string, data []byte) error {
	p := filepath.Join(c.SwanctlDir(), rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o600)
}

// Initiate starts a CHILD_SA (and its IKE SA if needed) and waits for it.
func (c *Charon) Initiate(child string) error {
	_, err := c.Swanctl("--initiate", "--child", child, "--timeout", "15")
	return err
}

// InitiateIKE starts an IKE SA only (its children with start_action are not
// affected).
func (c *Charon) InitiateIKE(ike string) error {
	_, err := c.Swanctl("--initiate", "--ike", ike, "--timeout", "15")
	return err
}

// Terminate deletes an IKE SA by connection name, with its CHILD_SAs.
func (c *Charon) Terminate(ike string) error {
	_, err := c.Swanctl("--terminate", "--ike", ike, "--timeout", "10")
	return err
}

// TerminateChild deletes the CHILD_SAs of a child config.
func (c *Charon) TerminateChild(child string) error {
	_, err := c.Swanctl("--terminate", "--child", child, "--timeout", "10")
	return err
}

// RekeyChild rekeys a CHILD_SA.
func (c *Charon) RekeyChild(child string) error {
	_, err := c.Swanctl("--rekey", "--child", child)
	return err
}

// RekeyIKE rekeys an IKE SA.
func (c *Charon) RekeyIKE(ike string) error {
	_, err := c.Swanctl("--rekey", "--ike", ike)
	return err
}

// ListSAsRaw returns `swanctl --list-sas` as charon prints it.
func (c *Charon) ListSAsRaw() (string, error) { return c.Swanctl("--list-sas") }

// ListSAs returns the IKE SAs with their CHILD_SAs.
func (c *Charon) ListSAs() ([]IKESA, error) {
	out, err := c.Swanctl("--list-sas", "--pretty")
	if err != nil {
		return nil, err
	}
	return parseListSAs(out)
}

// WaitChild waits until a CHILD_SA of the named child config is INSTALLED.
func (c *Charon) WaitChild(child string, timeout time.Duration) (ChildSA, error) {
	deadline := time.Now().Add(timeout)
	for {
		sas, err := c.ListSAs()
		if err != nil {
			return ChildSA{}, err
		}
		for _, ike := range sas {
			for _, ch := range ike.Children {
				if ch.Name == child && ch.State == "INSTALLED" {
					return ch, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return ChildSA{}, fmt.Errorf("strongswan: CHILD_SA %s not installed within %v", child, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill ends charon with SIGKILL: its peers are not told, their SAs stay.
// Tests use it to hand the local half of a negotiated CHILD_SA to another
// ESP implementation (see ESPKeys).
func (c *Charon) Kill() { c.proc.Kill() }

// Log returns charon's log so far.
func (c *Charon) Log() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return c.proc.Output()
		}
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(b) + c.proc.Output()
}

// Keys parses the IKE and ESP keys from the log (needs Options.KeyLog).
func (c *Charon) Keys() (Keys, error) { return ParseKeys(c.Log()) }
