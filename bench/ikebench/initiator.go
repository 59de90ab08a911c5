package main

import (
	"fmt"
	"net/netip"
	"time"

	"mip6/ike"
	"mip6/ike/crypto"
)

// phase is one stretch of the run: handshakes from FromSAs to ToSAs
// established SAs, with the responder's CPU time spent on them.
type phase struct {
	FromSAs     int     `json:"from_sas"`
	ToSAs       int     `json:"to_sas"`
	Established int     `json:"established"`
	Failed      int     `json:"failed"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	WallSeconds float64 `json:"wall_seconds"`
	RSSEnd      int64   `json:"rss_end"`
	HeapEnd     uint64  `json:"heap_end,omitempty"` // mip6 only
}

// result is what one initiator run writes for the report.
type result struct {
	Label       string  `json:"label"`
	Config      string  `json:"config"`
	Concurrency int     `json:"concurrency"`
	Target      int     `json:"target"`
	Capped      string  `json:"capped,omitempty"` // why the run stopped early
	RSSBase     int64   `json:"rss_base"`
	HeapBase    uint64  `json:"heap_base,omitempty"`
	Phases      []phase `json:"phases"`
}

// loadgen runs many initiators with distinct identities and addresses on
// one mip6 endpoint, a bounded number of handshakes at a time.
type loadgen struct {
	ep     *ike.Endpoint
	target netip.AddrPort
	base   netip.Addr // initiator i uses base + i + 1
	psk    []byte
	respID ike.Identity
	conc   int
	next   int
	done   chan bool // one per finished handshake: established or not
}

func (g *loadgen) onEvent(e ike.Event) {
	switch e.Kind {
	case ike.EventChildEstablished:
		g.done <- true
	case ike.EventFailed:
		g.done <- false
	}
}

// peer is initiator i's configuration: AES-GCM-128, PRF-HMAC-SHA2-256 and
// Curve25519 only, a CP address request and one CHILD_SA.
func (g *loadgen) peer(i int) *ike.PeerConfig {
	gcm := crypto.Encr{ID: crypto.ENCR_AES_GCM_16, KeyLen: 128}
	return &ike.PeerConfig{
		Name: "bench", LocalID: ike.RFC822(fmt.Sprintf("mn%d@bench.example", i)), RemoteID: g.respID,
		LocalAuth: ike.AuthPSK, RemoteAuth: ike.AuthPSK, PSK: g.psk,
		IKEProposals:   []ike.IKEProposal{{Encr: []crypto.Encr{gcm}, PRF: []crypto.PRFID{crypto.PRF_HMAC_SHA2_256}, DH: []crypto.DHGroup{crypto.Curve25519}}},
		RequestAddress: true,
		Children: []ike.ChildConfig{{Name: "home", Proposals: []ike.ChildProposal{{Encr: []crypto.Encr{gcm}}},
			RemoteTS: []ike.Selector{ike.PrefixSelector(netip.MustParsePrefix("2001:db8::/32"))}}},
	}
}

func (g *loadgen) local(i int) netip.AddrPort {
	a := g.base.As16()
	v := uint32(i + 1)
	a[12], a[13], a[14], a[15] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return netip.AddrPortFrom(netip.AddrFrom16(a), ike.PortIKE)
}

// runPhase starts count handshakes, at most conc at a time, and waits for
// each to end. New ones stop at deadline; those in flight then get grace
// to finish. capped reports that fewer than count were started or waited for.
func (g *loadgen) runPhase(count int, deadline time.Time, grace time.Duration) (est, failed int, capped bool) {
	want, inflight, issued := count, 0, 0
	for issued < count || inflight > 0 {
		for inflight < g.conc && issued < count && time.Now().Before(deadline) {
			if err := g.ep.Initiate(g.peer(g.next), g.local(g.next), g.target); err != nil {
				failed++
			} else {
				inflight++
			}
			g.next++
			issued++
		}
		stopped := !time.Now().Before(deadline)
		if stopped {
			count = issued // start no more
		}
		wait := time.Until(deadline)
		if stopped {
			wait = grace
		}
		select {
		case ok := <-g.done:
			inflight--
			if ok {
				est++
			} else {
				failed++
			}
		case <-time.After(wait):
			if stopped {
				return est, failed + inflight, true
			}
		}
	}
	return est, failed, issued < want
}
