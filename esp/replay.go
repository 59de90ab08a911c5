package esp

import (
	"sync"
	"sync/atomic"
)

// Anti-replay window (RFC 4303 §3.4.3) as a ring of 64-bit blocks, the way
// wireguard-go's replay filter keeps it: moving the window forward clears
// whole blocks instead of shifting bits. With extended sequence numbers the
// receiver rebuilds the high-order 32 bits from the window (RFC 4303
// Appendix A2.2).
const (
	replayBlockBits = 64
	replayBlocks    = 32                                   // power of two
	ReplayWindow    = (replayBlocks - 1) * replayBlockBits // 1984 packets
)

// replayWindow is safe for concurrent use: check reads atomically without
// locking (a stale view only lets a packet through to the ICV check, and
// update re-checks under the lock); update runs only after the ICV verified.
type replayWindow struct {
	mu     sync.Mutex    // serialises updates
	top    atomic.Uint64 // highest authenticated sequence number; 0: none yet
	blocks [replayBlocks]atomic.Uint64
}

// reconstruct returns the full sequence number for the low-order 32 bits
// seen on the wire (RFC 4303 Appendix A2.2). Without ESN the high bits are 0.
func reconstruct(top uint64, seqLow uint32, esn bool) (uint64, bool) {
	if !esn {
		return uint64(seqLow), true
	}
	tl, th := uint32(top), uint32(top>>32)
	const w = ReplayWindow
	bottom := tl - w + 1 // wraps in Case B, as the appendix intends
	if tl >= w-1 {
		// Case A: the window lies within one sequence number subspace.
		if seqLow >= bottom {
			return uint64(th)<<32 | uint64(seqLow), true
		}
		if th == ^uint32(0) {
			return 0, false // would exceed 2^64 - 1
		}
		return uint64(th+1)<<32 | uint64(seqLow), true
	}
	// Case B: the window spans two subspaces.
	if seqLow >= bottom {
		if th == 0 {
			return 0, false // before the first subspace: too old
		}
		return uint64(th-1)<<32 | uint64(seqLow), true
	}
	return uint64(th)<<32 | uint64(seqLow), true
}

// check reports the full sequence number and whether it may be accepted:
// it is new or inside the window and unseen. It does not change the window.
func (r *replayWindow) check(seqLow uint32, esn bool) (uint64, DropReason) {
	top := r.top.Load()
	seq, ok := reconstruct(top, seqLow, esn)
	if !ok {
		return 0, DropTooOld
	}
	return seq, r.test(top, seq)
}

// test judges seq against a window whose top is top.
func (r *replayWindow) test(top, seq uint64) DropReason {
	if seq == 0 {
		return DropTooOld // never sent: the first packet carries 1
	}
	if seq > top {
		return 0
	}
	if top-seq >= ReplayWindow {
		return DropTooOld
	}
	idx := (seq / replayBlockBits) % replayBlocks
	if r.blocks[idx].Load()&(1<<(seq%replayBlockBits)) != 0 {
		return DropReplay
	}
	return 0
}

// update marks seq as received after its ICV verified. A concurrent Open
// of the same packet may have won the race: then seq is a replay.
func (r *replayWindow) update(seq uint64) DropReason {
	r.mu.Lock()
	defer r.mu.Unlock()
	top := r.top.Load()
	if reason := r.test(top, seq); reason != 0 {
		return reason
	}
	if seq > top {
		// Clear the blocks the window moves over before publishing the new
		// top, so a concurrent check never sees stale bits as in-window.
		cur := top / replayBlockBits
		n := min(seq/replayBlockBits-cur, replayBlocks)
		for i := uint64(1); i <= n; i++ {
			r.blocks[(cur+i)%replayBlocks].Store(0)
		}
		r.top.Store(seq)
	}
	b := &r.blocks[(seq/replayBlockBits)%replayBlocks]
	b.Store(b.Load() | 1<<(seq%replayBlockBits))
	return 0
}
