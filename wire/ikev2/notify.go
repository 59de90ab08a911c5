package ikev2

import (
	"crypto/sha1"
	"encoding/binary"
	"net/netip"
)

// Notify is the Notify payload (RFC 7296 §3.10). Protocol and SPI name the
// SA the notification is about (REKEY_SA, CHILD_SA_NOT_FOUND, ...); for
// notifications about the IKE SA, Protocol is ProtocolNone (or IKE) and SPI
// is empty.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Protocol ID  |   SPI Size    |      Notify Message Type      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                Security Parameter Index (SPI)                 ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                       Notification Data                       ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Notify struct {
	Protocol ProtocolID
	SPI      []byte
	Type     NotifyType
	Data     []byte
}

// NewNotify returns a notification about the IKE SA (no SPI).
func NewNotify(t NotifyType, data []byte) *Notify { return &Notify{Type: t, Data: data} }

func (*Notify) PayloadType() PayloadType { return PayloadNotify }

func (p *Notify) AppendBody(b []byte) ([]byte, error) {
	if len(p.SPI) > 255 {
		return b, encErr("Notify", "", "SPI size", ProblemLong, len(p.SPI), 255)
	}
	b = append(b, byte(p.Protocol), byte(len(p.SPI)))
	b = binary.BigEndian.AppendUint16(b, uint16(p.Type))
	return append(append(b, p.SPI...), p.Data...), nil
}

func parseNotify(b []byte) (*Notify, error) {
	if len(b) < 4 {
		return nil, errf("Notify", "", "length", ProblemShort, len(b)+4, 8)
	}
	p := &Notify{Protocol: ProtocolID(b[0]), Type: NotifyType(binary.BigEndian.Uint16(b[2:4]))}
	spiSize := int(b[1])
	if 4+spiSize > len(b) {
		return nil, errf("Notify", p.Type.String(), "SPI size", ProblemOverrun, spiSize, len(b)-4)
	}
	// RFC 7296 §3.10: IKE SA notifications have no SPI; AH/ESP SPIs are 4 octets.
	if spiSize != 0 {
		if err := checkSPISize("Notify", p.Type.String(), p.Protocol, spiSize, false); err != nil {
			return nil, err
		}
	}
	p.SPI = orNil(b[4 : 4+spiSize])
	p.Data = orNil(b[4+spiSize:])
	return p, nil
}

func (p *Notify) dataErr(field string, pr Problem, v, lim int) error {
	return errf("Notify", p.Type.String(), field, pr, v, lim)
}

// Group returns the DH group of an INVALID_KE_PAYLOAD notification.
func (p *Notify) Group() (DHGroup, error) {
	if len(p.Data) != 2 {
		return 0, p.dataErr("data length", ProblemMismatch, len(p.Data), 2)
	}
	return DHGroup(binary.BigEndian.Uint16(p.Data)), nil
}

// InvalidKEPayload returns an INVALID_KE_PAYLOAD notification naming g.
func InvalidKEPayload(g DHGroup) *Notify {
	return NewNotify(NotifyInvalidKEPayload, binary.BigEndian.AppendUint16(nil, uint16(g)))
}

// Addr returns the address of an ADDITIONAL_IP4_ADDRESS or
// ADDITIONAL_IP6_ADDRESS notification (RFC 4555 §3.6).
func (p *Notify) Addr() (netip.Addr, error) {
	switch {
	case p.Type == NotifyAdditionalIP4Address && len(p.Data) == 4:
		return netip.AddrFrom4([4]byte(p.Data)), nil
	case p.Type == NotifyAdditionalIP6Address && len(p.Data) == 16:
		return netip.AddrFrom16([16]byte(p.Data)), nil
	case p.Type == NotifyAdditionalIP4Address:
		return netip.Addr{}, p.dataErr("data length", ProblemMismatch, len(p.Data), 4)
	}
	return netip.Addr{}, p.dataErr("data length", ProblemMismatch, len(p.Data), 16)
}

// AdditionalAddress returns an ADDITIONAL_IP4_ADDRESS or
// ADDITIONAL_IP6_ADDRESS notification for a.
func AdditionalAddress(a netip.Addr) *Notify {
	if a.Is4() {
		v := a.As4()
		return NewNotify(NotifyAdditionalIP4Address, v[:])
	}
	v := a.As16()
	return NewNotify(NotifyAdditionalIP6Address, v[:])
}

// HashAlgorithms returns the list of a SIGNATURE_HASH_ALGORITHMS
// notification (RFC 7427 §4).
func (p *Notify) HashAlgorithms() ([]HashAlgorithm, error) {
	if len(p.Data)%2 != 0 {
		return nil, p.dataErr("data length", ProblemInvalid, len(p.Data), 0)
	}
	out := make([]HashAlgorithm, 0, len(p.Data)/2)
	for d := p.Data; len(d) > 0; d = d[2:] {
		out = append(out, HashAlgorithm(binary.BigEndian.Uint16(d)))
	}
	return out, nil
}

// SignatureHashAlgorithms returns a SIGNATURE_HASH_ALGORITHMS notification.
func SignatureHashAlgorithms(hs ...HashAlgorithm) *Notify {
	d := make([]byte, 0, 2*len(hs))
	for _, h := range hs {
		d = binary.BigEndian.AppendUint16(d, uint16(h))
	}
	return NewNotify(NotifySignatureHashAlgorithms, d)
}

