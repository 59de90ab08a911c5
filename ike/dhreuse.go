package ike

import (
	"sync"
	"time"

	"mip6/ike/crypto"
)

// dhReuse is the responder's cache of Diffie-Hellman keys, one per group
// (Config.DHReuse).
type dhReuse struct {
	mu     sync.Mutex
	shares map[crypto.DHGroup]reusedShare
}

type reusedShare struct {
	share   crypto.KeyShare
	expires time.Time
}

// responderKeyShare returns the key for an IKE_SA_INIT response: a fresh
// one, or within Config.DHReuse the current one of its group. KeyShare is
// immutable, so IKE SAs may use one concurrently.
func (ep *Endpoint) responderKeyShare(now time.Time, g crypto.DHGroup) (crypto.KeyShare, error) {
	if ep.cfg.DHReuse <= 0 {
		return crypto.GenerateKeyShare(g, ep.rand())
	}
	r := &ep.dhReuse
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.shares[g]; ok && now.Before(s.expires) {
		return s.share, nil
	}
	ks, err := crypto.GenerateKeyShare(g, ep.rand())
	if err != nil {
		return nil, err
	}
	if r.shares == nil {
		r.shares = map[crypto.DHGroup]reusedShare{}
	}
	r.shares[g] = reusedShare{share: ks, expires: now.Add(ep.cfg.DHReuse)}
	return ks, nil
}
