package ike

import (
	"bytes"
	"testing"
	"time"

	"mip6/ike/crypto"
)

func TestResponderDHReuseWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	ep := NewEndpoint(Config{DHReuse: time.Second}, nil, nil)
	a, err := ep.responderKeyShare(now, crypto.Curve25519)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ep.responderKeyShare(now.Add(500*time.Millisecond), crypto.Curve25519)
	if !bytes.Equal(a.Public(), b.Public()) {
		t.Fatal("key not reused within the window")
	}
	p, _ := ep.responderKeyShare(now, crypto.ECP_256)
	if p.Group() != crypto.ECP_256 {
		t.Fatalf("group %v", p.Group())
	}
	c, _ := ep.responderKeyShare(now.Add(1500*time.Millisecond), crypto.Curve25519)
	if bytes.Equal(a.Public(), c.Public()) {
		t.Fatal("key reused after the window")
	}
	fresh := NewEndpoint(Config{}, nil, nil)
	x, _ := fresh.responderKeyShare(now, crypto.Curve25519)
	y, _ := fresh.responderKeyShare(now, crypto.Curve25519)
	if bytes.Equal(x.Public(), y.Public()) {
		t.Fatal("key reused without DHReuse")
	}
}
