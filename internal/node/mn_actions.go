package node

import (
	"fmt"
	"time"

	"mip6/ipsec"
	"mip6/mn"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// run carries out the core's actions, in order. m.mu is held.
func (m *MobileNode) run(now time.Time, acts []mn.Action) {
	for _, a := range acts {
		switch a := a.(type) {
		case mn.MoveEndpoints:
			for _, c := range []*Child{m.child.Load(), m.sig.Load(), m.pfx.Load()} {
				if c != nil {
					moveLocal(c.Out, a.CareOf)
					moveLocal(c.In, a.CareOf)
				}
			}
			if a.IKE && m.cfg.MoveIKE != nil {
				m.cfg.MoveIKE(a.CareOf)
			}
			m.obs("mn", "", "SA endpoints moved", fmt.Sprintf("local outer address %s (IKE SA too: %v)", a.CareOf, a.IKE))
		case mn.SendBindingUpdate:
			m.sendBU(now, a)
		case mn.Registered:
			m.t.counters.inc(cRegistrations)
			m.handoverDone(now)
			m.obs("mn", "", "registered", fmt.Sprintf("care-of %s, lifetime %s, refresh at +%s, K %v",
				a.CareOf, a.Lifetime, a.Refresh.Sub(now).Round(time.Second), a.KeyMgmt))
			m.log.Info("registered", "hoa", m.hoa, "coa", a.CareOf, "lifetime", a.Lifetime)
		case mn.TunnelActive:
			m.setTunnel(a.Active)
		case mn.Deregistered:
			m.handoverDone(now)
			m.obs("mn", "", "de-registered", "back home: the home agent removed the binding")
			m.log.Info("de-registered", "hoa", m.hoa)
			if a := m.cfg.Host; a != nil && m.careOf == m.hoa {
				if err := a.AnnounceHome(); err != nil {
					m.log.Warn("home address not advertised on the home link", "hoa", m.hoa, "err", err)
				}
			}
		case mn.SendPrefixSolicitation:
			m.sendMPS(a)
		case mn.Rebootstrap:
			m.obs("mn", "", "re-bootstrap", a.Reason)
			m.log.Warn("re-bootstrap", "reason", a.Reason, "status", a.Status)
			if m.cfg.Rebootstrap != nil {
				go m.cfg.Rebootstrap(a.Reason)
			}
		}
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// sendBU sends a Binding Update: in the RFC 3776 transport form when so
// configured and a signalling pair is installed, else in the RFC 4877 §3
// tunnelled form.
func (m *MobileNode) sendBU(now time.Time, a mn.SendBindingUpdate) {
	bu := mh.BindingUpdate{Sequence: a.Sequence, Acknowledge: a.Acknowledge, HomeRegistration: a.Home,
		KeyManagementMobilityCapability: a.KeyMgmt, Lifetime: a.Lifetime}
	if a.AltCoA.IsValid() {
		bu.Options.Present |= mh.HasAlternateCareOfAddress
		bu.Options.AlternateCareOfAddress = a.AltCoA
	}
	body := bu.Append(nil, a.HomeAddress, a.HomeAgent)
	var out *ipsec.SAEntry
	var err error
	form := "tunnelled"
	if s := m.sig.Load(); m.cfg.TransportForm && s != nil {
		out, form = s.Out, "transport form"
		err = m.sendTransportBU(s, a, body)
	} else if c := m.child.Load(); c != nil {
		out = c.Out
		err = m.t.send(c.Out, ipv6.AppendPacket(nil, a.HomeAddress, a.HomeAgent, ipv6.ProtoMobility, body))
	} else {
		m.t.counters.inc(cDropNoTunnel)
		return
	}
	if err != nil {
		return
	}
	m.t.counters.inc(cBUOut)
	m.buSentAt = now
	what := "Binding Update sent"
	if a.Retransmission {
		what = "Binding Update retransmitted"
	}
	m.obs("mn", "", what, fmt.Sprintf("seq %d care-of %s lifetime %s K %v (%s, ESP SPI %08x)",
		a.Sequence, a.CareOf, mh.LifetimeDuration(a.Lifetime), a.KeyMgmt, form, out.SPI()))
}

// sendMPS sends a Mobile Prefix Solicitation: in the RFC 3776 transport
// form when so configured and the MPS/MPA pair is installed (RFC 4877
// §7.2.3), else through the tunnel. m.mu is held.
func (m *MobileNode) sendMPS(a mn.SendPrefixSolicitation) {
	s := ipv6.MobilePrefixSolicitation{Identifier: a.Identifier}
	body := s.Append(nil, a.HomeAddress, a.HomeAgent)
	var err error
	form := "tunnelled"
	if pd := m.pfx.Load(); m.cfg.TransportForm && pd != nil {
		form = "transport form"
		err = m.sendTransportMPS(pd, a, body)
	} else if c := m.child.Load(); c != nil {
		err = m.t.send(c.Out, ipv6.AppendPacket(nil, a.HomeAddress, a.HomeAgent, ipv6.ProtoICMPv6, body))
	} else {
		m.t.counters.inc(cDropNoTunnel)
		return
	}
	if err == nil {
		m.t.counters.inc(cMPSOut)
		m.obs("mn", "", "Mobile Prefix Solicitation sent", fmt.Sprintf("id %d (%s)", a.Identifier, form))
	}
}
