package ikev2

import "testing"

func TestZeroAllocs(t *testing.T) {
	msg, err := sampleSAInit().Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseHeader(msg) }); n != 0 {
		t.Errorf("ParseHeader: %v allocs", n)
	}
	buf := make([]byte, 0, 64)
	h := Header{InitiatorSPI: 1, Exchange: ExchangeIKEAuth}
	if n := testing.AllocsPerRun(100, func() { _ = AppendHeader(buf[:0], h) }); n != 0 {
		t.Errorf("AppendHeader: %v allocs", n)
	}
	sk, _ := (&Message{Payloads: Payloads{&Encrypted{First: PayloadIDi, Body: make([]byte, 100)}}}).Marshal(nil)
	if n := testing.AllocsPerRun(100, func() { _, _ = SplitEncrypted(sk, 8, 16) }); n != 0 {
		t.Errorf("SplitEncrypted: %v allocs", n)
	}
}

func BenchmarkParseHeader(b *testing.B) {
	msg, _ := sampleSAInit().Marshal(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseHeader(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendHeader(b *testing.B) {
	buf := make([]byte, 0, HeaderLen)
	h := Header{InitiatorSPI: 1, ResponderSPI: 2, Exchange: ExchangeIKEAuth, Flags: FlagInitiator, MessageID: 1, Length: 300}
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendHeader(buf[:0], h)
	}
}

func BenchmarkParseSAInit(b *testing.B) {
	msg, _ := sampleSAInit().Marshal(nil)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalSAInit(b *testing.B) {
	m := sampleSAInit()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = m.Marshal(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitEncrypted(b *testing.B) {
	msg, _ := (&Message{Payloads: Payloads{&Encrypted{First: PayloadIDi, Body: make([]byte, 300)}}}).Marshal(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SplitEncrypted(msg, 8, 16); err != nil {
			b.Fatal(err)
		}
	}
}
