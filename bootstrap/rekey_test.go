package bootstrap

import (
	"context"
	"crypto/x509"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"mip6/discovery"
	"mip6/ike"
	"mip6/lease"
	"mip6/store"
)

func (th *testHA) lease(t *testing.T, identity string) store.Lease {
	t.Helper()
	var ls []store.Lease
	if err := th.st.View(func(tx *store.Tx) (err error) { ls, err = tx.LeasesOf(identity); return err }); err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 {
		t.Fatalf("leases of %s: %+v", identity, ls)
	}
	return ls[0]
}

// The lease follows the IKE SA (RFC 4877 §9): bound to its SPIs when
// established, extended and re-bound when the MN rekeys it.
func TestLeaseFollowsIKERekey(t *testing.T) {
	var clock atomic.Pointer[time.Time]
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock.Store(&t0)
	n := newMemNet()
	th := newTestHA(t, n, ha1Addr, newPKI(t), func(_ *HomeAgent, pc *lease.PoolConfig) {
		pc.Now = func() time.Time { return *clock.Load() }
	})
	rekeyed := make(chan ike.Event, 1)
	cfg := mnConfig(n, ha1Addr)
	cfg.OnEvent = func(ev ike.Event) {
		if ev.Kind == ike.EventIKERekeyed {
			rekeyed <- ev
		}
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	sa := res.IKESA
	waitFor(t, "lease bound to the IKE SA", func() bool {
		return th.lease(t, alice).IKESA == store.SARef{SPIi: sa.InitiatorSPI, SPIr: sa.ResponderSPI}
	})
	if l := th.lease(t, alice); !l.Expiry.Equal(t0.Add(time.Hour)) {
		t.Fatalf("lease expiry %v, want %v", l.Expiry, t0.Add(time.Hour))
	}

	t1 := t0.Add(50 * time.Minute)
	clock.Store(&t1)
	if err := res.Endpoint.RekeyIKESA(sa.LocalSPI()); err != nil {
		t.Fatal(err)
	}
	var ev ike.Event
	select {
	case ev = <-rekeyed:
	case <-time.After(5 * time.Second):
		t.Fatal("no IKE rekey")
	}
	want := store.SARef{SPIi: ev.IKESA.InitiatorSPI, SPIr: ev.IKESA.ResponderSPI}
	if got := res.IKESPI(); got != ev.IKESA.LocalSPI() || got == sa.LocalSPI() {
		t.Fatalf("IKESPI %x after the rekey, want the new SA's %x", got, ev.IKESA.LocalSPI())
	}
	waitFor(t, "lease re-bound to the new IKE SA", func() bool {
		l := th.lease(t, alice)
		return l.IKESA == want && l.Expiry.Equal(t1.Add(time.Hour))
	})
	if owner, _ := th.pad.OwnerOf(res.HomeAddress.Addr()); owner != alice {
		t.Fatalf("PAD link lost on rekey: owner %q", owner)
	}
}

// RFC 4640 §9.2: a bogus home agent offered first (DNS spoofing, say)
// cannot prove itself to a certificate MN; the MN refuses it and moves on
// to the real one.
func TestBogusHomeAgentRefused(t *testing.T) {
	n := newMemNet()
	real, bogus := newPKI(t), newPKI(t)
	certMN := func(h *HomeAgent, _ *lease.PoolConfig) {
		h.Subscribers = []Subscriber{{Identity: alice, Auth: ike.AuthCert}}
		h.TrustRoots = real.roots // the bogus HA accepts anyone's real certificate
	}
	newTestHA(t, n, ha2Addr, bogus, certMN)
	th := newTestHA(t, n, ha1Addr, real, certMN)
	cfg := mnConfig(n, ha2Addr, ha1Addr)
	cfg.PSK = nil
	cfg.Certificate = &Certificate{Chain: []*x509.Certificate{real.mnCert}, Key: real.mnKey}
	cfg.HATrustRoots = real.roots
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	checkResult(t, res, th, alice)
	if len(res.Attempts) != 1 || res.Attempts[0].Failure != discovery.FailAuthRefused || res.Attempts[0].Candidate.Addr != ha2Addr {
		t.Fatalf("attempts %v", res.Attempts)
	}
}

// The home agent deletes the IKE SA (operator reset, say): the MN sees it
// lost and bootstraps again, getting its cached home address back.
func TestRebootstrapWhenHADeletes(t *testing.T) {
	n := newMemNet()
	th := newTestHA(t, n, ha1Addr, newPKI(t))
	cfg := mnConfig(n, ha1Addr)
	cfg.Cache = CacheConfig{Path: t.TempDir() + "/mn.json", HomeAgent: true, HomeAddress: true}
	m := NewMobileNode(cfg)
	defer m.Close()
	res, err := m.Bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := th.ep.DeleteIKESA(res.IKESA.ResponderSPI); err != nil {
		t.Fatal(err)
	}
	select {
	case <-res.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("MN did not notice the deleted IKE SA")
	}
	if !errors.Is(res.LostErr(), ErrIKESADeleted) {
		t.Fatalf("lost: %v", res.LostErr())
	}
	waitFor(t, "HA released the PAD link", func() bool { _, ok := th.pad.OwnerOf(res.HomeAddress.Addr()); return !ok })
	res2, err := m.Bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res2.HomeAddress != res.HomeAddress || m.Current() != res2 || res2.LostErr() != nil {
		t.Fatalf("re-bootstrap: %s, want %s", res2.HomeAddress, res.HomeAddress)
	}
	checkResult(t, res2, th, alice)
}

// An MN that bootstraps again while its old IKE SA still lives at the HA
// (it rebooted, say) gets the same lease; the old SA's end must not take
// the lease or the PAD link from the new one.
func TestOldIKESAEndKeepsNewLease(t *testing.T) {
	n := newMemNet()
	th := newTestHA(t, n, ha1Addr, newPKI(t))
	old, err := Run(context.Background(), mnConfig(n, ha1Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	coa2 := netip.MustParseAddrPort("[2001:db8:c::100]:500")
	cfg := mnConfig(n, ha1Addr)
	cfg.Local, cfg.Transport = coa2, &memTransport{n: n, local: coa2}
	cur, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	if cur.HomeAddress != old.HomeAddress {
		t.Fatalf("second bootstrap got %s, first %s", cur.HomeAddress, old.HomeAddress)
	}
	if err := th.ep.DeleteIKESA(old.IKESA.ResponderSPI); err != nil {
		t.Fatal(err)
	}
	<-old.Lost()
	waitFor(t, "the HA to end the old IKE SA", func() bool {
		th.ha.lmu.Lock()
		defer th.ha.lmu.Unlock()
		return th.ha.holds[hold{alice, cur.HomeAddress.Addr()}] == 1
	})
	checkResult(t, cur, th, alice)
	cur.Close()
	waitFor(t, "lease released with the last IKE SA", func() bool {
		_, ok := th.pad.OwnerOf(cur.HomeAddress.Addr())
		return !ok
	})
}

// The home network was renumbered (RFC 4640 §5.1.1): the cached home
// address lies outside the new home prefix; re-bootstrapping gets an
// address in the new one and the cache follows.
func TestRebootstrapAfterRenumbering(t *testing.T) {
	n := newMemNet()
	pki := newPKI(t)
	cfg := mnConfig(n, ha1Addr)
	cfg.Cache = CacheConfig{Path: t.TempDir() + "/mn.json", HomeAgent: true, HomeAddress: true}
	old := newTestHA(t, n, ha1Addr, pki)
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	res.Close()
	n.detach(netip.AddrPortFrom(ha1Addr, 500))
	old.ep.Close()

	renumbered := netip.MustParsePrefix("2001:db8:7::/64")
	newTestHA(t, n, ha1Addr, pki, func(_ *HomeAgent, pc *lease.PoolConfig) {
		pc.HomePrefix, pc.First, pc.Last = renumbered, netip.MustParseAddr("2001:db8:7::1000"), netip.MustParseAddr("2001:db8:7::1fff")
	})
	res2, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Close()
	if !renumbered.Contains(res2.HomeAddress.Addr()) || res2.HomeAddress.Bits() != 64 {
		t.Fatalf("after renumbering: %s (before %s)", res2.HomeAddress, res.HomeAddress)
	}
	cached, err := LoadCache(cfg.Cache.Path, alice)
	if err != nil || cached.HomeAddress != res2.HomeAddress {
		t.Fatalf("cache %+v, %v", cached, err)
	}
}
