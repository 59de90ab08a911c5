package lease

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func sampleReply() Message {
	return Message{Type: dhcpReply, TransactionID: 0xabcdef, ClientID: DUIDFor("alice@example.net"),
		ServerID: []byte{0, 2, 0, 0, 0x7e, 0x99, 1, 2}, HasIANA: true, ElapsedTime: 12,
		IANA: IANA{IAID: 7, T1: 100, T2: 160, HasAddr: true,
			Addr: IAAddr{Address: netip.MustParseAddr("2001:db8:1::100"), Preferred: 300, Valid: 400}}}
}

func TestMessageRoundTrip(t *testing.T) {
	m := sampleReply()
	m.HasStatus, m.Status = true, Status{Code: StatusSuccess, Message: []byte("ok")}
	m.RapidCommit, m.Preference = true, 255
	var got Message
	if err := ParseMessage(AppendMessage(nil, &m), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("got %+v\nwant %+v", got, m)
	}
}

func TestMessageErrors(t *testing.T) {
	m := sampleReply()
	b := AppendMessage(nil, &m)
	var got Message
	var me *MessageError
	for n := 0; n < len(b); n++ {
		err := ParseMessage(b[:n], &got)
		if err == nil {
			continue // a cut between options is a shorter valid message
		}
		if !errors.As(err, &me) {
			t.Fatalf("cut at %d: %v", n, err)
		}
	}
	// An IA_NA whose length runs past the message.
	bad := bytes.Clone(b)
	i := bytes.Index(bad, []byte{0, byte(optIANA)})
	bad[i+3] = 200
	if err := ParseMessage(bad, &got); !errors.As(err, &me) || me.Message != "Reply" {
		t.Fatalf("long IA_NA: %v", err)
	} else {
		t.Log(err)
	}
}

func FuzzParseMessage(f *testing.F) {
	m := sampleReply()
	f.Add(AppendMessage(nil, &m))
	f.Add([]byte{2, 0, 0, 1, 0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		if ParseMessage(b, &m) != nil {
			return
		}
		var m2 Message
		if err := ParseMessage(AppendMessage(nil, &m), &m2); err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
	})
}

func TestDUID(t *testing.T) {
	a, b := DUIDFor("alice@example.net"), DUIDFor("bob@example.net")
	if len(a) != 18 || a[1] != 4 || bytes.Equal(a, b) || !bytes.Equal(a, DUIDFor("alice@example.net")) {
		t.Fatalf("DUIDs %x %x", a, b)
	}
	if IAIDFor("alice@example.net") == IAIDFor("bob@example.net") {
		t.Fatal("IAIDs collide")
	}
}

// A server that never answers: a typed error after the configured tries,
// and nothing in the store.
func TestDHCPv6Silent(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "ha.db"))
	defer st.Close()
	silent, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	conn, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDHCPv6(DHCPv6Config{Policy: Policy{Store: st, HomePrefix: home}, Conn: conn,
		Server: silent.LocalAddr().(*net.UDPAddr).AddrPort(), Timeout: 20 * time.Millisecond, Tries: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = d.Assign("alice@example.net", netip.MustParseAddr("2001:db8:1::5"))
	var de *DHCPv6Error
	if !errors.As(err, &de) || de.Tries != 2 || de.Exchange != "Solicit" {
		t.Fatalf("%v", err)
	}
	checkNoLease(t, st, "alice@example.net")
	buf := make([]byte, 1500)
	silent.SetReadDeadline(time.Now().Add(time.Second))
	n, _, err := silent.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	var sol Message
	if err := ParseMessage(buf[:n], &sol); err != nil || sol.Type != dhcpSolicit || !sol.HasIANA ||
		sol.IANA.Addr.Address != netip.MustParseAddr("2001:db8:1::5") || !bytes.Equal(sol.ClientID, DUIDFor("alice@example.net")) {
		t.Fatalf("solicit %+v %v", sol, err)
	}
}
