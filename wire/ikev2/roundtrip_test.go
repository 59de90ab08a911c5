package ikev2

import (
	"bytes"
	"reflect"
	"testing"
)

// roundTrip marshals m, parses the result, checks equality and that
// re-encoding gives the same bytes.
func roundTrip(t *testing.T, m *Message) []byte {
	t.Helper()
	b, err := m.Marshal(nil)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	got, err := ParseMessage(b)
	if err != nil {
		t.Fatalf("ParseMessage: %v\n% x", err, b)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip differs:\n got %#v\nwant %#v", got, m)
	}
	b2, err := got.Marshal(nil)
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("re-encoding differs (%v)", err)
	}
	return b
}

func TestRoundTripMessages(t *testing.T) {
	for name, m := range map[string]*Message{"IKE_SA_INIT": sampleSAInit(), "IKE_AUTH": sampleAuth()} {
		t.Run(name, func(t *testing.T) { roundTrip(t, m) })
	}
}

func TestRoundTripEveryPayload(t *testing.T) {
	for _, p := range allPayloads() {
		t.Run(p.PayloadType().String(), func(t *testing.T) {
			roundTrip(t, &Message{Header: Header{Exchange: ExchangeInformational, MessageID: 7}, Payloads: Payloads{p}})
			chain, err := AppendPayloads(nil, []Payload{p, p})
			if err != nil {
				t.Fatal(err)
			}
			ps, err := ParsePayloads(p.PayloadType(), chain)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ps, Payloads{p, p}) {
				t.Fatalf("chain differs: %#v", ps)
			}
		})
	}
}
