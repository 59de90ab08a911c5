package mh

import (
	"encoding/binary"
	"net/netip"
)

// Message is any decoded Mobility Header message.
type Message interface {
	MHType() Type
	// Append appends the encoded message with canonical padding and the
	// checksum for pseudo-header addresses src and dst.
	Append(b []byte, src, dst netip.Addr) []byte
}

// ParseMessage decodes any known message. Unknown types give
// *UnknownTypeError. For the hot messages prefer ParseBindingUpdate and
// ParseBindingAck, which do not allocate.
func ParseMessage(b []byte) (Message, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	switch h.Type {
	case TypeBindingRefreshRequest:
		m, err := ParseBindingRefreshRequest(b)
		return &m, err
	case TypeHomeTestInit:
		m, err := ParseHomeTestInit(b)
		return &m, err
	case TypeCareOfTestInit:
		m, err := ParseCareOfTestInit(b)
		return &m, err
	case TypeHomeTest:
		m, err := ParseHomeTest(b)
		return &m, err
	case TypeCareOfTest:
		m, err := ParseCareOfTest(b)
		return &m, err
	case TypeBindingUpdate:
		m, err := ParseBindingUpdate(b)
		return &m, err
	case TypeBindingAck:
		m, err := ParseBindingAck(b)
		return &m, err
	case TypeBindingError:
		m, err := ParseBindingError(b)
		return &m, err
	}
	return nil, &UnknownTypeError{Type: h.Type}
}

// BindingRefreshRequest (MH Type 0, RFC 6275 §6.1.2).
//
//	                                +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	                                |          Reserved             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                        Mobility options                       .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type BindingRefreshRequest struct {
	Options Options
}

func (*BindingRefreshRequest) MHType() Type { return TypeBindingRefreshRequest }

// ParseBindingRefreshRequest decodes a whole Mobility Header.
func ParseBindingRefreshRequest(b []byte) (BindingRefreshRequest, error) {
	h, err := parseTyped(b, TypeBindingRefreshRequest)
	if err != nil {
		return BindingRefreshRequest{}, err
	}
	var m BindingRefreshRequest
	if err := parseOptions(h.Data, fixedLen[TypeBindingRefreshRequest], &m.Options); err != nil {
		return BindingRefreshRequest{}, err
	}
	return m, nil
}

func (m *BindingRefreshRequest) Append(b []byte, src, dst netip.Addr) []byte {
	start := len(b)
	b = append(begin(b, TypeBindingRefreshRequest), 0, 0)
	b = m.Options.append(b, start)
	return finish(b, start, src, dst)
}

// HomeTestInit (MH Type 1, RFC 6275 §6.1.3); CareOfTestInit (Type 2,
// §6.1.4) has the same layout with the Care-of Init Cookie.
//
//	                                +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	                                |           Reserved            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                       Home Init Cookie                        +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                        Mobility Options                       .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type HomeTestInit struct {
	HomeInitCookie [8]byte
	Options        Options
}

func (*HomeTestInit) MHType() Type { return TypeHomeTestInit }

// ParseHomeTestInit decodes a whole Mobility Header.
func ParseHomeTestInit(b []byte) (HomeTestInit, error) {
	cookie, o, err := parseTestInit(b, TypeHomeTestInit)
	return HomeTestInit{HomeInitCookie: cookie, Options: o}, err
}

func (m *HomeTestInit) Append(b []byte, src, dst netip.Addr) []byte {
	return appendTestInit(b, src, dst, TypeHomeTestInit, &m.HomeInitCookie, &m.Options)
}

// CareOfTestInit (MH Type 2, RFC 6275 §6.1.4); see HomeTestInit.
type CareOfTestInit struct {
	CareOfInitCookie [8]byte
	Options          Options
}

func (*CareOfTestInit) MHType() Type { return TypeCareOfTestInit }

// ParseCareOfTestInit decodes a whole Mobility Header.
func ParseCareOfTestInit(b []byte) (CareOfTestInit, error) {
	cookie, o, err := parseTestInit(b, TypeCareOfTestInit)
	return CareOfTestInit{CareOfInitCookie: cookie, Options: o}, err
}

func (m *CareOfTestInit) Append(b []byte, src, dst netip.Addr) []byte {
	return appendTestInit(b, src, dst, TypeCareOfTestInit, &m.CareOfInitCookie, &m.Options)
}

func parseTestInit(b []byte, t Type) (cookie [8]byte, o Options, err error) {
	h, err := parseTyped(b, t)
	if err != nil {
		return cookie, o, err
	}
	if err = parseOptions(h.Data, fixedLen[t], &o); err != nil {
		return [8]byte{}, Options{}, err
	}
	return [8]byte(h.Data[8:16]), o, nil
}

