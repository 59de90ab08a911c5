package aaa

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc6911"
)

// Session describes one binding for RADIUS accounting (RFC 2866): the HA
// sends Start when the binding is created, Interim-Update while it lives,
// Stop when it ends.
type Session struct {
	ID          string     // Acct-Session-Id, unique per binding
	UserName    string     // the authenticated identity
	HomeAddress netip.Addr // Framed-IPv6-Address (RFC 6911)
	CareOf      netip.Addr // Calling-Station-Id, when known
	Started     time.Time  // for Acct-Session-Time

	// Counters of traffic through the binding, from the MN's point of view
	// at the HA: input is what the MN sent.
	InputOctets, OutputOctets   uint64
	InputPackets, OutputPackets uint32
}

// TerminateCause is Acct-Terminate-Cause (RFC 2866 §5.10).
type TerminateCause uint32

// Causes the HA reports.
const (
	CauseUserRequest    TerminateCause = 1  // deregistration (lifetime 0)
	CauseIdleTimeout    TerminateCause = 4  // binding lifetime expired
	CauseSessionTimeout TerminateCause = 5  // IKE SA lifetime ended
	CauseAdminReset     TerminateCause = 6  // operator removed it
	CauseNASRequest     TerminateCause = 10 // HA shutting down
)

// AccountingStart reports a new binding.
func (c *Client) AccountingStart(ctx context.Context, s *Session, now time.Time) error {
	return c.account(ctx, rfc2866.AcctStatusType_Value_Start, s, now, 0)
}

// AccountingInterim reports a binding's progress (refresh, counters).
func (c *Client) AccountingInterim(ctx context.Context, s *Session, now time.Time) error {
	return c.account(ctx, rfc2866.AcctStatusType_Value_InterimUpdate, s, now, 0)
}

// AccountingStop reports the end of a binding.
func (c *Client) AccountingStop(ctx context.Context, s *Session, now time.Time, cause TerminateCause) error {
	return c.account(ctx, rfc2866.AcctStatusType_Value_Stop, s, now, cause)
}

func (c *Client) account(ctx context.Context, status rfc2866.AcctStatusType, s *Session, now time.Time, cause TerminateCause) error {
	if s.ID == "" {
		return fmt.Errorf("aaa: accounting: empty Acct-Session-Id")
	}
	p := radius.New(radius.CodeAccountingRequest, nil)
	rfc2866.AcctStatusType_Set(p, status)
	rfc2866.AcctSessionID_SetString(p, s.ID)
	if s.UserName != "" {
		rfc2865.UserName_SetString(p, s.UserName)
	}
	rfc2865.NASIdentifier_SetString(p, c.nasID())
	rfc2865.ServiceType_Set(p, rfc2865.ServiceType_Value_FramedUser)
	if s.HomeAddress.IsValid() {
		rfc6911.FramedIPv6Address_Set(p, s.HomeAddress.AsSlice())
	}
	if s.CareOf.IsValid() {
		rfc2865.CallingStationID_SetString(p, s.CareOf.String())
	}
	rfc2869.EventTimestamp_Set(p, now)
	if status != rfc2866.AcctStatusType_Value_Start {
		if !s.Started.IsZero() && now.After(s.Started) {
			rfc2866.AcctSessionTime_Set(p, rfc2866.AcctSessionTime(now.Sub(s.Started)/time.Second))
		}
		rfc2866.AcctInputOctets_Set(p, rfc2866.AcctInputOctets(uint32(s.InputOctets)))
		rfc2866.AcctOutputOctets_Set(p, rfc2866.AcctOutputOctets(uint32(s.OutputOctets)))
		rfc2869.AcctInputGigawords_Set(p, rfc2869.AcctInputGigawords(uint32(s.InputOctets>>32)))
		rfc2869.AcctOutputGigawords_Set(p, rfc2869.AcctOutputGigawords(uint32(s.OutputOctets>>32)))
		rfc2866.AcctInputPackets_Set(p, rfc2866.AcctInputPackets(s.InputPackets))
		rfc2866.AcctOutputPackets_Set(p, rfc2866.AcctOutputPackets(s.OutputPackets))
	}
	if status == rfc2866.AcctStatusType_Value_Stop && cause != 0 {
		rfc2866.AcctTerminateCause_Set(p, rfc2866.AcctTerminateCause(cause))
	}
	_, _, err := c.Exchange(ctx, p)
	return err
}

// AccountingOn tells the servers this home agent (NAS-Identifier) started
// afresh: sessions it reported before are over (RFC 2866 §5.1).
func (c *Client) AccountingOn(ctx context.Context, now time.Time) error {
	return c.nasAccounting(ctx, rfc2866.AcctStatusType_Value_AccountingOn, now)
}

// AccountingOff tells the servers this home agent is shutting down.
func (c *Client) AccountingOff(ctx context.Context, now time.Time) error {
	return c.nasAccounting(ctx, rfc2866.AcctStatusType_Value_AccountingOff, now)
}

func (c *Client) nasAccounting(ctx context.Context, status rfc2866.AcctStatusType, now time.Time) error {
	p := radius.New(radius.CodeAccountingRequest, nil)
	rfc2866.AcctStatusType_Set(p, status)
	rfc2866.AcctSessionID_SetString(p, c.nasID()+"-"+status.String())
	rfc2865.NASIdentifier_SetString(p, c.nasID())
	rfc2869.EventTimestamp_Set(p, now)
	_, _, err := c.Exchange(ctx, p)
	return err
}
