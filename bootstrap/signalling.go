package bootstrap

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"mip6/ike"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// SignallingChildName names the transport-mode CHILD_SA that carries
// Binding Updates and Acknowledgements in the RFC 3776 form.
const SignallingChildName = "signalling"

// SignallingChild is the RFC 4877 §7.2.1 SPD entry as a CHILD_SA config:
// ESP transport mode for MH Binding Updates from the home address to the
// home agent and Binding Acknowledgements back. The addresses are left
// dynamic: the engine puts the assigned home address and the home
// agent's IKE address in them. initiator says which side's view.
//
//	mobile node: local = home address, MH type BU; remote = home agent, MH type BAck
//	home agent:  local = home agent, MH type BAck;  remote = home address, MH type BU
func SignallingChild(initiator bool) ike.ChildConfig {
	bu := ike.MHSelector(netip.IPv6Unspecified(), uint8(mh.TypeBindingUpdate), uint8(mh.TypeBindingUpdate))
	ba := ike.MHSelector(netip.IPv6Unspecified(), uint8(mh.TypeBindingAck), uint8(mh.TypeBindingAck))
	if initiator {
		return ike.ChildConfig{Name: SignallingChildName, Transport: true, LocalTS: []ike.Selector{bu}, RemoteTS: []ike.Selector{ba}}
	}
	return ike.ChildConfig{Name: SignallingChildName, Transport: true, LocalTS: []ike.Selector{ba}, RemoteTS: []ike.Selector{bu}}
}

// PrefixDiscoveryChildName names the transport-mode CHILD_SA that carries
// Mobile Prefix Solicitations and Advertisements in the RFC 3776 form.
const PrefixDiscoveryChildName = "prefix-discovery"

// PrefixDiscoveryChild is the RFC 4877 §7.2.3 SPD entry as a CHILD_SA
// config: ESP transport mode for ICMPv6 Mobile Prefix Solicitations (146)
// from the home address to the home agent and Advertisements (147) back.
// Addresses are dynamic, as in SignallingChild.
//
//	mobile node: local = home address, ICMPv6 type MPS; remote = home agent, ICMPv6 type MPA
//	home agent:  local = home agent, ICMPv6 type MPA;  remote = home address, ICMPv6 type MPS
func PrefixDiscoveryChild(initiator bool) ike.ChildConfig {
	mps := ike.ICMPv6Selector(netip.IPv6Unspecified(), ipv6.ICMPv6MobilePrefixSol)
	mpa := ike.ICMPv6Selector(netip.IPv6Unspecified(), ipv6.ICMPv6MobilePrefixAdvert)
	if initiator {
		return ike.ChildConfig{Name: PrefixDiscoveryChildName, Transport: true, LocalTS: []ike.Selector{mps}, RemoteTS: []ike.Selector{mpa}}
	}
	return ike.ChildConfig{Name: PrefixDiscoveryChildName, Transport: true, LocalTS: []ike.Selector{mpa}, RemoteTS: []ike.Selector{mps}}
}

// SignallingError says the home agent would not give a transport-mode SA
// that the RFC 3776 wire form needs; Child names which
// (SignallingChildName or PrefixDiscoveryChildName).
type SignallingError struct {
	HomeAgent netip.Addr
	Child     string
	Reason    string
	Err       error // the IKE failure behind it, if any
}

func (e *SignallingError) Unwrap() error { return e.Err }

func (e *SignallingError) Error() string {
	what := "Binding Updates"
	if e.Child == PrefixDiscoveryChildName {
		what = "Mobile Prefix Solicitations"
	}
	return fmt.Sprintf("bootstrap: home agent %s: no transport-mode CHILD_SA for %s (RFC 3776 wire form): %s; "+
		"allow the transport form at the home agent or use the tunnelled form", e.HomeAgent, what, e.Reason)
}

// createSignalling negotiates the transport-mode CHILD_SAs of the RFC 3776
// form on the IKE SA that bootstrapping just made, one after the other:
// BU/BA (Result.Signalling), then MPS/MPA (Result.PrefixDiscovery).
// events carries the engine's CHILD_SA events for that SA.
func createSignalling(ctx context.Context, cfg *Config, res *Result, events <-chan ike.Event) error {
	sig, err := createTransportChild(ctx, cfg, res, events, SignallingChild(true))
	if err != nil {
		return err
	}
	res.Signalling = sig
	pd, err := createTransportChild(ctx, cfg, res, events, PrefixDiscoveryChild(true))
	if err != nil {
		return err
	}
	res.PrefixDiscovery = pd
	return nil
}

// createTransportChild asks for one transport-mode CHILD_SA and waits for
// it; anything else (tunnel mode, a failure, silence) is a
// *SignallingError.
func createTransportChild(ctx context.Context, cfg *Config, res *Result, events <-chan ike.Event, child ike.ChildConfig) (*ike.ChildSA, error) {
	spi := res.IKESA.LocalSPI()
	child.RekeyTime = cfg.ChildRekeyTime
	fail := func(reason string) *SignallingError {
		return &SignallingError{HomeAgent: res.HomeAgent.Addr, Child: child.Name, Reason: reason}
	}
	if err := res.Endpoint.CreateChildSA(spi, &child); err != nil {
		return nil, fail(err.Error())
	}
	timer := time.NewTimer(cfg.attemptTimeout())
	defer timer.Stop()
	for {
		select {
		case ev := <-events:
			switch {
			case ev.Kind == ike.EventFailed:
				e := fail(fmt.Sprint(ev.Err))
				e.Err = ev.Err
				return nil, e
			case ev.Kind == ike.EventIKEDeleted:
				return nil, fail("the IKE SA was deleted meanwhile")
			case ev.Kind != ike.EventChildEstablished || ev.Child == nil || ev.Child.Name != child.Name:
				continue
			case !ev.Child.Transport:
				// RFC 7296 §1.3.1: a responder may ignore USE_TRANSPORT_MODE;
				// a tunnel-mode SA with these selectors is not the RFC 3776 form.
				res.Endpoint.DeleteChildSA(spi, ev.Child.InboundSPI)
				return nil, fail("it answered with tunnel mode")
			}
			return ev.Child, nil
		case <-timer.C:
			return nil, fail(fmt.Sprintf("no answer within %v", cfg.attemptTimeout()))
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
