package config

import (
	"strings"
	"time"
)

// MN is the mobile node's config file (mn.conf). Only the identity and one
// credential are required (RFC 4640 §8 minimal seed information).
type MN struct {
	Identity   string `toml:"identity"` // NAI, e.g. alice@example.net
	Credential struct {
		PSK         string   `toml:"psk"`
		Certificate string   `toml:"certificate"`
		PrivateKey  string   `toml:"private_key"`
		EAPMethod   string   `toml:"eap_method"` // md5, mschapv2, tls
		EAPIdentity string   `toml:"eap_identity"`
		Password    string   `toml:"password"`
		CA          []string `toml:"ca"` // to authenticate the home agent
		// AccessKeyFile holds the key of the network access authentication
		// (RFC 4640 Parameter Set 2) as JSON {"name": hex, "key": hex}, written
		// by the access client; the mobility key is derived from it.
		AccessKeyFile string `toml:"access_key_file"`
	} `toml:"credential"`
	HomeAgent struct {
		Address    Addr     `toml:"address"`
		FQDN       string   `toml:"fqdn"`
		Domain     string   `toml:"domain"`
		HomePrefix Prefix   `toml:"home_prefix"`
		DNSServer  AddrPort `toml:"dns_server"`
		Identity   string   `toml:"identity"` // expected IDr of the HA
		// ReanchorInterval: how often to look for a better home agent
		// (RFC 4640 §5.3); 0 uses the DNS records' TTL when DNS found the HA.
		ReanchorInterval Duration `toml:"reanchor_interval"`
		// DPDInterval: how often to check that the home agent still
		// answers (IKEv2 liveness check) when it has sent nothing; one that
		// does not is given up and the mobile node bootstraps again
		// (default 30s; "0s" off).
		DPDInterval *Duration `toml:"dpd_interval"`
		// AttemptTimeout bounds one bootstrap attempt with one home agent
		// candidate before the next is tried (default 30s).
		AttemptTimeout Duration `toml:"attempt_timeout"`
	} `toml:"home_agent"`
	HomeAddress Addr `toml:"home_address"` // suggested in CFG_REQUEST; optional
	Mobility    struct {
		Interfaces []string `toml:"interfaces"`
		// NATKeepalive: how often to send an RFC 3948 NAT-keepalive to the
		// home agent while away from home (default 20s; "0s" off).
		NATKeepalive *Duration `toml:"nat_keepalive"`
		Lifetime     Duration  `toml:"lifetime"`
		WireForm     string    `toml:"wire_form"`
		// ESPEncapsulation is the carrier asked for the payload tunnel:
		// "udp" (default) ESP in UDP on port 4500 (RFC 3948), IKE too from
		// the first message, so any NAT on the path is crossed; "none" raw
		// ESP (IP protocol 50, RFC 4303), 8 bytes less per packet and no
		// keepalives, IKE on port 500; needs a home agent with
		// ike.raw_esp and a raw socket here. A NAT on the path means UDP
		// whatever is asked (RFC 7296 §2.23).
		ESPEncapsulation string `toml:"esp_encapsulation"`
	} `toml:"mobility"`
	IKE   MNIKE `toml:"ike"`
	Cache struct {
		Path  string   `toml:"path"`
		Items []string `toml:"items"` // home_agent, home_address
	} `toml:"cache"`
	Daemon Daemon `toml:"daemon"`
}

// MNIKE is the mobile node's [ike] section: IKE, and how often the mobile
// node, the initiator, rekeys: Lifetime for the IKE SA (default 4h),
// ChildLifetime for its CHILD_SAs (default 1h); "0s" never.
type MNIKE struct {
	IKE
	ChildLifetime *Duration `toml:"child_lifetime"`
}

// LoadMN reads and validates a mobile node config file.
func LoadMN(path string) (*MN, error) {
	var c MN
	src, err := decodeFile(path, &c)
	if err != nil {
		return nil, err
	}
	if c.Mobility.Lifetime.Duration == 0 {
		c.Mobility.Lifetime.Duration = 10 * time.Minute
	}
	if c.Mobility.NATKeepalive == nil {
		c.Mobility.NATKeepalive = &Duration{20 * time.Second}
	}
	if c.IKE.Lifetime.Duration == 0 {
		c.IKE.Lifetime.Duration = 4 * time.Hour
	}
	if c.IKE.ChildLifetime == nil {
		c.IKE.ChildLifetime = &Duration{time.Hour}
	}
	if c.HomeAgent.DPDInterval == nil {
		c.HomeAgent.DPDInterval = &Duration{30 * time.Second}
	}
	if c.HomeAgent.AttemptTimeout.Duration == 0 {
		c.HomeAgent.AttemptTimeout.Duration = 30 * time.Second
	}
	if c.Mobility.WireForm == "" {
		c.Mobility.WireForm = "tunnel"
	}
	if c.Mobility.ESPEncapsulation == "" {
		c.Mobility.ESPEncapsulation = "udp"
	}
	c.Daemon.defaults("/run/mip6/mn.sock")
	if errs := c.validate(src); len(errs) > 0 {
		return nil, errs
	}
	return &c, nil
}

