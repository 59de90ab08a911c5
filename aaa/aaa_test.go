package aaa

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"layeh.com/radius/rfc2866"

	"mip6/eap"
)

var testUsers = map[string]string{"alice@example.net": "alice-secret", "bob@example.net": "bob-secret"}

// startLocal runs a LocalServer on ::1 and returns its address.
func startLocal(t *testing.T, secret string, onAcct ...func(AccountingRecord)) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &LocalServer{Secret: []byte(secret), Authenticator: &eap.LocalAuthenticator{Users: testUsers}, Logf: t.Logf}
	if len(onAcct) > 0 {
		s.OnAccounting = onAcct[0]
	}
	done := make(chan struct{})
	go func() { s.Serve(conn); close(done) }()
	t.Cleanup(func() { s.Close(); conn.Close(); <-done })
	return conn.LocalAddr().String()
}

// silent is a UDP socket that never answers.
func silent(t *testing.T) string {
	conn, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.LocalAddr().String()
}

func fastClient(servers ...Server) *Client {
	return &Client{Servers: servers, Timeout: 150 * time.Millisecond, Retries: 1}
}

// converse runs an EAP peer through the RADIUS pass-through authenticator.
func converse(t *testing.T, a eap.Authenticator, peer *eap.Peer, idi string) (eap.Outcome, error, error) {
	t.Helper()
	ctx := context.Background()
	conv, err := a.Start(ctx, idi)
	if err != nil {
		t.Fatal(err)
	}
	var resp []byte
	for i := 0; i < 30; i++ {
		out, err := conv.Next(ctx, resp)
		if err != nil {
			return out, err, nil
		}
		var perr error
		resp, perr = peer.Handle(out.Message)
		if out.Done || perr != nil {
			return out, nil, perr
		}
	}
	t.Fatal("no end")
	return eap.Outcome{}, nil, nil
}

func TestEAPMSCHAPv2ThroughRADIUS(t *testing.T) {
	addr := startLocal(t, "s3cret")
	a := &EAPAuthenticator{Client: fastClient(Server{Addr: addr, Secret: []byte("s3cret")})}
	peer := eap.NewPeer("alice@example.net", eap.NewMSCHAPv2("alice@example.net", "alice-secret"))
	out, err, perr := converse(t, a, peer, "alice@example.net")
	if err != nil || perr != nil || !out.Accepted {
		t.Fatalf("auth %v, peer %v, outcome %+v", err, perr, out)
	}
	if len(out.MSK) != 64 || !bytes.Equal(out.MSK, peer.MSK()) {
		t.Fatalf("MSK via RADIUS %x, peer %x", out.MSK, peer.MSK())
	}
	if out.UserName != "alice@example.net" {
		t.Fatalf("user %q", out.UserName)
	}
}

func TestEAPIdentityRequestedWhenNoIDi(t *testing.T) {
	addr := startLocal(t, "s3cret")
	a := &EAPAuthenticator{Client: fastClient(Server{Addr: addr, Secret: []byte("s3cret")})}
	peer := eap.NewPeer("bob@example.net", eap.NewMD5("bob@example.net", "bob-secret"))
	out, err, perr := converse(t, a, peer, "")
	if err != nil || perr != nil || !out.Accepted || out.MSK != nil || out.UserName != "bob@example.net" {
		t.Fatalf("auth %v, peer %v, outcome %+v", err, perr, out)
	}
}

func TestEAPRejected(t *testing.T) {
	addr := startLocal(t, "s3cret")
	a := &EAPAuthenticator{Client: fastClient(Server{Addr: addr, Secret: []byte("s3cret")})}
	peer := eap.NewPeer("alice@example.net", eap.NewMSCHAPv2("alice@example.net", "guess"))
	out, err, perr := converse(t, a, peer, "alice@example.net")
	var f *eap.FailureError
	if err != nil || out.Accepted || !out.Done || !errors.As(perr, &f) {
		t.Fatalf("auth %v, peer %v, outcome %+v", err, perr, out)
	}
	if !strings.Contains(out.Reason, "rejected \"alice@example.net\"") {
		t.Fatalf("reason %q", out.Reason)
	}
}

func TestServerDownTimeout(t *testing.T) {
	dead := silent(t)
	c := fastClient(Server{Addr: dead, Secret: []byte("x")})
	a := &EAPAuthenticator{Client: c}
	peer := eap.NewPeer("alice@example.net", eap.NewMD5("alice@example.net", "alice-secret"))
	start := time.Now()
	_, err, _ := converse(t, a, peer, "alice@example.net")
	var te *TimeoutError
	if !errors.As(err, &te) || te.Server != dead || te.Attempts != 2 {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(err.Error(), dead) || time.Since(start) > 3*time.Second {
		t.Fatalf("error %q after %v", err, time.Since(start))
	}
}

func TestWrongSharedSecret(t *testing.T) {
	addr := startLocal(t, "right")
	a := &EAPAuthenticator{Client: fastClient(Server{Addr: addr, Secret: []byte("wrong")})}
	peer := eap.NewPeer("alice@example.net", eap.NewMD5("alice@example.net", "alice-secret"))
	_, err, _ := converse(t, a, peer, "alice@example.net")
	// The server drops requests whose Message-Authenticator fails; the
	// client's probe still tells the wrong secret from a dead server.
	var be *BadAuthenticatorError
	if !errors.As(err, &be) || be.Server != addr || !strings.Contains(err.Error(), "shared secret") {
		t.Fatalf("err %v", err)
	}
}

// A server that answers with another secret gives a bad-authenticator error.
func TestForgedAnswer(t *testing.T) {
	conn, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		var buf [4096]byte
		for i := 0; i < 4; i++ {
			n, from, err := conn.ReadFrom(buf[:])
			if err != nil {
				return
			}
			// Echo an Access-Reject with a made-up authenticator.
			resp := append([]byte{3, buf[1], 0, 20}, make([]byte, 16)...)
			_ = n
			conn.WriteTo(resp, from)
		}
	}()
	c := fastClient(Server{Addr: conn.LocalAddr().String(), Secret: []byte("x")})
	a := &EAPAuthenticator{Client: c}
	peer := eap.NewPeer("alice@example.net", eap.NewMD5("alice@example.net", "alice-secret"))
	_, err, _ = converse(t, a, peer, "alice@example.net")
	var be *BadAuthenticatorError
	if !errors.As(err, &be) || be.Field != "Response Authenticator" {
		t.Fatalf("err %v", err)
	}
}

