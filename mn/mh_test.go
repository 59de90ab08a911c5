package mn

import (
	"testing"

	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// TestTransportFormRoundTrip: the BU message inside an RFC 3776 packet
// (CoA -> HA with a Home Address option) verifies with the home address as
// pseudo-source, and an ack built the same way parses.
func TestTransportFormRoundTrip(t *testing.T) {
	bu := SendBindingUpdate{Sequence: 9, Acknowledge: true, Home: true, Lifetime: 10, HomeAddress: hoa, HomeAgent: haA, CareOf: coaA, AltCoA: coaA}
	msg := AppendBindingUpdateMessage(nil, &bu)
	pkt := (&ipv6.Packet{Header: ipv6.Header{HopLimit: 64, Src: coaA, Dst: haA}, HomeAddress: hoa, Proto: ipv6.ProtoMobility}).Append(nil, msg)
	var p ipv6.Packet
	if err := ipv6.ParsePacket(pkt, &p); err != nil {
		t.Fatal(err)
	}
	if err := mh.VerifyChecksum(p.PseudoSrc(), p.PseudoDst(), p.Payload); err != nil {
		t.Fatal(err)
	}
	m, err := mh.ParseBindingUpdate(p.Payload)
	if err != nil || m.Sequence != 9 || m.Options.AlternateCareOfAddress != coaA {
		t.Fatalf("%+v %v", m, err)
	}
	ack := (&mh.BindingAck{Sequence: 9, Lifetime: 10, Options: mh.Options{Present: mh.HasBindingRefreshAdvice, RefreshInterval: 5}}).Append(nil, haA, hoa)
	ba, err := ParseAck(haA, hoa, ack)
	if err != nil || ba.Sequence != 9 || ba.Refresh != 5 {
		t.Fatalf("%+v %v", ba, err)
	}
	if _, err := ParseAck(haA, coaA, ack); err == nil {
		t.Fatal("ack with a wrong pseudo-header accepted")
	}
	if _, err := ParseAck(hoa, haA, msg); err != ErrNotAck {
		t.Fatalf("BU taken for an ack: %v", err)
	}
}
