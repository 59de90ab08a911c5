package freeradius_test

import (
	"crypto/tls"
	"encoding/hex"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"mip6/aaa"
	"mip6/eap"
	"mip6/internal/peers/freeradius"
	"mip6/internal/tshark"
	"mip6/wire/ipv6"
)

// recorder relays RADIUS datagrams between our client and a server and
// keeps them as IPv6/UDP packets (NAS 2001:db8:1::1 -> AAA 2001:db8:1::2
// port 1812) for tshark.
type recorder struct {
	conn *net.UDPConn
	up   *net.UDPAddr
	mu   sync.Mutex
	pkts [][]byte
	ups  map[string]*net.UDPConn
	wg   sync.WaitGroup
}

var (
	nasAddr = netip.MustParseAddr("2001:db8:1::1")
	aaaAddr = netip.MustParseAddrPort("[2001:db8:1::2]:1812")
)

func startRecorder(t *testing.T, upstream string) *recorder {
	up, err := net.ResolveUDPAddr("udp", upstream)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{conn: conn, up: up, ups: map[string]*net.UDPConn{}}
	r.wg.Add(1)
	go r.serve()
	t.Cleanup(func() {
		conn.Close()
		r.mu.Lock()
		for _, u := range r.ups {
			u.Close()
		}
		r.mu.Unlock()
		r.wg.Wait()
	})
	return r
}

func (r *recorder) record(from netip.AddrPort, to netip.AddrPort, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pkts = append(r.pkts, ipv6.AppendUDP(nil, from, to, payload))
}

func (r *recorder) serve() {
	defer r.wg.Done()
	var buf [4096]byte
	for {
		n, client, err := r.conn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			return
		}
		nas := netip.AddrPortFrom(nasAddr, client.Port())
		r.record(nas, aaaAddr, buf[:n])
		r.mu.Lock()
		u := r.ups[client.String()]
		if u == nil {
			if u, err = net.DialUDP("udp", nil, r.up); err != nil {
				r.mu.Unlock()
				continue
			}
			r.ups[client.String()] = u
			r.wg.Add(1)
			go r.back(u, client, nas)
		}
		r.mu.Unlock()
		u.Write(buf[:n])
	}
}

// back relays answers from the server to one client.
func (r *recorder) back(u *net.UDPConn, client, nas netip.AddrPort) {
	defer r.wg.Done()
	var buf [4096]byte
	for {
		u.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := u.Read(buf[:])
		if err != nil {
			return
		}
		r.record(aaaAddr, nas, buf[:n])
		r.conn.WriteToUDPAddrPort(buf[:n], client)
	}
}

func (r *recorder) capture(t *testing.T) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return tshark.WritePcap(t, r.pkts...)
}

// Our RADIUS and EAP as Wireshark dissects them: FreeRADIUS conversations
// (MSCHAPv2, TLS with fragments) and the in-process server's.
func TestTsharkDissectsOurRADIUS(t *testing.T) {
	s := freeradius.Start(t, freeradius.Config{Secret: "ws-secret", Users: users})
	rec := startRecorder(t, s.AuthAddr())
	a := &aaa.EAPAuthenticator{Client: &aaa.Client{Servers: []aaa.Server{{Addr: rec.conn.LocalAddr().String(), Secret: []byte("ws-secret")}},
		Timeout: 2 * time.Second}}
	peer := eap.NewPeer("bob@example.net", eap.NewMSCHAPv2("bob@example.net", "bob-secret"))
	if out, err, perr := authenticate(t, a, peer); err != nil || perr != nil || !out.Accepted {
		t.Fatalf("MSCHAPv2: %v %v", err, perr)
	}
	m := eap.NewTLS(&tls.Config{RootCAs: s.PKI.Pool, ServerName: s.Name,
		Certificates: []tls.Certificate{s.PKI.ClientCertificate(t, "carol@example.net")}})
	m.Fragment = 300
	defer m.Close()
	if out, err, perr := authenticate(t, a, eap.NewPeer("carol@example.net", m)); err != nil || perr != nil || !out.Accepted {
		t.Fatalf("TLS: %v %v", err, perr)
	}
	// EAP-AKA' through the in-process server, recorded likewise.
	local := startRecorder(t, startLocal(t, "ws-secret").String())
	la := &aaa.EAPAuthenticator{Client: &aaa.Client{Servers: []aaa.Server{{Addr: local.conn.LocalAddr().String(), Secret: []byte("ws-secret")}},
		Timeout: 2 * time.Second}}
	var k, opc [16]byte
	hex.Decode(k[:], []byte("465b5ce8b199b49faa5f0a2ee238a6bc"))
	hex.Decode(opc[:], []byte("cd63cb71954a9f4e48a5994e37a02baf"))
	akaPeer := eap.NewPeer("6555444333222111@example.net", eap.NewAKAPrime("6555444333222111@example.net",
		&eap.SoftUSIM{Milenage: eap.Milenage{K: k, OPc: opc}}))
	if out, err, perr := authenticate(t, la, akaPeer); err != nil || perr != nil || !out.Accepted {
		t.Fatalf("AKA': %v %v", err, perr)
	}
	rec.mu.Lock()
	local.mu.Lock()
	rec.pkts = append(rec.pkts, local.pkts...)
	local.mu.Unlock()
	rec.mu.Unlock()

	path := rec.capture(t)
	opts := tshark.Options{Prefs: []string{"radius.shared_secret:ws-secret", "radius.validate_authenticator:TRUE"}}
	tshark.RequireClean(t, path, opts)
	pkts := tshark.Run(t, path, opts, "radius.code", "eap.type", "eap.ms_chap_v2.opcode", "tls.handshake.type",
		"eap.aka.subtype", "radius.authenticator.valid")
	seen := map[string]bool{}
	for _, p := range pkts {
		for _, f := range []string{"eap.ms_chap_v2.opcode", "tls.handshake.type", "radius.code", "eap.type", "eap.aka.subtype"} {
			for _, v := range p.All(f) {
				seen[f+"="+v] = true
			}
		}
		if c := p.Get("radius.code"); c != "1" && p.Get("radius.authenticator.valid") != "1" {
			t.Errorf("frame %d (RADIUS code %s): tshark finds the Response Authenticator invalid (%q)", p.Number, c, p.All("radius.authenticator.valid"))
		}
	}
	for _, want := range []string{"radius.code=1", "radius.code=11", "radius.code=2", "eap.type=26", "eap.type=13", "eap.type=50",
		"eap.ms_chap_v2.opcode=1", "eap.ms_chap_v2.opcode=2", "eap.ms_chap_v2.opcode=3", "tls.handshake.type=1", "eap.aka.subtype=1"} {
		if !seen[want] {
			t.Errorf("tshark did not see %s (saw %v)", want, seen)
		}
	}
}
