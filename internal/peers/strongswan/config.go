// Package strongswan runs private strongSwan charon instances (charon-systemd
// with kernel-libipsec) inside test network namespaces, configures them
// through swanctl, and reads back their SAs and, when key logging is on, the
// IKE and ESP keys they negotiated. System tests use it as the reference
// IKEv2/ESP peer.
package strongswan

import (
	"fmt"
	"strconv"
	"strings"
)

// Config is what Load hands to charon: connections, secrets and pools,
// rendered as a swanctl.conf.
type Config struct {
	Connections []Conn
	Secrets     []Secret
	Pools       []Pool
}

// Conn is one swanctl connection (an IKE SA template).
type Conn struct {
	Name        string
	Version     int      // IKE version; 0 means 2
	LocalAddrs  []string // local_addrs
	RemoteAddrs []string // remote_addrs; empty means %any
	LocalPort   int      // 0: default
	RemotePort  int      // 0: default
	Proposals   []string // IKE proposals, e.g. "aes128gcm16-prfsha256-x25519"
	Encap       bool     // force UDP encapsulation (libipsec needs it)
	NoMobike    bool     // mobike = no
	Vips        []string // addresses requested through CP ("::" = any)
	Pools       []string // pools to assign from
	RekeyTime   string   // IKE rekey_time, e.g. "1h"; "" default, "0" off
	ReauthTime  string
	DPDDelay    string
	Fragment    string // fragmentation = yes|accept|force|no
	Unique      string // unique = no|never|keep|replace
	Local       []Auth // authentication rounds, at least one
	Remote      []Auth
	Children    []Child
}

// Auth is one local or remote authentication round.
type Auth struct {
	Auth    string   // psk, pubkey, eap-md5, eap-mschapv2, eap-tls, eap-radius, eap-dynamic, ...
	ID      string   // IKE identity
	EAPID   string   // eap_id
	Certs   []string // certificate files (relative to the x509 dir, or absolute)
	CACerts []string // cacerts
	PubKeys []string
}

// Child is one CHILD_SA template.
type Child struct {
	Name         string
	LocalTS      []string // e.g. "2001:db8::1/128[135/1280]" (MH type 5, RFC 4301 §4.4.1.1)
	RemoteTS     []string
	ESPProposals []string // e.g. "aes128gcm16"
	Mode         string   // tunnel (default), transport
	RekeyTime    string
	LifeTime     string
	StartAction  string // none, trap, start
	CloseAction  string
	DPDAction    string
	ReplayWindow int // 0: default
	Updown       string
}

// Secret is a shared secret (type "ike" for PSK, "eap" for EAP passwords).
type Secret struct {
	Type string // ike, eap, xauth
	IDs  []string
	Data string
}

// Pool is an address pool handed out through CP.
type Pool struct {
	Name  string
	Addrs string // range or subnet
	DNS   []string
}

// confWriter renders the swanctl.conf syntax; every value is quoted.
type confWriter struct {
	b     strings.Builder
	depth int
}

func (w *confWriter) open(name string) {
	fmt.Fprintf(&w.b, "%s%s {\n", strings.Repeat("  ", w.depth), name)
	w.depth++
}

func (w *confWriter) close() {
	w.depth--
	fmt.Fprintf(&w.b, "%s}\n", strings.Repeat("  ", w.depth))
}

func (w *confWriter) kv(key, value string) {
	if value == "" {
		return
	}
	fmt.Fprintf(&w.b, "%s%s = %s\n", strings.Repeat("  ", w.depth), key, strconv.Quote(value))
}

func (w *confWriter) list(key string, values []string) { w.kv(key, strings.Join(values, ",")) }

func (w *confWriter) num(key string, v int) {
	if v != 0 {
		w.kv(key, strconv.Itoa(v))
	}
}

