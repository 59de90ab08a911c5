package dataplane

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"mip6/ipsec"
	"mip6/wire/ipv6"
)

// TestLocalSendUnprotected: Send seals single packets beside the pipeline,
// the Local hook consumes what it claims (the rest reaches the TUN), and
// TUN traffic without a policy goes to the Unprotected hook.
func TestLocalSendUnprotected(t *testing.T) {
	ba, bb := memBindPair(outerA, outerB)
	a := end{tun: newMemTUN(), bind: ba}
	b := end{tun: newMemTUN(), bind: bb}
	local, unprot := make(chan []byte, 4), make(chan []byte, 4)
	var err error
	a.plane, err = New(Config{TUN: a.tun, Bind: a.bind, SPD: ipsec.NewSPD(), SAD: ipsec.NewSAD(), Workers: 2,
		Unprotected: func(p []byte) { unprot <- append([]byte(nil), p...) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.plane.Close() })
	b.plane, err = New(Config{TUN: b.tun, Bind: b.bind, SPD: ipsec.NewSPD(), SAD: ipsec.NewSAD(), Workers: 2,
		Local: func(sa *ipsec.SAEntry, inner []byte, from netip.AddrPort) bool {
			if binary.BigEndian.Uint32(inner[ipv6.HeaderLen+8:]) != 7 {
				return false
			}
			if from != outerA || sa.SPI() != 0x1001 {
				t.Errorf("Local: from %v SPI %08x", from, sa.SPI())
			}
			local <- append([]byte(nil), inner...)
			return true
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.plane.Close() })
	ta, tb := tunnelPair()
	if a.tn, err = a.plane.InstallTunnel(ta); err != nil {
		t.Fatal(err)
	}
	if _, err = b.plane.InstallTunnel(tb); err != nil {
		t.Fatal(err)
	}
	if err := a.plane.Send(a.tn.Out, udpPacket(hoaA, hostB, 7)); err != nil {
		t.Fatal(err)
	}
	if p := recv(t, local); !bytes.Equal(p, udpPacket(hoaA, hostB, 7)) {
		t.Fatalf("Local got %x", p)
	}
	if err := a.plane.Send(a.tn.Out, udpPacket(hoaA, hostB, 8)); err != nil {
		t.Fatal(err)
	}
	if p := recv(t, b.tun.out); !bytes.Equal(p, udpPacket(hoaA, hostB, 8)) {
		t.Fatalf("TUN got %x", p)
	}
	if s := b.plane.Stats(); s.Local != 1 || s.Opened != 1 {
		t.Errorf("B stats: %v", s)
	}
	other := udpPacket(hoaA, netip.MustParseAddr("2001:db8:c::1"), 2)
	a.tun.in <- other
	if p := recv(t, unprot); !bytes.Equal(p, other) {
		t.Fatalf("Unprotected got %x", p)
	}
	select {
	case p := <-b.tun.out:
		t.Fatalf("unexpected packet on B's TUN: %x", p)
	case <-time.After(50 * time.Millisecond):
	}
}