func appendTestInit(b []byte, src, dst netip.Addr, t Type, cookie *[8]byte, o *Options) []byte {
	start := len(b)
	b = append(begin(b, t), 0, 0)
	b = append(b, cookie[:]...)
	b = o.append(b, start)
	return finish(b, start, src, dst)
}

// HomeTest (MH Type 3, RFC 6275 §6.1.5); CareOfTest (Type 4, §6.1.6) has
// the same layout with care-of values.
//
//	                                +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	                                |       Home Nonce Index        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                        Home Init Cookie                       +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                       Home Keygen Token                       +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                        Mobility options                       .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type HomeTest struct {
	HomeNonceIndex  uint16
	HomeInitCookie  [8]byte
	HomeKeygenToken [8]byte
	Options         Options
}

func (*HomeTest) MHType() Type { return TypeHomeTest }

// ParseHomeTest decodes a whole Mobility Header.
func ParseHomeTest(b []byte) (HomeTest, error) {
	t, err := parseTest(b, TypeHomeTest)
	return HomeTest{t.nonceIndex, t.cookie, t.token, t.options}, err
}

func (m *HomeTest) Append(b []byte, src, dst netip.Addr) []byte {
	t := testMsg{m.HomeNonceIndex, m.HomeInitCookie, m.HomeKeygenToken, m.Options}
	return t.append(b, src, dst, TypeHomeTest)
}

// CareOfTest (MH Type 4, RFC 6275 §6.1.6); see HomeTest.
type CareOfTest struct {
	CareOfNonceIndex  uint16
	CareOfInitCookie  [8]byte
	CareOfKeygenToken [8]byte
	Options           Options
}

func (*CareOfTest) MHType() Type { return TypeCareOfTest }

// ParseCareOfTest decodes a whole Mobility Header.
func ParseCareOfTest(b []byte) (CareOfTest, error) {
	t, err := parseTest(b, TypeCareOfTest)
	return CareOfTest{t.nonceIndex, t.cookie, t.token, t.options}, err
}

func (m *CareOfTest) Append(b []byte, src, dst netip.Addr) []byte {
	t := testMsg{m.CareOfNonceIndex, m.CareOfInitCookie, m.CareOfKeygenToken, m.Options}
	return t.append(b, src, dst, TypeCareOfTest)
}

// testMsg is the shared layout of HomeTest and CareOfTest.
type testMsg struct {
	nonceIndex uint16
	cookie     [8]byte
	token      [8]byte
	options    Options
}

func parseTest(b []byte, t Type) (testMsg, error) {
	h, err := parseTyped(b, t)
	if err != nil {
		return testMsg{}, err
	}
	d := h.Data
	m := testMsg{nonceIndex: binary.BigEndian.Uint16(d[6:]), cookie: [8]byte(d[8:16]), token: [8]byte(d[16:24])}
	if err := parseOptions(d, fixedLen[t], &m.options); err != nil {
		return testMsg{}, err
	}
	return m, nil
}

func (m *testMsg) append(b []byte, src, dst netip.Addr, t Type) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint16(begin(b, t), m.nonceIndex)
	b = append(b, m.cookie[:]...)
	b = append(b, m.token[:]...)
	b = m.options.append(b, start)
	return finish(b, start, src, dst)
}

// BindingUpdate (MH Type 5, RFC 6275 §6.1.7). Lifetime is in units of 4
// seconds (LifetimeDuration, LifetimeUnits).
//
//	                                +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	                                |          Sequence #           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|A|H|L|K|        Reserved       |           Lifetime            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                        Mobility options                       .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type BindingUpdate struct {
	Sequence uint16
	// Acknowledge (A): a Binding Acknowledgement is requested.
	Acknowledge bool
	// HomeRegistration (H): register with the home agent.
	HomeRegistration bool
	// LinkLocalAddressCompatibility (L): home address and link-local
	// address share their interface identifier.
	LinkLocalAddressCompatibility bool
	// KeyManagementMobilityCapability (K): IKE SAs survive movement.
	KeyManagementMobilityCapability bool
	Lifetime                        uint16
	Options                         Options
}

const (
	buFlagA = 0x8000
	buFlagH = 0x4000
	buFlagL = 0x2000
	buFlagK = 0x1000
)

func (*BindingUpdate) MHType() Type { return TypeBindingUpdate }

