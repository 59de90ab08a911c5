package store

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// Record encodings, version 1. Integers are big-endian; times are Unix
// nanoseconds (0 = zero time); strings carry a 2-octet length.
//
//	Lease:   ver(1)=1 | address(16) | prefixLen(1) | expiry(8) | renewAt(8) | spii(8) |
//	         spir(8) | source(1) | iaid(4) | identity(2+n) | serverDUID(1+n)
//	Binding: ver(1)=1 | hoa(16) | coa(16) | sequence(2) | lifetime ns(8) |
//	         expiry(8) | identity(2+n)
//	PAD:     ver(1)=1 | hoa(16) | flags(1) (0x01 temporary) | expiry(8) |
//	         identity(2+n)
const recordVersion = 1

// DecodeError reports a stored record that cannot be read.
type DecodeError struct {
	Record string // "lease", "binding", "pad"
	Field  string
	Reason string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("store: %s record: %s: %s", e.Record, e.Field, e.Reason)
}

type reader struct {
	rec string
	b   []byte
	err error
}

func (r *reader) take(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.err = &DecodeError{r.rec, field, fmt.Sprintf("need %d octets, %d left", n, len(r.b))}
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8(field string) uint8 {
	if v := r.take(field, 1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16(field string) uint16 {
	if v := r.take(field, 2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (r *reader) u32(field string) uint32 {
	if v := r.take(field, 4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64(field string) uint64 {
	if v := r.take(field, 8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (r *reader) addr(field string) netip.Addr {
	if v := r.take(field, 16); v != nil {
		return netip.AddrFrom16([16]byte(v))
	}
	return netip.Addr{}
}

func (r *reader) time(field string) time.Time {
	n := int64(r.u64(field))
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func (r *reader) str(field string) string {
	n := int(r.u16(field + " length"))
	if n > MaxIdentityLen && r.err == nil {
		r.err = &DecodeError{r.rec, field, fmt.Sprintf("length %d exceeds %d", n, MaxIdentityLen)}
	}
	return string(r.take(field, n))
}

func (r *reader) version() {
	if v := r.u8("version"); r.err == nil && v != recordVersion {
		r.err = &DecodeError{r.rec, "version", fmt.Sprintf("version %d not supported (want %d)", v, recordVersion)}
	}
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = &DecodeError{r.rec, "end", fmt.Sprintf("%d trailing octets", len(r.b))}
	}
	return r.err
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.BigEndian.AppendUint64(b, 0)
	}
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))
}

func appendAddr(b []byte, a netip.Addr) []byte {
	v := a.As16()
	return append(b, v[:]...)
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// AppendLease appends l's encoding to b.
func AppendLease(b []byte, l *Lease) []byte {
	b = append(b, recordVersion)
	b = appendAddr(b, l.Address)
	b = append(b, l.PrefixLen)
	b = appendTime(b, l.Expiry)
	b = appendTime(b, l.RenewAt)
	b = binary.BigEndian.AppendUint64(b, l.IKESA.SPIi)
	b = binary.BigEndian.AppendUint64(b, l.IKESA.SPIr)
	b = append(b, byte(l.Source))
	b = binary.BigEndian.AppendUint32(b, l.IAID)
	b = appendStr(b, l.Identity)
	b = append(b, byte(len(l.ServerDUID)))
	return append(b, l.ServerDUID...)
}

// DecodeLease decodes a lease record into l.
func DecodeLease(b []byte, l *Lease) error {
	r := reader{rec: "lease", b: b}
	r.version()
	l.Address = r.addr("address")
	l.PrefixLen = r.u8("prefix length")
	l.Expiry = r.time("expiry")
	l.RenewAt = r.time("renew at")
	l.IKESA.SPIi = r.u64("IKE SPIi")
	l.IKESA.SPIr = r.u64("IKE SPIr")
	l.Source = LeaseSource(r.u8("source"))
	l.IAID = r.u32("IAID")
	l.Identity = r.str("identity")
	n := int(r.u8("server DUID length"))
	if d := r.take("server DUID", n); n > 0 && d != nil {
		l.ServerDUID = append([]byte(nil), d...)
	} else {
		l.ServerDUID = nil
	}
	if r.err == nil && l.PrefixLen > 128 {
		r.err = &DecodeError{"lease", "prefix length", fmt.Sprintf("%d exceeds 128", l.PrefixLen)}
	}
	return r.done()
}

// AppendBinding appends b's encoding to dst.
func AppendBinding(dst []byte, b *Binding) []byte {
	dst = append(dst, recordVersion)
	dst = appendAddr(dst, b.HomeAddress)
	dst = appendAddr(dst, b.CareOfAddress)
	dst = binary.BigEndian.AppendUint16(dst, b.Sequence)
	dst = binary.BigEndian.AppendUint64(dst, uint64(b.Lifetime))
	dst = appendTime(dst, b.Expiry)
	return appendStr(dst, b.Identity)
}

// DecodeBinding decodes a binding record into b.
func DecodeBinding(src []byte, b *Binding) error {
	r := reader{rec: "binding", b: src}
	r.version()
	b.HomeAddress = r.addr("home address")
	b.CareOfAddress = r.addr("care-of address")
	b.Sequence = r.u16("sequence")
	b.Lifetime = time.Duration(r.u64("lifetime"))
	b.Expiry = r.time("expiry")
	b.Identity = r.str("identity")
	return r.done()
}

// AppendPAD appends p's encoding to b.
func AppendPAD(b []byte, p *PADEntry) []byte {
	b = append(b, recordVersion)
	b = appendAddr(b, p.HomeAddress)
	var flags byte
	if p.Temporary {
		flags |= 0x01
	}
	b = append(b, flags)
	b = appendTime(b, p.Expiry)
	return appendStr(b, p.Identity)
}

// DecodePAD decodes a PAD record into p.
func DecodePAD(b []byte, p *PADEntry) error {
	r := reader{rec: "pad", b: b}
	r.version()
	p.HomeAddress = r.addr("home address")
	flags := r.u8("flags")
	p.Temporary = flags&0x01 != 0
	p.Expiry = r.time("expiry")
	p.Identity = r.str("identity")
	return r.done()
}
