package ipv6

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
)

var homePrefix = PrefixInformation{
	PrefixLength: 64, OnLink: true, Autonomous: true, RouterAddress: true,
	ValidLifetime: 86400, PreferredLifetime: 14400, Prefix: agent,
}

func TestICMPv6RoundTrip(t *testing.T) {
	anycast := netip.MustParseAddr("2001:db8:1::fdff:ffff:ffff:fffe")
	req := DHAADRequest{Identifier: 0x1234}
	b := req.Append(nil, careOf, anycast)
	if err := VerifyICMPv6(careOf, anycast, b); err != nil {
		t.Fatal(err)
	}
	if got, err := ParseDHAADRequest(b); err != nil || got != req {
		t.Fatalf("request %+v %v", got, err)
	}

	rep := DHAADReply{Identifier: 0x1234, HomeAgentAddresses: MakeAddrList(agent, netip.MustParseAddr("2001:db8:1::2"))}
	b = rep.Append(nil, agent, careOf)
	if err := VerifyICMPv6(agent, careOf, b); err != nil {
		t.Fatal(err)
	}
	gotRep, err := ParseDHAADReply(b)
	if err != nil || !reflect.DeepEqual(gotRep, rep) || gotRep.HomeAgentAddresses.Len() != 2 || gotRep.HomeAgentAddresses.At(1) != netip.MustParseAddr("2001:db8:1::2") {
		t.Fatalf("reply %+v %v", gotRep, err)
	}

	mps := MobilePrefixSolicitation{Identifier: 7}
	b = mps.Append(nil, home, agent)
	if got, err := ParseMobilePrefixSolicitation(b); err != nil || got != mps || VerifyICMPv6(home, agent, b) != nil {
		t.Fatalf("MPS %+v %v", got, err)
	}

	other := PrefixInformation{PrefixLength: 48, ValidLifetime: 1, PreferredLifetime: 0, Prefix: netip.MustParseAddr("2001:db8:5::")}
	opts := AppendPrefixInformation(nil, homePrefix)
	opts = append(opts, 25, 1, 0, 0, 0, 0, 0, 0) // an unknown option, skipped
	opts = AppendPrefixInformation(opts, other)
	mpa := MobilePrefixAdvertisement{Identifier: 7, ManagedAddressConfiguration: true, Options: opts}
	b = mpa.Append(nil, agent, home)
	if err := VerifyICMPv6(agent, home, b); err != nil {
		t.Fatal(err)
	}
	got, err := ParseMobilePrefixAdvertisement(b)
	if err != nil || !reflect.DeepEqual(got, mpa) {
		t.Fatalf("MPA %+v %v", got, err)
	}
	var prefixes []PrefixInformation
	it := got.Prefixes()
	for it.Next() {
		prefixes = append(prefixes, it.Prefix())
	}
	if !reflect.DeepEqual(prefixes, []PrefixInformation{homePrefix, other}) {
		t.Fatalf("prefixes %+v", prefixes)
	}
}

func TestICMPv6Errors(t *testing.T) {
	req := (&DHAADRequest{Identifier: 1}).Append(nil, careOf, agent)
	rep := (&DHAADReply{Identifier: 1, HomeAgentAddresses: MakeAddrList(agent)}).Append(nil, agent, careOf)
	mpa := (&MobilePrefixAdvertisement{Options: AppendPrefixInformation(nil, homePrefix)}).Append(nil, agent, home)
	mod := func(b []byte, f func(b []byte) []byte) []byte { return f(bytes.Clone(b)) }
	cases := []struct {
		name, msg, field string
		parse            func([]byte) error
		b                []byte
	}{
		{"request short", msgDHAADRequest, "length", dhaadReq, req[:7]},
		{"request type", msgDHAADRequest, "type", dhaadReq, rep},
		{"request code", msgDHAADRequest, "code", dhaadReq, mod(req, func(b []byte) []byte { b[1] = 1; return b })},
		{"reply partial address", msgDHAADReply, "home agent addresses", dhaadRep, rep[:len(rep)-1]},
		{"MPS type", msgMPS, "type", mps, req},
		{"MPA zero option length", msgMPA, "option length", mpaParse, mod(mpa, func(b []byte) []byte { b[9] = 0; return b })},
		{"MPA option overrun", msgMPA, "option length", mpaParse, mod(mpa, func(b []byte) []byte { b[9] = 5; return b })},
		{"MPA PIO length", "Prefix Information option", "length", mpaParse, mod(mpa, func(b []byte) []byte { b[9] = 3; return b[:len(b)-8] })},
		{"MPA prefix length", "Prefix Information option", "prefix length", mpaParse, mod(mpa, func(b []byte) []byte { b[10] = 129; return b })},
		{"MPA truncated option", msgMPA, "option length", mpaParse, append(bytes.Clone(mpa), 3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.parse(c.b), c.msg, c.field) })
	}
	bad := bytes.Clone(req)
	bad[5] ^= 1
	if err := VerifyICMPv6(careOf, agent, bad); err == nil {
		t.Fatal("bad checksum accepted")
	}
}

