package lease

import (
	"errors"
	"fmt"
	"net/netip"

	"mip6/store"
)

func (d *DHCPv6) ia(identity string, addr netip.Addr) IANA {
	ia := IANA{IAID: IAIDFor(identity)}
	if addr.IsValid() {
		ia.HasAddr = true
		ia.Addr = IAAddr{Address: addr}
	}
	return ia
}

// Assign implements Assigner: identity's live lease is renewed with the
// server and kept; otherwise Solicit/Advertise/Request/Reply obtains an
// address, hinting the suggested one when it may be used. The lease and
// PAD entry are stored only once the server has granted the address;
// when storing fails the address is released again.
func (d *DHCPv6) Assign(identity string, suggested netip.Addr) (netip.Prefix, error) {
	now := d.cfg.Now()
	var cur store.Lease
	var have bool
	hint := netip.Addr{}
	err := d.cfg.Store.View(func(tx *store.Tx) error {
		var err error
		if cur, have, err = liveLeaseOf(tx, &d.cfg.Policy, identity, now); err != nil || have {
			return err
		}
		if d.cfg.suggestionUsable(identity, suggested) {
			if ok, err := free(tx, suggested, now); err != nil || ok {
				hint = suggested
				return err
			}
		}
		return nil
	})
	if err != nil {
		return netip.Prefix{}, err
	}
	if have {
		err := d.Renew(identity, cur.Address)
		var de *DHCPv6Error
		if err == nil {
			return netip.PrefixFrom(cur.Address, d.cfg.HomePrefix.Bits()), nil
		}
		if !errors.As(err, &de) || !de.HasStatus || de.Status != StatusNoBinding {
			return netip.Prefix{}, err
		}
		// The server forgot it (NoBinding): start afresh.
		if err := d.cfg.Store.Update(func(tx *store.Tx) error { return tx.DeleteLease(cur.Address) }); err != nil {
			return netip.Prefix{}, err
		}
	}
	got, rep, err := d.obtain(identity, hint)
	if err != nil {
		return netip.Prefix{}, err
	}
	if err := d.record(identity, got, rep); err != nil {
		d.release(identity, got.Address, rep.ServerID)
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(got.Address, d.cfg.HomePrefix.Bits()), nil
}

// obtain runs Solicit/Advertise then Request/Reply (or Solicit/Reply with
// Rapid Commit) and returns the address and the final Reply.
func (d *DHCPv6) obtain(identity string, hint netip.Addr) (IAAddr, *Message, error) {
	iaid := IAIDFor(identity)
	sol := Message{Type: dhcpSolicit, ClientID: DUIDFor(identity), HasIANA: true, IANA: d.ia(identity, hint), RapidCommit: d.cfg.RapidCommit}
	want := []uint8{dhcpAdvertise}
	if d.cfg.RapidCommit {
		want = append(want, dhcpReply)
	}
	adv, err := d.exchange(identity, sol, want...)
	if err != nil {
		return IAAddr{}, nil, err
	}
	req := sol
	rep := adv
	if adv.Type == dhcpAdvertise || !adv.RapidCommit {
		offered, err := d.granted(identity, &sol, adv, iaid)
		if err != nil {
			return IAAddr{}, nil, err
		}
		req = Message{Type: dhcpRequest, ClientID: sol.ClientID, ServerID: adv.ServerID, HasIANA: true, IANA: d.ia(identity, offered.Address)}
		if rep, err = d.exchange(identity, req, dhcpReply); err != nil {
			return IAAddr{}, nil, err
		}
	}
	got, err := d.granted(identity, &req, rep, iaid)
	if err != nil {
		return IAAddr{}, nil, err
	}
	if !d.cfg.HomePrefix.Contains(got.Address) || Reserved(d.cfg.HomePrefix, got.Address) {
		d.release(identity, got.Address, rep.ServerID)
		e := d.fail(identity, &req, 0, fmt.Sprintf("granted %v, which is not a usable address of home prefix %v", got.Address, d.cfg.HomePrefix), nil)
		return IAAddr{}, nil, e
	}
	return got, rep, nil
}

// record stores the granted lease and its PAD entry in one transaction.
func (d *DHCPv6) record(identity string, got IAAddr, rep *Message) error {
	now := d.cfg.Now()
	l := store.Lease{Address: got.Address, PrefixLen: uint8(d.cfg.HomePrefix.Bits()), Identity: identity,
		Expiry: now.Add(d.cfg.LeaseTime), RenewAt: renewAt(now, rep), Source: store.SourceDHCPv6,
		ServerDUID: rep.ServerID, IAID: IAIDFor(identity)}
	return d.cfg.Store.Update(func(tx *store.Tx) error { return putLease(tx, l, now) })
}

// Renew implements Assigner, on an IKE SA rekey: a DHCPv6 Renew to the
// server that granted the lease, then the lease runs LeaseTime from now.
func (d *DHCPv6) Renew(identity string, addr netip.Addr) error {
	return d.renew(identity, addr, true)
}

// renew extends the server's lease of addr and, when extend, the lease's
// own (IKE SA bound) expiry.
func (d *DHCPv6) renew(identity string, addr netip.Addr, extend bool) error {
	var l store.Lease
	err := d.cfg.Store.View(func(tx *store.Tx) error {
		var err error
		l, err = heldBy(tx, identity, addr)
		return err
	})
	if err != nil {
		return err
	}
	req := Message{Type: dhcpRenew, ClientID: DUIDFor(identity), ServerID: l.ServerDUID, HasIANA: true, IANA: d.ia(identity, addr)}
	rep, err := d.exchange(identity, req, dhcpReply)
	if err != nil {
		return err
	}
	got, err := d.granted(identity, &req, rep, l.IAID)
	if err != nil {
		return err
	}
	if got.Address != addr {
		return d.fail(identity, &req, 0, fmt.Sprintf("renewed %v instead of %v", got.Address, addr), nil)
	}
	now := d.cfg.Now()
	return d.cfg.Store.Update(func(tx *store.Tx) error {
		cur, err := heldBy(tx, identity, addr)
		if err != nil {
			return err
		}
		if extend {
			cur.Expiry = now.Add(d.cfg.LeaseTime)
		}
		cur.RenewAt = renewAt(now, rep)
		return putLease(tx, cur, now)
	})
}

// Maintain is the home agent's periodic housekeeping: it expires leases
// whose IKE SA went away (Expire) and renews with the server, at T1, the
// live leases whose server lifetime runs shorter than their IKE SA.
func (d *DHCPv6) Maintain() error {
	if _, err := d.Expire(); err != nil {
		return err
	}
	now := d.cfg.Now()
	var due []store.Lease
	err := d.cfg.Store.View(func(tx *store.Tx) error {
		return tx.ForEachLease(func(l store.Lease) error {
			if l.Source == store.SourceDHCPv6 && l.Live(now) && !l.RenewAt.IsZero() && !now.Before(l.RenewAt) &&
				d.cfg.HomePrefix.Contains(l.Address) {
				due = append(due, l)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, l := range due {
		errs = append(errs, d.renew(l.Identity, l.Address, false))
	}
	return errors.Join(errs...)
}

// Release implements Assigner: the lease and its PAD entry are removed from
// the store, then the server is told. A server that does not answer the
// Release is reported (*DHCPv6Error) but the lease is gone locally; the
// server's copy expires by itself.
func (d *DHCPv6) Release(identity string, addr netip.Addr) error {
	_, err := d.releaseIf(identity, addr, nil)
	return err
}

// ReleaseSA implements SAReleaser.
func (d *DHCPv6) ReleaseSA(identity string, addr netip.Addr, sa store.SARef) (bool, error) {
	return d.releaseIf(identity, addr, &sa)
}

func (d *DHCPv6) releaseIf(identity string, addr netip.Addr, sa *store.SARef) (bool, error) {
	var l store.Lease
	var held bool
	err := d.cfg.Store.Update(func(tx *store.Tx) error {
		var err error // a shared (etcd) store may run this more than once
		l, held, err = releaseHeld(tx, identity, addr, sa)
		return err
	})
	if err != nil || !held {
		return false, err
	}
	return true, d.release(identity, addr, l.ServerDUID)
}

func (d *DHCPv6) release(identity string, addr netip.Addr, serverID []byte) error {
	req := Message{Type: dhcpRelease, ClientID: DUIDFor(identity), ServerID: serverID, HasIANA: true, IANA: d.ia(identity, addr)}
	rep, err := d.exchange(identity, req, dhcpReply)
	if err != nil {
		return err
	}
	if rep.HasStatus && rep.Status.Code != StatusSuccess {
		e := d.fail(identity, &req, 0, "refused the Release", nil)
		e.Status, e.HasStatus, e.StatusMessage = rep.Status.Code, true, string(rep.Status.Message)
		return e
	}
	return nil
}

// Expire removes leases of the home prefix that expired before now and
// releases them at the server (best effort); it returns them.
func (d *DHCPv6) Expire() ([]store.Lease, error) {
	now := d.cfg.Now()
	old, err := expired(d.cfg.Store, d.cfg.HomePrefix, now)
	if err != nil {
		return nil, err
	}
	var gone []store.Lease
	for _, l := range old {
		ok, err := deleteIfUnchanged(d.cfg.Store, l, now)
		if err != nil {
			return gone, err
		}
		if ok {
			gone = append(gone, l)
			if l.Source == store.SourceDHCPv6 {
				d.release(l.Identity, l.Address, l.ServerDUID)
			}
		}
	}
	return gone, nil
}
