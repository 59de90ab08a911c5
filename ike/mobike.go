package ike

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/netip"
	"time"

	"mip6/wire/ikev2"
)

// MOBIKE on the initiator (RFC 4555): with PeerConfig.MOBIKE we offer
// MOBIKE_SUPPORTED in IKE_AUTH; if the responder agrees, a change of our
// address moves the IKE SA and its CHILD_SAs with one INFORMATIONAL
// exchange (UPDATE_SA_ADDRESSES, §3.5) instead of a new IKE SA.

var errNoMOBIKE = errors.New("ike: MOBIKE not negotiated on this IKE SA (or we are not its initiator)")

// UpdateLocalAddress moves an IKE SA we initiated with MOBIKE to a new
// local address (same port): the UPDATE_SA_ADDRESSES request goes from
// it, and EventAddressesUpdated follows the response. The transport must
// be able to send from local.
func (ep *Endpoint) UpdateLocalAddress(localSPI uint64, local netip.Addr) error {
	return ep.withSA(localSPI, func(sa *IKESA, now time.Time) error {
		if !sa.initiator || !sa.peerMOBIKE {
			return errNoMOBIKE
		}
		sa.enqueue(now, &mobikeTask{local: local})
		return nil
	})
}

// mobikeTask is the initiator's UPDATE_SA_ADDRESSES exchange, with NAT
// detection for the new path and a COOKIE2 the response must echo (§3.5).
type mobikeTask struct {
	local  netip.Addr
	old    netip.AddrPort
	cookie []byte
}

func (*mobikeTask) exchange() ikev2.ExchangeType { return ikev2.ExchangeInformational }

func (t *mobikeTask) build(sa *IKESA, now time.Time) (ikev2.Payloads, error) {
	if sa.state != stateEstablished {
		return nil, nil
	}
	t.old = sa.local
	sa.local = netip.AddrPortFrom(t.local, sa.local.Port()) // the request leaves from the new address
	if t.cookie == nil {
		t.cookie = make([]byte, 16)
		if _, err := io.ReadFull(sa.ep.rand(), t.cookie); err != nil {
			return nil, err
		}
	}
	ps := ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyUpdateSAAddresses, nil)}
	ps = append(ps, natNotifies(sa.spiI, sa.spiR, sa.local, sa.remote)...)
	return append(ps, ikev2.NewNotify(ikev2.NotifyCookie2, t.cookie)), nil
}

func (t *mobikeTask) process(sa *IKESA, now time.Time, h ikev2.Header, ps ikev2.Payloads) error {
	if n := errorNotify(ps); n != nil {
		// e.g. UNACCEPTABLE_ADDRESSES: the SA stays on the old path.
		sa.local = t.old
		sa.emit(Event{Kind: EventFailed, Err: notifyFailure(n.Type), IKEAlive: true})
		return nil
	}
	if n := ps.Notify(ikev2.NotifyCookie2); n == nil || subtle.ConstantTimeCompare(n.Data, t.cookie) != 1 {
		return failure(ReasonProtocol, "UPDATE_SA_ADDRESSES response without our COOKIE2")
	}
	for _, c := range sa.children {
		c.Local, c.Remote = sa.local, sa.remote
	}
	sa.emit(Event{Kind: EventAddressesUpdated})
	return nil
}
