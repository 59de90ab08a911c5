package discovery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/icmp"
	xipv6 "golang.org/x/net/ipv6"

	"mip6/wire/ipv6"
)

// RFC 6275 §12 protocol constants.
const (
	InitialDHAADTimeout = 3 * time.Second
	DHAADRetries        = 4
)

// HomeAgentsAnycast is the Mobile IPv6 Home-Agents anycast address of
// prefix (RFC 2526, anycast ID 0x7e): interface identifier
// fdff:ffff:ffff:fffe for a /64, otherwise the prefix's highest address
// with its low 7 bits 0x7e. Prefixes longer than /121 have none.
func HomeAgentsAnycast(prefix netip.Prefix) (netip.Addr, bool) {
	if !prefix.IsValid() || !prefix.Addr().Is6() || prefix.Bits() > 121 {
		return netip.Addr{}, false
	}
	b := prefix.Masked().Addr().As16()
	if prefix.Bits() == 64 {
		copy(b[8:], []byte{0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe})
		return netip.AddrFrom16(b), true
	}
	for i := prefix.Bits(); i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	b[15] &^= 0x01
	return netip.AddrFrom16(b), true
}

// ICMPConn carries ICMPv6 messages (the bytes after the IPv6 header).
type ICMPConn interface {
	WriteTo(msg []byte, dst netip.Addr) error
	ReadFrom(buf []byte) (n int, src netip.Addr, err error)
	SetReadDeadline(t time.Time) error
	// LocalAddr is the source address (the care-of address); its value
	// enters the checksum. Unspecified lets the kernel choose and sum.
	LocalAddr() netip.Addr
}

// DHAADClient runs Dynamic Home Agent Address Discovery (RFC 6275
// §11.4.1) over Conn.
type DHAADClient struct {
	Conn ICMPConn
	// Timeout is the first retransmission timeout, doubled after each
	// request (default InitialDHAADTimeout).
	Timeout time.Duration
	// Retries is the number of retransmissions (default DHAADRetries;
	// negative: none).
	Retries int
}

// DHAADError: no usable reply.
type DHAADError struct {
	Prefix   netip.Prefix
	Anycast  netip.Addr
	Requests int
	Reason   string
	Err      error
}

func (e *DHAADError) Error() string {
	s := fmt.Sprintf("discovery: DHAAD for home prefix %v (Home-Agents anycast %v): %s", e.Prefix, e.Anycast, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DHAADError) Unwrap() error { return e.Err }

// Discover sends Home Agent Address Discovery Requests to prefix's
// Home-Agents anycast address and returns the first matching reply's home
// agent list, in the reply's (preference) order.
func (c *DHAADClient) Discover(ctx context.Context, prefix netip.Prefix) ([]netip.Addr, error) {
	anycast, ok := HomeAgentsAnycast(prefix)
	if !ok {
		return nil, &DHAADError{Prefix: prefix, Reason: "prefix too long for a Home-Agents anycast address (RFC 2526)"}
	}
	timeout, retries := c.Timeout, c.Retries
	if timeout <= 0 {
		timeout = InitialDHAADTimeout
	}
	if retries == 0 {
		retries = DHAADRetries
	}
	stop := context.AfterFunc(ctx, func() { c.Conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	req := ipv6.DHAADRequest{Identifier: uint16(rand.N(1 << 16))}
	msg := req.Append(nil, c.Conn.LocalAddr(), anycast)
	buf := make([]byte, 1500)
	sent := 0
	var reason string
	for try := 0; try <= max(retries, 0); try++ {
		if err := c.Conn.WriteTo(msg, anycast); err != nil {
			return nil, &DHAADError{Prefix: prefix, Anycast: anycast, Requests: sent, Reason: "sending the request failed", Err: err}
		}
		sent++
		addrs, why, err := c.await(ctx, buf, req.Identifier, time.Now().Add(timeout))
		if err != nil || len(addrs) > 0 {
			return addrs, err
		}
		if why != "" {
			reason = why
		}
		timeout *= 2
	}
	if reason == "" {
		reason = fmt.Sprintf("no Home Agent Address Discovery Reply to %d requests", sent)
	}
	return nil, &DHAADError{Prefix: prefix, Anycast: anycast, Requests: sent, Reason: reason}
}

// await reads until deadline for a reply with identifier id. It returns
// the usable addresses, or why a matching reply was useless.
func (c *DHAADClient) await(ctx context.Context, buf []byte, id uint16, deadline time.Time) ([]netip.Addr, string, error) {
	var why string
	for {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		if err := c.Conn.SetReadDeadline(deadline); err != nil {
			return nil, "", err
		}
		n, src, err := c.Conn.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if ctx.Err() != nil {
				return nil, "", ctx.Err()
			}
			return nil, why, nil
		}
		if err != nil {
			return nil, "", err
		}
		if local := c.Conn.LocalAddr(); local.IsValid() && !local.IsUnspecified() && ipv6.VerifyICMPv6(src, local, buf[:n]) != nil {
			continue
		}
		rep, err := ipv6.ParseDHAADReply(buf[:n])
		if err != nil || rep.Identifier != id {
			continue
		}
		var addrs []netip.Addr
		for i := range rep.HomeAgentAddresses.Len() {
			if a := rep.HomeAgentAddresses.At(i); usable(a) == "" {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) > 0 {
			return addrs, "", nil
		}
		why = fmt.Sprintf("reply from %v lists no usable home agent address (%d listed)", src, rep.HomeAgentAddresses.Len())
	}
}

// RawICMP is an ICMPConn on a raw ICMPv6 socket.
type RawICMP struct {
	pc    *icmp.PacketConn
	local netip.Addr
}

// ListenICMPv6 opens a raw ICMPv6 socket bound to local (the care-of
// address; needs CAP_NET_RAW) that receives only DHAAD replies.
func ListenICMPv6(local netip.Addr) (*RawICMP, error) {
	pc, err := icmp.ListenPacket("ip6:ipv6-icmp", local.String())
	if err != nil {
		return nil, fmt.Errorf("discovery: DHAAD socket on %v: %w", local, err)
	}
	var f xipv6.ICMPFilter
	f.SetAll(true)
	f.Accept(xipv6.ICMPType(ipv6.ICMPv6DHAADReply))
	if err := pc.IPv6PacketConn().SetICMPFilter(&f); err != nil {
		pc.Close()
		return nil, fmt.Errorf("discovery: DHAAD socket filter: %w", err)
	}
	return &RawICMP{pc: pc, local: local}, nil
}

func (r *RawICMP) WriteTo(msg []byte, dst netip.Addr) error {
	_, err := r.pc.WriteTo(msg, &net.IPAddr{IP: dst.AsSlice(), Zone: dst.Zone()})
	return err
}

func (r *RawICMP) ReadFrom(buf []byte) (int, netip.Addr, error) {
	n, a, err := r.pc.ReadFrom(buf)
	if err != nil {
		return 0, netip.Addr{}, err
	}
	var src netip.Addr
	if ip, ok := a.(*net.IPAddr); ok {
		src, _ = netip.AddrFromSlice(ip.IP)
	}
	return n, src, nil
}

func (r *RawICMP) SetReadDeadline(t time.Time) error { return r.pc.SetReadDeadline(t) }
func (r *RawICMP) LocalAddr() netip.Addr             { return r.local }

// Close closes the socket.
func (r *RawICMP) Close() error { return r.pc.Close() }
