package mh

import (
	"bytes"
	"testing"
)

// FuzzParseMessage: no panics; accepted messages re-encode canonically and
// decode to the same value.
func FuzzParseMessage(f *testing.F) {
	for _, m := range allMessages() {
		f.Add(m.Append(nil, careOf, agent))
	}
	f.Add([]byte{59, 0, 42, 0, 0, 0, 0, 0})
	f.Add([]byte{59, 1, 5, 0, 0, 0, 0, 1, 0, 0, 0, 1, OptPad1, OptBindingRefreshAdvice, 2, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			return
		}
		enc := m.Append(nil, careOf, agent)
		if err := VerifyChecksum(careOf, agent, enc); err != nil {
			t.Fatal(err)
		}
		m2, err := ParseMessage(enc)
		if err != nil {
			t.Fatalf("re-encoded message rejected: %v\n% x", err, enc)
		}
		if enc2 := m2.Append(nil, careOf, agent); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not canonical:\n% x\n% x", enc, enc2)
		}
	})
}

func BenchmarkParseBindingUpdate(b *testing.B) {
	buf := (&BindingUpdate{Sequence: 1, Acknowledge: true, HomeRegistration: true, KeyManagementMobilityCapability: true, Lifetime: 75,
		Options: Options{Present: HasAlternateCareOfAddress, AlternateCareOfAddress: careOf}}).Append(nil, careOf, agent)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := ParseBindingUpdate(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseBindingAck(b *testing.B) {
	buf := (&BindingAck{Sequence: 1, Lifetime: 75, KeyManagementMobilityCapability: true,
		Options: Options{Present: HasBindingRefreshAdvice, RefreshInterval: 60}}).Append(nil, agent, careOf)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := ParseBindingAck(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendBindingUpdate(b *testing.B) {
	m := BindingUpdate{Sequence: 1, Acknowledge: true, HomeRegistration: true, Lifetime: 75,
		Options: Options{Present: HasAlternateCareOfAddress, AlternateCareOfAddress: careOf}}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.Append(buf[:0], careOf, agent)
	}
}

func BenchmarkAppendBindingAck(b *testing.B) {
	m := BindingAck{Sequence: 1, Lifetime: 75, Options: Options{Present: HasBindingRefreshAdvice, RefreshInterval: 60}}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.Append(buf[:0], agent, careOf)
	}
}

func BenchmarkVerifyChecksum(b *testing.B) {
	buf := (&BindingUpdate{Options: Options{Present: HasAlternateCareOfAddress, AlternateCareOfAddress: careOf}}).Append(nil, careOf, agent)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyChecksum(careOf, agent, buf); err != nil {
			b.Fatal(err)
		}
	}
}
