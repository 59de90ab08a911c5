package bootstrap

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"mip6/ike"
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

// SignallingError says the home agent would not give the transport-mode
// signalling SA that the RFC 3776 wire form needs.
type SignallingError struct {
	HomeAgent netip.Addr
	Reason    string
}

func (e *SignallingError) Error() string {
	return fmt.Sprintf("bootstrap: home agent %s: no transport-mode CHILD_SA for Binding Updates (RFC 3776 wire form): %s; "+
		"allow the transport form at the home agent or use the tunnelled form", e.HomeAgent, e.Reason)
}

// createSignalling negotiates the signalling CHILD_SA on the IKE SA that
// bootstrapping just made; events carries the engine's CHILD_SA events for
// that SA.
func createSignalling(ctx context.Context, cfg *Config, res *Result, events <-chan ike.Event) error {
	spi := res.IKESA.LocalSPI()
	child := SignallingChild(true)
	child.RekeyTime = cfg.ChildRekeyTime
	if err := res.Endpoint.CreateChildSA(spi, &child); err != nil {
		return &SignallingError{HomeAgent: res.HomeAgent.Addr, Reason: err.Error()}
	}
	timer := time.NewTimer(cfg.attemptTimeout())
	defer timer.Stop()
	for {
		select {
		case ev := <-events:
			switch {
			case ev.Kind == ike.EventFailed:
				return &SignallingError{HomeAgent: res.HomeAgent.Addr, Reason: fmt.Sprint(ev.Err)}
			case ev.Kind != ike.EventChildEstablished || ev.Child == nil || ev.Child.Name != SignallingChildName:
				continue
			case !ev.Child.Transport:
				// RFC 7296 §1.3.1: a responder may ignore USE_TRANSPORT_MODE;
				// a tunnel-mode SA with MH selectors is not the RFC 3776 form.
				res.Endpoint.DeleteChildSA(spi, ev.Child.InboundSPI)
				return &SignallingError{HomeAgent: res.HomeAgent.Addr, Reason: "it answered with tunnel mode"}
			}
			res.Signalling = ev.Child
			return nil
		case <-timer.C:
			return &SignallingError{HomeAgent: res.HomeAgent.Addr, Reason: fmt.Sprintf("no answer within %v", cfg.attemptTimeout())}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
