package mn

import (
	"fmt"
	"time"
)

// Timer runs what is due at now: retransmission with exponential back-off,
// refresh before the binding expires, expiry, prefix solicitation.
func (m *MobileNode) Timer(now time.Time) []Action {
	var out []Action
	if m.registered && !now.Before(m.expires) {
		m.registered = false // lifetime over without a successful refresh
	}
	switch {
	case m.pending.active && !now.Before(m.pending.deadline):
		out = append(out, m.retransmit(now)...)
	case !m.pending.active && m.registered && !now.Before(m.refreshAt):
		out = append(out, m.send(now, false))
	}
	out = append(out, m.prefixTimer(now)...)
	return out
}

// retransmit backs off (doubling up to MaxTimeout) or, after MaxAttempts
// transmissions, gives the home agent up.
func (m *MobileNode) retransmit(now time.Time) []Action {
	if m.pending.attempts >= m.cfg.MaxAttempts {
		return m.fail(0, fmt.Sprintf("home agent %v did not answer %d Binding Updates", m.cfg.HomeAgent, m.pending.attempts))
	}
	m.pending.timeout = min(2*m.pending.timeout, m.cfg.MaxTimeout)
	return []Action{m.transmit(now, true)}
}

func (m *MobileNode) fail(status uint8, reason string) []Action {
	m.pending = outstanding{}
	m.registered, m.failed = false, true
	m.everRegistered, m.keyMgmt = false, false // the re-bootstrap makes a new IKE SA
	return []Action{Rebootstrap{Reason: reason, Status: status}}
}

// HandleAck processes a Binding Acknowledgement that arrived through the SA
// for our home address (RFC 6275 §11.7.3).
func (m *MobileNode) HandleAck(now time.Time, ba BindingAck) []Action {
	if !m.pending.active {
		return nil // nothing outstanding: late duplicate
	}
	if ba.Status == StatusSequenceOutOfWindow {
		// The home agent remembers a newer number: continue after it.
		if m.pending.attempts >= m.cfg.MaxAttempts {
			return m.fail(ba.Status, "sequence number out of window, attempts exhausted")
		}
		m.seq = ba.Sequence
		return []Action{m.transmit(now, true)}
	}
	if ba.Sequence != m.pending.bu.Sequence {
		return nil // answers an earlier transmission we no longer wait for
	}
	switch {
	case ba.Status < 128 && m.pending.dereg, m.pending.dereg && ba.Status == StatusNotHomeAgentForThisMN:
		m.pending = outstanding{}
		m.registered, m.keyMgmt = false, false
		return []Action{Deregistered{}, TunnelActive{Active: false}}
	case ba.Status < 128:
		return m.accepted(ba)
	case ba.Status == StatusReasonUnspecified || ba.Status == StatusInsufficientResources:
		// Possibly transient: retry on the back-off schedule.
		m.pending.timeout = min(2*m.pending.timeout, m.cfg.MaxTimeout)
		m.pending.deadline = now.Add(m.pending.timeout)
		return nil
	default:
		return m.fail(ba.Status, fmt.Sprintf("home agent refused the binding with status %d", ba.Status))
	}
}

func (m *MobileNode) accepted(ba BindingAck) []Action {
	p := m.pending
	m.pending = outstanding{}
	granted := time.Duration(ba.Lifetime) * LifetimeUnit
	if granted == 0 {
		m.registered = false
		return []Action{Deregistered{}}
	}
	if req := time.Duration(p.bu.Lifetime) * LifetimeUnit; granted > req {
		granted = req
	}
	refresh := time.Duration(float64(granted) * m.cfg.RefreshFraction)
	if adv := time.Duration(ba.Refresh) * LifetimeUnit; ba.Refresh != 0 && adv < refresh {
		refresh = adv
	}
	was := m.registered
	// Lifetimes count from when the BU was sent (RFC 6275 §11.7.3).
	m.registered, m.regCoA = true, p.bu.CareOf
	m.expires, m.refreshAt = p.sentAt.Add(granted), p.sentAt.Add(refresh)
	m.keyMgmt = ba.KeyMgmt && m.cfg.KeyMgmt
	m.everRegistered = true
	out := []Action{Registered{CareOf: p.bu.CareOf, Lifetime: granted, Refresh: m.refreshAt, KeyMgmt: m.keyMgmt, Status: ba.Status}}
	if !was {
		out = append(out, TunnelActive{Active: true})
	}
	if ba.Status == StatusAcceptedPrefixDiscovery {
		out = append(out, m.solicit(p.sentAt))
	}
	return out
}

// SolicitPrefixes starts a Mobile Prefix Solicitation (RFC 6275 §11.4.2).
func (m *MobileNode) SolicitPrefixes(now time.Time) []Action {
	return []Action{m.solicit(now)}
}

func (m *MobileNode) solicit(now time.Time) Action {
	m.mpsID++
	m.mps = retry{active: true, timeout: PrefixSolicitTimeout, attempts: 1, deadline: now.Add(PrefixSolicitTimeout)}
	return SendPrefixSolicitation{Identifier: m.mpsID, HomeAddress: m.cfg.HomeAddress, HomeAgent: m.cfg.HomeAgent}
}

func (m *MobileNode) prefixTimer(now time.Time) []Action {
	switch {
	case m.mps.active && !now.Before(m.mps.deadline):
		if m.mps.attempts >= PrefixSolicitAttempts {
			m.mps = retry{} // not fatal: the binding refresh keeps working
			return nil
		}
		m.mps.attempts++
		m.mps.timeout *= 2
		m.mps.deadline = now.Add(m.mps.timeout)
		return []Action{SendPrefixSolicitation{Identifier: m.mpsID, HomeAddress: m.cfg.HomeAddress, HomeAgent: m.cfg.HomeAgent}}
	case !m.mps.active && m.registered && !m.prefixEnds.IsZero() && !now.Before(m.prefixSolicitAt()):
		m.prefixEnds = time.Time{} // asked; the advertisement sets it again
		return []Action{m.solicit(now)}
	}
	return nil
}

// HandlePrefixAdvertisement processes a Mobile Prefix Advertisement that
// arrived through the SA for our home address (solicited with identifier
// id, or unsolicited). If the home prefix is withdrawn (valid lifetime 0)
// the home address is lost and the node must bootstrap again.
func (m *MobileNode) HandlePrefixAdvertisement(now time.Time, id uint16, prefixes []PrefixInfo) []Action {
	if m.mps.active && id == m.mpsID {
		m.mps = retry{}
	}
	for _, p := range prefixes {
		if p.Prefix.Masked() != m.cfg.HomePrefix.Masked() {
			continue
		}
		if p.ValidLifetime == 0 {
			return m.fail(0, fmt.Sprintf("home prefix %v withdrawn", p.Prefix))
		}
		m.prefixEnds = now.Add(p.ValidLifetime)
	}
	return nil
}
