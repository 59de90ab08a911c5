package ha

import (
	"net/netip"
	"time"
)

// ProcessBU processes a Binding Update that arrived through IPsec, as RFC
// 6275 §9.5.1, §10.3.1 and §10.3.2 and RFC 4877 §4.2-4.3 describe, and
// returns what to send and what to change. It never changes a binding
// other than the one for the SA's own home address.
func (h *HomeAgent) ProcessBU(now time.Time, sec SecurityContext, bu *BindingUpdate) Result {
	coa, drop := h.authorise(sec, bu)
	if drop != DropNone {
		return h.dropped(drop)
	}
	if !bu.Home {
		// Correspondent registration needs return routability, which this
		// node does not offer (RFC 6275 §9.2): Binding Error, status 2,
		// unless it would turn a home registration into one (139).
		if _, ok := h.cache.Lookup(bu.HomeAddress); ok {
			return h.reject(sec, bu, coa, StatusRegistrationTypeChange, 0)
		}
		h.ctr.errors[ErrorUnknownMHType].Add(1)
		return Result{Verdict: Rejected, SendError: true,
			Error: BindingError{Status: ErrorUnknownMHType, HomeAddress: bu.HomeAddress, To: coa}}
	}
	if h.cfg.HomeRegistrationDisabled {
		return h.reject(sec, bu, coa, StatusHomeRegistrationNotSupported, 0)
	}
	if !h.onHomeLink(bu.HomeAddress) {
		return h.reject(sec, bu, coa, StatusNotHomeSubnet, 0)
	}
	if !h.pad.Authorized(sec.Identity, bu.HomeAddress) {
		// The SA was made for this home address, but the PAD no longer
		// links the identity to it (revoked, lease ended).
		return h.reject(sec, bu, coa, StatusAdministrativelyProhibited, 0)
	}
	if bu.Lifetime == 0 || coa == bu.HomeAddress {
		return h.deregister(now, sec, bu, coa)
	}
	return h.register(now, sec, bu, coa)
}

// authorise applies RFC 4877 §4.2 and §4.3: the BU must come through an SA
// created for its home address, by the identity that owns the binding, and
// its Alternate Care-of Address must equal the outer source. It returns the
// care-of address. The binding owner's identity is checked under the shard
// lock in register and deregister.
func (h *HomeAgent) authorise(sec SecurityContext, bu *BindingUpdate) (netip.Addr, DropReason) {
	switch {
	case sec.SA == 0:
		return netip.Addr{}, DropUnprotected
	case sec.Identity == "":
		return netip.Addr{}, DropNoIdentity
	case !globalUnicast(bu.HomeAddress):
		return netip.Addr{}, DropBadHomeAddress
	case sec.HomeAddress != bu.HomeAddress:
		// A strongSwan-style MN uses its any-protocol tunnel SA: accepted
		// as long as that SA is bound to this very home address.
		return netip.Addr{}, DropWrongSA
	}
	coa := sec.OuterSource
	if bu.AltCoA.IsValid() {
		if bu.AltCoA != sec.OuterSource {
			return netip.Addr{}, DropAltCoAMismatch
		}
		coa = bu.AltCoA
	} else if bu.Lifetime != 0 && sec.OuterSource != bu.HomeAddress {
		return netip.Addr{}, DropMissingAltCoA
	}
	if !globalUnicast(coa) {
		return netip.Addr{}, DropBadCareOf
	}
	return coa, DropNone
}

func globalUnicast(a netip.Addr) bool {
	return a.Is6() && !a.Is4In6() && a.IsGlobalUnicast() && a.Zone() == ""
}

// seqNewer reports whether s is newer than last modulo 2^16: less than
// 32768 ahead (RFC 6275 §9.5.1).
func seqNewer(s, last uint16) bool {
	d := s - last
	return d != 0 && d < 0x8000
}