func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Validate reports configuration errors swanctl would report less clearly.
func (c *Config) Validate() error {
	seen := map[string]bool{}
	for i, conn := range c.Connections {
		switch {
		case conn.Name == "":
			return fmt.Errorf("strongswan: connection %d: no name", i)
		case seen[conn.Name]:
			return fmt.Errorf("strongswan: connection %q defined twice", conn.Name)
		case len(conn.Local) == 0 || len(conn.Remote) == 0:
			return fmt.Errorf("strongswan: connection %q: needs local and remote auth rounds", conn.Name)
		}
		seen[conn.Name] = true
		for j, ch := range conn.Children {
			if ch.Name == "" {
				return fmt.Errorf("strongswan: connection %q: child %d: no name", conn.Name, j)
			}
		}
	}
	for i, s := range c.Secrets {
		if s.Type == "" || s.Data == "" {
			return fmt.Errorf("strongswan: secret %d: type and data required", i)
		}
	}
	return nil
}

// SwanctlConf renders the configuration as swanctl.conf text.
func (c *Config) SwanctlConf() string {
	var w confWriter
	w.open("connections")
	for _, conn := range c.Connections {
		writeConn(&w, conn)
	}
	w.close()
	w.open("secrets")
	for i, s := range c.Secrets {
		w.open(fmt.Sprintf("%s-%d", s.Type, i))
		for j, id := range s.IDs {
			w.kv(fmt.Sprintf("id-%d", j), id)
		}
		w.kv("secret", s.Data)
		w.close()
	}
	w.close()
	w.open("pools")
	for _, p := range c.Pools {
		w.open(p.Name)
		w.kv("addrs", p.Addrs)
		w.list("dns", p.DNS)
		w.close()
	}
	w.close()
	return w.b.String()
}

func writeConn(w *confWriter, c Conn) {
	w.open(c.Name)
	v := c.Version
	if v == 0 {
		v = 2
	}
	w.num("version", v)
	w.list("local_addrs", c.LocalAddrs)
	w.list("remote_addrs", c.RemoteAddrs)
	w.num("local_port", c.LocalPort)
	w.num("remote_port", c.RemotePort)
	w.list("proposals", c.Proposals)
	w.kv("encap", yesno(c.Encap))
	w.kv("mobike", yesno(!c.NoMobike))
	w.list("vips", c.Vips)
	w.list("pools", c.Pools)
	w.kv("rekey_time", c.RekeyTime)
	w.kv("reauth_time", c.ReauthTime)
	w.kv("dpd_delay", c.DPDDelay)
	w.kv("fragmentation", c.Fragment)
	w.kv("unique", c.Unique)
	writeAuths(w, "local", c.Local)
	writeAuths(w, "remote", c.Remote)
	w.open("children")
	for _, ch := range c.Children {
		writeChild(w, ch)
	}
	w.close()
	w.close()
}

func writeAuths(w *confWriter, side string, rounds []Auth) {
	for i, a := range rounds {
		name := side
		if i > 0 {
			name = fmt.Sprintf("%s-%d", side, i+1)
		}
		w.open(name)
		w.kv("auth", a.Auth)
		w.kv("id", a.ID)
		w.kv("eap_id", a.EAPID)
		w.list("certs", a.Certs)
		w.list("cacerts", a.CACerts)
		w.list("pubkeys", a.PubKeys)
		w.close()
	}
}

func writeChild(w *confWriter, ch Child) {
	w.open(ch.Name)
	w.list("local_ts", ch.LocalTS)
	w.list("remote_ts", ch.RemoteTS)
	w.list("esp_proposals", ch.ESPProposals)
	w.kv("mode", ch.Mode)
	w.kv("rekey_time", ch.RekeyTime)
	w.kv("life_time", ch.LifeTime)
	w.kv("start_action", ch.StartAction)
	w.kv("close_action", ch.CloseAction)
	w.kv("dpd_action", ch.DPDAction)
	w.num("replay_window", ch.ReplayWindow)
	w.kv("updown", ch.Updown)
	w.close()
}
