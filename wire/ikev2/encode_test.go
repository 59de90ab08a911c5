package ikev2

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestEncodeErrors(t *testing.T) {
	big := make([]byte, 70000)
	tests := []struct {
		name string
		ps   Payloads
		want string
	}{
		{"nonce short", Payloads{&Nonce{Data: make([]byte, 8)}}, "ikev2: encode Nonce: nonce data length 8 shorter than minimum 16"},
		{"nonce long", Payloads{&Nonce{Data: make([]byte, 300)}}, "ikev2: encode Nonce: nonce data length 300 longer than maximum 256"},
		{"payload too long", Payloads{&VendorID{Data: big}}, "ikev2: encode VendorID: length 70004 longer than maximum 65535"},
		{"SK not last", Payloads{&Encrypted{First: PayloadIDi}, &VendorID{}}, "ikev2: encode SK: position 1 invalid"},
		{"nil payload", Payloads{nil}, "ikev2: encode message: payload 1: payload 0 invalid"},
		{"unknown with known type", Payloads{&UnknownPayload{Type: PayloadSA}}, "ikev2: encode message: payload 1: unknown payload type 33 invalid"},
		{"SPI too long", Payloads{&SA{Proposals: []Proposal{{Number: 1, SPI: make([]byte, 256)}}}}, "ikev2: encode SA: proposal 1: SPI size 256 longer than maximum 255"},
		{"too many transforms", Payloads{&SA{Proposals: []Proposal{{Number: 1, Transforms: make([]Transform, 256)}}}}, "ikev2: encode SA: proposal 1: transforms 256 longer than maximum 255"},
		{"attribute type", Payloads{&SA{Proposals: []Proposal{{Number: 1, Transforms: []Transform{{Attributes: []TransformAttribute{{Type: AttributeKeyLength}}}}}}}}, "ikev2: encode SA: proposal 1: transform 1: attribute 1: type 14 invalid"},
		{"ID IPv6 length", Payloads{&ID{Type: IDIPv6Addr, Data: addr4.AsSlice()}}, "ikev2: encode IDi: ID_IPV6_ADDR length 4 does not match 16"},
		{"TS family", Payloads{&TS{Selectors: []TrafficSelector{{Type: TSIPv6AddrRange, StartAddr: addr4, EndAddr: addr4}}}}, "ikev2: encode TSi: selector 1: starting address length 4 does not match 16"},
		{"TS end missing", Payloads{&TS{Responder: true, Selectors: []TrafficSelector{{Type: TSIPv4AddrRange, StartAddr: addr4}}}}, "ikev2: encode TSr: selector 1: ending address length 0 does not match 4"},
		{"TS count", Payloads{&TS{Selectors: make([]TrafficSelector, 256)}}, "ikev2: encode TSi: number of TSs 256 longer than maximum 255"},
		{"CP value length", Payloads{&CP{Type: CFGReply, Attributes: []CPAttribute{CPAddr(CPInternalIP6Address, addrHoA)}}}, "ikev2: encode CP: attribute 1 (INTERNAL_IP6_ADDRESS): length 16 does not match 17"},
		{"CP type", Payloads{&CP{Attributes: []CPAttribute{{Type: 0x8001}}}}, "ikev2: encode CP: attribute 1 (CP_ATTR(32769)): type 32769 invalid"},
		{"Delete SPI length", Payloads{&Delete{Protocol: ProtocolESP, SPISize: 4, SPIs: [][]byte{{1, 2}}}}, "ikev2: encode Delete: SPI 1: length 2 does not match 4"},
		{"Delete SPI size 0", Payloads{&Delete{Protocol: ProtocolESP, SPIs: [][]byte{{}}}}, "ikev2: encode Delete: SPI size 0 invalid"},
		{"EAP length", Payloads{&EAP{Data: []byte{1, 1, 0, 9}}}, "ikev2: encode EAP: EAP Length 9 does not match 4"},
		{"SKF next payload", Payloads{&EncryptedFragment{First: PayloadIDi, Number: 2, Total: 2}}, "ikev2: encode SKF: next payload 35 does not match 0"},
		{"Notify SPI", Payloads{&Notify{SPI: make([]byte, 256)}}, "ikev2: encode Notify: SPI size 256 longer than maximum 255"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &Message{Payloads: tc.ps}
			prefix := []byte("keep")
			b, err := m.Marshal(prefix)
			var fe *FormatError
			if err == nil || err.Error() != tc.want || !errors.As(err, &fe) || !fe.Encode {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if !bytes.Equal(b, prefix) {
				t.Fatalf("failed Marshal left %d bytes, want the prefix", len(b))
			}
		})
	}
	if _, err := AppendPayloads(nil, []Payload{&Encrypted{}}); err == nil || err.Error() != "ikev2: encode SK: position 1 invalid" {
		t.Fatalf("SK inside SK: %v", err)
	}
	if _, err := AppendEncryptedHeader(nil, Header{}, PayloadIDi, 70000); err == nil {
		t.Fatal("oversized SK accepted")
	}
	if _, err := AppendEncryptedFragmentHeader(nil, Header{}, PayloadIDi, 2, 1, 10); err == nil || err.Error() != "ikev2: encode SKF: fragment number 2 longer than maximum 1" {
		t.Fatalf("got %v", err)
	}
}

