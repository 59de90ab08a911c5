package hostnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/tun"
)

// tunOffset is the headroom wireguard's TUN needs in front of each packet
// for its virtio-net header.
const tunOffset = 16

// maxReadFailures ends a read loop whose device keeps failing.
const maxReadFailures = 100

// maxPacket bounds one IPv6 packet read from or written to the TUN.
const maxPacket = 65535

// TUN is a layer-3 TUN device carrying whole IPv6 packets.
type TUN struct {
	dev   tun.Device
	name  string
	index int
	nl    *netlink.Handle

	wmu  sync.Mutex
	wbuf []byte
}

// OpenTUN creates the TUN device name with the given MTU, sets it up and
// disables IPv6 duplicate address detection on it. nl is a netlink handle
// in the same namespace.
func OpenTUN(nl *netlink.Handle, name string, mtu int) (*TUN, error) {
	if mtu < 1280 {
		return nil, fmt.Errorf("hostnet: TUN %s: MTU %d below the IPv6 minimum 1280", name, mtu)
	}
	dev, err := tun.CreateTUN(name, mtu)
	if err != nil {
		return nil, fmt.Errorf("hostnet: create TUN %s: %w", name, err)
	}
	t := &TUN{dev: dev, name: name, nl: nl, wbuf: make([]byte, tunOffset+maxPacket)}
	if err := t.setUp(); err != nil {
		dev.Close()
		return nil, err
	}
	return t, nil
}

func (t *TUN) setUp() error {
	if err := writeSysctl("net/ipv6/conf/"+t.name+"/accept_dad", "0"); err != nil {
		return err
	}
	l, err := t.nl.LinkByName(t.name)
	if err != nil {
		return fmt.Errorf("hostnet: TUN %s: %w", t.name, err)
	}
	t.index = l.Attrs().Index
	if err := t.nl.LinkSetUp(l); err != nil {
		return fmt.Errorf("hostnet: set %s up: %w", t.name, err)
	}
	return nil
}

// Device is the wireguard TUN device, for a data plane to read and write
// in batches (then ReadLoop must not run).
func (t *TUN) Device() tun.Device { return t.dev }

// Name is the device's interface name.
func (t *TUN) Name() string { return t.name }

// Index is the device's interface index.
func (t *TUN) Index() int { return t.index }

// AddAddress puts addr/bits on the device without DAD.
func (t *TUN) AddAddress(p netip.Prefix) error {
	return addAddress(t.nl, t.index, p)
}

// Write sends one IPv6 packet into the kernel as if it arrived on the TUN.
func (t *TUN) Write(pkt []byte) error {
	if len(pkt) > maxPacket {
		return fmt.Errorf("hostnet: %s: packet of %d bytes too long", t.name, len(pkt))
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	n := copy(t.wbuf[tunOffset:], pkt)
	_, err := t.dev.Write([][]byte{t.wbuf[:tunOffset+n]}, tunOffset)
	return err
}

// ReadLoop hands every packet the kernel routes into the TUN to f, until the
// device is closed. The slice is only valid during the call.
func (t *TUN) ReadLoop(f func(pkt []byte)) error {
	// The kernel hands the TUN packets up to its MTU, or GSO batches that
	// wireguard splits into MTU-sized segments: only the first buffer needs
	// room for a whole datagram.
	batch := t.dev.BatchSize()
	mtu, err := t.dev.MTU()
	if err != nil || mtu <= 0 || mtu > maxPacket {
		mtu = maxPacket
	}
	bufs := make([][]byte, batch)
	for i := range bufs {
		size := tunOffset + mtu
		if i == 0 {
			size = tunOffset + maxPacket
		}
		bufs[i] = make([]byte, size)
	}
	sizes := make([]int, batch)
	failures := 0
	for {
		n, err := t.dev.Read(bufs, sizes, tunOffset)
		if err != nil {
			if errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// A malformed GSO frame fails one read; a broken device fails
			// every read.
			if failures++; failures < maxReadFailures {
				continue
			}
			return fmt.Errorf("hostnet: read %s: %d failures in a row, last: %w", t.name, failures, err)
		}
		failures = 0
		for i := range n {
			f(bufs[i][tunOffset : tunOffset+sizes[i]])
		}
	}
}

// Close removes the device (with its addresses and routes).
func (t *TUN) Close() error { return t.dev.Close() }

// addAddress adds p to link index without DAD.
func addAddress(nl *netlink.Handle, index int, p netip.Prefix) error {
	l, err := nl.LinkByIndex(index)
	if err != nil {
		return fmt.Errorf("hostnet: link %d: %w", index, err)
	}
	a := &netlink.Addr{IPNet: ipNet(p), Flags: unix.IFA_F_NODAD}
	if err := nl.AddrReplace(l, a); err != nil {
		return fmt.Errorf("hostnet: add %s to %s: %w", p, l.Attrs().Name, err)
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// writeSysctl sets a sysctl of the calling thread's network namespace.
func writeSysctl(path, value string) error {
	if err := os.WriteFile("/proc/sys/"+path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("hostnet: sysctl %s=%s: %w", strings.ReplaceAll(path, "/", "."), value, err)
	}
	return nil
}
