package ikev2

import (
	"bytes"
	"net/netip"
	"time"
)

var (
	addrMN   = netip.MustParseAddr("2001:db8:1::10")
	addrHA   = netip.MustParseAddr("2001:db8:2::1")
	addrHoA  = netip.MustParseAddr("2001:db8:2::100")
	addr4    = netip.MustParseAddr("192.0.2.1")
	addr4end = netip.MustParseAddr("192.0.2.254")
)

func fill(n int, v byte) []byte { return bytes.Repeat([]byte{v}, n) }

// sampleSAInit is an IKE_SA_INIT request: SA with several proposals, KE,
// Nonce, NAT detection, fragmentation and signature hash notifies.
func sampleSAInit() *Message {
	src := NATDetectionHash(0x1122334455667788, 0, netip.AddrPortFrom(addrMN, 500))
	dst := NATDetectionHash(0x1122334455667788, 0, netip.AddrPortFrom(addrHA, 500))
	return &Message{
		Header: Header{InitiatorSPI: 0x1122334455667788, Exchange: ExchangeIKESAInit, Flags: FlagInitiator},
		Payloads: Payloads{
			&SA{Proposals: []Proposal{
				{Number: 1, Protocol: ProtocolIKE, Transforms: []Transform{
					EncrTransform(EncrAESGCM16, 256), PRFTransform(PRFHMACSHA2_256), DHTransform(DHECP256),
				}},
				{Number: 2, Protocol: ProtocolIKE, Transforms: []Transform{
					EncrTransform(EncrAESCBC, 128), EncrTransform(EncrAESCBC, 256),
					PRFTransform(PRFHMACSHA2_384), IntegTransform(IntegHMACSHA2_256_128),
					DHTransform(DHMODP2048), DHTransform(DHCurve25519),
				}},
				{Number: 3, Protocol: ProtocolIKE, Transforms: []Transform{
					EncrTransform(EncrChaCha20Poly1305, 0), PRFTransform(PRFHMACSHA2_512), DHTransform(DHECP384),
				}},
			}},
			&KE{Group: DHECP256, Data: fill(64, 0xab)},
			&Nonce{Data: fill(32, 0x4e)},
			NewNotify(NotifyNATDetectionSourceIP, src[:]),
			NewNotify(NotifyNATDetectionDestinationIP, dst[:]),
			NewNotify(NotifyIKEv2FragmentationSupported, nil),
			SignatureHashAlgorithms(HashSHA2_256, HashSHA2_384, HashSHA2_512),
		},
	}
}

// sampleAuth is an IKE_AUTH-like request with its payloads in clear.
func sampleAuth() *Message {
	bu0, bu1 := MHTypePorts(5)
	ba0, ba1 := MHTypePorts(6)
	return &Message{
		Header: Header{InitiatorSPI: 0x1122334455667788, ResponderSPI: 0x99aabbccddeeff00,
			Exchange: ExchangeIKEAuth, Flags: FlagInitiator, MessageID: 1},
		Payloads: Payloads{
			&ID{Type: IDRFC822Addr, Data: []byte("alice@example.net")},
			&ID{Responder: true, Type: IDFQDN, Data: []byte("ha.example.net")},
			&Auth{Method: AuthSharedKeyMIC, Data: fill(32, 0xa5)},
			&CP{Type: CFGRequest, Attributes: []CPAttribute{
				CPPrefix(CPInternalIP6Address, netip.PrefixFrom(addrHoA, 64)),
				CPRequest(CPInternalIP6DNS),
				CPRequest(CPMIP6HomePrefix),
			}},
			&SA{Proposals: []Proposal{{Number: 1, Protocol: ProtocolESP, SPI: []byte{0xc0, 0, 0, 1},
				Transforms: []Transform{EncrTransform(EncrAESGCM16, 256), ESNTransform(ESNNo)}}}},
			&TS{Selectors: []TrafficSelector{NewTrafficSelector(ProtoMH, bu0, bu1, addrHoA, addrHoA)}},
			&TS{Responder: true, Selectors: []TrafficSelector{NewTrafficSelector(ProtoMH, ba0, ba1, addrHA, addrHA)}},
			NewNotify(NotifyUseTransportMode, nil),
			NewNotify(NotifyMOBIKESupported, nil),
		},
	}
}

// allPayloads has one or more instances of every payload type.
func allPayloads() []Payload {
	return []Payload{
		&SA{Proposals: []Proposal{{Number: 1, Protocol: ProtocolIKE, SPI: fill(8, 1), Transforms: []Transform{
			{Type: TransformENCR, ID: uint16(EncrAESCBC), KeyLength: 128, Attributes: []TransformAttribute{
				{Type: 99, TV: true, Value: 7}, {Type: 100, Data: []byte("tlv")}, {Type: 101, Data: nil}}},
		}}}},
		&KE{Group: DHCurve25519, Data: fill(32, 2)},
		&KE{Group: DHMODP2048, Data: nil},
		&ID{Type: IDIPv4Addr, Data: addr4.AsSlice()},
		&ID{Responder: true, Type: IDIPv6Addr, Data: addrHA.AsSlice()},
		&ID{Type: IDDERASN1DN, Data: []byte{0x30, 0x00}},
		&ID{Type: IDKeyID, Data: []byte("key")},
		&ID{Type: IDNull, Data: nil},
		&Cert{Encoding: CertX509Signature, Data: fill(40, 3)},
		&CertReq{Encoding: CertX509Signature, Authority: fill(40, 4)},
		&Auth{Method: AuthDigitalSignature, Data: fill(70, 5)},
		&Nonce{Data: fill(MaxNonceLen, 6)},
		&Notify{Protocol: ProtocolESP, SPI: []byte{1, 2, 3, 4}, Type: NotifyRekeySA, Data: nil},
		InvalidKEPayload(DHECP256),
		NewNotify(NotifyCookie, fill(64, 7)),
		AdditionalAddress(addrMN),
		&Delete{Protocol: ProtocolESP, SPISize: 4, SPIs: [][]byte{{1, 2, 3, 4}, {5, 6, 7, 8}}},
		&Delete{Protocol: ProtocolIKE},
		&VendorID{Data: []byte("mip6")},
		&TS{Selectors: []TrafficSelector{
			PrefixSelector(0, netip.MustParsePrefix("2001:db8::/32")),
			NewTrafficSelector(ProtoUDP, 500, 4500, addr4, addr4end),
			{Type: 10, Protocol: 0, Raw: []byte{1, 2, 3, 4}},
		}},
		&TS{Responder: true},
		&CP{Type: CFGReply, Attributes: []CPAttribute{
			CPPrefix(CPInternalIP6Address, netip.PrefixFrom(addrHoA, 64)),
			CPAddr(CPInternalIP6DNS, addrHA),
			CPPrefix(CPInternalIP6Subnet, netip.MustParsePrefix("2001:db8:2::/64")),
			CPAddr(CPInternalIP4Address, addr4),
			CPIP4Subnet(netip.MustParsePrefix("192.0.2.0/24")),
			{Type: CPApplicationVersion, Value: []byte("mip6 1.0")},
			CPHomePrefix(netip.MustParsePrefix("2001:db8:2::/64"), time.Hour),
			{Type: 16390, Value: []byte("vendor")},
		}},
		&EAP{Data: []byte{1, 7, 0, 10, 1, 'a', 'l', 'i', 'c', 'e'}},
		&UnknownPayload{Type: 200, Body: []byte("skip me")},
	}
}

func netipPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