func TestAccessors(t *testing.T) {
	if g, err := InvalidKEPayload(DHECP384).Group(); err != nil || g != DHECP384 {
		t.Fatalf("Group %v %v", g, err)
	}
	if _, err := NewNotify(NotifyInvalidKEPayload, []byte{1}).Group(); err == nil || err.Error() != "ikev2: Notify: INVALID_KE_PAYLOAD: data length 1 does not match 2" {
		t.Fatalf("Group error %v", err)
	}
	for _, a := range []netip.Addr{addr4, addrMN} {
		if got, err := AdditionalAddress(a).Addr(); err != nil || got != a {
			t.Fatalf("Addr %v %v", got, err)
		}
	}
	if _, err := NewNotify(NotifyAdditionalIP6Address, []byte{1}).Addr(); err == nil {
		t.Fatal("short address accepted")
	}
	hs, err := SignatureHashAlgorithms(HashSHA2_256, HashIdentity).HashAlgorithms()
	if err != nil || len(hs) != 2 || hs[0] != HashSHA2_256 || hs[1] != HashIdentity {
		t.Fatalf("hashes %v %v", hs, err)
	}
	if _, err := NewNotify(NotifySignatureHashAlgorithms, []byte{1}).HashAlgorithms(); err == nil {
		t.Fatal("odd hash list accepted")
	}
	if _, err := NewNotify(NotifyCookie, nil).Cookie(); err == nil || err.Error() != "ikev2: Notify: COOKIE: data length 0 shorter than minimum 1" {
		t.Fatalf("cookie %v", err)
	}
	if _, err := NewNotify(NotifyCookie, make([]byte, 65)).Cookie(); err == nil {
		t.Fatal("long cookie accepted")
	}
	if c, err := NewNotify(NotifyCookie, []byte{7}).Cookie(); err != nil || c[0] != 7 {
		t.Fatal("cookie")
	}
	if hs, err := (&CertReq{Authority: make([]byte, 40)}).CAHashes(); err != nil || len(hs) != 2 {
		t.Fatalf("CAHashes %v", err)
	}
	if _, err := (&CertReq{Authority: make([]byte, 21)}).CAHashes(); err == nil {
		t.Fatal("odd CA hashes accepted")
	}
	ad, err := AppendSignatureAuth(nil, []byte{0x30, 1, 2}, []byte("sig"))
	if err != nil {
		t.Fatal(err)
	}
	alg, sig, err := SplitSignatureAuth(ad)
	if err != nil || !bytes.Equal(alg, []byte{0x30, 1, 2}) || string(sig) != "sig" {
		t.Fatalf("SplitSignatureAuth %x %q %v", alg, sig, err)
	}
	if _, _, err := SplitSignatureAuth([]byte{5, 1}); err == nil || err.Error() != "ikev2: AUTH: ASN.1 length 5 exceeds the 1 bytes present" {
		t.Fatalf("got %v", err)
	}
	id := IDFromAddr(addrMN)
	if a, ok := id.Addr(); !ok || a != addrMN || id.String() != "2001:db8:1::10" {
		t.Fatalf("ID addr %v", a)
	}
	if body, _ := id.AppendBody(nil); len(body) != 20 || body[0] != byte(IDIPv6Addr) {
		t.Fatalf("RestOfInitIDPayload % x", body)
	}
}

