package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"mip6/dataplane"
	"mip6/ike"
	"mip6/internal/node"
)

// ikeTransport carries the mobile node's IKE (a bootstrap.Transport): port
// 500 on a host socket (raw ESP asked: IKE starts there), port 4500 on the
// data plane's UDP bind, where IKE travels behind the non-ESP marker next
// to ESP (RFC 3948). IKE starts on 4500 when UDP encapsulation is asked
// (RFC 7296 §2.23 allows it), or floats there when IKE finds a NAT. The
// bind is read here until the plane takes it over (handOver); from then
// on the plane hands IKE on 4500 to the endpoint.
type ikeTransport struct {
	c500 *node.HostConn // nil: IKE only on 4500
	bind *dataplane.UDPBind
	coa  netip.Addr // the care-of address IKE runs from

	wg      sync.WaitGroup // the port 500 reader
	mu      sync.Mutex
	reading chan struct{} // closed when the bind's reader stopped; nil: not reading
}

// openIKETransport opens the sockets: the UDP bind on 4500 always (it
// becomes the plane's), port 500 only when IKE starts there.
func openIKETransport(coa netip.Addr, port500 bool) (*ikeTransport, error) {
	bind, err := dataplane.ListenUDP(netip.AddrPortFrom(netip.IPv6Unspecified(), ike.PortNATT), 0)
	if err != nil {
		return nil, fmt.Errorf("UDP port %d for IKE and ESP: %w", ike.PortNATT, err)
	}
	t := &ikeTransport{bind: bind, coa: coa}
	if port500 {
		if t.c500, err = node.ListenHost(ike.PortIKE); err != nil {
			bind.Close()
			return nil, fmt.Errorf("UDP port %d for IKE: %w", ike.PortIKE, err)
		}
	}
	return t, nil
}

// WriteTo sends from local's address on the socket of local's port.
func (t *ikeTransport) WriteTo(b []byte, local, remote netip.AddrPort) error {
	if local.Port() == ike.PortNATT {
		_, err := t.bind.WriteBatch([]dataplane.Datagram{{Buf: b, Addr: remote, Src: local.Addr()}})
		return err
	}
	if t.c500 == nil {
		return fmt.Errorf("no IKE socket on port %d", local.Port())
	}
	_, err := t.c500.WriteFrom(b, local.Addr(), remote)
	return err
}

// Serve reads both sockets in goroutines.
func (t *ikeTransport) Serve(recv func(local, remote netip.AddrPort, b []byte)) {
	if t.c500 != nil {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			buf := make([]byte, 65536)
			for {
				n, from, to, err := t.c500.ReadFromTo(buf)
				if errors.Is(err, net.ErrClosed) {
					return
				}
				if err != nil {
					continue // ICMP errors surface as read errors
				}
				recv(netip.AddrPortFrom(to, ike.PortIKE), from, buf[:n])
			}
		}()
	}
	done := make(chan struct{})
	t.mu.Lock()
	t.reading = done
	t.mu.Unlock()
	go t.read4500(recv, done)
}

// read4500 reads the bind until handOver or Close; only IKE (non-ESP
// marker) is taken: no tunnel is up before the plane runs.
func (t *ikeTransport) read4500(recv func(local, remote netip.AddrPort, b []byte), done chan struct{}) {
	defer close(done)
	buf := make([]byte, 65536)
	ds := []dataplane.Datagram{{}}
	for {
		ds[0] = dataplane.Datagram{Buf: buf}
		n, err := t.bind.ReadBatch(ds)
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil || n == 0 {
			continue
		}
		if d := ds[0].Buf; len(d) > 4 && d[0]|d[1]|d[2]|d[3] == 0 {
			recv(netip.AddrPortFrom(t.coa, ike.PortNATT), ds[0].Addr, d)
		}
	}
}

// handOver stops reading the bind: the data plane reads it from now on.
func (t *ikeTransport) handOver() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.reading == nil {
		return
	}
	t.bind.SetReadDeadline(time.Now())
	<-t.reading
	t.reading = nil
	t.bind.SetReadDeadline(time.Time{})
}

// Close closes the sockets (the bind too, unless a plane closed it).
func (t *ikeTransport) Close() error {
	var err error
	if t.c500 != nil {
		err = t.c500.Close()
	}
	t.bind.Close()
	t.wg.Wait()
	t.mu.Lock()
	if t.reading != nil {
		<-t.reading
	}
	t.mu.Unlock()
	return err
}
