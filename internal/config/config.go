// Package config loads and validates the one config file of each mip6 role
// (home agent, mobile node). Every error names the file, the line and the
// field, and says what to fix.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Error is a config error at a place in a file.
type Error struct {
	File  string
	Line  int    // 0 when the error is about the file as a whole
	Field string // dotted TOML key, e.g. "home_agent.home_prefix"
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// Errors is every problem found in one file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Addr is an IPv6 address in a config file.
type Addr struct{ netip.Addr }

func (a *Addr) UnmarshalText(b []byte) error {
	x, err := netip.ParseAddr(string(b))
	if err != nil || !x.Is6() || x.Is4In6() {
		return fmt.Errorf("%q is not an IPv6 address (write it like 2001:db8::1)", b)
	}
	a.Addr = x
	return nil
}

func (a Addr) MarshalText() ([]byte, error) { return []byte(a.Addr.String()), nil }

// Prefix is an IPv6 prefix in a config file.
type Prefix struct{ netip.Prefix }

func (p *Prefix) UnmarshalText(b []byte) error {
	x, err := netip.ParsePrefix(string(b))
	if err != nil || !x.Addr().Is6() {
		return fmt.Errorf("%q is not an IPv6 prefix (write it like 2001:db8:1::/64)", b)
	}
	if x.Masked() != x {
		return fmt.Errorf("%q has host bits set; the prefix is %s", b, x.Masked())
	}
	p.Prefix = x
	return nil
}

func (p Prefix) MarshalText() ([]byte, error) { return []byte(p.Prefix.String()), nil }

// AddrPort is an address and port such as "[2001:db8::1]:4500".
type AddrPort struct{ netip.AddrPort }

func (a *AddrPort) UnmarshalText(b []byte) error {
	x, err := netip.ParseAddrPort(string(b))
	if err != nil {
		return fmt.Errorf("%q is not an address and port (write it like [2001:db8::1]:4500)", b)
	}
	a.AddrPort = x
	return nil
}

func (a AddrPort) MarshalText() ([]byte, error) { return []byte(a.AddrPort.String()), nil }

// Duration is a Go duration string such as "10m" or "90s".
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	x, err := time.ParseDuration(string(b))
	if err != nil || x < 0 {
		return fmt.Errorf("%q is not a duration (write it like 90s, 10m or 2h)", b)
	}
	d.Duration = x
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// decodeFile decodes path into v, rejecting unknown keys, and returns the
// raw text so that later checks can point at lines.
func decodeFile(path string, v any) (*source, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read config: %v", errors.Unwrap(err))}
	}
	md, err := toml.Decode(string(data), v)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: path, Line: pe.Position.Line, Field: pe.LastKey, Msg: pe.Message}
		}
		return nil, &Error{File: path, Msg: err.Error()}
	}
	src := &source{file: path, lines: strings.Split(string(data), "\n")}
	var errs Errors
	for _, k := range md.Undecoded() {
		errs = append(errs, src.errorf(k.String(), "unknown field (check its spelling and the section it is in)"))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return src, nil
}

// source finds the line of a dotted key for errors found after decoding.
type source struct {
	file  string
	lines []string
}

// line returns the 1-based line defining key "a.b.c" (table a.b, key c), or
// of its table when the key itself is absent, or 0.
func (s *source) line(key string) int {
	table, name := "", key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		table, name = key[:i], key[i+1:]
	}
	// Array-of-table keys look like "peers.2.psk"; match the table name only.
	table = stripIndexes(table)
	cur, tableLine := "", 0
	for i, l := range s.lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "[") {
			cur = strings.Trim(strings.SplitN(t, "#", 2)[0], "[] \t")
			if cur == table {
				tableLine = i + 1
			}
			continue
		}
		if cur != table {
			continue
		}
		if k, _, ok := strings.Cut(t, "="); ok && strings.TrimSpace(k) == name {
			return i + 1
		}
	}
	return tableLine
}

func stripIndexes(key string) string {
	parts := strings.Split(key, ".")
	out := parts[:0]
	for _, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ".")
}

func (s *source) errorf(field, format string, args ...any) *Error {
	return &Error{File: s.file, Line: s.line(field), Field: field, Msg: fmt.Sprintf(format, args...)}
}
