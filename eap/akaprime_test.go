package eap

import (
	"bytes"
	"context"
	"errors"
	"testing"

	wire "mip6/wire/eap"
)

// RFC 5448 Appendix C (= RFC 9048 Appendix D) test cases 1 and 3.
func TestAKAPrimeKeyVectors(t *testing.T) {
	for _, c := range []struct {
		network, ck, ik, autn, ckp, ikp, kEncr, kAut, kRe, msk, emsk string
	}{
		{"WLAN", "5349fbe098649f948f5d2e973a81c00f", "9744871ad32bf9bbd1dd5ce54e3e2e5a", "bb52e91c747ac3ab2a5c23d15ee351d5",
			"0093962d0dd84aa5684b045c9edffa04", "ccfc230ca74fcc96c0a5d61164f5a76c", "766fa0a6c317174b812d52fbcd11a179",
			"0842ea722ff6835bfa2032499fc3ec23c2f0e388b4f07543ffc677f1696d71ea",
			"cf83aa8bc7e0aced892acc98e76a9b2095b558c7795c7094715cb3393aa7d17a",
			"67c42d9aa56c1b79e295e3459fc3d187d42be0bf818d3070e362c5e967a4d544e8ecfe19358ab3039aff03b7c930588c055babee58a02650b067ec4e9347c75a",
			"f861703cd775590e16c7679ea3874ada866311de290764d760cf76df647ea01c313f69924bdd7650ca9bac141ea075c4ef9e8029c0e290cdbad5638b63bc23fb"},
		{"WLAN", "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0", "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0",
			"cd4c8e5c68f57dd1d7d7dfd0c538e577", "3ece6b705dbbf7dfc459a11280c65524", "897d302fa2847416488c28e20dcb7be4",
			"c40700e7722483ae3dc7139eb0b88bb558cb3081eccd057f9207d1286ee7dd53",
			"0a591a22dd8b5b1cf29e3d508c91dbbdb4aee23051892c42b6a2de66ea504473",
			"9f7dca9e37bb22029ed986e7cd09d4a70d1ac76d95535c5cac40a7504699bb8961a29ef6f3e90f183de5861ad1bedc81ce9916391b401aa006c98785a5756df7",
			"724de00bdb9e568187be3fe746114557d5018779537ee37f4d3c6c738cb97b9dc651bc19bfadc344ffe2b52ca78bd8316b51dacc5f2b1440cb9515521cc7ba23"},
	} {
		ckp, ikp := ckIKPrime(unhex(t, c.ck), unhex(t, c.ik), c.network, unhex(t, c.autn)[:6])
		if !bytes.Equal(ckp[:], unhex(t, c.ckp)) || !bytes.Equal(ikp[:], unhex(t, c.ikp)) {
			t.Fatalf("CK' %x IK' %x", ckp, ikp)
		}
		k := deriveAKAPrime("0555444333222111", ckp, ikp)
		for _, f := range []struct {
			name      string
			got, want []byte
		}{{"K_encr", k.kEncr[:], unhex(t, c.kEncr)}, {"K_aut", k.kAut[:], unhex(t, c.kAut)}, {"K_re", k.kRe[:], unhex(t, c.kRe)},
			{"MSK", k.msk[:], unhex(t, c.msk)}, {"EMSK", k.emsk[:], unhex(t, c.emsk)}} {
			if !bytes.Equal(f.got, f.want) {
				t.Errorf("%s = %x, want %x", f.name, f.got, f.want)
			}
		}
	}
}

func testMilenage(t *testing.T) Milenage {
	return NewMilenageOP(arr16(t, "465b5ce8b199b49faa5f0a2ee238a6bc"), arr16(t, "cdc202d5123e20f62b6d676ac72cb318"))
}

