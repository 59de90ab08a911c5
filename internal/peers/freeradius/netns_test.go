package freeradius_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"mip6/aaa"
	"mip6/eap"
	"mip6/internal/netns"
	"mip6/internal/peers/freeradius"
)

// The AAA server in its own namespace, reached over a veth link from the
// home agent's namespace, as in the RFC 4640 deployment tests.
func TestFreeRADIUSInNamespace(t *testing.T) {
	netns.Require(t, freeradius.Binary)
	ha, aaaNS := netns.New(t, "ha"), netns.New(t, "aaa")
	netns.Link(t, ha, "ha0", aaaNS, "aaa0")
	ha.AddAddr(t, "ha0", "2001:db8:a::1/64")
	aaaNS.AddAddr(t, "aaa0", "2001:db8:a::2/64")
	s := freeradius.Start(t, freeradius.Config{NS: aaaNS, Listen: "2001:db8:a::2", Secret: "lab-secret", Users: users})

	a := &aaa.EAPAuthenticator{Client: client(s, "lab-secret"), CalledStationID: "2001:db8:a::1"}
	peer := eap.NewPeer("alice@example.net", eap.NewMSCHAPv2("alice@example.net", "alice-secret"))
	var out eap.Outcome
	err := ha.Do(func() error {
		var err error
		out, err = converseNoT(a, peer)
		return err
	})
	if err != nil || !out.Accepted || !bytes.Equal(out.MSK, peer.MSK()) {
		t.Fatalf("err %v, outcome %+v", err, out)
	}
}

// converseNoT is authenticate for goroutines where t.Fatal is not allowed.
func converseNoT(a *aaa.EAPAuthenticator, peer *eap.Peer) (eap.Outcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conv, err := a.Start(ctx, peer.Identity())
	if err != nil {
		return eap.Outcome{}, err
	}
	var resp []byte
	for i := 0; i < 40; i++ {
		out, err := conv.Next(ctx, resp)
		if err != nil {
			return out, err
		}
		resp, err = peer.Handle(out.Message)
		if out.Done || err != nil {
			return out, err
		}
	}
	return eap.Outcome{}, fmt.Errorf("no end after 40 rounds")
}

// RFC 4640 §7.3 as a topology: the home agent's namespace reaches the
// serving provider's AAA server, which proxies the realm msa.example over
// a second link to the authorizer's AAA server in a third namespace.
func TestFreeRADIUSProxyAcrossNamespaces(t *testing.T) {
	netns.Require(t, freeradius.Binary)
	ha, msp, msa := netns.New(t, "ha"), netns.New(t, "msp"), netns.New(t, "msa")
	netns.Link(t, ha, "ha0", msp, "msp0")
	netns.Link(t, msp, "msp1", msa, "msa0")
	ha.AddAddr(t, "ha0", "2001:db8:a::1/64")
	msp.AddAddr(t, "msp0", "2001:db8:a::2/64")
	msp.AddAddr(t, "msp1", "2001:db8:b::1/64")
	msa.AddAddr(t, "msa0", "2001:db8:b::2/64")
	home := freeradius.Start(t, freeradius.Config{NS: msa, Listen: "2001:db8:b::2", Secret: "msa-secret",
		Users: []freeradius.User{{Name: "carol@msa.example", Password: "carol-secret"}}})
	serving := freeradius.Start(t, freeradius.Config{NS: msp, Listen: "2001:db8:a::2", Secret: "msp-secret",
		Realms: []freeradius.Realm{{Name: "msa.example", Server: home}}})

	a := &aaa.EAPAuthenticator{Client: client(serving, "msp-secret")}
	peer := eap.NewPeer("carol@msa.example", eap.NewMSCHAPv2("carol@msa.example", "carol-secret"))
	var out eap.Outcome
	err := ha.Do(func() error {
		var err error
		out, err = converseNoT(a, peer)
		return err
	})
	if err != nil || !out.Accepted || !bytes.Equal(out.MSK, peer.MSK()) || out.UserName != "carol@msa.example" {
		t.Fatalf("err %v, outcome %+v", err, out)
	}
	if len(home.TranscriptLines("from [2001:db8:b::1]")) == 0 {
		t.Fatal("the authorizer's server saw no request from the serving provider's")
	}
}
