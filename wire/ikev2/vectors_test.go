package ikev2

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// capturedSAInit is a captured IKE_SA_INIT request on UDP 4500 (non-ESP
// marker first), published as a test vector by the rusticata ipsec-parser
// project (tests/ikev2.rs, IKEV2_MSG).
const capturedSAInit = `
00000000 bca1937a 7c2ff5b9 00000000 00000000 21202208 00000000 0000012c
220000a4 02000024 01010003 0300000c 01000014 800e0080 03000008 02000005
00000008 0400001c 02000024 02010003 0300000c 01000014 800e0080 03000008
02000005 00000008 04000013 0200002c 03010004 0300000c 0100000d 800e0080
03000008 0300000c 03000008 02000005 00000008 0400001c 0000002c 04010004
0300000c 0100000d 800e0080 03000008 0300000c 03000008 02000005 00000008
04000013 28000048 001c0000 4d23b8f2 2c03ae3a b40af9fa 76c23c7b a6c56981
e13c32fb c36954c8 7a96cbfa 34637c6f 31b650ce 5d871700 5ce793c2 eeaff1c5
66280811 d942d1b8 e80268bb 00000024 99e2a373 cc44ad10 fb78dda2 5206a4a9
b7558e0d 8269799c 6800362c 46a0bf7b`

func TestCapturedSAInit(t *testing.T) {
	raw := unhex(t, capturedSAInit)
	msg, ok := StripNonESPMarker(raw)
	if !ok {
		t.Fatal("no non-ESP marker")
	}
	m, err := ParseMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	gcm := EncrTransform(EncrAESGCM16, 128)
	ctr := EncrTransform(EncrAESCTR, 128)
	prf := PRFTransform(PRFHMACSHA2_256)
	integ := IntegTransform(IntegHMACSHA2_256_128)
	bp256, p256 := DHTransform(28), DHTransform(DHECP256)
	want := &Message{
		Header: Header{InitiatorSPI: 0xbca1937a7c2ff5b9, NextPayload: PayloadSA, Exchange: ExchangeIKESAInit,
			Flags: FlagInitiator, Length: 300},
		Payloads: Payloads{
			&SA{Proposals: []Proposal{
				{Number: 1, Protocol: ProtocolIKE, Transforms: []Transform{gcm, prf, bp256}},
				{Number: 2, Protocol: ProtocolIKE, Transforms: []Transform{gcm, prf, p256}},
				{Number: 3, Protocol: ProtocolIKE, Transforms: []Transform{ctr, integ, prf, bp256}},
				{Number: 4, Protocol: ProtocolIKE, Transforms: []Transform{ctr, integ, prf, p256}},
			}},
			&KE{Group: 28, Data: msg[HeaderLen+164+8 : HeaderLen+164+72]},
			&Nonce{Data: msg[len(msg)-32:]},
		},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("parsed %#v", m)
	}
	if !bytes.HasPrefix(m.Payloads[1].(*KE).Data, []byte{0x4d, 0x23, 0xb8, 0xf2}) {
		t.Fatal("KE data offset")
	}
	// Our canonical encoding is byte-identical to the captured one.
	out, err := m.Marshal(AppendNonESPMarker(nil))
	if err != nil || !bytes.Equal(out, raw) {
		t.Fatalf("re-encoded differs (%v)\n% x", err, out)
	}
}

