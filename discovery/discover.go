package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Config is the mobile node's seed information for finding a home agent
// (RFC 4640 §8, Parameter Set 1). Only Identity is required, and only when
// nothing else is given.
type Config struct {
	// Identity is the MN's NAI; its realm is the home domain when no
	// Domain, HAName, HomePrefix or Static address is configured.
	Identity string
	// Domain is the home domain for the SRV lookup.
	Domain string
	// HAName is a home agent's FQDN (RFC 5026 §3.2.1).
	HAName string
	// HomePrefix enables DHAAD (needs DHAAD).
	HomePrefix netip.Prefix
	// Static addresses are tried first, in order.
	Static []netip.Addr

	Resolver *Resolver
	// Intn is the random source for RFC 2782 weighted selection: a uniform
	// integer in [0, n). Nil: math/rand/v2.
	Intn func(n int) int
	// DHAAD sends the Home Agent Address Discovery Request; required with
	// HomePrefix.
	DHAAD *DHAADClient
}

// InfrastructureLessError: the seed names no domain, home agent, prefix or
// address, so there is nobody the MN has a trust relationship with. RFC
// 4640 §7.4 and §9.1 put this case out of scope; refusing is the answer.
type InfrastructureLessError struct {
	Identity string
}

func (e *InfrastructureLessError) Error() string {
	return fmt.Sprintf("discovery: no home domain, home agent name, home prefix or home agent address configured and identity %q has no realm: "+
		"bootstrapping without a mobility service provider the node trusts is not supported (RFC 4640 §7.4, §9.1); configure one of them", e.Identity)
}

// NotFoundError: every configured method failed; Errs has one error per
// method, in order.
type NotFoundError struct {
	Errs []error
}

func (e *NotFoundError) Error() string {
	s := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		s[i] = strings.TrimPrefix(err.Error(), "discovery: ")
	}
	return "discovery: no home agent found: " + strings.Join(s, "; ")
}

func (e *NotFoundError) Unwrap() []error { return e.Errs }

// Realm returns the realm of an NAI (RFC 7542: the part after the last
// '@'), or "" when it has none or it is not a domain name.
func Realm(nai string) string {
	i := strings.LastIndexByte(nai, '@')
	if i < 0 || i == len(nai)-1 {
		return ""
	}
	r := nai[i+1:]
	if _, ok := dns.IsDomainName(r); !ok || strings.Trim(r, ".") == "" {
		return ""
	}
	return r
}

// Discover builds the candidate list, in this order: static addresses, the
// HA name's AAAA, DHAAD on the home prefix, the SRV records of the domain
// (Domain, else the NAI's realm when nothing else is configured). A method
// that fails is skipped if another one yields candidates; when none does,
// *NotFoundError names each cause.
func Discover(ctx context.Context, cfg Config) (*List, error) {
	domain := cfg.Domain
	if domain == "" && cfg.HAName == "" && !cfg.HomePrefix.IsValid() && len(cfg.Static) == 0 {
		domain = Realm(cfg.Identity)
		if domain == "" {
			return nil, &InfrastructureLessError{Identity: cfg.Identity}
		}
	}
	res := cfg.Resolver
	if res == nil {
		res = &Resolver{}
	}
	var cands []Candidate
	var errs []error
	for _, a := range cfg.Static {
		if why := usable(a); why != "" {
			errs = append(errs, fmt.Errorf("static home agent address %v is %s", a, why))
			continue
		}
		cands = append(cands, Candidate{Addr: a, Source: SourceStatic})
	}
	if cfg.HAName != "" {
		addrs, err := res.lookupAAAA(ctx, cfg.HAName)
		errs = appendErr(errs, err)
		for _, a := range addrs {
			cands = append(cands, Candidate{Addr: a.addr, Source: SourceFQDN, Name: dns.Fqdn(cfg.HAName), TTL: time.Duration(a.ttl) * time.Second})
		}
	}
	if cfg.HomePrefix.IsValid() {
		addrs, err := dhaad(ctx, cfg.DHAAD, cfg.HomePrefix)
		errs = appendErr(errs, err)
		for _, a := range addrs {
			cands = append(cands, Candidate{Addr: a, Source: SourceDHAAD})
		}
	}
	if domain != "" {
		cs, err := res.LookupSRV(ctx, domain, cfg.Intn)
		errs = appendErr(errs, err)
		cands = append(cands, cs...)
	}
	if err := ctx.Err(); err != nil && len(cands) == 0 {
		return nil, err
	}
	if len(cands) == 0 {
		return nil, &NotFoundError{Errs: errs}
	}
	return NewList(cands), nil
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		return append(errs, err)
	}
	return errs
}

func dhaad(ctx context.Context, c *DHAADClient, prefix netip.Prefix) ([]netip.Addr, error) {
	if c == nil {
		return nil, errors.New("discovery: home prefix " + prefix.String() + " configured but no DHAAD client to query it")
	}
	return c.Discover(ctx, prefix)
}