func dhaadReq(b []byte) error { _, err := ParseDHAADRequest(b); return err }
func dhaadRep(b []byte) error { _, err := ParseDHAADReply(b); return err }
func mps(b []byte) error      { _, err := ParseMobilePrefixSolicitation(b); return err }
func mpaParse(b []byte) error { _, err := ParseMobilePrefixAdvertisement(b); return err }

// FuzzICMPv6Mobility feeds every ICMPv6 mobility decoder; accepted messages
// must re-encode to the same length and identifier.
func FuzzICMPv6Mobility(f *testing.F) {
	f.Add((&DHAADRequest{Identifier: 1}).Append(nil, careOf, agent))
	f.Add((&DHAADReply{Identifier: 1, HomeAgentAddresses: MakeAddrList(agent)}).Append(nil, agent, careOf))
	f.Add((&MobilePrefixSolicitation{Identifier: 2}).Append(nil, home, agent))
	f.Add((&MobilePrefixAdvertisement{Options: AppendPrefixInformation(nil, homePrefix)}).Append(nil, agent, home))
	f.Add((&ParameterProblem{Pointer: 40, Invoking: []byte{0x60, 0, 0, 0}}).Append(nil, agent, home))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseICMPv6(b); err != nil {
			return
		}
		var again []byte
		switch b[0] {
		case ICMPv6DHAADRequest:
			m, err := ParseDHAADRequest(b)
			if err != nil {
				return
			}
			again = m.Append(nil, careOf, agent)
		case ICMPv6DHAADReply:
			m, err := ParseDHAADReply(b)
			if err != nil {
				return
			}
			again = m.Append(nil, careOf, agent)
		case ICMPv6MobilePrefixSol:
			m, err := ParseMobilePrefixSolicitation(b)
			if err != nil {
				return
			}
			again = m.Append(nil, careOf, agent)
		case ICMPv6ParameterProblem:
			m, err := ParseParameterProblem(b)
			if err != nil {
				return
			}
			again = m.Append(nil, careOf, agent)
			if len(b) <= MinMTU-HeaderLen && len(again) != len(b) {
				t.Fatalf("re-encoded length %d, input %d", len(again), len(b))
			}
			return
		case ICMPv6MobilePrefixAdvert:
			m, err := ParseMobilePrefixAdvertisement(b)
			if err != nil {
				return
			}
			it := m.Prefixes()
			for it.Next() {
				if it.Prefix().PrefixLength > 128 {
					t.Fatal("prefix length above 128 accepted")
				}
			}
			again = m.Append(nil, careOf, agent)
		default:
			return
		}
		// Fixed-size messages ignore trailing bytes; the rest re-encode whole.
		if len(again) > len(b) || !bytes.Equal(again[4:6], b[4:6]) || (len(b) > 8 && b[0] != ICMPv6DHAADRequest && b[0] != ICMPv6MobilePrefixSol && len(again) != len(b)) {
			t.Fatalf("re-encoded % x\ninput % x", again, b)
		}
	})
}

func TestParameterProblem(t *testing.T) {
	invoking := make([]byte, 2000)
	invoking[0] = 0x60
	m := ParameterProblem{Code: ParamProbErroneousHeaderField, Pointer: 64, Invoking: invoking}
	b := m.Append(nil, agent, careOf)
	if len(b)+HeaderLen != MinMTU {
		t.Fatalf("message of %d bytes does not fill the minimum MTU", len(b))
	}
	if err := VerifyICMPv6(agent, careOf, b); err != nil {
		t.Fatal(err)
	}
	got, err := ParseParameterProblem(b)
	if err != nil || got.Code != 0 || got.Pointer != 64 || !bytes.Equal(got.Invoking, invoking[:len(got.Invoking)]) {
		t.Fatalf("%+v %v", got, err)
	}
	wantErr(t, func() error { _, err := ParseParameterProblem(b[:7]); return err }(), msgParamProb, "length")
	wantErr(t, func() error { _, err := ParseParameterProblem(rejectType(b)); return err }(), msgParamProb, "type")
}

func rejectType(b []byte) []byte { c := bytes.Clone(b); c[0] = 1; return c }
