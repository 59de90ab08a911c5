package ikev2

import (
	"encoding/binary"
	"errors"
	"testing"
)

// rawMsg builds a message around raw payload chain bytes.
func rawMsg(first PayloadType, chain []byte) []byte {
	h := Header{InitiatorSPI: 1, ResponderSPI: 2, NextPayload: first, Exchange: ExchangeIKEAuth,
		Length: uint32(HeaderLen + len(chain))}
	return append(AppendHeader(nil, h), chain...)
}

// gen prefixes body with a generic payload header.
func gen(next PayloadType, critical bool, body []byte) []byte {
	c := byte(0)
	if critical {
		c = 0x80
	}
	b := []byte{byte(next), c}
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

// one builds a message holding a single payload of type t with this body.
func one(t PayloadType, body []byte) []byte { return rawMsg(t, gen(0, false, body)) }

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }

// prop builds a proposal substructure.
func prop(last byte, num byte, proto ProtocolID, spi []byte, nt byte, transforms []byte) []byte {
	b := cat([]byte{last, 0}, u16(8+len(spi)+len(transforms)), []byte{num, byte(proto), byte(len(spi)), nt}, spi, transforms)
	return b
}

// xf builds a transform substructure.
func xf(last byte, tt TransformType, id int, attrs []byte) []byte {
	return cat([]byte{last, 0}, u16(8+len(attrs)), []byte{byte(tt), 0}, u16(id), attrs)
}

func ts6(proto byte, sp, ep int, a, b []byte) []byte {
	return cat([]byte{8, proto}, u16(40), u16(sp), u16(ep), a, b)
}

var (
	goodXF  = xf(0, TransformENCR, 12, []byte{0x80, 14, 0, 128})
	zero16  = make([]byte, 16)
	zero4   = make([]byte, 4)
	eapBody = []byte{3, 1, 0, 4} // EAP Success
)

