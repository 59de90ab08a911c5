package hostnet

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ethtoolSTXCSUM sets a device's transmit checksum offload (linux/ethtool.h).
const ethtoolSTXCSUM = 0x17

type ethtoolValue struct{ cmd, data uint32 }

// ifreqData is struct ifreq with its union holding a pointer.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data uintptr
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

// disableTxChecksumOffload makes dev compute checksums in software, so a
// capture on it shows the checksums the peer receives instead of the
// partial ones offloading leaves (veth passes CHECKSUM_PARTIAL along).
// It runs in the calling thread's namespace.
func disableTxChecksumOffload(dev string) error {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	v := ethtoolValue{cmd: ethtoolSTXCSUM}
	var ifr ifreqData
	copy(ifr.name[:], dev)
	ifr.data = uintptr(unsafe.Pointer(&v))
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
		return fmt.Errorf("ethtool tx-checksumming off on %s: %w", dev, errno)
	}
	return nil
}