func TestCPAccessors(t *testing.T) {
	p := netip.MustParsePrefix("2001:db8:2::100/64")
	a := CPPrefix(CPInternalIP6Address, p)
	if got, err := a.Prefix(); err != nil || got != p {
		t.Fatalf("Prefix %v %v", got, err)
	}
	hp := CPHomePrefix(netip.MustParsePrefix("2001:db8:2::/64"), 2*time.Hour)
	if got, err := hp.Prefix(); err != nil || got.String() != "2001:db8:2::/64" {
		t.Fatalf("home prefix %v %v", got, err)
	}
	if lt, err := hp.Lifetime(); err != nil || lt != 2*time.Hour {
		t.Fatalf("lifetime %v %v", lt, err)
	}
	bad := CPAttribute{Type: CPInternalIP6Address, Value: append(make([]byte, 16), 129)}
	if _, err := bad.Prefix(); err == nil || err.Error() != "ikev2: CP: INTERNAL_IP6_ADDRESS: prefix length 129 longer than maximum 128" {
		t.Fatalf("got %v", err)
	}
	if _, err := CPRequest(CPInternalIP6Address).Prefix(); err == nil {
		t.Fatal("empty prefix accepted")
	}
	if got, err := CPAddr(CPInternalIP6DNS, addrHA).Addr(); err != nil || got != addrHA {
		t.Fatal("Addr")
	}
	s := CPIP4Subnet(netip.MustParsePrefix("192.0.2.0/24"))
	if !bytes.Equal(s.Value, []byte{192, 0, 2, 0, 255, 255, 255, 0}) {
		t.Fatalf("subnet % x", s.Value)
	}
	cp := &CP{Attributes: []CPAttribute{a}}
	if got, ok := cp.Get(CPInternalIP6Address); !ok || !bytes.Equal(got.Value, a.Value) {
		t.Fatal("Get")
	}
}

