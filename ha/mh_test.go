package ha

import (
	"encoding/binary"
	"testing"
	"time"

	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

func encodeBU(seq, life uint16, coa bool) []byte {
	m := mh.BindingUpdate{Sequence: seq, Acknowledge: true, HomeRegistration: true, KeyManagementMobilityCapability: true, Lifetime: life}
	if coa {
		m.Options.Present = mh.HasAlternateCareOfAddress
		m.Options.AlternateCareOfAddress = coa1
	}
	return m.Append(nil, hoaA, haAddr)
}

func TestHandleMH(t *testing.T) {
	h, _ := newHA(t, nil)
	r := h.HandleMH(t0, secAlice(coa1), hoaA, haAddr, encodeBU(1, 10, true))
	mustAccept(t, r)
	if r.Binding.CareOf != coa1 {
		t.Fatalf("binding %+v", r.Binding)
	}
	// The ack encodes and decodes.
	pkt := AppendAck(nil, &r.Ack)
	var p ipv6.Packet
	if err := ipv6.ParsePacket(pkt, &p); err != nil || p.Proto != ipv6.ProtoMobility || p.Header.Dst != hoaA {
		t.Fatalf("ack packet: %v", err)
	}
	if err := mh.VerifyChecksum(haAddr, hoaA, p.Payload); err != nil {
		t.Fatal(err)
	}
	ba, err := mh.ParseBindingAck(p.Payload)
	if err != nil || ba.Status != 0 || ba.Sequence != 1 || ba.Lifetime != 10 || !ba.Options.Has(mh.HasBindingRefreshAdvice) || ba.Options.RefreshInterval != 8 {
		t.Fatalf("ack %+v %v", ba, err)
	}
	before, _ := h.cache.Lookup(hoaA)

	bad := encodeBU(2, 10, true)
	bad[len(bad)-1] ^= 0xff
	if r := h.HandleMH(t0, secAlice(coa1), hoaA, haAddr, bad); r.Drop != DropBadChecksum {
		t.Fatalf("bad checksum: %+v", r)
	}
	// Truncated Alternate CoA option: length 16 claimed, 8 present.
	trunc := encodeBU(2, 10, true)
	trunc = fixLen(trunc[:len(trunc)-8])
	if r := h.HandleMH(t0, secAlice(coa1), hoaA, haAddr, trunc); r.Drop != DropMalformed {
		t.Fatalf("truncated option: %+v", r)
	}
	proto := encodeBU(2, 10, true)
	proto[0] = ipv6.ProtoUDP
	proto = rechecksum(proto)
	if r := h.HandleMH(t0, secAlice(coa1), hoaA, haAddr, proto); r.Drop != DropBadPayloadProto {
		t.Fatalf("payload proto: %+v", r)
	}
	unk := encodeBU(2, 10, false)
	unk[2] = 200
	unk = rechecksum(unk)
	r = h.HandleMH(t0, secAlice(coa1), hoaA, haAddr, unk)
	if !r.SendError || r.Error.Status != ErrorUnknownMHType || r.Error.HomeAddress != hoaA {
		t.Fatalf("unknown type: %+v", r)
	}
	if r := h.HandleMH(t0, secBob(coaB), hoaA, haAddr, unk); r.SendError {
		t.Fatal("Binding Error sent through another MN's SA")
	}
	baMsg := (&mh.BindingAck{Sequence: 3}).Append(nil, hoaA, haAddr)
	if r := h.HandleMH(t0, secAlice(coa1), hoaA, haAddr, baMsg); r.Drop != DropUnexpectedType {
		t.Fatalf("BA to the HA: %+v", r)
	}
	if after, _ := h.cache.Lookup(hoaA); after != before {
		t.Fatal("bad input changed the binding")
	}
	be := AppendError(nil, haAddr, &r.Error)
	if err := ipv6.ParsePacket(be, &p); err != nil {
		t.Fatal(err)
	}
	if m, err := mh.ParseBindingError(p.Payload); err != nil || m.Status != 2 || m.HomeAddress != hoaA {
		t.Fatalf("binding error %+v %v", m, err)
	}
}

// fixLen sets Header Len to the (multiple of 8) length and the checksum.
func fixLen(m []byte) []byte {
	m[1] = uint8(len(m)/8 - 1)
	return rechecksum(m)
}

func rechecksum(m []byte) []byte {
	m[4], m[5] = 0, 0
	binary.BigEndian.PutUint16(m[4:], mh.Checksum(hoaA, haAddr, m))
	return m
}

// FuzzHandleMH: arbitrary MH bytes on alice's SA never panic and never touch
// bob's binding.
func FuzzHandleMH(f *testing.F) {
	f.Add(encodeBU(1, 10, true))
	f.Add(encodeBU(2, 0, false))
	f.Add([]byte{59, 0, 5, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, _ := newHA(t, nil)
		mustAccept(t, h.ProcessBU(t0, secBob(coaB), buFor(hoaB, coaB, 1, 10)))
		before, _ := h.cache.Lookup(hoaB)
		if len(msg) < 6 {
			h.HandleMH(t0, secAlice(coa1), hoaA, haAddr, msg)
			return
		}
		for _, m := range [][]byte{msg, rechecksum(append([]byte(nil), msg...))} {
			h.HandleMH(t0, secAlice(coa1), hoaA, haAddr, m)
			h.HandleMH(t0, secAlice(coa1), hoaB, haAddr, m)
		}
		if after, _ := h.cache.Lookup(hoaB); after != before {
			t.Fatal("bob's binding changed")
		}
	})
}

func TestHomeAddressOptionCheck(t *testing.T) {
	h, _ := newHA(t, func(c *Config) { c.BindingErrorRate = 2 })
	mustAccept(t, h.ProcessBU(t0, secAlice(coa1), buFor(hoaA, coa1, 1, 10)))
	if _, ok, _ := h.CheckHomeAddressOption(t0, coa1, hoaA); !ok {
		t.Fatal("HAO from the registered care-of address refused")
	}
	be, ok, send := h.CheckHomeAddressOption(t0, coa2, hoaA)
	if ok || !send || be.Status != ErrorUnknownBinding || be.To != coa2 || be.HomeAddress != hoaA {
		t.Fatalf("HAO from another address: %+v %v %v", be, ok, send)
	}
	pkt := AppendError(nil, haAddr, &be)
	var p ipv6.Packet
	if err := ipv6.ParsePacket(pkt, &p); err != nil || p.Header.Dst != coa2 {
		t.Fatalf("binding error to %v: %v", p.Header.Dst, err)
	}
	// Rate limit: 2 per second, one already used.
	_, _, send1 := h.CheckHomeAddressOption(t0, coa2, hoaB)
	_, _, send2 := h.CheckHomeAddressOption(t0, coa2, hoaB)
	_, _, send3 := h.CheckHomeAddressOption(t0.Add(time.Second), coa2, hoaB)
	if !send1 || send2 || !send3 {
		t.Fatalf("rate limit: %v %v %v", send1, send2, send3)
	}
	if c := h.Counters(); c.Errors[ErrorUnknownBinding] != 3 || c.Drops[DropNoBinding] != 4 {
		t.Fatalf("counters %+v", c)
	}
}