// Cookie returns the data of a COOKIE notification, 1 to 64 octets
// (RFC 7296 §2.6).
func (p *Notify) Cookie() ([]byte, error) {
	if len(p.Data) < 1 {
		return nil, p.dataErr("data length", ProblemShort, len(p.Data), 1)
	}
	if len(p.Data) > 64 {
		return nil, p.dataErr("data length", ProblemLong, len(p.Data), 64)
	}
	return p.Data, nil
}

// NATDetectionHash is the data of NAT_DETECTION_SOURCE_IP and
// NAT_DETECTION_DESTINATION_IP (RFC 7296 §2.23): SHA-1 over the IKE SPIs,
// the IP address and the UDP port. In IKE_SA_INIT requests the responder SPI
// is zero.
func NATDetectionHash(initiatorSPI, responderSPI uint64, ap netip.AddrPort) [sha1.Size]byte {
	b := make([]byte, 0, 16+16+2)
	b = binary.BigEndian.AppendUint64(b, initiatorSPI)
	b = binary.BigEndian.AppendUint64(b, responderSPI)
	b = append(b, ap.Addr().Unmap().AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, ap.Port())
	return sha1.Sum(b)
}

// Delete is the Delete payload (RFC 7296 §3.11). For the IKE SA, SPISize
// is 0 and SPIs empty; for AH and ESP, SPISize is 4.
//
//	                     1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Protocol ID   |   SPI Size    |          Num of SPIs          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~               Security Parameter Index(es) (SPI)              ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Delete struct {
	Protocol ProtocolID
	SPISize  uint8
	SPIs     [][]byte
}

// DeleteESP returns a Delete payload for ESP SAs with the given inbound SPIs.
func DeleteESP(spis ...uint32) *Delete {
	d := &Delete{Protocol: ProtocolESP, SPISize: 4, SPIs: make([][]byte, len(spis))}
	for i, s := range spis {
		d.SPIs[i] = binary.BigEndian.AppendUint32(nil, s)
	}
	return d
}

func (*Delete) PayloadType() PayloadType { return PayloadDelete }

func (p *Delete) AppendBody(b []byte) ([]byte, error) {
	if len(p.SPIs) > 0xffff {
		return b, encErr("Delete", "", "number of SPIs", ProblemLong, len(p.SPIs), 0xffff)
	}
	if p.SPISize == 0 && len(p.SPIs) > 0 {
		return b, encErr("Delete", "", "SPI size", ProblemInvalid, 0, 0)
	}
	b = append(b, byte(p.Protocol), p.SPISize)
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.SPIs)))
	for i, s := range p.SPIs {
		if len(s) != int(p.SPISize) {
			return b, encErr("Delete", joinPath("", "SPI", i+1), "length", ProblemMismatch, len(s), int(p.SPISize))
		}
		b = append(b, s...)
	}
	return b, nil
}

func parseDelete(b []byte) (*Delete, error) {
	if len(b) < 4 {
		return nil, errf("Delete", "", "length", ProblemShort, len(b)+4, 8)
	}
	p := &Delete{Protocol: ProtocolID(b[0]), SPISize: b[1]}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	size := int(p.SPISize)
	if p.Protocol == ProtocolIKE {
		if size != 0 {
			return nil, errf("Delete", "", "SPI size", ProblemMismatch, size, 0)
		}
		if n != 0 {
			return nil, errf("Delete", "", "number of SPIs", ProblemMismatch, n, 0)
		}
	} else if err := checkSPISize("Delete", "", p.Protocol, size, false); err != nil {
		return nil, err
	}
	if size == 0 && n != 0 {
		return nil, errf("Delete", "", "SPI size", ProblemInvalid, 0, 0)
	}
	body := b[4:]
	if n*size != len(body) {
		if n*size > len(body) {
			return nil, errf("Delete", "", "number of SPIs", ProblemOverrun, n, len(body))
		}
		return nil, errf("Delete", "", "SPIs", ProblemTrailing, len(body)-n*size, 0)
	}
	if n > 0 {
		p.SPIs = make([][]byte, n)
		for i := range p.SPIs {
			p.SPIs[i] = body[i*size : (i+1)*size]
		}
	}
	return p, nil
}

// Cookie2 returns the data of a COOKIE2 notification, 8 to 64 octets
// (RFC 4555 §3.8).
func (p *Notify) Cookie2() ([]byte, error) {
	if len(p.Data) < 8 {
		return nil, p.dataErr("data length", ProblemShort, len(p.Data), 8)
	}
	if len(p.Data) > 64 {
		return nil, p.dataErr("data length", ProblemLong, len(p.Data), 64)
	}
	return p.Data, nil
}

// NewChildNotify returns a notification about an AH or ESP SA, such as
// REKEY_SA or CHILD_SA_NOT_FOUND, naming its SPI.
func NewChildNotify(t NotifyType, proto ProtocolID, spi uint32, data []byte) *Notify {
	return &Notify{Protocol: proto, SPI: binary.BigEndian.AppendUint32(nil, spi), Type: t, Data: data}
}

// SPI32 returns the SPI of a notification about an AH or ESP SA.
func (p *Notify) SPI32() (uint32, bool) {
	if len(p.SPI) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(p.SPI), true
}

// SPI32s returns the SPIs of a Delete payload for AH or ESP SAs.
func (p *Delete) SPI32s() ([]uint32, bool) {
	if p.SPISize != 4 {
		return nil, false
	}
	out := make([]uint32, 0, len(p.SPIs))
	for _, s := range p.SPIs {
		if len(s) != 4 {
			return nil, false
		}
		out = append(out, binary.BigEndian.Uint32(s))
	}
	return out, true
}