func TestFailover(t *testing.T) {
	dead := silent(t)
	live := startLocal(t, "s3cret")
	c := fastClient(Server{Addr: dead, Secret: []byte("s3cret")}, Server{Addr: live, Secret: []byte("s3cret")})
	a := &EAPAuthenticator{Client: c}
	for i := 0; i < 2; i++ {
		peer := eap.NewPeer("alice@example.net", eap.NewMSCHAPv2("alice@example.net", "alice-secret"))
		out, err, perr := converse(t, a, peer, "alice@example.net")
		if err != nil || perr != nil || !out.Accepted {
			t.Fatalf("round %d: %v %v", i, err, perr)
		}
		// After the first failover the live server is tried first.
		c.mu.Lock()
		pref := c.preferred
		c.mu.Unlock()
		if pref != 1 {
			t.Fatalf("preferred server %d after failover", pref)
		}
	}
}

func TestAccounting(t *testing.T) {
	var mu sync.Mutex
	var got []AccountingRecord
	addr := startLocal(t, "s3cret", func(r AccountingRecord) { mu.Lock(); got = append(got, r); mu.Unlock() })
	c := fastClient(Server{Addr: addr, Secret: []byte("s3cret")})
	ctx := context.Background()
	t0 := time.Unix(1_800_000_000, 0)
	s := &Session{ID: "b-1", UserName: "alice@example.net", HomeAddress: netip.MustParseAddr("2001:db8:1::100"),
		CareOf: netip.MustParseAddr("2001:db8:2::5"), Started: t0}
	if err := c.AccountingOn(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if err := c.AccountingStart(ctx, s, t0); err != nil {
		t.Fatal(err)
	}
	s.InputOctets = 5<<32 + 7
	if err := c.AccountingInterim(ctx, s, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := c.AccountingStop(ctx, s, t0.Add(90*time.Second), CauseUserRequest); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 || got[0].Status != rfc2866.AcctStatusType_Value_AccountingOn {
		t.Fatalf("records %+v", got)
	}
	got = got[1:]
	if got[0].Status != rfc2866.AcctStatusType_Value_Start || got[2].Status != rfc2866.AcctStatusType_Value_Stop {
		t.Fatalf("records %+v", got)
	}
	if got[2].SessionTime != 90 || got[1].InputOctets != 5<<32+7 || got[0].HomeAddress.String() != "2001:db8:1::100" || got[0].SessionID != "b-1" {
		t.Fatalf("records %+v", got)
	}
}

func TestEAPMessageSplit(t *testing.T) {
	addr := startLocal(t, "s3cret")
	a := &EAPAuthenticator{Client: fastClient(Server{Addr: addr, Secret: []byte("s3cret")})}
	long := strings.Repeat("x", 600) + "@example.net" // 3 EAP-Message attributes
	peer := eap.NewPeer(long, eap.NewMD5(long, "pw"))
	out, err, perr := converse(t, a, peer, long)
	var f *eap.FailureError
	if err != nil || out.Accepted || !errors.As(perr, &f) {
		t.Fatalf("auth %v peer %v", err, perr)
	}
}

func TestEAPAKAPrimeThroughRADIUS(t *testing.T) {
	var k, op [16]byte
	copy(k[:], "0123456789abcdef")
	copy(op[:], "fedcba9876543210")
	m := eap.NewMilenageOP(k, op)
	conn, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &LocalServer{Secret: []byte("s3cret"), Authenticator: &eap.LocalAuthenticator{
		AKA: map[string]*eap.AKASubscriber{"0123@example.net": eap.NewAKASubscriber(m, 7)}}, Logf: t.Logf}
	done := make(chan struct{})
	go func() { s.Serve(conn); close(done) }()
	t.Cleanup(func() { s.Close(); conn.Close(); <-done })

	a := &EAPAuthenticator{Client: fastClient(Server{Addr: conn.LocalAddr().String(), Secret: []byte("s3cret")})}
	peer := eap.NewPeer("0123@example.net", eap.NewAKAPrime("0123@example.net", &eap.SoftUSIM{Milenage: m}))
	out, err, perr := converse(t, a, peer, "0123@example.net")
	if err != nil || perr != nil || !out.Accepted || len(out.MSK) != 64 || !bytes.Equal(out.MSK, peer.MSK()) {
		t.Fatalf("radius %v, peer %v, outcome %+v, peer MSK %x", err, perr, out, peer.MSK())
	}
}

func TestStatusServer(t *testing.T) {
	live := startLocal(t, "s3cret")
	dead := silent(t)
	c := fastClient(Server{Addr: live, Secret: []byte("s3cret")}, Server{Addr: dead, Secret: []byte("s3cret")},
		Server{Addr: live, Secret: []byte("wrong")})
	st := c.Status(context.Background())
	var te *TimeoutError
	var be *BadAuthenticatorError
	if st[0].Err != nil || !errors.As(st[1].Err, &te) || !errors.As(st[2].Err, &be) {
		t.Fatalf("status %+v", st)
	}
}
