// Package mn is the protocol core of a Mobile IPv6 mobile node's home
// registration (RFC 6275 §11.7, secured per RFC 4877): the binding update
// list entry for its home agent, Binding Update retransmission (1 s
// doubling to 32 s, bounded by Config.MaxAttempts), refresh before the
// binding expires (Config.RefreshFraction of the grant, or the Binding
// Refresh Advice if sooner), movement, return home with de-registration,
// Mobile Prefix Solicitation, and a re-bootstrap signal when the home agent
// refuses or vanishes.
//
// It does no I/O and owns no timers. One goroutine owns a MobileNode and
// feeds it events with the current time; it returns Actions:
//
//	m, _ := mn.New(mn.Config{HomeAddress: hoa, HomeAgent: ha, HomePrefix: p, KeyMgmt: true})
//	acts := m.Attach(now, coa)          // new care-of address (or the HoA: back home)
//	acts  = m.HandleAck(now, ba)        // a BA that arrived through the HoA's SA
//	acts  = m.Timer(now)                // at m.NextTimer()
//	acts  = m.HandlePrefixAdvertisement(now, id, prefixes)
//
// Actions, in the order given: MoveEndpoints (set the local outer address
// of our tunnel SAs, and of the IKE SA when K was granted, before the BU of
// a move leaves), SendBindingUpdate (build and send it in the RFC 4877 §3
// tunnelled form through the SA bound to the home address), Registered,
// TunnelActive (start/stop reverse tunnelling from the home address),
// Deregistered, SendPrefixSolicitation, Rebootstrap.
//
// Wire helpers: AppendBindingUpdate (inner packet of the tunnelled form),
// AppendBindingUpdateMessage (the MH alone, for the RFC 3776 transport
// form with a Home Address option), ParseAck, AppendPrefixSolicitation,
// ParsePrefixAdvertisement.
//
// Status handling: < 128 accepted (1 also solicits prefixes); 135 resumes
// after the home agent's sequence number; 128 and 130 are retried on the
// back-off schedule; 133 to a de-registration means there is nothing to
// remove; every other refusal asks for a re-bootstrap.
package mn
