package ikev2

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// CP is the Configuration payload (RFC 7296 §3.15).
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C| RESERVED    |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   CFG Type    |                    RESERVED                   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                   Configuration Attributes                    ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type CP struct {
	Type       CFGType
	Attributes []CPAttribute
}

// CPAttribute is a configuration attribute (RFC 7296 §3.15.1). Value holds
// the raw value; an empty Value in a CFG_REQUEST asks for any value. The
// parser checks the lengths of the types it knows (see CPAttributeType);
// use the typed accessors and constructors for the common ones.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|R|         Attribute Type      |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	~                             Value                             ~
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type CPAttribute struct {
	Type  CPAttributeType
	Value []byte
}

// CPAttributeType is a configuration attribute type (15 bits).
type CPAttributeType uint16

const (
	CPInternalIP4Address  CPAttributeType = 1
	CPInternalIP4Netmask  CPAttributeType = 2
	CPInternalIP4DNS      CPAttributeType = 3
	CPInternalIP4NBNS     CPAttributeType = 4
	CPInternalIP4DHCP     CPAttributeType = 6
	CPApplicationVersion  CPAttributeType = 7
	CPInternalIP6Address  CPAttributeType = 8
	CPInternalIP6DNS      CPAttributeType = 10
	CPInternalIP6DHCP     CPAttributeType = 12
	CPInternalIP4Subnet   CPAttributeType = 13
	CPSupportedAttributes CPAttributeType = 14
	CPInternalIP6Subnet   CPAttributeType = 15
	CPMIP6HomePrefix      CPAttributeType = 16 // RFC 5026 §4.2.4
	CPInternalIP6Link     CPAttributeType = 17 // RFC 5739
	CPInternalIP6Prefix   CPAttributeType = 18 // RFC 5739
)

var cpAttrNames = [...]string{
	1: "INTERNAL_IP4_ADDRESS", 2: "INTERNAL_IP4_NETMASK", 3: "INTERNAL_IP4_DNS", 4: "INTERNAL_IP4_NBNS",
	5: "INTERNAL_ADDRESS_EXPIRY", 6: "INTERNAL_IP4_DHCP", 7: "APPLICATION_VERSION",
	8: "INTERNAL_IP6_ADDRESS", 9: "INTERNAL_IP6_NETMASK", 10: "INTERNAL_IP6_DNS",
	11: "INTERNAL_IP6_NBNS", 12: "INTERNAL_IP6_DHCP", 13: "INTERNAL_IP4_SUBNET",
	14: "SUPPORTED_ATTRIBUTES", 15: "INTERNAL_IP6_SUBNET", 16: "MIP6_HOME_PREFIX",
	17: "INTERNAL_IP6_LINK", 18: "INTERNAL_IP6_PREFIX", 19: "HOME_AGENT_ADDRESS",
	20: "P_CSCF_IP4_ADDRESS", 21: "P_CSCF_IP6_ADDRESS", 22: "FTT_KAT",
}

func (t CPAttributeType) String() string { return nameOr(cpAttrNames[:], int(t), "CP_ATTR") }

// valueLen returns the non-zero value length a known attribute type must
// have (a zero length is always allowed), or -1 if any length goes.
func (t CPAttributeType) valueLen() int {
	switch t {
	case CPInternalIP4Address, CPInternalIP4Netmask, CPInternalIP4DNS, CPInternalIP4NBNS, CPInternalIP4DHCP, 5:
		return 4
	case CPInternalIP6Address, CPInternalIP6Subnet, CPInternalIP6Prefix:
		return 17
	case CPInternalIP6DNS, CPInternalIP6DHCP:
		return 16
	case CPInternalIP4Subnet:
		return 8
	case CPMIP6HomePrefix:
		return 21
	}
	return -1
}

func checkCPAttr(where, path string, t CPAttributeType, n int, mk func(string, string, string, Problem, int, int) error) error {
	if n == 0 {
		return nil
	}
	if want := t.valueLen(); want >= 0 && n != want {
		return mk(where, path, "length", ProblemMismatch, n, want)
	}
	if t == CPSupportedAttributes && n%2 != 0 {
		return mk(where, path, "length", ProblemInvalid, n, 0)
	}
	if t == CPInternalIP6Link && n < 8 {
		return mk(where, path, "length", ProblemShort, n, 8)
	}
	return nil
}

func (*CP) PayloadType() PayloadType { return PayloadCP }

func (p *CP) AppendBody(b []byte) ([]byte, error) {
	b = append(b, byte(p.Type), 0, 0, 0)
	for i, a := range p.Attributes {
		path := joinPath("", "attribute", i+1) + " (" + a.Type.String() + ")"
		if a.Type > 0x7fff {
			return b, encErr("CP", path, "type", ProblemInvalid, int(a.Type), 0)
		}
		if err := checkCPAttr("CP", path, a.Type, len(a.Value), encErr); err != nil {
			return b, err
		}
		if len(a.Value) > 0xffff {
			return b, encErr("CP", path, "length", ProblemLong, len(a.Value), 0xffff)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(a.Type))
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.Value)))
		b = append(b, a.Value...)
	}
	return b, nil
}

