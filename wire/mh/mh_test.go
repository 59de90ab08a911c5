package mh

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var (
	home   = netip.MustParseAddr("2001:db8:1::100")
	careOf = netip.MustParseAddr("2001:db8:2::200")
	agent  = netip.MustParseAddr("2001:db8:1::1")
	auth   = []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
)

func allOptions() []Options {
	return []Options{
		{},
		{Present: HasAlternateCareOfAddress, AlternateCareOfAddress: careOf},
		{Present: HasBindingRefreshAdvice, RefreshInterval: 150},
		{Present: HasNonceIndices | HasBindingAuthorizationData, HomeNonceIndex: 3, CareOfNonceIndex: 4, Authenticator: auth},
		{Present: HasBindingRefreshAdvice | HasNonceIndices | HasAlternateCareOfAddress | HasBindingAuthorizationData,
			RefreshInterval: 1, HomeNonceIndex: 0xffff, AlternateCareOfAddress: careOf, Authenticator: []byte{0xaa}},
	}
}

func allMessages() []Message {
	var ms []Message
	for _, o := range allOptions() {
		ms = append(ms,
			&BindingRefreshRequest{Options: o},
			&HomeTestInit{HomeInitCookie: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, Options: o},
			&CareOfTestInit{CareOfInitCookie: [8]byte{8, 7, 6, 5, 4, 3, 2, 1}, Options: o},
			&HomeTest{HomeNonceIndex: 9, HomeInitCookie: [8]byte{1}, HomeKeygenToken: [8]byte{2, 2}, Options: o},
			&CareOfTest{CareOfNonceIndex: 10, CareOfInitCookie: [8]byte{3}, CareOfKeygenToken: [8]byte{4, 4}, Options: o},
			&BindingUpdate{Sequence: 0xfffe, Acknowledge: true, HomeRegistration: true, KeyManagementMobilityCapability: true, Lifetime: 0x1234, Options: o},
			&BindingUpdate{LinkLocalAddressCompatibility: true, Options: o},
			&BindingAck{Status: StatusNotHomeSubnet, KeyManagementMobilityCapability: true, Sequence: 7, Lifetime: 900, Options: o},
			&BindingAck{Status: StatusAccepted, Options: o},
			&BindingError{Status: BEStatusUnrecognizedMHType, HomeAddress: home, Options: o},
		)
	}
	return ms
}

func TestRoundTrip(t *testing.T) {
	for i, m := range allMessages() {
		b := m.Append([]byte{0xee}, careOf, agent)[1:]
		if len(b)%8 != 0 || int(b[1]+1)*8 != len(b) || b[0] != 59 || Type(b[2]) != m.MHType() {
			t.Fatalf("%d %v: bad framing % x", i, m.MHType(), b)
		}
		if err := VerifyChecksum(careOf, agent, b); err != nil {
			t.Fatalf("%d %v: %v", i, m.MHType(), err)
		}
		got, err := ParseMessage(b)
		if err != nil {
			t.Fatalf("%d %v: %v\n% x", i, m.MHType(), err, b)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("%d %v:\ngot  %+v\nwant %+v", i, m.MHType(), got, m)
		}
		// Canonical: encoding the decoded message gives the same bytes.
		if again := got.Append(nil, careOf, agent); !bytes.Equal(again, b) {
			t.Fatalf("%d %v: re-encoding differs", i, m.MHType())
		}
	}
}

// TestLayout pins the exact bytes of a BU with an Alternate CoA and a BA
// with a Binding Refresh Advice, as laid out by hand from RFC 6275.
func TestLayout(t *testing.T) {
	bu := BindingUpdate{Sequence: 1, Acknowledge: true, HomeRegistration: true, Lifetime: 75,
		Options: Options{Present: HasAlternateCareOfAddress, AlternateCareOfAddress: careOf}}
	b := bu.Append(nil, careOf, agent)
	want := append([]byte{59, 3, 5, 0, 0, 0, 0, 1, 0xc0, 0, 0, 75, OptPadN, 0, OptAlternateCareOfAddress, 16}, careOf.AsSlice()...)
	copy(b[4:6], []byte{0, 0})
	if !bytes.Equal(b, want) {
		t.Fatalf("BU\n% x\nwant\n% x", b, want)
	}
	ba := BindingAck{Status: StatusAcceptedPrefixDiscoveryNecessary, KeyManagementMobilityCapability: true, Sequence: 1, Lifetime: 75,
		Options: Options{Present: HasBindingRefreshAdvice, RefreshInterval: 60}}
	b = ba.Append(nil, agent, careOf)
	copy(b[4:6], []byte{0, 0})
	want = []byte{59, 1, 6, 0, 0, 0, 1, 0x80, 0, 1, 0, 75, OptBindingRefreshAdvice, 2, 0, 60}
	if !bytes.Equal(b, want) {
		t.Fatalf("BA\n% x\nwant\n% x", b, want)
	}
}

