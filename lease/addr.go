package lease

import (
	"encoding/binary"
	"net/netip"
)

// u128 is an IPv6 address as a number, for walking a pool.
type u128 struct{ hi, lo uint64 }

func toU128(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (u u128) addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.hi)
	binary.BigEndian.PutUint64(b[8:], u.lo)
	return netip.AddrFrom16(b)
}

func (u u128) add(n uint64) u128 {
	lo := u.lo + n
	hi := u.hi
	if lo < u.lo {
		hi++
	}
	return u128{hi, lo}
}

func (u u128) less(v u128) bool { return u.hi < v.hi || (u.hi == v.hi && u.lo < v.lo) }

// sub returns u-v, saturated at 2^64-1 (pools are walked at most that far).
func (u u128) sub(v u128) uint64 {
	if u.hi == v.hi {
		return u.lo - v.lo
	}
	if u.hi == v.hi+1 && u.lo < v.lo {
		return u.lo - v.lo
	}
	return ^uint64(0)
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	u := toU128(p.Masked().Addr())
	bits := 128 - p.Bits()
	switch {
	case bits >= 64:
		u.lo = ^uint64(0)
		if bits > 64 {
			u.hi |= ^uint64(0) >> (128 - bits)
		}
	case bits > 0:
		u.lo |= ^uint64(0) >> (64 - bits)
	}
	return u.addr()
}

// Reserved reports whether a is an address of prefix p that must never be
// a home address: the Subnet-Router anycast address (RFC 4291 §2.6.1) and
// the reserved subnet anycast addresses of RFC 2526 §2 — for a 64-bit
// interface identifier the range fdff:ffff:ffff:ff80-fdff:ffff:ffff:ffff,
// otherwise the highest 128 addresses of the prefix. The Mobile IPv6
// Home-Agents anycast address (anycast ID 0x7e) is among them.
func Reserved(p netip.Prefix, a netip.Addr) bool {
	p = p.Masked()
	if a == p.Addr() {
		return true
	}
	last := toU128(lastAddr(p))
	u := toU128(a)
	if p.Bits() == 64 {
		return u.lo >= 0xfdffffffffffff80 && u.lo <= 0xfdffffffffffffff
	}
	if p.Bits() > 121 {
		return false
	}
	return last.sub(u) < 128
}
