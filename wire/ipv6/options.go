package ipv6

import (
	"net/netip"
)

// Option types for Hop-by-Hop and Destination Options headers.
const (
	OptPad1        uint8 = 0
	OptPadN        uint8 = 1
	OptHomeAddress uint8 = 201 // RFC 6275 §6.3
	// HomeAddressOptionLen is the option's Opt Data Len.
	HomeAddressOptionLen = 16
	// DestOptsHAOLen is the size of a Destination Options header holding
	// only a Home Address option (with its canonical padding).
	DestOptsHAOLen = 24
)

// Options headers (Hop-by-Hop, Destination Options; RFC 8200 §4.2) hold
// TLV-encoded options after Next Header and Hdr Ext Len:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
//	|  Option Type  |  Opt Data Len |  Option Data
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
//
// Pad1 is a single zero octet. The Home Address option (RFC 6275 §6.3) has
// alignment 8n+6:
//
//	                                +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	                                |  Option Type  | Option Length |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+                          Home Address                         +
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// Option is one TLV option. Offset is its position within its header, so
// alignment can be checked. Pad1 has no Data.
type Option struct {
	Type   uint8
	Offset int
	Data   []byte
}

// Action returns the two high-order bits of the type: what a node that
// does not recognise the option must do (0 skip, 1 discard, 2 discard and
// send ICMP, 3 discard and send ICMP unless multicast).
func (o Option) Action() uint8 { return o.Type >> 6 }

// OptionsHeader is a decoded Hop-by-Hop or Destination Options header; Data
// is the whole header, a view into the parsed buffer.
type OptionsHeader struct {
	NextHeader uint8
	Data       []byte
}

// ParseOptionsHeader decodes an options header of type proto (ProtoHopByHop
// or ProtoDstOpts) at the start of b and checks every option's length and,
// for the Home Address option, its length and alignment. b may extend past
// the header. Error offsets are relative to b.
func ParseOptionsHeader(b []byte, proto uint8) (OptionsHeader, error) {
	n, err := extLen(proto, b, 0)
	if err != nil {
		return OptionsHeader{}, err
	}
	h := OptionsHeader{NextHeader: b[0], Data: b[:n]}
	it := h.Options()
	for it.Next() {
		o := it.Option()
		if o.Type != OptHomeAddress {
			continue
		}
		if len(o.Data) != HomeAddressOptionLen {
			return OptionsHeader{}, errAt("Home Address option", "length", o.Offset+1, "%d, want %d", len(o.Data), HomeAddressOptionLen)
		}
		if o.Offset%8 != 6 {
			return OptionsHeader{}, errAt("Home Address option", "alignment", o.Offset, "offset %d, want 8n+6", o.Offset)
		}
	}
	if err := it.Err(); err != nil {
		return OptionsHeader{}, err
	}
	return h, nil
}

// Options iterates over the header's options, padding included.
func (h OptionsHeader) Options() OptionIter { return OptionIter{b: h.Data, off: 2} }

// HomeAddress returns the address in the header's Home Address option.
func (h OptionsHeader) HomeAddress() (netip.Addr, bool) {
	it := h.Options()
	for it.Next() {
		if o := it.Option(); o.Type == OptHomeAddress && len(o.Data) == 16 {
			return netip.AddrFrom16([16]byte(o.Data)), true
		}
	}
	return netip.Addr{}, false
}

// OptionIter walks TLV options without allocating.
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
		it.err = errAt("option", "length", it.off, "option %d at offset %d has no length octet", t, it.off)
		return false
	}
	end := it.off + 2 + int(it.b[it.off+1])
	if end > len(it.b) {
		it.err = errAt("option", "length", it.off+1, "option %d runs %d bytes past the header", t, end-len(it.b))
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

// AppendPadding appends n octets of canonical padding: Pad1 for one, else
// PadN with zero data. The Mobility Header uses the same encoding.
func AppendPadding(b []byte, n int) []byte {
	switch {
	case n <= 0:
		return b
	case n == 1:
		return append(b, OptPad1)
	}
	b = append(b, OptPadN, uint8(n-2))
	for range n - 2 {
		b = append(b, 0)
	}
	return b
}

// PadTo returns how many padding octets move offset off to an
// alignment of xn+y.
func PadTo(off, x, y int) int {
	return ((y-off)%x + x) % x
}

// AppendDestOptsHAO appends a Destination Options header holding a Home
// Address option, canonically padded (24 octets).
func AppendDestOptsHAO(b []byte, nextHeader uint8, home netip.Addr) []byte {
	b = append(b, nextHeader, DestOptsHAOLen/8-1)
	b = AppendPadding(b, 4) // option starts at 6 = 8n+6
	b = append(b, OptHomeAddress, HomeAddressOptionLen)
	a := home.As16()
	return append(b, a[:]...)
}

// AppendOptionsHeader appends a Hop-by-Hop or Destination Options header
// holding opts in order, each aligned as its type requires (8n+6 for the
// Home Address option, none for others), padded to a multiple of 8. Pad
// options in opts are written as given. Option Offset fields are ignored.
func AppendOptionsHeader(b []byte, nextHeader uint8, opts []Option) []byte {
	start := len(b)
	b = append(b, nextHeader, 0)
	for _, o := range opts {
		if o.Type == OptHomeAddress {
			b = AppendPadding(b, PadTo(len(b)-start, 8, 6))
		}
		if o.Type == OptPad1 {
			b = append(b, OptPad1)
			continue
		}
		b = append(b, o.Type, uint8(len(o.Data)))
		b = append(b, o.Data...)
	}
	b = AppendPadding(b, PadTo(len(b)-start, 8, 0))
	b[start+1] = uint8((len(b)-start)/8 - 1)
	return b
}
