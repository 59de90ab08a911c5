package dataplane

import (
	"fmt"
	"net/netip"

	"golang.zx2c4.com/wireguard/tun"
)

// TUN is the tunnel device. golang.zx2c4.com/wireguard/tun.Device satisfies
// it: Read may split one offloaded TCP super-packet into many packets and
// Write may coalesce many into one (GSO/GRO), which is most of the speed.
type TUN interface {
	// Read fills bufs[i][offset:offset+sizes[i]] and returns the count.
	Read(bufs [][]byte, sizes []int, offset int) (int, error)
	// Write writes bufs[i][offset:]; offset leaves room for a virtio-net
	// header, and spare capacity behind a packet lets GRO coalesce into it.
	Write(bufs [][]byte, offset int) (int, error)
	BatchSize() int
	Close() error
}

// CreateTUN creates a TUN device with offloads where the kernel has them
// (call it inside the right namespace, e.g. from netns.NS.Do).
func CreateTUN(name string, mtu int) (TUN, error) {
	d, err := tun.CreateTUN(name, mtu)
	if err != nil {
		return nil, fmt.Errorf("dataplane: create TUN %s: %w", name, err)
	}
	return d, nil
}

// Datagram is one UDP datagram of a batch: on read the bind trims Buf to
// the datagram and sets Addr to its source; on write Buf is sent to Addr,
// from source address Src when Src is valid (the SA's care-of address:
// a mobile node may hold several) and as the kernel chooses otherwise.
type Datagram struct {
	Buf  []byte
	Addr netip.AddrPort
	Src  netip.Addr
}

// Bind is the UDP (RFC 3948) side.
type Bind interface {
	ReadBatch(ds []Datagram) (int, error)
	WriteBatch(ds []Datagram) (int, error)
	BatchSize() int
	Close() error
}
