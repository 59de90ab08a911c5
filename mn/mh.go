package mn

import (
	"errors"
	"net/netip"
	"time"

	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// AppendBindingUpdate appends the inner packet of a SendBindingUpdate
// action to b: IPv6 home address -> home agent, Mobility Header Binding
// Update with the Alternate Care-of Address option (RFC 4877 §3). The
// caller protects it with the tunnel SA and sends it from bu.CareOf.
func AppendBindingUpdate(b []byte, bu *SendBindingUpdate) []byte {
	body := AppendBindingUpdateMessage(nil, bu)
	return ipv6.AppendPacket(b, bu.HomeAddress, bu.HomeAgent, ipv6.ProtoMobility, body)
}

// AppendBindingUpdateMessage appends only the Mobility Header, checksummed
// for home address -> home agent. For the RFC 3776 transport form the
// caller seals it in ESP transport mode (next header 135) and sends it from
// bu.CareOf with a Home Address option carrying bu.HomeAddress (ipv6.Packet
// with HomeAddress set).
func AppendBindingUpdateMessage(b []byte, bu *SendBindingUpdate) []byte {
	m := mh.BindingUpdate{Sequence: bu.Sequence, Acknowledge: bu.Acknowledge, HomeRegistration: bu.Home,
		KeyManagementMobilityCapability: bu.KeyMgmt, Lifetime: bu.Lifetime}
	if bu.AltCoA.IsValid() {
		m.Options.Present |= mh.HasAlternateCareOfAddress
		m.Options.AlternateCareOfAddress = bu.AltCoA
	}
	return m.Append(b, bu.HomeAddress, bu.HomeAgent)
}

// ErrNotAck is returned by ParseAck for a valid Mobility Header that is not
// a Binding Acknowledgement.
var ErrNotAck = errors.New("mn: not a Binding Acknowledgement")

// ParseAck checks and decodes a Mobility Header msg received from src to dst
// (pseudo-header addresses) as a Binding Acknowledgement.
func ParseAck(src, dst netip.Addr, msg []byte) (BindingAck, error) {
	if err := mh.VerifyChecksum(src, dst, msg); err != nil {
		return BindingAck{}, err
	}
	h, err := mh.ParseHeader(msg)
	if err != nil {
		return BindingAck{}, err
	}
	if h.Type != mh.TypeBindingAck {
		return BindingAck{}, ErrNotAck
	}
	m, err := mh.ParseBindingAck(msg)
	if err != nil {
		return BindingAck{}, err
	}
	ba := BindingAck{Status: uint8(m.Status), KeyMgmt: m.KeyManagementMobilityCapability, Sequence: m.Sequence, Lifetime: m.Lifetime}
	if m.Options.Has(mh.HasBindingRefreshAdvice) {
		ba.Refresh = m.Options.RefreshInterval
	}
	return ba, nil
}

// AppendPrefixSolicitation appends the inner Mobile Prefix Solicitation
// packet (home address -> home agent) of a SendPrefixSolicitation action.
func AppendPrefixSolicitation(b []byte, s *SendPrefixSolicitation) []byte {
	m := ipv6.MobilePrefixSolicitation{Identifier: s.Identifier}
	body := m.Append(nil, s.HomeAddress, s.HomeAgent)
	return ipv6.AppendPacket(b, s.HomeAddress, s.HomeAgent, ipv6.ProtoICMPv6, body)
}

// ParsePrefixAdvertisement checks and decodes an ICMPv6 Mobile Prefix
// Advertisement from src to dst into its identifier and prefixes.
func ParsePrefixAdvertisement(src, dst netip.Addr, msg []byte) (uint16, []PrefixInfo, error) {
	if err := ipv6.VerifyICMPv6(src, dst, msg); err != nil {
		return 0, nil, err
	}
	m, err := ipv6.ParseMobilePrefixAdvertisement(msg)
	if err != nil {
		return 0, nil, err
	}
	var out []PrefixInfo
	for it := m.Prefixes(); it.Next(); {
		p := it.Prefix()
		pfx, err := p.Prefix.Prefix(int(p.PrefixLength))
		if err != nil {
			continue
		}
		out = append(out, PrefixInfo{Prefix: pfx, ValidLifetime: time.Duration(p.ValidLifetime) * time.Second,
			PreferredLifetime: time.Duration(p.PreferredLifetime) * time.Second})
	}
	return m.Identifier, out, nil
}