func TestSelectorHelpers(t *testing.T) {
	if s, e := MHTypePorts(5); s != 1280 || e != 1280 {
		t.Fatalf("BU ports %d..%d", s, e)
	}
	if s, e := MHTypePorts(6); s != 1536 || e != 1536 {
		t.Fatalf("BA ports %d..%d", s, e)
	}
	if s, e := ICMPTypePorts(146); s != 146<<8 || e != 146<<8|0xff {
		t.Fatalf("ICMP ports %d..%d", s, e)
	}
	if s, e := ICMPTypeCodePorts(1, 3); s != 0x0103 || e != 0x0103 {
		t.Fatalf("ICMP type/code ports %d..%d", s, e)
	}
	sel := MHSelector(addrHoA, 5)
	if mt, ok := sel.MHType(); !ok || mt != 5 || sel.Type != TSIPv6AddrRange || sel.Protocol != ProtoMH {
		t.Fatalf("MHType %v", sel)
	}
	icmp := NewTrafficSelector(ProtoICMPv6, 146<<8, 147<<8|0xff, addrHA, addrHA)
	if s, e, ok := icmp.ICMPType(); !ok || s != 146 || e != 147 {
		t.Fatal("ICMPType")
	}
	if _, ok := icmp.MHType(); ok {
		t.Fatal("ICMP selector has an MH type")
	}
	all := PrefixSelector(0, netip.MustParsePrefix("2001:db8:2::/48"))
	if all.StartAddr.String() != "2001:db8:2::" || all.EndAddr.String() != "2001:db8:2:ffff:ffff:ffff:ffff:ffff" || all.EndPort != 0xffff {
		t.Fatalf("prefix selector %v..%v", all.StartAddr, all.EndAddr)
	}
	v4 := PrefixSelector(ProtoUDP, netip.MustParsePrefix("192.0.2.128/25"))
	if v4.Type != TSIPv4AddrRange || v4.EndAddr.String() != "192.0.2.255" {
		t.Fatalf("v4 selector %v", v4)
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{ExchangeIKESAInit.String(), "IKE_SA_INIT"},
		{ExchangeType(99).String(), "EXCHANGE(99)"},
		{PayloadTSi.String(), "TSi"},
		{PayloadSKF.String(), "SKF"},
		{EncrAESGCM16.String(), "ENCR_AES_GCM_16"},
		{EncrChaCha20Poly1305.String(), "ENCR_CHACHA20_POLY1305"},
		{PRFHMACSHA2_256.String(), "PRF_HMAC_SHA2_256"},
		{IntegHMACSHA2_512_256.String(), "AUTH_HMAC_SHA2_512_256"},
		{DHCurve25519.String(), "CURVE_25519"},
		{DHMODP2048.String(), "MODP_2048"},
		{ESNYes.String(), "ESN"},
		{AuthSharedKeyMIC.String(), "PSK"},
		{AuthDigitalSignature.String(), "DIGITAL_SIGNATURE"},
		{IDRFC822Addr.String(), "ID_RFC822_ADDR"},
		{ProtocolESP.String(), "ESP"},
		{NotifyInternalAddressFailure.String(), "INTERNAL_ADDRESS_FAILURE"},
		{NotifyIKEv2FragmentationSupported.String(), "IKEV2_FRAGMENTATION_SUPPORTED"},
		{NotifyNonFirstFragmentsAlso.String(), "NON_FIRST_FRAGMENTS_ALSO"},
		{NotifyType(16500).String(), "NOTIFY(16500)"},
		{NotifyType(200).String(), "NOTIFY(200)"},
		{CPInternalIP6Address.String(), "INTERNAL_IP6_ADDRESS"},
		{CFGRequest.String(), "CFG_REQUEST"},
		{TSIPv6AddrRange.String(), "TS_IPV6_ADDR_RANGE"},
		{EncrTransform(EncrAESCBC, 256).String(), "ENCR_AES_CBC_256"},
		{Transform{Type: 9, ID: 3}.String(), "TRANSFORM(9):3"},
		{(FlagInitiator | FlagResponse).String(), "IR"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if !NotifyAuthenticationFailed.IsError() || NotifyCookie.IsError() {
		t.Error("IsError")
	}
	if !EncrAESGCM16.IsAEAD() || EncrAESCBC.IsAEAD() {
		t.Error("IsAEAD")
	}
	if DHECP256.PublicKeyLen() != 64 || DHMODP2048.PublicKeyLen() != 256 || DHGroup(999).PublicKeyLen() != 0 {
		t.Error("PublicKeyLen")
	}
}

func TestSPIHelpers(t *testing.T) {
	n := NewChildNotify(NotifyRekeySA, ProtocolESP, 0xc0000007, nil)
	if spi, ok := n.SPI32(); !ok || spi != 0xc0000007 {
		t.Fatalf("SPI32 %x", spi)
	}
	if _, ok := NewNotify(NotifyCookie, nil).SPI32(); ok {
		t.Fatal("SPI32 of an IKE notification")
	}
	if spis, ok := DeleteESP(1, 2).SPI32s(); !ok || len(spis) != 2 || spis[1] != 2 {
		t.Fatalf("SPI32s %v", spis)
	}
	if _, ok := (&Delete{Protocol: ProtocolIKE}).SPI32s(); ok {
		t.Fatal("SPI32s of an IKE delete")
	}
	if _, err := NewNotify(NotifyCookie2, make([]byte, 7)).Cookie2(); err == nil || err.Error() != "ikev2: Notify: COOKIE2: data length 7 shorter than minimum 8" {
		t.Fatalf("Cookie2 %v", err)
	}
	if _, err := NewNotify(NotifyCookie2, make([]byte, 65)).Cookie2(); err == nil {
		t.Fatal("long COOKIE2 accepted")
	}
	if c, err := NewNotify(NotifyCookie2, make([]byte, 8)).Cookie2(); err != nil || len(c) != 8 {
		t.Fatal("COOKIE2")
	}
}
