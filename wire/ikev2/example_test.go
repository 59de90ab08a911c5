package ikev2_test

import (
	"fmt"
	"net/netip"

	"mip6/wire/ikev2"
)

// A mobile node's IKE_AUTH payloads: ask for a home address and protect
// Binding Updates (MH type 5) from it to the home agent.
func ExampleMHSelector() {
	hoa := netip.MustParseAddr("2001:db8:2::100")
	ha := netip.MustParseAddr("2001:db8:2::1")
	ps := ikev2.Payloads{
		&ikev2.CP{Type: ikev2.CFGRequest, Attributes: []ikev2.CPAttribute{ikev2.CPRequest(ikev2.CPInternalIP6Address)}},
		&ikev2.TS{Selectors: []ikev2.TrafficSelector{ikev2.MHSelector(hoa, 5)}},
		&ikev2.TS{Responder: true, Selectors: []ikev2.TrafficSelector{ikev2.MHSelector(ha, 5)}},
	}
	b, err := ikev2.AppendPayloads(nil, ps)
	if err != nil {
		panic(err)
	}
	back, err := ikev2.ParsePayloads(ps[0].PayloadType(), b)
	if err != nil {
		panic(err)
	}
	sel := back.Get(ikev2.PayloadTSi).(*ikev2.TS).Selectors[0]
	mhType, _ := sel.MHType()
	fmt.Println(sel.Protocol, sel.StartPort, sel.EndPort, mhType)
	// Output: 135 1280 1280 5
}

// Parsing a datagram received on UDP port 4500.
func ExampleParseMessage() {
	m := &ikev2.Message{
		Header:   ikev2.Header{InitiatorSPI: 0x0102030405060708, Exchange: ikev2.ExchangeIKESAInit, Flags: ikev2.FlagInitiator},
		Payloads: ikev2.Payloads{ikev2.NewNotify(ikev2.NotifyIKEv2FragmentationSupported, nil)},
	}
	dgram, err := m.Marshal(ikev2.AppendNonESPMarker(nil))
	if err != nil {
		panic(err)
	}
	msg, isIKE := ikev2.StripNonESPMarker(dgram)
	h, err := ikev2.ParseHeader(msg) // allocation-free: enough to find the SA
	if err != nil || !isIKE {
		panic(err)
	}
	got, err := ikev2.ParseMessage(msg)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%016x %v %v %d\n", h.InitiatorSPI, h.Exchange, h.Flags, h.Length)
	fmt.Println(got.Payloads.Notify(ikev2.NotifyIKEv2FragmentationSupported) != nil)
	// Output:
	// 0102030405060708 IKE_SA_INIT I 36
	// true
}

// Errors name the payload, the position and the field.
func ExampleFormatError() {
	_, err := ikev2.ParsePayloads(ikev2.PayloadNonce, []byte{0, 0, 0, 8, 1, 2, 3, 4})
	fmt.Println(err)
	// Output: ikev2: Nonce: nonce data length 4 shorter than minimum 16
}
