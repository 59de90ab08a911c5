package ike

import (
	"errors"
	"net/netip"
	"time"

	"mip6/wire/ikev2"
)

// ErrNoSA reports an operation on an IKE SA that does not exist.
var ErrNoSA = errors.New("ike: no such IKE SA")

// LocalSPI is our SPI of the IKE SA, the handle for operations on it.
func (i SAInfo) LocalSPI() uint64 {
	if i.Initiator {
		return i.InitiatorSPI
	}
	return i.ResponderSPI
}

// kick flushes a handle's pending output and arms its timer.
func (ep *Endpoint) kick(hd *saHandle) {
	go ep.run(hd, func(*IKESA) {})
}

func (ep *Endpoint) withSA(localSPI uint64, fn func(sa *IKESA, now time.Time) error) error {
	ep.mu.Lock()
	hd := ep.sas[localSPI]
	ep.mu.Unlock()
	if hd == nil {
		return ErrNoSA
	}
	var err error
	ep.run(hd, func(sa *IKESA) {
		if sa.state != stateEstablished {
			err = ErrNoSA
			return
		}
		err = fn(sa, time.Now())
	})
	return err
}

// DeleteIKESA deletes an IKE SA and its CHILD_SAs with an INFORMATIONAL
// exchange.
func (ep *Endpoint) DeleteIKESA(localSPI uint64) error {
	return ep.withSA(localSPI, func(sa *IKESA, now time.Time) error {
		sa.enqueue(now, &infoTask{deleteIKE: true})
		return nil
	})
}

// DeleteChildSA deletes the CHILD_SA with our inbound SPI.
func (ep *Endpoint) DeleteChildSA(localSPI uint64, inboundSPI uint32) error {
	return ep.withSA(localSPI, func(sa *IKESA, now time.Time) error {
		for _, c := range sa.children {
			if c.InboundSPI == inboundSPI {
				sa.enqueue(now, &infoTask{del: ikev2.DeleteESP(inboundSPI)})
				return nil
			}
		}
		return errors.New("ike: no such CHILD_SA")
	})
}

// RekeyChildSA rekeys the CHILD_SA with our inbound SPI.
func (ep *Endpoint) RekeyChildSA(localSPI uint64, inboundSPI uint32) error {
	return ep.withSA(localSPI, func(sa *IKESA, now time.Time) error {
		for _, c := range sa.children {
			if c.InboundSPI == inboundSPI && !c.rekeying {
				c.rekeying = true
				sa.enqueue(now, &childTask{cfg: c.cfg, rekey: c})
				return nil
			}
		}
		return errors.New("ike: no such CHILD_SA")
	})
}

// CreateChildSA negotiates another CHILD_SA with the given config, e.g.
// the return-routability and prefix-discovery SAs of RFC 4877 §7.3.
func (ep *Endpoint) CreateChildSA(localSPI uint64, cfg *ChildConfig) error {
	return ep.withSA(localSPI, func(sa *IKESA, now time.Time) error {
		sa.enqueue(now, &childTask{cfg: cfg})
		return nil
	})
}

// RekeyIKESA replaces the IKE SA's keys and SPIs.
func (ep *Endpoint) RekeyIKESA(localSPI uint64) error {
	return ep.withSA(localSPI, func(sa *IKESA, now time.Time) error {
		sa.enqueue(now, &ikeRekeyTask{})
		return nil
	})
}

// CheckLiveness sends an empty INFORMATIONAL request; a peer that does not
// answer within the retransmission schedule fails the SA.
func (ep *Endpoint) CheckLiveness(localSPI uint64) error {
	return ep.withSA(localSPI, func(sa *IKESA, now time.Time) error {
		sa.enqueue(now, &infoTask{})
		return nil
	})
}

// MoveEndpoints moves an IKE SA and its CHILD_SAs to new addresses without
// an IKE exchange or rekeying: the mobility layer calls it when a Binding
// Update with the K flag has been accepted (RFC 6275 §10.3.1, RFC 4877 §7.4).
// An invalid local keeps the current local address.
func (ep *Endpoint) MoveEndpoints(localSPI uint64, local, remote netip.AddrPort) error {
	return ep.withSA(localSPI, func(sa *IKESA, now time.Time) error {
		if local.IsValid() {
			sa.local = local
		}
		sa.remote = remote
		for _, c := range sa.children {
			c.Local, c.Remote = sa.local, sa.remote
		}
		sa.emit(Event{Kind: EventAddressesUpdated})
		return nil
	})
}

// dropStale removes, without a Delete exchange, the IKE SAs of a peer
// that sent INITIAL_CONTACT on the SA with our SPI keep.
func (ep *Endpoint) dropStale(id Identity, peer *PeerConfig, keep uint64) {
	for _, hd := range ep.peerSAs(id) {
		ep.run(hd, func(sa *IKESA) {
			if sa.localSPI() == keep || sa.peer != peer || !sa.remoteID.Equal(id) || sa.state != stateEstablished {
				return
			}
			sa.terminate(time.Now(), Event{Kind: EventIKEDeleted, Err: errors.New("ike: replaced after INITIAL_CONTACT")})
		})
	}
}