func parseCP(b []byte) (*CP, error) {
	if len(b) < 4 {
		return nil, errf("CP", "", "length", ProblemShort, len(b)+4, 8)
	}
	p := &CP{Type: CFGType(b[0])}
	rest := b[4:]
	for i := 1; len(rest) > 0; i++ {
		path := joinPath("", "attribute", i)
		if len(rest) < 4 {
			return nil, errf("CP", path, "header", ProblemOverrun, 4, len(rest))
		}
		a := CPAttribute{Type: CPAttributeType(binary.BigEndian.Uint16(rest) & 0x7fff)}
		path += " (" + a.Type.String() + ")"
		n := int(binary.BigEndian.Uint16(rest[2:4]))
		if 4+n > len(rest) {
			return nil, errf("CP", path, "length", ProblemOverrun, n, len(rest)-4)
		}
		if err := checkCPAttr("CP", path, a.Type, n, errf); err != nil {
			return nil, err
		}
		a.Value = orNil(rest[4 : 4+n])
		p.Attributes = append(p.Attributes, a)
		rest = rest[4+n:]
	}
	return p, nil
}

// Get returns the first attribute of type t.
func (p *CP) Get(t CPAttributeType) (CPAttribute, bool) {
	for _, a := range p.Attributes {
		if a.Type == t {
			return a, true
		}
	}
	return CPAttribute{}, false
}

// CPRequest returns an empty-valued attribute, as sent in CFG_REQUEST to
// ask for any value of type t.
func CPRequest(t CPAttributeType) CPAttribute { return CPAttribute{Type: t} }

// CPAddr returns an attribute carrying one address: INTERNAL_IP4_ADDRESS,
// INTERNAL_IP4_NETMASK, INTERNAL_IP4_DNS, INTERNAL_IP6_DNS, INTERNAL_IP6_DHCP, ...
func CPAddr(t CPAttributeType, a netip.Addr) CPAttribute {
	return CPAttribute{Type: t, Value: a.AsSlice()}
}

// CPPrefix returns an attribute carrying an IPv6 address and prefix length:
// INTERNAL_IP6_ADDRESS, INTERNAL_IP6_SUBNET or INTERNAL_IP6_PREFIX.
func CPPrefix(t CPAttributeType, p netip.Prefix) CPAttribute {
	v := p.Addr().As16()
	return CPAttribute{Type: t, Value: append(v[:], byte(p.Bits()))}
}

// CPIP4Subnet returns an INTERNAL_IP4_SUBNET attribute (address and netmask).
func CPIP4Subnet(p netip.Prefix) CPAttribute {
	a := p.Masked().Addr().As4()
	mask := ^uint32(0) << (32 - p.Bits())
	if p.Bits() == 0 {
		mask = 0
	}
	return CPAttribute{Type: CPInternalIP4Subnet, Value: binary.BigEndian.AppendUint32(a[:], mask)}
}

// CPHomePrefix returns a MIP6_HOME_PREFIX attribute (RFC 5026 §4.2.4).
//
//	|R|         Attribute Type      |            Length             |
//	|                     Prefix Lifetime                           |
//	|                          Home Prefix (16)                     |
//	| Prefix Length |
func CPHomePrefix(p netip.Prefix, lifetime time.Duration) CPAttribute {
	v := binary.BigEndian.AppendUint32(nil, uint32(lifetime/time.Second))
	a := p.Addr().As16()
	v = append(append(v, a[:]...), byte(p.Bits()))
	return CPAttribute{Type: CPMIP6HomePrefix, Value: v}
}

func (a CPAttribute) valueErr(want int) error {
	return errf("CP", a.Type.String(), "length", ProblemMismatch, len(a.Value), want)
}

// Addr returns the address of a 4- or 16-octet attribute value.
func (a CPAttribute) Addr() (netip.Addr, error) {
	switch len(a.Value) {
	case 4:
		return netip.AddrFrom4([4]byte(a.Value)), nil
	case 16:
		return netip.AddrFrom16([16]byte(a.Value)), nil
	}
	return netip.Addr{}, a.valueErr(16)
}

// Prefix returns the address and prefix length of a 17-octet value
// (INTERNAL_IP6_ADDRESS, INTERNAL_IP6_SUBNET, INTERNAL_IP6_PREFIX) or the
// prefix of MIP6_HOME_PREFIX, not masked: for INTERNAL_IP6_ADDRESS the
// address is the host's own.
func (a CPAttribute) Prefix() (netip.Prefix, error) {
	v := a.Value
	if a.Type == CPMIP6HomePrefix {
		if len(v) != 21 {
			return netip.Prefix{}, a.valueErr(21)
		}
		v = v[4:]
	}
	if len(v) != 17 {
		return netip.Prefix{}, a.valueErr(17)
	}
	if v[16] > 128 {
		return netip.Prefix{}, errf("CP", a.Type.String(), "prefix length", ProblemLong, int(v[16]), 128)
	}
	return netip.PrefixFrom(netip.AddrFrom16([16]byte(v[:16])), int(v[16])), nil
}

// Lifetime returns the Prefix Lifetime of a MIP6_HOME_PREFIX attribute.
func (a CPAttribute) Lifetime() (time.Duration, error) {
	if a.Type != CPMIP6HomePrefix || len(a.Value) != 21 {
		return 0, a.valueErr(21)
	}
	return time.Duration(binary.BigEndian.Uint32(a.Value)) * time.Second, nil
}
