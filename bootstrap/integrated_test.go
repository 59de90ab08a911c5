package bootstrap

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"mip6/aaa"
	"mip6/discovery"
	"mip6/eap"
	"mip6/ike"
	"mip6/internal/netns"
	"mip6/internal/peers/freeradius"
)

// RFC 4640 §7.2, integrated ASP: the access service authorizer and the
// mobility service authorizer are one operator whose single FreeRADIUS
// (AAA-NA and AAA-MIP of its Figure 1 in one server) serves both the
// access router (NAS) and the home agent. Topology, each box a network
// namespace:
//
//	MN 2001:db8:a::100 ── a::1 NAS c::1 ── c::2 IASP core
//	                                         HA 2001:db8:1::1 (lo)
//	                                         FreeRADIUS [2001:db8:c::2]
//
// alice first authenticates for network access: the NAS is an EAP
// pass-through authenticator (our aaa.EAPAuthenticator, RADIUS from the
// NAS namespace) and the MN an eap.Peer, EAP between them in UDP across
// the access link (standing in for 802.1X or PANA). Both ends hold the
// access MSK. Then alice bootstraps mobility with the
// same AAA server twice:
//
//	(a) Parameter Set 1 style: EAP-MSCHAPv2 inside IKE_AUTH, through the
//	    HA's RADIUS pass-through (from the core namespace), to the same
//	    FreeRADIUS; a new EAP run, a new MSK.
//	(b) Parameter Set 2: no second EAP run; the IKE PSK is the mobility
//	    key DeriveMobilityKey derives from the access MSK on the MN and,
//	    through HomeAgent.AccessKeys, on the HA.
//
// In (b) the HA gets the access key from the AAA side's result of the
// network access run (the MSK FreeRADIUS sent the NAS in MS-MPPE keys).
// A real deployment does not route the MSK through the NAS: the AAA
// server pushes a key for the HA (RFC 5295 USRK from the EMSK, or the
// MSK under a key name) in its answer to the HA's own request, e.g.
// RADIUS per RFC 5447 or Diameter MIP6 per RFC 5778, and the HA calls
// that from AccessKeys; the derivation and its separation do not change.
func TestSystemIntegratedASP(t *testing.T) {
	netns.Require(t, freeradius.Binary)
	mn, nas, core := netns.New(t, "mn"), netns.New(t, "nas"), netns.New(t, "iasp")
	netns.Link(t, mn, "eth0", nas, "eth0")
	netns.Link(t, nas, "eth1", core, "eth1")
	mn.AddAddr(t, "eth0", "2001:db8:a::100/64")
	nas.AddAddr(t, "eth0", "2001:db8:a::1/64")
	nas.AddAddr(t, "eth1", "2001:db8:c::1/64")
	core.AddAddr(t, "eth1", "2001:db8:c::2/64")
	core.AddAddr(t, "lo", "2001:db8:1::1/128")
	mn.AddRoute(t, "2001:db8::/32", "via", "2001:db8:a::1")
	nas.AddRoute(t, "2001:db8:1::/64", "via", "2001:db8:c::2")
	core.AddRoute(t, "2001:db8:a::/64", "via", "2001:db8:c::1")
	nas.Forwarding(t)

	fr := freeradius.Start(t, freeradius.Config{NS: core, Listen: "2001:db8:c::2", Secret: "iasp-secret",
		Users: []freeradius.User{{Name: alice, Password: "alice-secret"}}})
	radius := func() *aaa.Client {
		return &aaa.Client{Servers: []aaa.Server{{Addr: fr.AuthAddr(), Secret: []byte(fr.Secret)}}, Timeout: time.Second, Retries: 1}
	}

	// Network access: the NAS asks FreeRADIUS over the NAS-core link.
	access, err := networkAccessOverLink(mn, nas, &aaa.EAPAuthenticator{Client: radius(), CalledStationID: "2001:db8:a::1"},
		eap.NewPeer(alice, eap.NewMSCHAPv2(alice, "alice-secret")))
	if err != nil {
		t.Fatal(err)
	}
	if len(access.peerMSK) < 32 || !bytes.Equal(access.peerMSK, access.aaaMSK) || access.userName != alice {
		t.Fatalf("network access: MN MSK %x, AAA MSK %x, user %q", access.peerMSK, access.aaaMSK, access.userName)
	}
	if len(fr.TranscriptLines("from [2001:db8:c::1]")) == 0 || len(fr.TranscriptLines(`Calling-Station-Id = "2001:db8:a::100"`)) == 0 {
		t.Fatal("FreeRADIUS saw no request from the NAS for the MN on the access link")
	}

	// The HA in the core: EAP for the realm through FreeRADIUS, and alice's
	// PSK derived from her access key.
	pki := newPKI(t)
	h, st := systemHomeAgent(t, pki)
	haAAA := &nsAuthenticator{ns: core, inner: &aaa.EAPAuthenticator{Client: radius(), CalledStationID: "2001:db8:1::1"}}
	h.AAA, h.AAARealms = haAAA, []string{"example.net"}
	h.Subscribers = []Subscriber{{Identity: alice, Auth: ike.AuthPSK, FromAccessKey: true}}
	accessName := []byte("iasp-access-session-1") // the access session's key name
	var fetched int
	var fmu sync.Mutex
	h.AccessKeys = func(id string) (AccessKey, time.Time, error) {
		fmu.Lock()
		defer fmu.Unlock()
		if id != access.userName {
			return AccessKey{}, time.Time{}, fmt.Errorf("no access session for %s", id)
		}
		fetched++
		return AccessKey{Name: accessName, Key: access.aaaMSK}, access.issued, nil
	}
	h.MobilityKeyLifetime = 2 * time.Hour
	th := serveSystemHA(t, core, h, st)

	var tr *UDP
	if err := mn.Do(func() (err error) {
		tr, err = ListenUDP(netip.MustParseAddrPort("[2001:db8:a::100]:500"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := Config{Identity: alice, HAIdentity: ike.FQDN(haName), HomeAgents: []netip.Addr{th.addr},
		Local: tr.Local(), Transport: tr,
		IKE: ike.Config{Logger: quietLogger(), RetransmitBase: 500 * time.Millisecond, RetransmitTries: 3}}

	// A key from another access session (stale, or someone else's): the
	// mobility key the MN derives is not the HA's, nothing is leased.
	stale := base
	stale.AccessKey = &AccessKey{Name: accessName, Key: bytes.Repeat([]byte{0x5a}, 64)}
	_, err = Run(ctx, stale)
	checkFailed(t, err, th, discovery.FailAuthRefused)

	// (a) Parameter Set 1: EAP-MSCHAPv2 through the HA to the same AAA.
	cfgA := base
	cfgA.RoutingIdentity, cfgA.HATrustRoots = "@example.net", pki.roots
	cfgA.EAP = &EAPCredential{Method: EAPMSCHAPv2, Password: "alice-secret"}
	ra, err := Run(ctx, cfgA)
	if err != nil {
		t.Fatalf("Parameter Set 1: %v", err)
	}
	checkResult(t, ra, th, alice)
	checkIKESA(t, ra, th.addr, alice)
	mobilityMSK := haAAA.lastMSK()
	if len(mobilityMSK) < 32 || bytes.Equal(mobilityMSK, access.aaaMSK) {
		t.Fatalf("mobility EAP MSK %x, access MSK %x: want a second, different key", mobilityMSK, access.aaaMSK)
	}
	if len(fr.TranscriptLines("from [2001:db8:c::2]")) == 0 {
		t.Fatal("FreeRADIUS saw no request from the HA's side of the core")
	}
	hoa := ra.HomeAddress
	t.Logf("Parameter Set 1 (EAP via HA): %s in %v, %d IKE round trips", hoa, ra.Total, ra.Trace.RoundTrips())
	ra.Close()
	netns.Eventually(t, 5*time.Second, func() error {
		if _, ok := th.pad.OwnerOf(hoa.Addr()); ok {
			return errorf("%s still linked to alice in the PAD", hoa)
		}
		return nil
	})

	// (b) Parameter Set 2: the mobility key from the access key.
	cfgB := base
	cfgB.AccessKey = &AccessKey{Name: accessName, Key: access.peerMSK}
	cfgB.SuggestAddress = hoa.Addr()
	fmu.Lock()
	before := fetched
	fmu.Unlock()
	rb, err := Run(ctx, cfgB)
	if err != nil {
		t.Fatalf("Parameter Set 2: %v", err)
	}
	defer rb.Close()
	checkResult(t, rb, th, alice)
	checkIKESA(t, rb, th.addr, alice)
	fmu.Lock()
	asked := fetched - before
	fmu.Unlock()
	if asked == 0 {
		t.Fatal("the HA never asked for alice's access key")
	}
	if rb.Trace.RoundTrips() != 2 {
		t.Fatalf("Parameter Set 2 took %d IKE round trips, want 2 (no EAP):\n%s", rb.Trace.RoundTrips(), rb.Trace)
	}
	mk, err := DeriveMobilityKey(AccessKey{Name: accessName, Key: access.aaaMSK}, alice, access.issued, h.MobilityKeyLifetime)
	if err != nil {
		t.Fatal(err)
	}
	checkSeparate(t, mk, access, accessName, mobilityMSK, rb)
	t.Logf("Parameter Set 2 (key from network access): %s in %v, %d IKE round trips; mobility key %x… named %x, expires %s",
		rb.HomeAddress, rb.Total, rb.Trace.RoundTrips(), mk.Key[:4], mk.Name, mk.Expiry.Format(time.RFC3339))
}

// checkSeparate: the mobility key is none of the other keys, has its own
// name and its own lifetime (RFC 4640 §9.2).
func checkSeparate(t *testing.T, mk MobilityKey, access accessResult, accessName, mobilityMSK []byte, r *Result) {
	t.Helper()
	for name, k := range map[string][]byte{"access MSK": access.aaaMSK, "mobility EAP MSK": mobilityMSK,
		"CHILD_SA key": r.Child.OutEncr} {
		if bytes.Contains(k, mk.Key[:16]) || bytes.Equal(k, mk.Key) {
			t.Fatalf("mobility key %x overlaps the %s %x", mk.Key, name, k)
		}
	}
	if bytes.Equal(mk.Name, accessName) || len(mk.Name) == 0 {
		t.Fatalf("mobility key name %x, access key name %x", mk.Name, accessName)
	}
	if !mk.Expiry.Equal(access.issued.Add(2 * time.Hour)) {
		t.Fatalf("mobility key expires %v, want its own lifetime from %v", mk.Expiry, access.issued)
	}
	// Another access run gives another access key, hence another mobility key.
	other, _ := DeriveMobilityKey(AccessKey{Name: accessName, Key: mobilityMSK}, alice, access.issued, time.Hour)
	if bytes.Equal(other.Key, mk.Key) {
		t.Fatal("mobility key does not depend on the access key")
	}
}

// checkIKESA: an IKE SA we initiated with the HA, its identity proven.
func checkIKESA(t *testing.T, r *Result, ha netip.Addr, identity string) {
	t.Helper()
	sa := r.IKESA
	if !sa.Initiator || sa.Remote.Addr() != ha || sa.InitiatorSPI == 0 || sa.ResponderSPI == 0 ||
		!sa.RemoteID.Equal(ike.FQDN(haName)) || sa.Suite == "" || !strings.Contains(r.Trace.String(), "IKE_AUTH") {
		t.Fatalf("IKE SA %+v for %s", sa, identity)
	}
}

type accessResult struct {
	peerMSK, aaaMSK []byte
	userName        string
	issued          time.Time
}

// accessLinkPort: the access link carries bare EAP packets in UDP, a
// stand-in for 802.1X or PANA (RFC 5191, on UDP 716) without their
// headers: what matters here is that the EAP crosses the access link
// and the RADIUS leaves from the NAS.
const accessLinkPort = 716

// networkAccessOverLink runs the network access EAP authentication: the
// NAS in nasNS relays between the access link and RADIUS, the MN's peer
// answers from mnNS. It gives the MSK each side ends with.
func networkAccessOverLink(mnNS, nasNS *netns.NS, nasAuth *aaa.EAPAuthenticator, peer *eap.Peer) (accessResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nasAddr := netip.MustParseAddrPort(fmt.Sprintf("[2001:db8:a::1]:%d", accessLinkPort))
	var nasConn, mnConn *net.UDPConn
	if err := nasNS.Do(func() (err error) {
		nasConn, err = net.ListenUDP("udp6", net.UDPAddrFromAddrPort(nasAddr))
		return err
	}); err != nil {
		return accessResult{}, err
	}
	defer nasConn.Close()
	if err := mnNS.Do(func() (err error) {
		mnConn, err = net.DialUDP("udp6", &net.UDPAddr{IP: net.ParseIP("2001:db8:a::100")}, net.UDPAddrFromAddrPort(nasAddr))
		return err
	}); err != nil {
		return accessResult{}, err
	}
	defer mnConn.Close()
	type nasResult struct {
		out eap.Outcome
		err error
	}
	done := make(chan nasResult, 1)
	go func() {
		var r nasResult
		if err := nasNS.Do(func() error { r.out, r.err = nasRelay(ctx, nasConn, nasAuth); return nil }); err != nil {
			r.err = err
		}
		done <- r
	}()
	mnErr := peerOverLink(mnConn, peer)
	r := <-done
	if r.err != nil || mnErr != nil {
		return accessResult{}, fmt.Errorf("network access: NAS: %v; MN: %v", r.err, mnErr)
	}
	if !r.out.Accepted {
		return accessResult{}, fmt.Errorf("network access refused: %s", r.out.Reason)
	}
	return accessResult{peerMSK: peer.MSK(), aaaMSK: r.out.MSK, userName: r.out.UserName, issued: time.Now()}, nil
}

// nasRelay is the NAS: it waits for the MN's start datagram, asks for its
// identity and relays EAP to RADIUS until the final Success or Failure.
func nasRelay(ctx context.Context, conn *net.UDPConn, auth *aaa.EAPAuthenticator) (eap.Outcome, error) {
	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, mn, err := conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return eap.Outcome{}, err
	}
	conv, err := auth.StartSession(ctx, "", mn.Addr().String())
	if err != nil {
		return eap.Outcome{}, err
	}
	var resp []byte
	for range 20 {
		out, err := conv.Next(ctx, resp)
		if err != nil {
			return out, err
		}
		if _, err := conn.WriteToUDPAddrPort(out.Message, mn); err != nil || out.Done {
			return out, err
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return out, err
		}
		resp = append([]byte(nil), buf[:n]...)
	}
	return eap.Outcome{}, fmt.Errorf("no end after 20 rounds")
}

// peerOverLink is the MN's side: a start datagram (like EAPOL-Start),
// then an answer to each request until EAP-Success.
func peerOverLink(conn *net.UDPConn, peer *eap.Peer) error {
	if _, err := conn.Write([]byte{0}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	for range 20 {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			return err
		}
		resp, err := peer.Handle(buf[:n])
		if err != nil || peer.Succeeded() {
			return err
		}
		if _, err := conn.Write(resp); err != nil {
			return err
		}
	}
	return fmt.Errorf("no EAP-Success after 20 rounds")
}

// nsAuthenticator runs an eap.Authenticator's AAA exchanges from a
// namespace (the IKE engine calls it from its own goroutine, outside)
// and keeps the MSK of the last accepted run.
type nsAuthenticator struct {
	ns    *netns.NS
	inner eap.Authenticator
	mu    sync.Mutex
	msk   []byte
}

func (a *nsAuthenticator) Start(ctx context.Context, identity string) (eap.Conversation, error) {
	conv, err := a.inner.Start(ctx, identity)
	if err != nil {
		return nil, err
	}
	return &nsConversation{a: a, conv: conv}, nil
}

func (a *nsAuthenticator) lastMSK() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.msk
}

type nsConversation struct {
	a    *nsAuthenticator
	conv eap.Conversation
}

func (c *nsConversation) Next(ctx context.Context, resp []byte) (eap.Outcome, error) {
	var out eap.Outcome
	var err error
	if nerr := c.a.ns.Do(func() error { out, err = c.conv.Next(ctx, resp); return nil }); nerr != nil {
		return out, nerr
	}
	if out.Accepted {
		c.a.mu.Lock()
		c.a.msk = append([]byte(nil), out.MSK...)
		c.a.mu.Unlock()
	}
	return out, err
}