func akaAuthenticator(t *testing.T, serverSQN uint64) *LocalAuthenticator {
	return &LocalAuthenticator{Methods: []wire.Type{wire.TypeAKAPrime},
		AKA: map[string]*AKASubscriber{"0555444333222111@example.net": NewAKASubscriber(testMilenage(t), serverSQN)}}
}

func TestAKAPrimeLocal(t *testing.T) {
	usim := &SoftUSIM{Milenage: testMilenage(t), SQN: 10}
	peer := NewPeer("0555444333222111@example.net", NewAKAPrime("0555444333222111@example.net", usim))
	out, err := run(t, peer, akaAuthenticator(t, 10), "0555444333222111@example.net")
	if err != nil || !out.Accepted || len(out.MSK) != 64 || !bytes.Equal(out.MSK, peer.MSK()) {
		t.Fatalf("err %v, outcome %+v, peer MSK %x", err, out, peer.MSK())
	}
	if usim.SQN != 11 {
		t.Fatalf("USIM SQN %d", usim.SQN)
	}
}

// The USIM is ahead of the network: AKA-Synchronization-Failure, the
// network resyncs from AUTS and issues a fresh challenge.
func TestAKAPrimeResync(t *testing.T) {
	usim := &SoftUSIM{Milenage: testMilenage(t), SQN: 500}
	peer := NewPeer("0555444333222111@example.net", NewAKAPrime("0555444333222111@example.net", usim))
	out, err := run(t, peer, akaAuthenticator(t, 3), "0555444333222111@example.net")
	if err != nil || !out.Accepted || !bytes.Equal(out.MSK, peer.MSK()) || usim.SQN != 501 {
		t.Fatalf("err %v, outcome %+v, SQN %d", err, out, usim.SQN)
	}
}

// A network without the subscriber's key cannot produce a valid AUTN.
func TestAKAPrimeWrongKey(t *testing.T) {
	other := NewMilenageOP(arr16(t, "000102030405060708090a0b0c0d0e0f"), arr16(t, "cdc202d5123e20f62b6d676ac72cb318"))
	usim := &SoftUSIM{Milenage: other}
	peer := NewPeer("0555444333222111@example.net", NewAKAPrime("0555444333222111@example.net", usim))
	out, err := run(t, peer, akaAuthenticator(t, 0), "0555444333222111@example.net")
	var f *FailureError
	if !errors.As(err, &f) || out.Accepted || peer.MSK() != nil {
		t.Fatalf("err %v, outcome %+v", err, out)
	}
}

func TestAKAPrimeNetworkNameBinding(t *testing.T) {
	usim := &SoftUSIM{Milenage: testMilenage(t)}
	m := NewAKAPrime("0555444333222111@example.net", usim)
	m.NetworkName = "mip6.example.net"
	out, err := run(t, NewPeer("0555444333222111@example.net", m), akaAuthenticator(t, 0), "0555444333222111@example.net")
	if err == nil || out.Accepted {
		t.Fatalf("keys bound to another network accepted: %+v", out)
	}
}

// A tampered challenge fails the peer's AT_MAC check.
func TestAKAPrimeTamperedChallenge(t *testing.T) {
	ctx := context.Background()
	conv, _ := akaAuthenticator(t, 0).Start(ctx, "0555444333222111@example.net")
	out, err := conv.Next(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := append([]byte(nil), out.Message...)
	// Header 8, AT_RAND 20, AT_AUTN 20, AT_KDF 4, AT_KDF_INPUT header 4: "WLAN".
	if string(msg[56:60]) != "WLAN" {
		t.Fatalf("layout %x", msg)
	}
	msg[59] = 'X' // a man in the middle rebinding the keys to another network
	peer := NewPeer("0555444333222111@example.net", NewAKAPrime("0555444333222111@example.net", &SoftUSIM{Milenage: testMilenage(t)}))
	_, err = peer.Handle(msg)
	var s *ServerAuthError
	if !errors.As(err, &s) {
		t.Fatalf("tampered challenge: %v", err)
	}
}
