package ike

import (
	"encoding/binary"
	"time"

	"mip6/wire/ikev2"
)

// respondInformational handles Delete, liveness checks and MOBIKE address
// updates (§1.4, RFC 4555 §3.5).
func (sa *IKESA) respondInformational(now time.Time, ps ikev2.Payloads) ikev2.Payloads {
	var resp ikev2.Payloads
	var ours []uint32
	for _, p := range ps {
		switch q := p.(type) {
		case *ikev2.Delete:
			if q.Protocol == ikev2.ProtocolIKE {
				sa.terminate(now, Event{Kind: EventIKEDeleted})
				return ikev2.Payloads{}
			}
			if q.Protocol == ikev2.ProtocolESP {
				ours = append(ours, sa.deleteChildren(now, q)...)
			}
		case *ikev2.Notify:
			switch {
			case q.Type == ikev2.NotifyUpdateSAAddresses && sa.peerMOBIKE:
				resp = append(resp, sa.updateAddresses(now)...)
			case q.Type == ikev2.NotifyCookie2 && len(q.Data) >= 8 && len(q.Data) <= 64:
				resp = append(resp, ikev2.NewNotify(ikev2.NotifyCookie2, append([]byte(nil), q.Data...))) // RFC 4555 §4.5
			}
		}
	}
	if len(ours) > 0 {
		resp = append(resp, ikev2.DeleteESP(ours...))
	}
	if resp == nil {
		resp = ikev2.Payloads{}
	}
	return resp
}

// deleteChildren removes the CHILD_SAs whose outbound SPIs the peer
// deletes and returns our inbound SPIs of them for the reply.
func (sa *IKESA) deleteChildren(now time.Time, d *ikev2.Delete) []uint32 {
	var ours []uint32
	for _, s := range d.SPIs {
		if len(s) != 4 {
			continue
		}
		spi := binary.BigEndian.Uint32(s)
		for i, c := range sa.children {
			if c.OutboundSPI == spi {
				ours = append(ours, c.InboundSPI)
				sa.children = append(sa.children[:i], sa.children[i+1:]...)
				sa.emit(Event{Kind: EventChildDeleted, Child: c})
				break
			}
		}
	}
	return ours
}

// updateAddresses moves the IKE SA and its CHILD_SAs to the address the
// UPDATE_SA_ADDRESSES request came from (RFC 4555 §3.5).
func (sa *IKESA) updateAddresses(now time.Time) ikev2.Payloads {
	sa.local, sa.remote = sa.reqLocal, sa.reqRemote
	for _, c := range sa.children {
		c.Local, c.Remote = sa.local, sa.remote
	}
	sa.emit(Event{Kind: EventAddressesUpdated})
	return natNotifies(sa.spiI, sa.spiR, sa.local, sa.remote)
}

// infoTask sends an INFORMATIONAL request: Delete payloads or nothing
// (liveness).
type infoTask struct {
	del       *ikev2.Delete
	deleteIKE bool
}

func (*infoTask) exchange() ikev2.ExchangeType { return ikev2.ExchangeInformational }

func (t *infoTask) build(sa *IKESA, now time.Time) (ikev2.Payloads, error) {
	if t.deleteIKE {
		sa.state = stateDeleting
		return ikev2.Payloads{&ikev2.Delete{Protocol: ikev2.ProtocolIKE}}, nil
	}
	if t.del != nil {
		return ikev2.Payloads{t.del}, nil
	}
	return ikev2.Payloads{}, nil
}

func (t *infoTask) process(sa *IKESA, now time.Time, h ikev2.Header, ps ikev2.Payloads) error {
	if t.deleteIKE {
		sa.terminate(now, Event{Kind: EventIKEDeleted})
		return nil
	}
	if t.del != nil {
		for _, s := range t.del.SPIs {
			sa.dropChild(binary.BigEndian.Uint32(s))
		}
	}
	return nil
}

// dropChild forgets the CHILD_SA with our inbound SPI and reports it.
func (sa *IKESA) dropChild(in uint32) {
	for i, c := range sa.children {
		if c.InboundSPI == in {
			sa.children = append(sa.children[:i], sa.children[i+1:]...)
			sa.emit(Event{Kind: EventChildDeleted, Child: c})
			return
		}
	}
}

// closeNow sends one Delete for the IKE SA without waiting for an answer.
func (sa *IKESA) closeNow(now time.Time) {
	if sa.state == stateEstablished {
		if d, err := sa.encode(sa.header(ikev2.ExchangeInformational, sa.nextMsgID, false), ikev2.Payloads{&ikev2.Delete{Protocol: ikev2.ProtocolIKE}}); err == nil {
			sa.send(d)
		}
	}
	sa.terminate(now, Event{Kind: EventIKEDeleted})
}

// lifetimeTimers starts rekeys and liveness checks that are due.
func (sa *IKESA) lifetimeTimers(now time.Time) {
	if sa.state != stateEstablished {
		return
	}
	if !sa.expireDue.IsZero() && !now.Before(sa.expireDue) {
		sa.expireDue = time.Time{}
		sa.enqueue(now, &infoTask{deleteIKE: true})
		return
	}
	if !sa.orphanDue.IsZero() && !now.Before(sa.orphanDue) {
		sa.orphanDue = time.Time{}
		if len(sa.children) == 0 && !sa.assigned.IsValid() {
			// The peer did not delete the SA it cannot use (RFC 4877 §9).
			sa.enqueue(now, &infoTask{deleteIKE: true})
			return
		}
	}
	for _, c := range sa.children {
		if !c.expireDue.IsZero() && !now.Before(c.expireDue) {
			c.expireDue = time.Time{}
			sa.enqueue(now, &infoTask{del: ikev2.DeleteESP(c.InboundSPI)})
		}
	}
	if !sa.rekeyDue.IsZero() && !now.Before(sa.rekeyDue) {
		sa.rekeyDue = time.Time{}
		sa.enqueue(now, &ikeRekeyTask{})
	}
	if iv := sa.peer.DPDInterval; !sa.dpdDue.IsZero() && !now.Before(sa.dpdDue) {
		// Check liveness when the peer has been silent for an interval;
		// a request in flight already does (its retransmissions give up).
		if silent := now.Sub(sa.lastHeard); silent < iv {
			sa.dpdDue = sa.lastHeard.Add(iv)
		} else {
			sa.dpdDue = now.Add(iv)
			if sa.inflight == nil {
				sa.enqueue(now, &infoTask{})
			}
		}
	}
	for _, c := range sa.children {
		if !c.rekeyDue.IsZero() && !now.Before(c.rekeyDue) && !c.rekeying {
			c.rekeyDue, c.rekeying = time.Time{}, true
			sa.enqueue(now, &childTask{cfg: c.cfg, rekey: c})
		}
	}
}
