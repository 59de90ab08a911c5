package config

import (
	"fmt"
	"net/netip"
	"time"
)

// HA is the home agent's config file (ha.conf).
type HA struct {
	HomeAgent struct {
		Address       Addr     `toml:"address"`        // the HA's address on the home link
		HomePrefix    Prefix   `toml:"home_prefix"`    // the home link's prefix
		HomeInterface string   `toml:"home_interface"` // real mode: the home link (proxy ND)
		MaxLifetime   Duration `toml:"max_lifetime"`   // binding lifetime cap
		// WireForm "tunnel" (RFC 4877 §3) accepts only tunnelled BU/BA;
		// "transport" also accepts the RFC 3776 form from the mobile nodes
		// that ask for it (each MN chooses; the payload tunnel is the same).
		WireForm string `toml:"wire_form"`
	} `toml:"home_agent"`
	IKE         HAIKE        `toml:"ike"`
	Addresses   AddressPool  `toml:"addresses"`
	MobileNodes []MobileNode `toml:"mobile_node"`
	RADIUS      RADIUS       `toml:"radius"`
	Store       Store        `toml:"store"`
	// AccessKeys is where an integrated ASP's AAA server leaves each
	// subscriber's network access key (RFC 4640 §7.2, Parameter Set 2):
	// one JSON file per identity, {"name": hex, "key": hex, "issued": time}.
	AccessKeys struct {
		Dir      string   `toml:"dir"`
		Lifetime Duration `toml:"lifetime"` // of the derived mobility key
	} `toml:"access_keys"`
	Daemon Daemon `toml:"daemon"`
}

// IKE is the IKEv2 part of a role's config.
type IKE struct {
	Listen          []AddrPort `toml:"listen"`
	Identity        string     `toml:"identity"` // our IDr/IDi; defaults to the address
	Proposals       []string   `toml:"proposals"`
	ESPProposals    []string   `toml:"esp_proposals"`
	Certificate     string     `toml:"certificate"`
	PrivateKey      string     `toml:"private_key"`
	CA              []string   `toml:"ca"`
	CookieThreshold int        `toml:"cookie_threshold"` // half-open SAs before cookies are required
	KeyLog          string     `toml:"key_log"`          // file for Wireshark-readable keys; empty = off
	Lifetime        Duration   `toml:"lifetime"`         // IKE SA lifetime before rekeying
}

// HAIKE is the home agent's [ike] section: IKE, and the ESP carriers it
// serves.
type HAIKE struct {
	IKE
	// RawESP also serves raw ESP (IP protocol 50, no UDP header) beside ESP
	// in UDP on port 4500 (RFC 3948), which stays on for the mobile nodes
	// behind NATs: each mobile node's CHILD_SAs use the carrier its IKE SA
	// negotiated (RFC 7296 §2.23: UDP when IKE runs on port 4500 or sees a
	// NAT, raw ESP otherwise). It costs a raw socket for protocol 50 on
	// home_agent.address (every ESP packet to it is copied there) and,
	// with wire_form "transport", the at-home Binding Updates (plain ESP)
	// come through that socket instead of the nftables capture.
	RawESP bool `toml:"raw_esp"`
}

// AddressPool says where home addresses come from.
type AddressPool struct {
	Source          string `toml:"source"` // "pool" (default) or "dhcpv6"
	Pool            Prefix `toml:"pool"`   // must lie inside the home prefix
	DHCPv6Interface string `toml:"dhcpv6_interface"`
}

// MobileNode is one PAD entry: an identity, how it authenticates and which
// home address it may claim.
type MobileNode struct {
	Identity    string `toml:"identity"`
	Auth        string `toml:"auth"` // "psk", "pubkey", "eap" or "access_key"
	PSK         string `toml:"psk"`
	HomeAddress Addr   `toml:"home_address"` // static HoA; empty = assigned from the pool
}

// RADIUS is the AAA server list for EAP pass-through and accounting.
type RADIUS struct {
	Servers []AddrPort `toml:"servers"`
	Secret  string     `toml:"secret"`
	// Realms whose users the AAA server authenticates (EAP) without a
	// mobile_node entry here, e.g. ["example.net"].
	Realms        []string `toml:"realms"`
	NASIdentifier string   `toml:"nas_identifier"`
	Accounting    bool     `toml:"accounting"`
	// AccountingServers default to each server's port + 1 (1812 -> 1813).
	AccountingServers []AddrPort `toml:"accounting_servers"`
	InterimInterval   Duration   `toml:"interim_interval"`
	Timeout           Duration   `toml:"timeout"`
}

