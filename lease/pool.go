package lease

import (
	"fmt"
	"net/netip"
	"time"

	"mip6/store"
)

// PoolConfig configures a local pool.
type PoolConfig struct {
	Policy
	// First and Last bound the pool inside HomePrefix (both included);
	// zero values mean the whole prefix. Reserved anycast addresses are
	// skipped whatever the range.
	First, Last netip.Addr
	// Exclude lists addresses never handed out (the home agent's own).
	Exclude []netip.Addr
	// MaxScan bounds how many addresses one Assign examines (default
	// 65536), so a huge, nearly full pool costs bounded time.
	MaxScan uint64
}

// Pool assigns home addresses from a range of the home prefix, next-fit
// from a cursor kept in the store so freed addresses are reused last.
type Pool struct {
	cfg         PoolConfig
	first, last u128
	size        uint64
	cursorKey   string
}

// NewPool checks cfg and returns a pool.
func NewPool(cfg PoolConfig) (*Pool, error) {
	if err := cfg.Policy.check(); err != nil {
		return nil, err
	}
	p := cfg.HomePrefix
	if !cfg.First.IsValid() {
		cfg.First = p.Addr().Next()
	}
	if !cfg.Last.IsValid() {
		cfg.Last = lastAddr(p)
	}
	if !p.Contains(cfg.First) || !p.Contains(cfg.Last) || cfg.Last.Less(cfg.First) {
		return nil, fmt.Errorf("lease: pool range %v-%v is not an ordered range inside %v", cfg.First, cfg.Last, p)
	}
	if cfg.MaxScan == 0 {
		cfg.MaxScan = 65536
	}
	pl := &Pool{cfg: cfg, first: toU128(cfg.First), last: toU128(cfg.Last)}
	pl.size = pl.last.sub(pl.first)
	if pl.size != ^uint64(0) {
		pl.size++
	}
	pl.cursorKey = "lease/pool-cursor/" + p.String()
	return pl, nil
}

func (pl *Pool) String() string { return fmt.Sprintf("%v-%v", pl.cfg.First, pl.cfg.Last) }

func (pl *Pool) inRange(a netip.Addr) bool {
	u := toU128(a)
	return !u.less(pl.first) && !pl.last.less(u)
}

func (pl *Pool) excluded(a netip.Addr) bool {
	if Reserved(pl.cfg.HomePrefix, a) {
		return true
	}
	for _, x := range pl.cfg.Exclude {
		if x == a {
			return true
		}
	}
	return false
}

// Assign implements Assigner. In order: identity's live lease (a
// re-bootstrapping MN keeps its address); the suggested address when it
// is in the pool, free and authorised; the address of identity's expired
// lease when nobody took it since; the next free pool address.
func (pl *Pool) Assign(identity string, suggested netip.Addr) (netip.Prefix, error) {
	now := pl.cfg.Now()
	var got netip.Addr
	err := pl.cfg.Store.Update(func(tx *store.Tx) error {
		l, ok, err := liveLeaseOf(tx, &pl.cfg.Policy, identity, now)
		if err != nil {
			return err
		}
		if !ok {
			l = store.Lease{Identity: identity, Source: store.SourcePool, PrefixLen: uint8(pl.cfg.HomePrefix.Bits())}
			if l.Address, err = pl.pick(tx, identity, suggested, now); err != nil {
				return err
			}
		}
		l.Expiry = now.Add(pl.cfg.LeaseTime)
		got = l.Address
		return putLease(tx, l, now)
	})
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(got, pl.cfg.HomePrefix.Bits()), nil
}

func (pl *Pool) pick(tx *store.Tx, identity string, suggested netip.Addr, now time.Time) (netip.Addr, error) {
	if pl.cfg.suggestionUsable(identity, suggested) && pl.inRange(suggested) && !pl.excluded(suggested) {
		ok, err := free(tx, suggested, now)
		if err != nil || ok {
			return suggested, err
		}
	}
	// An expired lease of the same identity not yet reused: its address
	// comes back, so an MN that was away longer than its lease often keeps
	// its home address.
	prev, err := tx.LeasesOf(identity)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, l := range prev {
		if pl.inRange(l.Address) && !pl.excluded(l.Address) {
			return l.Address, nil
		}
	}
	cur := pl.first
	if v := tx.Meta(pl.cursorKey); len(v) == 16 {
		if c := netip.AddrFrom16([16]byte(v)); pl.inRange(c) {
			cur = toU128(c)
		}
	}
	n := min(pl.size, pl.cfg.MaxScan)
	for i := uint64(0); i < n; i++ {
		a := cur.addr()
		if cur = cur.add(1); pl.last.less(cur) {
			cur = pl.first
		}
		if pl.excluded(a) {
			continue
		}
		ok, err := free(tx, a, now)
		if err != nil {
			return netip.Addr{}, err
		}
		if ok {
			c := cur.addr().As16()
			return a, tx.SetMeta(pl.cursorKey, c[:])
		}
	}
	return netip.Addr{}, &ExhaustedError{Pool: pl.String(), Size: pl.size, Identity: identity}
}

// Renew implements Assigner: the lease runs LeaseTime from now again.
func (pl *Pool) Renew(identity string, addr netip.Addr) error {
	p := &pl.cfg.Policy
	now := p.Now()
	return p.Store.Update(func(tx *store.Tx) error {
		l, err := heldBy(tx, identity, addr)
		if err != nil {
			return err
		}
		l.Expiry = now.Add(p.LeaseTime)
		return putLease(tx, l, now)
	})
}

// Release implements Assigner. Releasing an address nobody holds is not an
// error (the IKE SA may be deleted twice); another identity's is.
func (pl *Pool) Release(identity string, addr netip.Addr) error {
	return pl.cfg.Store.Update(func(tx *store.Tx) error {
		_, _, err := releaseHeld(tx, identity, addr, nil)
		return err
	})
}

// ReleaseSA implements SAReleaser.
func (pl *Pool) ReleaseSA(identity string, addr netip.Addr, sa store.SARef) (bool, error) {
	var released bool
	err := pl.cfg.Store.Update(func(tx *store.Tx) error {
		var err error
		_, released, err = releaseHeld(tx, identity, addr, &sa)
		return err
	})
	return released, err
}

// Expire removes the pool's leases (and their PAD entries) that expired
// before now; the home agent calls it periodically. It returns them.
func (pl *Pool) Expire() ([]store.Lease, error) {
	now := pl.cfg.Now()
	old, err := expired(pl.cfg.Store, pl.cfg.HomePrefix, now)
	if err != nil {
		return nil, err
	}
	var gone []store.Lease
	for _, l := range old {
		ok, err := deleteIfUnchanged(pl.cfg.Store, l, now)
		if err != nil {
			return gone, err
		}
		if ok {
			gone = append(gone, l)
		}
	}
	return gone, nil
}

// Usage counts the pool's live leases and its usable size (reserved and
// excluded addresses left out when the pool is small enough to count
// them), for operators' metrics.
func (pl *Pool) Usage() (used, size uint64, err error) {
	now := pl.cfg.Now()
	size = pl.size
	if pl.size <= pl.cfg.MaxScan {
		size = 0
		for u, i := pl.first, uint64(0); i < pl.size; u, i = u.add(1), i+1 {
			if !pl.excluded(u.addr()) {
				size++
			}
		}
	}
	err = pl.cfg.Store.View(func(tx *store.Tx) error {
		return tx.ForEachLease(func(l store.Lease) error {
			if l.Live(now) && pl.inRange(l.Address) {
				used++
			}
			return nil
		})
	})
	return used, size, err
}