// TestHandBuiltBytes checks encodings field by field against the diagrams
// of RFC 7296 §3.1-§3.15 and RFC 7383 §2.5.
// handBuilt are payloads and their encodings (generic header and body),
// worked out by hand from the RFC diagrams.
var handBuilt = []struct {
	name string
	p    Payload
	want string // generic header + body, as RFC diagrams order the fields
}{
	// §3.4: group 19, RESERVED, data.
	{"KE", &KE{Group: DHECP256, Data: []byte{0xaa, 0xbb}}, "00 00 000a  0013 0000  aabb"},
	// §3.5: ID Type 3 (ID_RFC822_ADDR), 3 RESERVED octets, data.
	{"IDi", &ID{Type: IDRFC822Addr, Data: []byte("a@b")}, "00 00 000b  03 000000  614062"},
	// §3.6, §3.7: Cert Encoding 4 (X.509 Certificate - Signature).
	{"CERT", &Cert{Encoding: CertX509Signature, Data: []byte{0x30}}, "00 00 0006  04 30"},
	{"CERTREQ", &CertReq{Encoding: CertX509Signature, Authority: []byte{1, 2}}, "00 00 0007  04 0102"},
	// §3.8: Auth Method 2 (Shared Key MIC), 3 RESERVED octets.
	{"AUTH", &Auth{Method: AuthSharedKeyMIC, Data: []byte{0xcc}}, "00 00 0009  02 000000 cc"},
	// §3.10: Protocol ID 3 (ESP), SPI Size 4, type 16393 (REKEY_SA), SPI.
	{"N(REKEY_SA)", &Notify{Protocol: ProtocolESP, SPI: []byte{0xc0, 0, 0, 1}, Type: NotifyRekeySA}, "00 00 000c  03 04 4009  c0000001"},
	// §3.10: COOKIE (16390) about the IKE SA: Protocol 0, SPI Size 0.
	{"N(COOKIE)", NewNotify(NotifyCookie, []byte{1, 2}), "00 00 000a  00 00 4006  0102"},
	// §3.11: Protocol 3, SPI Size 4, #SPIs 1, SPI.
	{"D", DeleteESP(0xc0000001), "00 00 000c  03 04 0001  c0000001"},
	// §3.11: the IKE SA: Protocol 1, SPI Size 0, #SPIs 0.
	{"D(IKE)", &Delete{Protocol: ProtocolIKE}, "00 00 0008  01 00 0000"},
	// §3.13, §3.13.1: one TS_IPV6_ADDR_RANGE, protocol 135 (MH), length 40,
	// MH type 5 in the high octet of both ports (RFC 4301 §4.4.1.1).
	{"TSi(MH BU)", &TS{Selectors: []TrafficSelector{MHSelector(addrHoA, 5)}},
		"00 00 0030  01 000000  08 87 0028  0500 0500  20010db8000200000000000000000100 20010db8000200000000000000000100"},
	// §3.13.1: TS_IPV4_ADDR_RANGE, any protocol, all ports, length 16.
	{"TSr(v4)", &TS{Responder: true, Selectors: []TrafficSelector{NewTrafficSelector(0, 0, 65535, addr4, addr4end)}},
		"00 00 0018  01 000000  07 00 0010  0000 ffff  c0000201 c00002fe"},
	// §3.15, §3.15.1: CFG_REQUEST, INTERNAL_IP6_ADDRESS (8) with length 0,
	// then CFG_REPLY attributes with address and prefix length.
	{"CP(request)", &CP{Type: CFGRequest, Attributes: []CPAttribute{CPRequest(CPInternalIP6Address), CPRequest(CPInternalIP6DNS)}},
		"00 00 0010  01 000000  0008 0000  000a 0000"},
	{"CP(reply)", &CP{Type: CFGReply, Attributes: []CPAttribute{CPPrefix(CPInternalIP6Address, netipPrefix("2001:db8:2::100/64"))}},
		"00 00 001d  02 000000  0008 0011 20010db8000200000000000000000100 40"},
	// §3.16: a whole EAP message (Success, length 4).
	{"EAP", &EAP{Data: []byte{3, 7, 0, 4}}, "00 00 0008  03070004"},
	// RFC 7383 §2.5: Fragment Number 2, Total Fragments 3, then IV etc.
	{"SKF", &EncryptedFragment{Number: 2, Total: 3, Body: []byte{0xee}}, "00 00 0009  0002 0003  ee"},
	// §3.14: SK's Next Payload is the first inner payload (IDi, 35).
	{"SK", &Encrypted{First: PayloadIDi, Body: []byte{0xee, 0xff}}, "23 00 0006  eeff"},
	// §3.2: an unknown payload with the critical bit set.
	{"unknown critical", &UnknownPayload{Type: 200, Critical: true, Body: []byte{1}}, "00 80 0005  01"},
	// §3.3: one proposal (last, 0) of one transform (last, 0): ENCR
	// AES-CBC with the Key Length attribute in TV form (AF=1, type 14).
	{"SA", &SA{Proposals: []Proposal{{Number: 1, Protocol: ProtocolESP, SPI: []byte{1, 2, 3, 4}, Transforms: []Transform{EncrTransform(EncrAESCBC, 256)}}}},
		"00 00 001c  00 00 0018 01 03 04 01 01020304  00 00 000c 01 00 000c 800e 0100"},
}

func TestHandBuiltBytes(t *testing.T) {
	for _, tc := range handBuilt {
		t.Run(tc.name, func(t *testing.T) {
			m := &Message{Payloads: Payloads{tc.p}}
			got, err := m.Marshal(nil)
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, tc.want)
			if !bytes.Equal(got[HeaderLen:], want) || got[16] != byte(tc.p.PayloadType()) {
				t.Fatalf("got  % x\nwant % x", got[HeaderLen:], want)
			}
			back, err := ParseMessage(got)
			if u, ok := tc.p.(*UnknownPayload); ok && u.Critical {
				var ce *UnsupportedCriticalPayloadError
				if !errors.As(err, &ce) || ce.Type != u.Type {
					t.Fatalf("critical payload: %v", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(back.Payloads[0], tc.p) {
				t.Fatalf("parse: %v %#v", err, back)
			}
		})
	}
	// §3.1: the header field by field.
	h := AppendHeader(nil, Header{InitiatorSPI: 0x0102030405060708, ResponderSPI: 0x1112131415161718,
		NextPayload: PayloadSK, Exchange: ExchangeCreateChildSA, Flags: FlagResponse, MessageID: 0x21222324, Length: 0x31323334})
	want := unhex(t, "0102030405060708 1112131415161718 2e 20 24 20 21222324 31323334")
	if !bytes.Equal(h, want) {
		t.Fatalf("header % x", h)
	}
}

// TestNATDetectionHash checks RFC 7296 §2.23 against digests computed
// independently (Python hashlib over SPIi | SPIr | IP | port).
func TestNATDetectionHash(t *testing.T) {
	tests := []struct {
		spii, spir uint64
		ap         netip.AddrPort
		want       string
	}{
		{0x1122334455667788, 0, netip.AddrPortFrom(addrMN, 500), "c7dcba6d8645fad6374f0a1df286baa1910d7214"},
		{0x1122334455667788, 0x99aabbccddeeff00, netip.MustParseAddrPort("192.0.2.1:4500"), "71d526f7565c690cb07a1d364c823be6a1328346"},
		// An IPv4-mapped address hashes as the IPv4 address it is.
		{0x1122334455667788, 0x99aabbccddeeff00, netip.MustParseAddrPort("[::ffff:192.0.2.1]:4500"), "71d526f7565c690cb07a1d364c823be6a1328346"},
	}
	for _, tc := range tests {
		got := NATDetectionHash(tc.spii, tc.spir, tc.ap)
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("%v: %x, want %s", tc.ap, got, tc.want)
		}
	}
}