// ParseBindingUpdate decodes a whole Mobility Header without allocating.
// Reserved bits are ignored. The checksum is checked separately
// (VerifyChecksum).
func ParseBindingUpdate(b []byte) (BindingUpdate, error) {
	h, err := parseTyped(b, TypeBindingUpdate)
	if err != nil {
		return BindingUpdate{}, err
	}
	d := h.Data
	flags := binary.BigEndian.Uint16(d[8:])
	m := BindingUpdate{
		Sequence:                        binary.BigEndian.Uint16(d[6:]),
		Acknowledge:                     flags&buFlagA != 0,
		HomeRegistration:                flags&buFlagH != 0,
		LinkLocalAddressCompatibility:   flags&buFlagL != 0,
		KeyManagementMobilityCapability: flags&buFlagK != 0,
		Lifetime:                        binary.BigEndian.Uint16(d[10:]),
	}
	if err := parseOptions(d, fixedLen[TypeBindingUpdate], &m.Options); err != nil {
		return BindingUpdate{}, err
	}
	return m, nil
}

func (m *BindingUpdate) Append(b []byte, src, dst netip.Addr) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint16(begin(b, TypeBindingUpdate), m.Sequence)
	var flags uint16
	for _, f := range [...]struct {
		set bool
		bit uint16
	}{{m.Acknowledge, buFlagA}, {m.HomeRegistration, buFlagH}, {m.LinkLocalAddressCompatibility, buFlagL}, {m.KeyManagementMobilityCapability, buFlagK}} {
		if f.set {
			flags |= f.bit
		}
	}
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, m.Lifetime)
	b = m.Options.append(b, start)
	return finish(b, start, src, dst)
}

// BindingAck is the Binding Acknowledgement (MH Type 6, RFC 6275 §6.1.8).
//
//	                                +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	                                |    Status     |K|  Reserved   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Sequence #          |           Lifetime            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                        Mobility options                       .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type BindingAck struct {
	Status Status
	// KeyManagementMobilityCapability (K): the home agent keeps its IKE
	// SAs across the mobile node's movements.
	KeyManagementMobilityCapability bool
	Sequence                        uint16
	Lifetime                        uint16 // units of 4 seconds
	Options                         Options
}

func (*BindingAck) MHType() Type { return TypeBindingAck }

// ParseBindingAck decodes a whole Mobility Header without allocating.
func ParseBindingAck(b []byte) (BindingAck, error) {
	h, err := parseTyped(b, TypeBindingAck)
	if err != nil {
		return BindingAck{}, err
	}
	d := h.Data
	m := BindingAck{
		Status:                          Status(d[6]),
		KeyManagementMobilityCapability: d[7]&0x80 != 0,
		Sequence:                        binary.BigEndian.Uint16(d[8:]),
		Lifetime:                        binary.BigEndian.Uint16(d[10:]),
	}
	if err := parseOptions(d, fixedLen[TypeBindingAck], &m.Options); err != nil {
		return BindingAck{}, err
	}
	return m, nil
}

func (m *BindingAck) Append(b []byte, src, dst netip.Addr) []byte {
	start := len(b)
	var k uint8
	if m.KeyManagementMobilityCapability {
		k = 0x80
	}
	b = append(begin(b, TypeBindingAck), uint8(m.Status), k)
	b = binary.BigEndian.AppendUint16(b, m.Sequence)
	b = binary.BigEndian.AppendUint16(b, m.Lifetime)
	b = m.Options.append(b, start)
	return finish(b, start, src, dst)
}

// BindingError (MH Type 7, RFC 6275 §6.1.9). HomeAddress is the home
// address from the offending packet's Home Address option, or the
// unspecified address.
//
//	                                +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	                                |     Status    |   Reserved    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                          Home Address                         +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                        Mobility options                       .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type BindingError struct {
	Status      BEStatus
	HomeAddress netip.Addr
	Options     Options
}

func (*BindingError) MHType() Type { return TypeBindingError }

// ParseBindingError decodes a whole Mobility Header.
func ParseBindingError(b []byte) (BindingError, error) {
	h, err := parseTyped(b, TypeBindingError)
	if err != nil {
		return BindingError{}, err
	}
	d := h.Data
	m := BindingError{Status: BEStatus(d[6]), HomeAddress: netip.AddrFrom16([16]byte(d[8:24]))}
	if err := parseOptions(d, fixedLen[TypeBindingError], &m.Options); err != nil {
		return BindingError{}, err
	}
	return m, nil
}

// Append encodes m; an invalid HomeAddress is written as the unspecified
// address.
func (m *BindingError) Append(b []byte, src, dst netip.Addr) []byte {
	start := len(b)
	b = append(begin(b, TypeBindingError), uint8(m.Status), 0)
	a := m.HomeAddress.As16()
	if !m.HomeAddress.IsValid() {
		a = [16]byte{}
	}
	b = append(b, a[:]...)
	b = m.Options.append(b, start)
	return finish(b, start, src, dst)
}