// Daemon holds what every role has: control socket, metrics and logs.
type Daemon struct {
	ControlSocket string   `toml:"control_socket"`
	MetricsListen AddrPort `toml:"metrics_listen"`
	LogLevel      string   `toml:"log_level"`  // debug, info, warn, error
	LogFormat     string   `toml:"log_format"` // text or json
}

// LoadHA reads and validates a home agent config file.
func LoadHA(path string) (*HA, error) {
	var c HA
	src, err := decodeFile(path, &c)
	if err != nil {
		return nil, err
	}
	c.defaults()
	if errs := c.validate(src); len(errs) > 0 {
		return nil, errs
	}
	return &c, nil
}

func (c *HA) defaults() {
	if c.HomeAgent.MaxLifetime.Duration == 0 {
		c.HomeAgent.MaxLifetime.Duration = 10 * time.Minute
	}
	if c.HomeAgent.WireForm == "" {
		c.HomeAgent.WireForm = "tunnel"
	}
	if c.Addresses.Source == "" {
		c.Addresses.Source = "pool"
	}
	if !c.Addresses.Pool.IsValid() {
		c.Addresses.Pool = c.HomeAgent.HomePrefix
	}
	if c.IKE.CookieThreshold == 0 {
		c.IKE.CookieThreshold = 64
	}
	if c.IKE.Lifetime.Duration == 0 {
		c.IKE.Lifetime.Duration = 4 * time.Hour
	}
	if c.RADIUS.Timeout.Duration == 0 {
		c.RADIUS.Timeout.Duration = 3 * time.Second
	}
	c.Store.defaults()
	c.Daemon.defaults("/run/mip6/ha.sock")
}

func (d *Daemon) defaults(sock string) {
	if d.ControlSocket == "" {
		d.ControlSocket = sock
	}
	if d.LogLevel == "" {
		d.LogLevel = "info"
	}
	if d.LogFormat == "" {
		d.LogFormat = "text"
	}
}

func (c *HA) validate(src *source) Errors {
	var errs Errors
	add := func(field, format string, args ...any) { errs = append(errs, src.errorf(field, format, args...)) }
	ha := &c.HomeAgent
	if !ha.HomePrefix.IsValid() {
		add("home_agent.home_prefix", "missing: the home link's prefix, e.g. 2001:db8:1::/64")
	}
	if !ha.Address.IsValid() {
		add("home_agent.address", "missing: the home agent's address on the home link")
	} else if ha.HomePrefix.IsValid() && !ha.HomePrefix.Contains(ha.Address.Addr) {
		add("home_agent.address", "%s is outside home_prefix %s", ha.Address, ha.HomePrefix)
	}
	errs = append(errs, checkWireForm(src, "home_agent.wire_form", ha.WireForm)...)
	if len(c.IKE.Listen) == 0 {
		add("ike.listen", "missing: where IKE listens, e.g. [\"[2001:db8:1::1]:500\", \"[2001:db8:1::1]:4500\"]")
	}
	errs = append(errs, c.IKE.validate(src, "ike")...)
	switch c.Addresses.Source {
	case "pool":
		if ha.HomePrefix.IsValid() && !prefixInside(c.Addresses.Pool.Prefix, ha.HomePrefix.Prefix) {
			add("addresses.pool", "%s is not inside home_prefix %s", c.Addresses.Pool, ha.HomePrefix)
		}
	case "dhcpv6":
		if c.Addresses.DHCPv6Interface == "" {
			add("addresses.dhcpv6_interface", "missing: the home-link interface to ask the DHCPv6 server on")
		}
	default:
		add("addresses.source", "%q: use \"pool\" or \"dhcpv6\"", c.Addresses.Source)
	}
	errs = append(errs, c.validateMobileNodes(src)...)
	errs = append(errs, c.Daemon.validate(src, "daemon")...)
	errs = append(errs, c.Store.validate(src)...)
	return errs
}

