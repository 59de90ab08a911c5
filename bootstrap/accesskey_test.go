package bootstrap

import (
	"bytes"
	"context"
	"testing"
	"time"

	"mip6/aaa"
	"mip6/discovery"
	"mip6/eap"
	"mip6/ike"
	"mip6/lease"
)

// networkAccess runs alice's EAP-MSCHAPv2 network access authentication
// (the access router as NAS, the in-process RADIUS server as the
// integrated ASP's AAA) and returns the MSK each side holds.
func networkAccess(t *testing.T, client *aaa.Client) (peerMSK, aaaMSK []byte) {
	t.Helper()
	ctx := context.Background()
	nas := &aaa.EAPAuthenticator{Client: client, CalledStationID: "access-router"}
	peer := eap.NewPeer(alice, eap.NewMSCHAPv2(alice, "alice's password"))
	conv, err := nas.Start(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	var resp []byte
	for range 10 {
		out, err := conv.Next(ctx, resp)
		if err != nil {
			t.Fatal(err)
		}
		if out.Done {
			if !out.Accepted {
				t.Fatalf("network access refused: %s", out.Reason)
			}
			return peer.MSK(), out.MSK
		}
		if resp, err = peer.Handle(out.Message); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("network access EAP did not end")
	return nil, nil
}

// RFC 4640 §7.2 / §8 Parameter Set 2: the integrated ASP's AAA server
// authenticated alice for network access; the mobility PSK is derived on
// both sides from that access key, separate from it, separately named,
// with its own lifetime.
func TestParameterSet2(t *testing.T) {
	peerMSK, aaaMSK := networkAccess(t, localAAA(t, nil))
	issued := time.Now()
	n := newMemNet()
	th := newTestHA(t, n, ha1Addr, newPKI(t), func(h *HomeAgent, _ *lease.PoolConfig) {
		h.Subscribers = []Subscriber{{Identity: alice, Auth: ike.AuthPSK, FromAccessKey: true}}
		h.AccessKeys = func(id string) (AccessKey, time.Time, error) {
			return AccessKey{Name: []byte("access-session-1"), Key: aaaMSK}, issued, nil
		}
		h.MobilityKeyLifetime = time.Hour
	})
	cfg := mnConfig(n, ha1Addr)
	cfg.PSK, cfg.AccessKey = nil, &AccessKey{Name: []byte("access-session-1"), Key: peerMSK}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	checkResult(t, res, th, alice)

	ak := AccessKey{Name: []byte("access-session-1"), Key: peerMSK}
	mk, err := DeriveMobilityKey(ak, alice, issued, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := DeriveMobilityKey(ak, bob, issued, time.Hour)
	if bytes.Contains(peerMSK, mk.Key) || bytes.Equal(mk.Key, other.Key) || bytes.Equal(mk.Name, ak.Name) || !mk.Expiry.Equal(issued.Add(time.Hour)) {
		t.Fatalf("mobility key not separate: %x (bob %x), name %x, expiry %v", mk.Key, other.Key, mk.Name, mk.Expiry)
	}
	if _, err := DeriveMobilityKey(AccessKey{Key: make([]byte, 16)}, alice, issued, time.Hour); err != ErrShortAccessKey {
		t.Fatalf("short access key: %v", err)
	}
}

// The mobility key outlived its lifetime: the HA refuses until the MN
// authenticates for network access again.
func TestParameterSet2Expired(t *testing.T) {
	peerMSK, aaaMSK := networkAccess(t, localAAA(t, nil))
	n := newMemNet()
	th := newTestHA(t, n, ha1Addr, newPKI(t), func(h *HomeAgent, _ *lease.PoolConfig) {
		h.Subscribers = []Subscriber{{Identity: alice, Auth: ike.AuthPSK, FromAccessKey: true}}
		h.AccessKeys = func(string) (AccessKey, time.Time, error) {
			return AccessKey{Key: aaaMSK}, time.Now().Add(-2 * time.Hour), nil
		}
		h.MobilityKeyLifetime = time.Hour
	})
	cfg := mnConfig(n, ha1Addr)
	cfg.PSK, cfg.AccessKey = nil, &AccessKey{Key: peerMSK}
	_, err := Run(context.Background(), cfg)
	checkFailed(t, err, th, discovery.FailAuthRefused)
}
