package ha

import (
	"errors"
	"net/netip"
	"time"

	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// HandleMH processes a Mobility Header addressed to the home agent: msg is
// the whole MH, src and dst the pseudo-header addresses (the inner header's
// in the tunnelled form; the home address and the home agent in the
// transport form). Checksum, Payload Proto and length errors, and
// truncated or misaligned options, are dropped and counted; an unknown MH
// type gets a Binding Error with status 2 (RFC 6275 §9.2); a Binding Update
// goes to ProcessBU with HomeAddress = src.
func (h *HomeAgent) HandleMH(now time.Time, sec SecurityContext, src, dst netip.Addr, msg []byte) Result {
	if mh.VerifyChecksum(src, dst, msg) != nil {
		return h.dropped(DropBadChecksum)
	}
	hdr, err := mh.ParseHeader(msg)
	if err != nil {
		return h.dropped(DropMalformed)
	}
	if hdr.PayloadProto != ipv6.ProtoNoNext {
		return h.dropped(DropBadPayloadProto)
	}
	if !hdr.Type.Known() {
		if sec.SA == 0 || sec.HomeAddress != src {
			return h.dropped(DropWrongSA) // answer only through the sender's own SA
		}
		h.ctr.errors[ErrorUnknownMHType].Add(1)
		return Result{Verdict: Rejected, SendError: true,
			Error: BindingError{Status: ErrorUnknownMHType, HomeAddress: src, To: sec.OuterSource}}
	}
	if hdr.Type != mh.TypeBindingUpdate {
		return h.dropped(DropUnexpectedType)
	}
	m, err := mh.ParseBindingUpdate(msg)
	if err != nil {
		var unk *mh.UnknownTypeError
		if errors.As(err, &unk) {
			return h.dropped(DropUnexpectedType)
		}
		return h.dropped(DropMalformed)
	}
	bu := BindingUpdate{Sequence: m.Sequence, Acknowledge: m.Acknowledge, Home: m.HomeRegistration,
		LinkLocal: m.LinkLocalAddressCompatibility, KeyMgmt: m.KeyManagementMobilityCapability,
		Lifetime: m.Lifetime, HomeAddress: src}
	if m.Options.Has(mh.HasAlternateCareOfAddress) {
		bu.AltCoA = m.Options.AlternateCareOfAddress
	}
	return h.ProcessBU(now, sec, &bu)
}

// AppendAck appends the inner Binding Acknowledgement packet (home agent ->
// home address, RFC 4877 §3) to b; the caller protects it with the SA paired
// with a.SA and sends it to a.CareOf.
func AppendAck(b []byte, a *BindingAck) []byte {
	body := AppendAckMessage(nil, a)
	return ipv6.AppendPacket(b, a.HomeAgent, a.HomeAddress, ipv6.ProtoMobility, body)
}

// AppendAckMessage appends only the Mobility Header of the ack, checksummed
// for home agent -> home address. For the RFC 3776 transport form the caller
// seals it in ESP transport mode (next header 135) and sends it to a.CareOf
// with a Type 2 Routing header carrying a.HomeAddress (ipv6.Packet with
// RoutingHomeAddress and SegmentsLeft 1).
func AppendAckMessage(b []byte, a *BindingAck) []byte {
	m := mh.BindingAck{Status: mh.Status(a.Status), KeyManagementMobilityCapability: a.KeyMgmt,
		Sequence: a.Sequence, Lifetime: a.Lifetime}
	if a.Refresh != 0 {
		m.Options.Present |= mh.HasBindingRefreshAdvice
		m.Options.RefreshInterval = a.Refresh
	}
	return m.Append(b, a.HomeAgent, a.HomeAddress)
}

// AppendError appends a Binding Error packet from the home agent at from.
// Status 2 (an answer through the tunnel) goes to the home address; status 1
// (no binding for a Home Address option) goes to e.To, the packet's source.
func AppendError(b []byte, from netip.Addr, e *BindingError) []byte {
	m := mh.BindingError{Status: mh.BEStatus(e.Status), HomeAddress: e.HomeAddress}
	dst := e.HomeAddress
	if e.Status == ErrorUnknownBinding || !dst.IsValid() {
		dst = e.To
	}
	body := m.Append(nil, from, dst)
	return ipv6.AppendPacket(b, from, dst, ipv6.ProtoMobility, body)
}