// parseErrorCases are malformed messages and the exact errors they give.
var parseErrorCases = []struct {
	name string
	in   []byte
	want string
}{
	{"header short", make([]byte, 27), "ikev2: header: length 27 shorter than minimum 28"},
	{"header length field", AppendHeader(nil, Header{Length: 20}), "ikev2: header: length 20 shorter than minimum 28"},
	{"header length mismatch", append(AppendHeader(nil, Header{Length: 40}), 0, 0, 0, 0), "ikev2: header: length 40 does not match 32"},
	{"generic header truncated", rawMsg(PayloadSA, []byte{0, 0}), "ikev2: SA: payload header 4 exceeds the 2 bytes present"},
	{"payload length < 4", rawMsg(PayloadKE, []byte{0, 0, 0, 3}), "ikev2: KE: length 3 shorter than minimum 4"},
	{"payload length overrun", rawMsg(PayloadNonce, cat([]byte{0, 0}, u16(100), zero16)), "ikev2: Nonce: length 100 exceeds the 20 bytes present"},
	{"trailing", rawMsg(PayloadVendorID, cat(gen(0, false, []byte("v")), []byte{1, 2, 3})), "ikev2: message: payloads 3 trailing bytes"},
	{"unknown critical", rawMsg(200, gen(0, true, []byte("x"))), "ikev2: unsupported critical payload type 200"},
	{"chain to unknown critical", rawMsg(PayloadVendorID, cat(gen(201, false, nil), gen(0, true, nil))), "ikev2: unsupported critical payload type 201"},
	{"SK then more", rawMsg(PayloadSK, cat(gen(PayloadIDi, false, zero16), []byte{1})), "ikev2: message: payloads 1 trailing bytes"},

	{"SA empty", one(PayloadSA, nil), "ikev2: SA: proposals 0 shorter than minimum 1"},
	{"SA proposal header", one(PayloadSA, []byte{0, 0, 0, 8, 1}), "ikev2: SA: proposal 1: header 8 exceeds the 5 bytes present"},
	{"SA proposal length short", one(PayloadSA, []byte{0, 0, 0, 7, 1, 1, 0, 1}), "ikev2: SA: proposal 1: length 7 shorter than minimum 8"},
	{"SA proposal length overrun", one(PayloadSA, []byte{0, 0, 0, 9, 1, 1, 0, 1}), "ikev2: SA: proposal 1: length 9 exceeds the 8 bytes present"},
	{"SA proposal last substruc", one(PayloadSA, prop(1, 1, ProtocolIKE, nil, 1, goodXF)), "ikev2: SA: proposal 1: last substructure 1 invalid"},
	{"SA proposal more but none", one(PayloadSA, prop(2, 1, ProtocolIKE, nil, 1, goodXF)), "ikev2: SA: proposal 1: last substructure 2 invalid"},
	{"SA proposal last but more", one(PayloadSA, cat(prop(0, 1, ProtocolIKE, nil, 1, goodXF), prop(0, 2, ProtocolIKE, nil, 1, goodXF))), "ikev2: SA: proposal 1: last substructure 0 invalid"},
	{"SA proposal number 0", one(PayloadSA, prop(0, 0, ProtocolIKE, nil, 1, goodXF)), "ikev2: SA: proposal 1: proposal number 0 invalid"},
	{"SA proposal number sequence", one(PayloadSA, cat(prop(2, 1, ProtocolIKE, nil, 1, goodXF), prop(0, 3, ProtocolIKE, nil, 1, goodXF))), "ikev2: SA: proposal 2: proposal number 3 does not match 2"},
	{"SA first proposal number", one(PayloadSA, cat(prop(2, 2, ProtocolIKE, nil, 1, goodXF), prop(0, 3, ProtocolIKE, nil, 1, goodXF))), "ikev2: SA: proposal 1: proposal number 2 does not match 1"},
	{"SA ESP SPI size", one(PayloadSA, prop(0, 1, ProtocolESP, []byte{1, 2, 3}, 1, goodXF)), "ikev2: SA: proposal 1: SPI size 3 does not match 4"},
	{"SA IKE SPI size", one(PayloadSA, prop(0, 1, ProtocolIKE, []byte{1, 2, 3, 4}, 1, goodXF)), "ikev2: SA: proposal 1: SPI size 4 does not match 8"},
	{"SA SPI overrun", one(PayloadSA, []byte{0, 0, 0, 8, 1, 9, 4, 1}), "ikev2: SA: proposal 1: SPI size 4 exceeds the 0 bytes present"},
	{"SA no transforms", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 0, nil)), "ikev2: SA: proposal 1: transforms 0 shorter than minimum 1"},
	{"SA transform count", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 3, goodXF)), "ikev2: SA: proposal 1: transforms 3 exceeds the 12 bytes present"},
	{"SA transform header", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 2, cat(xf(3, TransformENCR, 12, []byte{0x80, 14, 0, 128}), []byte{0, 0, 0, 8, 1, 0}))), "ikev2: SA: proposal 1: transform 2: header 8 exceeds the 6 bytes present"},
	{"SA transform length short", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 1, []byte{0, 0, 0, 7, 1, 0, 0, 12})), "ikev2: SA: proposal 1: transform 1: length 7 shorter than minimum 8"},
	{"SA transform length overrun", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 1, []byte{0, 0, 0, 9, 1, 0, 0, 12})), "ikev2: SA: proposal 1: transform 1: length 9 exceeds the 8 bytes present"},
	{"SA transform last substruc", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 1, xf(2, TransformENCR, 12, nil))), "ikev2: SA: proposal 1: transform 1: last substructure 2 invalid"},
	{"SA transform more but count", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 1, xf(3, TransformENCR, 12, nil))), "ikev2: SA: proposal 1: transform 1: last substructure 3 invalid"},
	{"SA transform last but count", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 2, cat(xf(0, TransformENCR, 12, nil), xf(0, TransformPRF, 5, nil)))), "ikev2: SA: proposal 1: transform 1: last substructure 0 invalid"},
	{"SA transforms trailing", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 1, cat(xf(0, TransformENCR, 12, nil), zero4))), "ikev2: SA: proposal 1: transforms 4 trailing bytes"},
	{"SA attribute header", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 1, xf(0, TransformENCR, 12, []byte{0x80, 14}))), "ikev2: SA: proposal 1: transform 1: attribute 1: header 4 exceeds the 2 bytes present"},
	{"SA attribute TLV overrun", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 1, xf(0, TransformENCR, 12, []byte{0, 99, 0, 5, 1}))), "ikev2: SA: proposal 1: transform 1: attribute 1: length 5 exceeds the 1 bytes present"},
	{"SA key length TLV", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 1, xf(0, TransformENCR, 12, []byte{0, 14, 0, 2, 0, 128}))), "ikev2: SA: proposal 1: transform 1: attribute 1: Key Length format 0 invalid"},
	{"SA key length twice", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 1, xf(0, TransformENCR, 12, []byte{0x80, 14, 0, 128, 0x80, 14, 1, 0}))), "ikev2: SA: proposal 1: transform 1: attribute 2: Key Length 256 invalid"},
	{"SA key length zero", one(PayloadSA, prop(0, 1, ProtocolIKE, nil, 1, xf(0, TransformENCR, 12, []byte{0x80, 14, 0, 0}))), "ikev2: SA: proposal 1: transform 1: attribute 1: Key Length 0 invalid"},

	{"KE short", one(PayloadKE, []byte{0, 19, 0}), "ikev2: KE: length 7 shorter than minimum 8"},
	{"IDi short", one(PayloadIDi, []byte{1, 0, 0}), "ikev2: IDi: length 7 shorter than minimum 8"},
	{"IDi IPv4 length", one(PayloadIDi, []byte{1, 0, 0, 0, 192, 0, 2}), "ikev2: IDi: ID_IPV4_ADDR length 3 does not match 4"},
	{"IDr IPv6 length", one(PayloadIDr, cat([]byte{5, 0, 0, 0}, zero4)), "ikev2: IDr: ID_IPV6_ADDR length 4 does not match 16"},
	{"IDi FQDN empty", one(PayloadIDi, []byte{2, 0, 0, 0}), "ikev2: IDi: identification data length 0 shorter than minimum 1"},
	{"IDi NULL not empty", one(PayloadIDi, []byte{13, 0, 0, 0, 1}), "ikev2: IDi: ID_NULL length 1 does not match 0"},
	{"CERT short", one(PayloadCERT, nil), "ikev2: CERT: length 4 shorter than minimum 5"},
	{"CERTREQ short", one(PayloadCERTREQ, nil), "ikev2: CERTREQ: length 4 shorter than minimum 5"},
	{"AUTH short", one(PayloadAUTH, []byte{2, 0}), "ikev2: AUTH: length 6 shorter than minimum 8"},
	{"AUTH no data", one(PayloadAUTH, []byte{2, 0, 0, 0}), "ikev2: AUTH: authentication data length 0 shorter than minimum 1"},
	{"Nonce short", one(PayloadNonce, make([]byte, 15)), "ikev2: Nonce: nonce data length 15 shorter than minimum 16"},
	{"Nonce long", one(PayloadNonce, make([]byte, 257)), "ikev2: Nonce: nonce data length 257 longer than maximum 256"},
	{"Notify short", one(PayloadNotify, []byte{0, 0, 0x40}), "ikev2: Notify: length 7 shorter than minimum 8"},
	{"Notify SPI overrun", one(PayloadNotify, []byte{3, 4, 0x40, 0x09, 1, 2}), "ikev2: Notify: REKEY_SA: SPI size 4 exceeds the 2 bytes present"},
	{"Notify ESP SPI size", one(PayloadNotify, []byte{3, 2, 0x40, 0x09, 1, 2}), "ikev2: Notify: REKEY_SA: SPI size 2 does not match 4"},
	{"Delete short", one(PayloadDelete, []byte{3, 4, 0}), "ikev2: Delete: length 7 shorter than minimum 8"},
	{"Delete IKE SPI size", one(PayloadDelete, []byte{1, 8, 0, 0}), "ikev2: Delete: SPI size 8 does not match 0"},
	{"Delete IKE count", one(PayloadDelete, []byte{1, 0, 0, 1}), "ikev2: Delete: number of SPIs 1 does not match 0"},
	{"Delete ESP SPI size", one(PayloadDelete, []byte{3, 8, 0, 1}), "ikev2: Delete: SPI size 8 does not match 4"},
	{"Delete count overrun", one(PayloadDelete, cat([]byte{3, 4, 0xff, 0xff}, zero4)), "ikev2: Delete: number of SPIs 65535 exceeds the 4 bytes present"},
	{"Delete trailing", one(PayloadDelete, cat([]byte{3, 4, 0, 1}, zero4, []byte{9})), "ikev2: Delete: SPIs 1 trailing bytes"},
	{"Delete zero size with count", one(PayloadDelete, []byte{0, 0, 0, 3}), "ikev2: Delete: SPI size 0 invalid"},
	{"TSi short", one(PayloadTSi, []byte{1, 0, 0}), "ikev2: TSi: length 7 shorter than minimum 8"},
	{"TSi count overrun", one(PayloadTSi, cat([]byte{200, 0, 0, 0}, zero16)), "ikev2: TSi: number of TSs 200 exceeds the 16 bytes present"},
	{"TSi selector 2 short", one(PayloadTSi, cat([]byte{2, 0, 0, 0}, ts6(135, 1280, 1280, zero16, zero16), []byte{8, 0, 0, 12}, make([]byte, 8))), "ikev2: TSi: selector 2: length 12 shorter than minimum 40"},
	{"TSr IPv4 long", one(PayloadTSr, cat([]byte{1, 0, 0, 0}, []byte{7, 0, 0, 40}, make([]byte, 36))), "ikev2: TSr: selector 1: length 40 longer than maximum 16"},
	{"TSi selector overrun", one(PayloadTSi, cat([]byte{1, 0, 0, 0}, []byte{7, 0, 0, 16}, make([]byte, 8))), "ikev2: TSi: selector 1: length 16 exceeds the 12 bytes present"},
	{"TSi selector header", one(PayloadTSi, cat([]byte{2, 0, 0, 0}, ts6(0, 0, 65535, zero16, zero16), []byte{7, 0, 0, 16, 0, 0, 0, 0})), "ikev2: TSi: selector 2: length 16 exceeds the 8 bytes present"},
	{"TSi unknown type short", one(PayloadTSi, []byte{1, 0, 0, 0, 10, 0, 0, 3}), "ikev2: TSi: selector 1: length 3 shorter than minimum 4"},
	{"TSi trailing", one(PayloadTSi, cat([]byte{1, 0, 0, 0}, ts6(0, 0, 65535, zero16, zero16), []byte{1})), "ikev2: TSi: selectors 1 trailing bytes"},
	{"CP short", one(PayloadCP, []byte{1}), "ikev2: CP: length 5 shorter than minimum 8"},
	{"CP attribute header", one(PayloadCP, []byte{1, 0, 0, 0, 0, 8}), "ikev2: CP: attribute 1: header 4 exceeds the 2 bytes present"},
	{"CP attribute overrun", one(PayloadCP, []byte{1, 0, 0, 0, 0, 8, 0, 17, 1}), "ikev2: CP: attribute 1 (INTERNAL_IP6_ADDRESS): length 17 exceeds the 1 bytes present"},
	{"CP IP6 address length", one(PayloadCP, cat([]byte{2, 0, 0, 0, 0, 8, 0, 16}, zero16)), "ikev2: CP: attribute 1 (INTERNAL_IP6_ADDRESS): length 16 does not match 17"},
	{"CP IP6 DNS length", one(PayloadCP, cat([]byte{2, 0, 0, 0, 0, 7, 0, 0, 0, 10, 0, 4}, zero4)), "ikev2: CP: attribute 2 (INTERNAL_IP6_DNS): length 4 does not match 16"},
	{"CP supported attributes odd", one(PayloadCP, []byte{2, 0, 0, 0, 0, 14, 0, 3, 0, 1, 0}), "ikev2: CP: attribute 1 (SUPPORTED_ATTRIBUTES): length 3 invalid"},
	{"CP IP6 link short", one(PayloadCP, []byte{2, 0, 0, 0, 0, 17, 0, 2, 0, 1}), "ikev2: CP: attribute 1 (INTERNAL_IP6_LINK): length 2 shorter than minimum 8"},
	{"EAP short", one(PayloadEAP, []byte{3, 1, 0}), "ikev2: EAP: EAP message length 3 shorter than minimum 4"},
	{"EAP length", one(PayloadEAP, []byte{3, 1, 0, 5}), "ikev2: EAP: EAP Length 5 does not match 4"},
	{"SKF short", one(PayloadSKF, []byte{0, 1, 0}), "ikev2: SKF: length 7 shorter than minimum 8"},
	{"SKF number 0", one(PayloadSKF, []byte{0, 0, 0, 1}), "ikev2: SKF: fragment number 0 invalid"},
	{"SKF total 0", one(PayloadSKF, []byte{0, 1, 0, 0}), "ikev2: SKF: total fragments 0 invalid"},
	{"SKF number > total", one(PayloadSKF, []byte{0, 3, 0, 2}), "ikev2: SKF: fragment number 3 longer than maximum 2"},
	{"SKF next payload", rawMsg(PayloadSKF, gen(PayloadIDi, false, []byte{0, 2, 0, 2})), "ikev2: SKF: next payload 35 does not match 0"},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range parseErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMessage(tc.in)
			if err == nil {
				t.Fatalf("parsed %#v, want error %q", m, tc.want)
			}
			if err.Error() != tc.want {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
			var fe *FormatError
			var ce *UnsupportedCriticalPayloadError
			if !errors.As(err, &fe) && !errors.As(err, &ce) {
				t.Fatalf("error %T is not typed", err)
			}
		})
	}
}