// RawESP reports whether the mobile node asks for raw ESP.
func (c *MN) RawESP() bool { return c.Mobility.ESPEncapsulation == "none" }

// Realm is the domain part of the NAI, or "".
func (c *MN) Realm() string {
	if i := strings.LastIndexByte(c.Identity, '@'); i >= 0 {
		return c.Identity[i+1:]
	}
	return ""
}

func (c *MN) validate(src *source) Errors {
	var errs Errors
	add := func(field, format string, args ...any) { errs = append(errs, src.errorf(field, format, args...)) }
	if c.Identity == "" {
		add("identity", "missing: the mobile node's identity (an NAI such as alice@example.net)")
	}
	cr := &c.Credential
	kinds := 0
	if cr.PSK != "" {
		kinds++
	}
	if cr.Certificate != "" || cr.PrivateKey != "" {
		kinds++
		if cr.Certificate == "" || cr.PrivateKey == "" {
			add("credential.private_key", "certificate and private_key go together: give both")
		}
	}
	if cr.AccessKeyFile != "" {
		kinds++
	}
	if cr.EAPMethod != "" {
		kinds++
		switch cr.EAPMethod {
		case "md5", "mschapv2":
			if cr.Password == "" {
				add("credential.password", "missing: eap_method %q needs a password", cr.EAPMethod)
			}
		case "tls":
			if cr.Certificate == "" {
				add("credential.certificate", "missing: eap_method \"tls\" needs certificate and private_key")
			}
			kinds-- // the certificate belongs to EAP-TLS here
		default:
			add("credential.eap_method", "%q: use md5, mschapv2 or tls", cr.EAPMethod)
		}
	}
	switch {
	case kinds == 0:
		add("credential", "missing: give one credential: psk, certificate + private_key, eap_method + password, or access_key_file")
	case kinds > 1:
		add("credential", "more than one credential: give exactly one of psk, certificate + private_key, eap_method, access_key_file")
	}
	ha := &c.HomeAgent
	// RFC 4640 §7.4/§9.1: with no infrastructure to find or trust an HA, refuse.
	if !ha.Address.IsValid() && ha.FQDN == "" && ha.Domain == "" && !ha.HomePrefix.IsValid() && c.Realm() == "" {
		add("home_agent", "nothing to find a home agent with: give identity as user@domain, or home_agent.domain, fqdn, home_prefix or address (RFC 4640 §9.1 refuses infrastructure-less bootstrapping)")
	}
	if c.HomeAddress.IsValid() && ha.HomePrefix.IsValid() && !ha.HomePrefix.Contains(c.HomeAddress.Addr) {
		add("home_address", "%s is outside home_agent.home_prefix %s", c.HomeAddress, ha.HomePrefix)
	}
	if d := ha.DPDInterval.Duration; d < 0 || d > 0 && d < time.Second {
		add("home_agent.dpd_interval", "%v: give 1s or more, or \"0s\" for no liveness checks", d)
	}
	for _, r := range []struct {
		field string
		d     time.Duration
	}{{"ike.lifetime", c.IKE.Lifetime.Duration}, {"ike.child_lifetime", c.IKE.ChildLifetime.Duration}} {
		if r.d > 0 && r.d < 2*time.Second {
			add(r.field, "%v: give 2s or more (how long before the mobile node rekeys), or \"0s\" never", r.d)
		}
	}
	if d := ha.AttemptTimeout.Duration; d < time.Second {
		add("home_agent.attempt_timeout", "%v: give 1s or more (how long to try one home agent before the next)", d)
	}
	errs = append(errs, checkWireForm(src, "mobility.wire_form", c.Mobility.WireForm)...)
	if e := c.Mobility.ESPEncapsulation; e != "udp" && e != "none" {
		add("mobility.esp_encapsulation", "%q: use \"udp\" (ESP in UDP 4500, RFC 3948) or \"none\" (raw ESP, IP protocol 50)", e)
	}
	for _, it := range c.Cache.Items {
		if it != "home_agent" && it != "home_address" {
			add("cache.items", "%q: use home_agent and/or home_address", it)
		}
	}
	errs = append(errs, c.IKE.validate(src, "ike")...)
	errs = append(errs, c.Daemon.validate(src, "daemon")...)
	return errs
}