func (c *HA) validateMobileNodes(src *source) Errors {
	var errs Errors
	ids := map[string]int{}
	hoas := map[netip.Addr]int{}
	usesEAP := false
	for i, m := range c.MobileNodes {
		f := fmt.Sprintf("mobile_node.%d.", i)
		add := func(field, format string, args ...any) {
			errs = append(errs, src.errorf(f+field, format, args...))
		}
		if m.Identity == "" {
			add("identity", "missing: the mobile node's IKE identity, e.g. alice@example.net")
		} else if j, dup := ids[m.Identity]; dup {
			add("identity", "%q is also mobile_node %d: each identity once", m.Identity, j)
		}
		ids[m.Identity] = i
		switch m.Auth {
		case "psk":
			if len(m.PSK) < 16 {
				add("psk", "shorter than 16 characters: use a long random secret")
			}
		case "pubkey":
		case "eap":
			usesEAP = true
		case "access_key":
			if c.AccessKeys.Dir == "" {
				add("auth", "\"access_key\" needs access_keys.dir, where the AAA server leaves the access keys")
			}
		default:
			add("auth", "%q: use \"psk\", \"pubkey\", \"eap\" or \"access_key\"", m.Auth)
		}
		if m.HomeAddress.IsValid() {
			if c.HomeAgent.HomePrefix.IsValid() && !c.HomeAgent.HomePrefix.Contains(m.HomeAddress.Addr) {
				add("home_address", "%s is outside home_prefix %s", m.HomeAddress, c.HomeAgent.HomePrefix)
			}
			if j, dup := hoas[m.HomeAddress.Addr]; dup {
				add("home_address", "%s is also mobile_node %d's: one home address, one mobile node", m.HomeAddress, j)
			}
			hoas[m.HomeAddress.Addr] = i
		}
	}
	if len(c.RADIUS.Realms) > 0 {
		usesEAP = true
	}
	if usesEAP && (c.IKE.Certificate == "" || c.IKE.PrivateKey == "") {
		errs = append(errs, src.errorf("ike.certificate", "EAP mobile nodes authenticate the home agent by its certificate: give ike.certificate and ike.private_key"))
	}
	if usesEAP && (len(c.RADIUS.Servers) == 0 || c.RADIUS.Secret == "") {
		errs = append(errs, src.errorf("radius.servers", "a mobile node uses auth = \"eap\": give radius.servers and radius.secret"))
	}
	return errs
}

func (k *IKE) validate(src *source, sect string) Errors {
	var errs Errors
	if (k.Certificate == "") != (k.PrivateKey == "") {
		errs = append(errs, src.errorf(sect+".private_key", "certificate and private_key go together: give both or neither"))
	}
	for _, f := range []struct{ field, path string }{{"certificate", k.Certificate}, {"private_key", k.PrivateKey}} {
		if f.path != "" && !readable(f.path) {
			errs = append(errs, src.errorf(sect+"."+f.field, "cannot read %s", f.path))
		}
	}
	for _, p := range k.CA {
		if !readable(p) {
			errs = append(errs, src.errorf(sect+".ca", "cannot read %s", p))
		}
	}
	if k.CookieThreshold < 0 {
		errs = append(errs, src.errorf(sect+".cookie_threshold", "negative: give the number of half-open SAs before cookies are asked"))
	}
	return errs
}

func (d *Daemon) validate(src *source, sect string) Errors {
	var errs Errors
	switch d.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, src.errorf(sect+".log_level", "%q: use debug, info, warn or error", d.LogLevel))
	}
	if d.LogFormat != "text" && d.LogFormat != "json" {
		errs = append(errs, src.errorf(sect+".log_format", "%q: use text or json", d.LogFormat))
	}
	return errs
}

func prefixInside(inner, outer netip.Prefix) bool {
	return inner.Bits() >= outer.Bits() && outer.Contains(inner.Addr())
}

// checkWireForm accepts the RFC 4877 §3 tunnelled form and the RFC 3776
// transport form (Home Address option, type 2 routing header, ESP
// transport mode).
func checkWireForm(src *source, field, v string) Errors {
	switch v {
	case "tunnel", "transport":
		return nil
	}
	return Errors{src.errorf(field, "%q: use \"tunnel\" (RFC 4877 §3) or \"transport\" (RFC 3776)", v)}
}