func (h *HomeAgent) register(now time.Time, sec SecurityContext, bu *BindingUpdate, coa netip.Addr) Result {
	s := h.cache.shardFor(bu.HomeAddress)
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.m[bu.HomeAddress]
	if b != nil && !b.Expires.After(now) {
		b = nil // expired, not yet swept: a fresh registration
	}
	if b != nil && b.Identity != sec.Identity {
		return h.dropped(DropIdentityMismatch) // never on behalf of another MN
	}
	if b != nil && !seqNewer(bu.Sequence, b.Sequence) {
		return h.reject(sec, bu, coa, StatusSequenceOutOfWindow, b.Sequence)
	}
	if h.cfg.Prohibited != nil && h.cfg.Prohibited(sec.Identity, bu.HomeAddress) {
		return h.reject(sec, bu, coa, StatusAdministrativelyProhibited, 0)
	}
	var eff Effect
	var prev netip.Addr
	if b == nil {
		if h.cfg.MaxBindings > 0 && h.cache.Len() >= h.cfg.MaxBindings && s.m[bu.HomeAddress] == nil {
			return h.reject(sec, bu, coa, StatusInsufficientResources, 0)
		}
		if h.cfg.DuplicateAddress != nil && s.m[bu.HomeAddress] == nil && h.cfg.DuplicateAddress(bu.HomeAddress) {
			return h.reject(sec, bu, coa, StatusDADFailed, 0)
		}
		if old := s.m[bu.HomeAddress]; old != nil {
			*old = Binding{} // reuse the expired entry's memory
			b = old
		} else {
			b = new(Binding)
			s.m[bu.HomeAddress] = b
			h.cache.n.Add(1)
		}
		b.HomeAddress, b.Registered = bu.HomeAddress, now
		eff = EffectClaimHomeAddress | EffectTunnelActive | EffectMoveTunnel
	} else {
		prev = b.CareOf
		if prev != coa || b.CareOfPort != sec.OuterSourcePort {
			eff = EffectMoveTunnel
		}
	}
	k := h.cfg.KeyMgmtMobility && bu.KeyMgmt
	if k && eff.Has(EffectMoveTunnel) && sec.IKESA != 0 {
		eff |= EffectMoveIKE
	}
	life := h.grant(bu.Lifetime)
	b.CareOf, b.CareOfPort, b.Sequence = coa, sec.OuterSourcePort, bu.Sequence
	b.KeyMgmt, b.LinkLocal, b.Lifetime = k, bu.LinkLocal, life
	b.Updated, b.Expires = now, now.Add(life)
	s.noteExpiry(b.Expires)
	b.Identity, b.SA, b.IKESA = sec.Identity, sec.SA, sec.IKESA
	status := StatusAccepted
	if h.cfg.PrefixDiscoveryNecessary != nil && h.cfg.PrefixDiscoveryNecessary(bu.HomeAddress) {
		status = StatusAcceptedPrefixDiscovery
	}
	h.ctr.status[status].Add(1)
	r := Result{Verdict: Accepted, Effects: eff, Binding: *b, PrevCareOf: prev, SendAck: bu.Acknowledge}
	r.Ack = h.ack(sec, bu, coa, status, bu.Sequence)
	r.Ack.KeyMgmt = k
	r.Ack.Lifetime = uint16(life / LifetimeUnit)
	r.Ack.Refresh = h.refresh(r.Ack.Lifetime)
	return r
}

// grant caps the requested lifetime (RFC 6275 §10.3.1).
func (h *HomeAgent) grant(units uint16) time.Duration {
	life := time.Duration(units) * LifetimeUnit
	if life > h.cfg.MaxLifetime {
		life = h.cfg.MaxLifetime.Truncate(LifetimeUnit)
	}
	if life < LifetimeUnit {
		life = LifetimeUnit
	}
	return life
}

// refresh returns the Binding Refresh Advice interval, less than the
// granted lifetime (RFC 6275 §6.2.4), or 0 for no option.
func (h *HomeAgent) refresh(lifetime uint16) uint16 {
	if h.cfg.RefreshFraction < 0 || lifetime < 2 {
		return 0
	}
	r := uint16(float64(lifetime) * h.cfg.RefreshFraction)
	if r >= lifetime {
		r = lifetime - 1
	}
	return r
}

func (h *HomeAgent) deregister(now time.Time, sec SecurityContext, bu *BindingUpdate, coa netip.Addr) Result {
	s := h.cache.shardFor(bu.HomeAddress)
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.m[bu.HomeAddress]
	if b == nil || !b.Expires.After(now) {
		return h.reject(sec, bu, coa, StatusNotHomeAgentForThisMN, 0)
	}
	if b.Identity != sec.Identity {
		return h.dropped(DropIdentityMismatch)
	}
	if !seqNewer(bu.Sequence, b.Sequence) {
		return h.reject(sec, bu, coa, StatusSequenceOutOfWindow, b.Sequence)
	}
	gone := *b
	delete(s.m, bu.HomeAddress)
	h.cache.n.Add(-1)
	h.ctr.status[StatusAccepted].Add(1)
	r := Result{Verdict: Accepted, Effects: EffectReleaseHomeAddress | EffectTunnelInactive,
		Binding: gone, PrevCareOf: gone.CareOf, SendAck: true}
	r.Ack = h.ack(sec, bu, coa, StatusAccepted, bu.Sequence)
	// RFC 6275 §10.3.2: K as in §10.3.1, the home address being the key
	// management connection's new endpoint.
	r.Ack.KeyMgmt = h.cfg.KeyMgmtMobility && bu.KeyMgmt
	if r.Ack.KeyMgmt && sec.IKESA != 0 && coa != gone.CareOf {
		r.Effects |= EffectMoveIKE
	}
	return r
}

// reject answers with a Binding Acknowledgement carrying status; seq is the
// last accepted sequence number for 135, else the BU's.
func (h *HomeAgent) reject(sec SecurityContext, bu *BindingUpdate, coa netip.Addr, status uint8, seq uint16) Result {
	h.ctr.status[status].Add(1)
	if status != StatusSequenceOutOfWindow {
		seq = bu.Sequence
	}
	return Result{Verdict: Rejected, SendAck: true, Ack: h.ack(sec, bu, coa, status, seq)}
}

func (h *HomeAgent) ack(sec SecurityContext, bu *BindingUpdate, coa netip.Addr, status uint8, seq uint16) BindingAck {
	return BindingAck{Status: status, Sequence: seq, HomeAgent: h.cfg.Address,
		HomeAddress: bu.HomeAddress, CareOf: coa, SA: sec.SA}
}

func (h *HomeAgent) dropped(r DropReason) Result {
	h.ctr.drop[r].Add(1)
	return Result{Verdict: Dropped, Drop: r}
}

// CountDrop counts a message discarded before ProcessBU could see it (bad
// checksum, truncated option) so that every drop shows in Counters.
func (h *HomeAgent) CountDrop(r DropReason) {
	if r > DropNone && r < numDropReasons {
		h.ctr.drop[r].Add(1)
	}
}
