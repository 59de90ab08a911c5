package ipv6

import (
	"encoding/binary"
	"net/netip"
)

// MobilePrefixAdvertisement is the Mobile Prefix Advertisement (RFC 6275
// §6.8). Options holds Neighbor Discovery options, normally Prefix
// Information options (see Prefixes, AppendPrefixInformation).
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |            Checksum           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Identifier          |M|O|        Reserved           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Options ...
//	+-+-+-+-+-+-+-+-+-+-+-+-
type MobilePrefixAdvertisement struct {
	Identifier uint16
	// ManagedAddressConfiguration (M) and OtherStatefulConfiguration (O)
	// mirror the home link's Router Advertisement flags.
	ManagedAddressConfiguration bool
	OtherStatefulConfiguration  bool
	Options                     []byte // a view into the parsed message
}

const msgMPA = "Mobile Prefix Advertisement"

// ParseMobilePrefixAdvertisement decodes the ICMPv6 message b and checks
// every option: non-zero length, inside the message, and Prefix
// Information options exactly 32 bytes with a prefix length up to 128.
func ParseMobilePrefixAdvertisement(b []byte) (MobilePrefixAdvertisement, error) {
	if err := parseICMPv6Typed(b, msgMPA, ICMPv6MobilePrefixAdvert, 8); err != nil {
		return MobilePrefixAdvertisement{}, err
	}
	m := MobilePrefixAdvertisement{
		Identifier:                  binary.BigEndian.Uint16(b[4:]),
		ManagedAddressConfiguration: b[6]&0x80 != 0,
		OtherStatefulConfiguration:  b[6]&0x40 != 0,
		Options:                     b[8:],
	}
	for off := 0; off < len(m.Options); {
		n, err := checkNDOption(m.Options[off:], 8+off)
		if err != nil {
			return MobilePrefixAdvertisement{}, err
		}
		off += n
	}
	return m, nil
}

// checkNDOption validates the ND option at the start of b (at offset off
// in the message) and returns its length.
func checkNDOption(b []byte, off int) (int, error) {
	if len(b) < 2 {
		return 0, icmpErr(msgMPA, "option length", off, "%d bytes left, need 2", len(b))
	}
	n := int(b[1]) * 8
	switch {
	case n == 0:
		return 0, icmpErr(msgMPA, "option length", off+1, "zero")
	case n > len(b):
		return 0, icmpErr(msgMPA, "option length", off+1, "%d bytes exceed the %d left", n, len(b))
	case b[0] == NDOptPrefixInformation && n != prefixInfoLen:
		return 0, icmpErr("Prefix Information option", "length", off+1, "%d bytes, want %d", n, prefixInfoLen)
	case b[0] == NDOptPrefixInformation && b[2] > 128:
		return 0, icmpErr("Prefix Information option", "prefix length", off+2, "%d exceeds 128", b[2])
	}
	return n, nil
}

// Append appends the message with its checksum for src and dst. Options
// are copied as they are; they must be well-formed ND options.
func (m *MobilePrefixAdvertisement) Append(b []byte, src, dst netip.Addr) []byte {
	start := len(b)
	b = appendICMPv6Header(b, ICMPv6MobilePrefixAdvert)
	b = binary.BigEndian.AppendUint16(b, m.Identifier)
	var flags uint8
	if m.ManagedAddressConfiguration {
		flags |= 0x80
	}
	if m.OtherStatefulConfiguration {
		flags |= 0x40
	}
	b = append(b, flags, 0)
	b = append(b, m.Options...)
	return finishICMPv6(b, start, src, dst)
}

// Prefixes iterates over the Prefix Information options.
func (m *MobilePrefixAdvertisement) Prefixes() PrefixIter { return PrefixIter{b: m.Options} }

// PrefixInformation is the Neighbor Discovery Prefix Information option
// (RFC 4861 §4.6.2) with the Router Address flag of RFC 6275 §7.2: when R
// is set, Prefix holds the router's whole global address.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |    Length     | Prefix Length |L|A|R|Reserved1|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Valid Lifetime                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Preferred Lifetime                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           Reserved2                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                            Prefix                             +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type PrefixInformation struct {
	PrefixLength      uint8
	OnLink            bool // L
	Autonomous        bool // A
	RouterAddress     bool // R
	ValidLifetime     uint32
	PreferredLifetime uint32
	Prefix            netip.Addr
}

// AppendPrefixInformation appends the 32-byte option.
func AppendPrefixInformation(b []byte, p PrefixInformation) []byte {
	var flags uint8
	if p.OnLink {
		flags |= 0x80
	}
	if p.Autonomous {
		flags |= 0x40
	}
	if p.RouterAddress {
		flags |= 0x20
	}
	b = append(b, NDOptPrefixInformation, prefixInfoLen/8, p.PrefixLength, flags)
	b = binary.BigEndian.AppendUint32(b, p.ValidLifetime)
	b = binary.BigEndian.AppendUint32(b, p.PreferredLifetime)
	b = binary.BigEndian.AppendUint32(b, 0)
	a := p.Prefix.As16()
	return append(b, a[:]...)
}

// PrefixIter walks the Prefix Information options of a parsed Mobile
// Prefix Advertisement, skipping other options.
type PrefixIter struct {
	b   []byte
	cur PrefixInformation
}

// Next moves to the next Prefix Information option. The options were
// validated by ParseMobilePrefixAdvertisement; malformed input ends the walk.
func (it *PrefixIter) Next() bool {
	for len(it.b) >= 2 {
		n := int(it.b[1]) * 8
		if n == 0 || n > len(it.b) {
			return false
		}
		o := it.b[:n]
		it.b = it.b[n:]
		if o[0] != NDOptPrefixInformation || n != prefixInfoLen {
			continue
		}
		it.cur = PrefixInformation{
			PrefixLength:      o[2],
			OnLink:            o[3]&0x80 != 0,
			Autonomous:        o[3]&0x40 != 0,
			RouterAddress:     o[3]&0x20 != 0,
			ValidLifetime:     binary.BigEndian.Uint32(o[4:]),
			PreferredLifetime: binary.BigEndian.Uint32(o[8:]),
			Prefix:            netip.AddrFrom16([16]byte(o[16:32])),
		}
		return true
	}
	return false
}

// Prefix returns the option Next moved to.
func (it *PrefixIter) Prefix() PrefixInformation { return it.cur }