func wantErr(t *testing.T, err error, msg, field string, offset int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *mh.Error", err, err)
	}
	if e.Msg != msg || e.Field != field || (offset >= 0 && e.Offset != offset) {
		t.Fatalf("error %q: %q/%q at %d, want %q/%q at %d", err, e.Msg, e.Field, e.Offset, msg, field, offset)
	}
}

func TestErrors(t *testing.T) {
	buAlt := (&BindingUpdate{Options: Options{Present: HasAlternateCareOfAddress, AlternateCareOfAddress: careOf}}).Append(nil, careOf, agent)
	baBRA := (&BindingAck{Options: Options{Present: HasBindingRefreshAdvice, RefreshInterval: 1}}).Append(nil, agent, careOf)
	mk := func(base []byte, f func(b []byte) []byte) []byte { return f(bytes.Clone(base)) }
	// bu builds a BU whose options area (from offset 12) is opts, padded.
	bu := func(opts ...byte) []byte {
		b := append([]byte{59, 0, 5, 0, 0, 0, 0, 1, 0, 0, 0, 1}, opts...)
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
		b[1] = uint8(len(b)/8 - 1)
		return b
	}
	cases := []struct {
		name, msg, field string
		offset           int
		b                []byte
	}{
		{"short", "Mobility Header", "length", 0, buAlt[:7]},
		{"payload proto", "Binding Update", "payload proto", 0, mk(buAlt, func(b []byte) []byte { b[0] = 6; return b })},
		{"header length past data", "Binding Update", "header length", 1, buAlt[:24]},
		{"header length below fixed part", "Binding Update", "header length", 1, []byte{59, 0, 5, 0, 0, 0, 0, 0}},
		{"BE too short", "Binding Error", "header length", 1, []byte{59, 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"HoT too short", "Home Test", "header length", 1, []byte{59, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"option runs past end", "Mobility Option", "length", 15, mk(buAlt, func(b []byte) []byte { b[15] = 17; return b })},
		{"option without length", "Mobility Option", "length", 15, bu(0, 0, 0, OptPadN)},
		{"alt-CoA length", "Alternate Care-of Address option", "length", 15, mk(buAlt, func(b []byte) []byte { b[15] = 15; return b })},
		{"alt-CoA alignment", "Alternate Care-of Address option", "alignment", 12, bu(append([]byte{OptAlternateCareOfAddress, 16}, careOf.AsSlice()...)...)},
		{"alt-CoA twice", "Alternate Care-of Address option", "count", 38,
			bu(append(append(append([]byte{OptPadN, 0, OptAlternateCareOfAddress, 16}, careOf.AsSlice()...), OptPadN, 4, 0, 0, 0, 0, OptAlternateCareOfAddress, 16), careOf.AsSlice()...)...)},
		{"BRA length", "Binding Refresh Advice option", "length", 13, mk(baBRA, func(b []byte) []byte { b[13] = 1; return b })},
		{"BRA alignment", "Binding Refresh Advice option", "alignment", 13, bu(OptPad1, OptBindingRefreshAdvice, 2, 0, 1)},
		{"nonce indices length", "Nonce Indices option", "length", 13, bu(OptNonceIndices, 3, 0, 1, 2)},
		{"nonce indices alignment", "Nonce Indices option", "alignment", 13, bu(OptPad1, OptNonceIndices, 4, 0, 1, 0, 2)},
		{"auth data alignment", "Binding Authorization Data option", "alignment", 12, bu(OptBindingAuthorizationData, 2, 1, 2)},
		{"auth data not last", "Binding Authorization Data option", "position", 20, bu(OptPadN, 4, 0, 0, 0, 0, OptBindingAuthorizationData, 0, OptNonceIndices, 4, 0, 1, 0, 2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseMessage(c.b)
			wantErr(t, err, c.msg, c.field, c.offset)
		})
	}
	// Errors that call for an ICMPv6 Parameter Problem, and one that does not.
	for _, c := range []struct {
		b       []byte
		pointer int
		ok      bool
	}{
		{[]byte{6, 0, 0, 0, 0, 0, 0, 0}, 0, true},
		{[]byte{59, 0, 5, 0, 0, 0, 0, 0}, 1, true},
		{buAlt[:24], 0, false},
	} {
		_, err := ParseMessage(c.b)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("% x: %v", c.b, err)
		}
		if p, ok := e.ParameterProblem(); ok != c.ok || p != c.pointer {
			t.Fatalf("% x: ParameterProblem() = %d, %v; want %d, %v", c.b, p, ok, c.pointer, c.ok)
		}
	}
	// Wrong type for the typed parser.
	_, err := ParseBindingUpdate(baBRA)
	wantErr(t, err, "Binding Update", "MH type", 2)
	// Checksum.
	bad := bytes.Clone(buAlt)
	bad[10] ^= 1
	wantErr(t, VerifyChecksum(careOf, agent, bad), "Mobility Header", "checksum", 4)
	if VerifyChecksum(home, agent, buAlt) == nil {
		t.Fatal("checksum accepted for the wrong source address")
	}
}

func TestUnknownTypeAndOptions(t *testing.T) {
	b := []byte{59, 0, 42, 0, 0, 0, 0, 0}
	_, err := ParseMessage(b)
	var ute *UnknownTypeError
	if !errors.As(err, &ute) || ute.Type != 42 {
		t.Fatalf("error %v, want UnknownTypeError 42", err)
	}
	if h, err := ParseHeader(b); err != nil || h.Type != 42 || h.Length != 8 {
		t.Fatalf("header %+v %v", h, err)
	}
	// An unknown option (type 200) is skipped, the known one still read.
	bu := append([]byte{59, 2, 5, 0, 0, 0, 0, 9, 0x80, 0, 0, 3, 200, 2, 0xde, 0xad}, OptNonceIndices, 4, 0, 7, 0, 8, OptPadN, 0)
	m, err := ParseBindingUpdate(bu)
	if err != nil || m.Sequence != 9 || !m.Acknowledge || !m.Options.Has(HasNonceIndices) || m.Options.HomeNonceIndex != 7 || m.Options.CareOfNonceIndex != 8 {
		t.Fatalf("%+v %v", m, err)
	}
	// The raw iterator sees everything.
	h, _ := ParseHeader(bu)
	var types []uint8
	it := h.Options()
	for it.Next() {
		types = append(types, it.Option().Type)
	}
	if it.Err() != nil || !bytes.Equal(types, []byte{200, OptNonceIndices, OptPadN}) {
		t.Fatalf("options %v %v", types, it.Err())
	}
}

func TestStatusNames(t *testing.T) {
	if StatusAcceptedPrefixDiscoveryNecessary.String() != "Accepted but prefix discovery necessary" || !StatusAcceptedPrefixDiscoveryNecessary.Accepted() {
		t.Fatal("status 1")
	}
	for s := StatusReasonUnspecified; s <= StatusRegistrationTypeChangeDisallowed; s++ {
		if s.Accepted() || s.String() == "" || s.String()[:6] == "status" {
			t.Fatalf("status %d: %q", s, s)
		}
	}
	if Status(200).String() != "status 200" || BEStatusUnrecognizedMHType.String() != "Unrecognized MH Type value" || TypeBindingAck.String() != "Binding Acknowledgement" {
		t.Fatal("names")
	}
}

func TestLifetime(t *testing.T) {
	if LifetimeDuration(75) != 300*time.Second || LifetimeUnits(300*time.Second) != 75 || LifetimeUnits(7*time.Second) != 1 ||
		LifetimeUnits(-time.Second) != 0 || LifetimeUnits(1000*time.Hour) != 0xffff {
		t.Fatal("lifetime conversion")
	}
}

func TestDecodeNoAlloc(t *testing.T) {
	bu := (&BindingUpdate{Sequence: 1, Acknowledge: true, HomeRegistration: true, Lifetime: 75,
		Options: Options{Present: HasAlternateCareOfAddress, AlternateCareOfAddress: careOf}}).Append(nil, careOf, agent)
	ba := (&BindingAck{Sequence: 1, Lifetime: 75, Options: Options{Present: HasBindingRefreshAdvice | HasBindingAuthorizationData, RefreshInterval: 60, Authenticator: auth}}).Append(nil, agent, careOf)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ParseBindingUpdate(bu); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseBindingAck(ba); err != nil {
			t.Fatal(err)
		}
		if err := VerifyChecksum(careOf, agent, bu); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
	buf := make([]byte, 0, 128)
	m := BindingUpdate{Options: Options{Present: HasAlternateCareOfAddress, AlternateCareOfAddress: careOf}}
	if n := testing.AllocsPerRun(100, func() { buf = m.Append(buf[:0], careOf, agent) }); n != 0 {
		t.Fatalf("encode: %v allocations", n)
	}
}
