package esp

import "sync"

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

// replayWindow is safe for concurrent use: check is a read under the lock,
// update happens only after the ICV verified.
type replayWindow struct {
	mu     sync.Mutex
	top    uint64 // highest authenticated sequence number; 0: none yet
	blocks [replayBlocks]uint64
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
	r.mu.Lock()
	top := r.top
	seq, ok := reconstruct(top, seqLow, esn)
	if !ok {
		r.mu.Unlock()
		return 0, DropTooOld
	}
	reason := r.testLocked(seq)
	r.mu.Unlock()
	return seq, reason
}

func (r *replayWindow) testLocked(seq uint64) DropReason {
	if seq == 0 {
		return DropTooOld // never sent: the first packet carries 1
	}
	if seq > r.top {
		return 0
	}
	if r.top-seq >= ReplayWindow {
		return DropTooOld
	}
	idx := (seq / replayBlockBits) % replayBlocks
	if r.blocks[idx]&(1<<(seq%replayBlockBits)) != 0 {
		return DropReplay
	}
	return 0
}

// update marks seq as received after its ICV verified. A concurrent Open
// of the same packet may have won the race: then seq is a replay.
func (r *replayWindow) update(seq uint64) DropReason {
	r.mu.Lock()
	defer r.mu.Unlock()
	if reason := r.testLocked(seq); reason != 0 {
		return reason
	}
	if seq > r.top {
		cur := r.top / replayBlockBits
		next := seq / replayBlockBits
		n := next - cur
		if n > replayBlocks {
			n = replayBlocks
		}
		for i := uint64(1); i <= n; i++ {
			r.blocks[(cur+i)%replayBlocks] = 0
		}
		r.top = seq
	}
	r.blocks[(seq/replayBlockBits)%replayBlocks] |= 1 << (seq % replayBlockBits)
	return 0
}