func TestParseErrorTypes(t *testing.T) {
	_, err := ParseMessage(rawMsg(200, gen(0, true, nil)))
	var ce *UnsupportedCriticalPayloadError
	if !errors.As(err, &ce) || ce.Type != 200 {
		t.Fatalf("got %v, want UnsupportedCriticalPayloadError{200}", err)
	}
	b := AppendHeader(nil, Header{InitiatorSPI: 5, MessageID: 9, Length: 28})
	b[17] = 0x31
	h, err := ParseHeader(b)
	var ve *UnsupportedVersionError
	if !errors.As(err, &ve) || ve.Major != 3 || ve.Minor != 1 || h.InitiatorSPI != 5 || h.MessageID != 9 {
		t.Fatalf("got %v %+v, want UnsupportedVersionError 3.1 with header", err, h)
	}
	if err.Error() != "ikev2: header: major version 3 unsupported (want 2)" {
		t.Fatalf("text %q", err)
	}
	_, err = ParseMessage(rawMsg(PayloadSA, []byte{0, 0}))
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Where != "SA" || fe.Field != "payload header" || fe.Problem != ProblemOverrun || fe.Value != 4 || fe.Limit != 2 {
		t.Fatalf("fields %+v", fe)
	}
}

func TestParsePayloadsRejectsSK(t *testing.T) {
	_, err := ParsePayloads(PayloadSK, gen(PayloadIDi, false, zero16))
	if err == nil || err.Error() != "ikev2: SK: position 1 invalid" {
		t.Fatalf("got %v", err)
	}
}
