package mh

import (
	"encoding/binary"
	"net/netip"

	"mip6/wire/ipv6"
)

// Mobility Options (RFC 6275 §6.2) follow each message's fixed part:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Option Type  | Option Length |   Option Data...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Pad1 is one zero octet; PadN carries Option Length zero octets.
//
// Binding Refresh Advice (alignment 2n):
//
//	                                +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	                                |   Type = 2    |   Length = 2  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|       Refresh Interval        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Alternate Care-of Address (alignment 8n+6):
//
//	                                +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	                                |   Type = 3    |  Length = 16  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                   Alternate Care-of Address                   |
//	|                          (128 bits)                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Nonce Indices (alignment 2n):
//
//	                                +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	                                |   Type = 4    |   Length = 4  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|       Home Nonce Index        |     Care-of Nonce Index       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Binding Authorization Data (last option, hence implicitly 8n+2):
//
//	                                +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	                                |   Type = 5    | Option Length |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Authenticator                         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// Mobility option types.
const (
	OptPad1                     uint8 = 0
	OptPadN                     uint8 = 1
	OptBindingRefreshAdvice     uint8 = 2
	OptAlternateCareOfAddress   uint8 = 3
	OptNonceIndices             uint8 = 4
	OptBindingAuthorizationData uint8 = 5
)

// OptionSet records which options are present in Options.
type OptionSet uint8

const (
	HasBindingRefreshAdvice OptionSet = 1 << iota
	HasAlternateCareOfAddress
	HasNonceIndices
	HasBindingAuthorizationData
)

// Options holds the RFC 6275 Mobility Options of a message. Only fields
// whose bit is set in Present are meaningful. Decoding skips padding and
// options of unknown type (RFC 6275 §6.2.1); encoding writes the present
// options in the order below with canonical padding, the Binding
// Authorization Data option last.
type Options struct {
	Present OptionSet
	// RefreshInterval (Binding Refresh Advice) is in units of 4 seconds.
	RefreshInterval        uint16
	AlternateCareOfAddress netip.Addr
	HomeNonceIndex         uint16
	CareOfNonceIndex       uint16
	// Authenticator is a view into the decoded message; at most 255 bytes
	// are encoded.
	Authenticator []byte
}

// Has reports whether all options in s are present.
func (o *Options) Has(s OptionSet) bool { return o.Present&s == s }

type optionRule struct {
	bit            OptionSet
	name           string
	length         int // -1: any
	alignX, alignY int
}

var optionRules = [...]optionRule{
	OptBindingRefreshAdvice:     {HasBindingRefreshAdvice, "Binding Refresh Advice option", 2, 2, 0},
	OptAlternateCareOfAddress:   {HasAlternateCareOfAddress, "Alternate Care-of Address option", 16, 8, 6},
	OptNonceIndices:             {HasNonceIndices, "Nonce Indices option", 4, 2, 0},
	OptBindingAuthorizationData: {HasBindingAuthorizationData, "Binding Authorization Data option", -1, 8, 2},
}

// parseOptions decodes into o the options of message m (whole Mobility
// Header) that start at off; o must be zero.
func parseOptions(m []byte, off int, o *Options) error {
	it := OptionIter{b: m, off: off}
	for it.Next() {
		opt := it.Option()
		if opt.Type == OptPad1 || opt.Type == OptPadN {
			continue
		}
		if o.Has(HasBindingAuthorizationData) {
			return errAt("Binding Authorization Data option", "position", opt.Offset, "option %d follows it; it must be last", opt.Type)
		}
		if int(opt.Type) >= len(optionRules) {
			continue // unknown: skip
		}
		if err := o.take(opt); err != nil {
			return err
		}
	}
	return it.Err()
}

// take checks one known option and stores it.
func (o *Options) take(opt Option) error {
	r := optionRules[opt.Type]
	switch {
	case r.length >= 0 && len(opt.Data) != r.length:
		return errAt(r.name, "length", opt.Offset+1, "%d, want %d", len(opt.Data), r.length)
	case opt.Offset%r.alignX != r.alignY:
		return errAt(r.name, "alignment", opt.Offset, "offset %d, want %dn+%d", opt.Offset, r.alignX, r.alignY)
	case o.Has(r.bit):
		return errAt(r.name, "count", opt.Offset, "appears more than once")
	}
	o.Present |= r.bit
	d := opt.Data
	switch opt.Type {
	case OptBindingRefreshAdvice:
		o.RefreshInterval = binary.BigEndian.Uint16(d)
	case OptAlternateCareOfAddress:
		o.AlternateCareOfAddress = netip.AddrFrom16([16]byte(d))
	case OptNonceIndices:
		o.HomeNonceIndex, o.CareOfNonceIndex = binary.BigEndian.Uint16(d), binary.BigEndian.Uint16(d[2:])
	case OptBindingAuthorizationData:
		o.Authenticator = d
	}
	return nil
}

// append writes the present options of the message starting at start.
func (o *Options) append(b []byte, start int) []byte {
	align := func(r optionRule) {
		b = ipv6.AppendPadding(b, ipv6.PadTo(len(b)-start, r.alignX, r.alignY))
	}
	if o.Has(HasBindingRefreshAdvice) {
		align(optionRules[OptBindingRefreshAdvice])
		b = append(b, OptBindingRefreshAdvice, 2)
		b = binary.BigEndian.AppendUint16(b, o.RefreshInterval)
	}
	if o.Has(HasNonceIndices) {
		align(optionRules[OptNonceIndices])
		b = append(b, OptNonceIndices, 4)
		b = binary.BigEndian.AppendUint16(b, o.HomeNonceIndex)
		b = binary.BigEndian.AppendUint16(b, o.CareOfNonceIndex)
	}
	if o.Has(HasAlternateCareOfAddress) {
		align(optionRules[OptAlternateCareOfAddress])
		a := o.AlternateCareOfAddress.As16()
		b = append(b, OptAlternateCareOfAddress, 16)
		b = append(b, a[:]...)
	}
	if o.Has(HasBindingAuthorizationData) {
		align(optionRules[OptBindingAuthorizationData])
		auth := o.Authenticator[:min(len(o.Authenticator), 255)]
		b = append(b, OptBindingAuthorizationData, uint8(len(auth)))
		b = append(b, auth...)
	}
	return b
}

// Option is one raw Mobility Option; Offset is from the start of the
// Mobility Header. Pad1 has no Data.
type Option struct {
	Type   uint8
	Offset int
	Data   []byte
}

// OptionIter walks raw Mobility Options without allocating, padding and
// unknown types included.
type OptionIter struct {
	b   []byte
	off int
	cur Option
	err error
}

// Next moves to the next option; false at the end or on error.
func (it *OptionIter) Next() bool {
	if it.err != nil || it.off >= len(it.b) {
		return false
	}
	t := it.b[it.off]
	if t == OptPad1 {
		it.cur = Option{Type: t, Offset: it.off}
		it.off++
		return true
	}
	if it.off+2 > len(it.b) {
		it.err = errAt("Mobility Option", "length", it.off, "option %d has no length octet", t)
		return false
	}
	end := it.off + 2 + int(it.b[it.off+1])
	if end > len(it.b) {
		it.err = errAt("Mobility Option", "length", it.off+1, "option %d runs %d bytes past the header", t, end-len(it.b))
		return false
	}
	it.cur = Option{Type: t, Offset: it.off, Data: it.b[it.off+2 : end]}
	it.off = end
	return true
}

// Option returns the option Next moved to.
func (it *OptionIter) Option() Option { return it.cur }

// Err returns the error that stopped the walk.
func (it *OptionIter) Err() error { return it.err }
