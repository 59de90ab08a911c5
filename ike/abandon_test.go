package ike

import (
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"mip6/wire/ikev2"
)

func (ep *Endpoint) numSAs() int {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return len(ep.sas)
}

// releases records Config.ReleaseAddress calls.
type releases struct {
	mu  sync.Mutex
	got []netip.Prefix
}

func (r *releases) release(sa SAInfo) {
	p := sa.AssignedAddress
	r.mu.Lock()
	r.got = append(r.got, p)
	r.mu.Unlock()
}

func (r *releases) list() []netip.Prefix {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]netip.Prefix(nil), r.got...)
}

// TestAddressFailureDeletesIKESA: after INTERNAL_ADDRESS_FAILURE the mobile
// node reports the failure once and deletes the IKE SA the home agent
// holds as established, which the home agent then drops.
func TestAddressFailureDeletesIKESA(t *testing.T) {
	t.Run("psk", func(t *testing.T) { addressFailureDeletes(t, false) })
	t.Run("eap", func(t *testing.T) { addressFailureDeletes(t, true) })
}

func addressFailureDeletes(t *testing.T, withEAP bool) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		if withEAP {
			p.haPeer.RemoteAuth = AuthEAP
			p.haPeer.EAPServer = func() EAPAuthenticator { return &testEAPServer{} }
			p.mnPeer.LocalAuth = AuthEAP
			p.mnPeer.EAP = &testEAPPeer{}
		}
		p.ha.cfg.AssignAddress = func(Identity, netip.Addr) (netip.Prefix, error) { return netip.Prefix{}, errors.New("pool empty") }
		var rel releases
		p.ha.cfg.ReleaseAddress = rel.release
		p.start(t)
		p.settle()
		var fe *Failure
		if f := p.mnLog.find(EventFailed); f == nil || !errors.As(f.Err, &fe) || fe.Reason != ReasonAddress || f.IKEAlive {
			t.Fatalf("mn: %v", p.mnLog.kinds())
		}
		if n := p.mnLog.count(EventFailed); n != 1 || len(p.mnLog.kinds()) != 1 {
			t.Fatalf("mn events %v, want one failure", p.mnLog.kinds())
		}
		if p.haLog.find(EventIKEEstablished) == nil || p.haLog.find(EventIKEDeleted) == nil {
			t.Fatalf("ha: %v, want established then deleted by the mobile node", p.haLog.kinds())
		}
		if n := p.ha.numSAs(); n != 0 {
			t.Fatalf("home agent still holds %d IKE SAs", n)
		}
		if n := p.mn.numSAs(); n != 0 {
			t.Fatalf("mobile node still holds %d IKE SAs", n)
		}
		if got := rel.list(); len(got) != 0 {
			t.Fatalf("released %v, nothing was assigned", got)
		}
	})
}

// TestAddressFailureDeleteLost: when the home agent no longer answers, the
// mobile node's Delete is retransmitted and given up without a second event.
func TestAddressFailureDeleteLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.ha.cfg.AssignAddress = func(Identity, netip.Addr) (netip.Prefix, error) {
			p.net.set(func() { p.net.drop = func(d Datagram) bool { return d.Remote.Addr() == haAddr } })
			return netip.Prefix{}, errors.New("pool empty")
		}
		p.start(t)
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if k := p.mnLog.kinds(); len(k) != 1 || k[0] != EventFailed {
			t.Fatalf("mn events %v, want one failure", k)
		}
		if n := p.mn.numSAs(); n != 0 {
			t.Fatalf("mobile node still holds %d IKE SAs", n)
		}
	})
}

// TestRefusedChildThenDeleteReleasesAddress: a home address was assigned
// but the CHILD_SA refused; when the mobile node gives up and deletes the
// IKE SA, the home agent releases the address.
func TestRefusedChildThenDeleteReleasesAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		var rel releases
		p.ha.cfg.ReleaseAddress = rel.release
		p.haPeer.Children[0].LocalTS = []Selector{PrefixSelector(netip.MustParsePrefix("2001:db8:77::/48"))}
		p.mnPeer.Children[0].RemoteTS = []Selector{PrefixSelector(netip.MustParsePrefix("2001:db8:66::/48"))}
		p.start(t)
		p.settle()
		f := p.mnLog.find(EventFailed)
		var fe *Failure
		if f == nil || !f.IKEAlive || !errors.As(f.Err, &fe) || fe.Notify != ikev2.NotifyTSUnacceptable {
			t.Fatalf("mn: %v", p.mnLog.kinds())
		}
		if err := p.mn.DeleteIKESA(f.IKESA.LocalSPI()); err != nil {
			t.Fatal(err)
		}
		p.settle()
		if got := rel.list(); len(got) != 1 || got[0] != hoa {
			t.Fatalf("released %v, want %v", got, hoa)
		}
		if p.ha.numSAs() != 0 {
			t.Fatal("home agent kept the IKE SA")
		}
	})
}

// TestResponderDeletesOrphanedIKESA: a peer that does not delete the IKE SA
// after INTERNAL_ADDRESS_FAILURE (its Delete lost, or an implementation
// that never sends one) does not leave the SA at the home agent until DPD.
func TestResponderDeletesOrphanedIKESA(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, nil)
		defer p.stop()
		p.ha.cfg.AssignAddress = func(Identity, netip.Addr) (netip.Prefix, error) { return netip.Prefix{}, errors.New("pool empty") }
		p.net.drop = func(d Datagram) bool { // the mobile node's INFORMATIONAL requests
			return d.Remote.Addr() == haAddr && len(d.Data) > 19 && ikev2.ExchangeType(d.Data[18]) == ikev2.ExchangeInformational && d.Data[19]&0x20 == 0
		}
		p.start(t)
		p.settle()
		if p.ha.numSAs() != 1 || p.haLog.find(EventIKEDeleted) != nil {
			t.Fatalf("ha: %v, deleted too early", p.haLog.kinds())
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if p.ha.numSAs() != 0 || p.haLog.find(EventIKEDeleted) == nil {
			t.Fatalf("ha: %v, %d SAs: orphaned IKE SA kept", p.haLog.kinds(), p.ha.numSAs())
		}
		if k := p.mnLog.kinds(); len(k) != 1 {
			t.Fatalf("mn events %v, want one failure", k)
		}
	})
}

// TestInteropAddressFailureCharonResponder: charon as home agent has no
// address to give; our mobile node fails with ReasonAddress and deletes
// the IKE SA, so charon holds none afterwards.
func TestInteropAddressFailureCharonResponder(t *testing.T) {
	l := newInteropLab(t, Config{})
	c := charonHA(algSets[0].ike, algSets[0].esp)
	c.Connections[0].Pools = nil
	if err := l.charon.Load(c); err != nil {
		t.Fatal(err)
	}
	l.initiate(t, mnPeer(algSets[0]))
	ev := l.log.wait(t, EventFailed, 1, 15*time.Second)
	var f *Failure
	if !errors.As(ev.Err, &f) || f.Reason != ReasonAddress || ev.IKEAlive {
		t.Fatalf("failure %v (alive %v), want internal address failure", ev.Err, ev.IKEAlive)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		sas, err := l.charon.ListSAs()
		if err == nil && len(sas) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("charon still holds %+v (%v)", sas, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(l.charon.Log(), "received DELETE for IKE_SA") {
		t.Fatal("charon's IKE SA went without our Delete")
	}
	if l.log.count(EventFailed) != 1 || l.log.count(EventIKEEstablished)+l.log.count(EventIKEDeleted) != 0 {
		t.Fatalf("our events:\n%s", l.log)
	}
}
