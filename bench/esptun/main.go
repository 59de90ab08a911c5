// Command esptun runs mip6's ESP data plane as a plain point-to-point
// tunnel with static keys, for benchmarks: it creates a TUN device, binds
// UDP 4500 and installs one tunnel-mode SA pair. Run it inside the
// namespace it should serve (ip netns exec ...); it prints the data
// plane's counters when it receives SIGINT or SIGTERM.
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"

	"mip6/dataplane"
	"mip6/esp"
	"mip6/ipsec"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "esptun:", err)
		os.Exit(1)
	}
}

type flags struct {
	dev, listen, local, remote, lts, rts, alg, spiOut, spiIn, keyOut, keyIn string
	mtu, workers                                                            int
	cpuprofile                                                              string
}

func parseFlags() flags {
	var f flags
	flag.StringVar(&f.dev, "tun", "mip6t", "TUN device name")
	flag.IntVar(&f.mtu, "mtu", 1416, "TUN MTU (1416 + 84 bytes of IPv6, UDP and AES-GCM ESP = 1500)")
	flag.IntVar(&f.workers, "workers", 0, "crypto workers per direction (0: all cores)")
	flag.StringVar(&f.listen, "listen", "[::]:4500", "UDP address to bind")
	flag.StringVar(&f.local, "local", "", "local outer endpoint, [addr]:port")
	flag.StringVar(&f.remote, "remote", "", "remote outer endpoint, [addr]:port")
	flag.StringVar(&f.lts, "local-ts", "", "local inner prefix")
	flag.StringVar(&f.rts, "remote-ts", "", "remote inner prefix")
	flag.StringVar(&f.alg, "alg", "aes128gcm16", "aes128gcm16, aes256gcm16, chacha20poly1305, aes128-sha256")
	flag.StringVar(&f.spiOut, "spi-out", "", "outbound SPI (hex)")
	flag.StringVar(&f.spiIn, "spi-in", "", "inbound SPI (hex)")
	flag.StringVar(&f.keyOut, "key-out", "", "outbound KEYMAT (hex)")
	flag.StringVar(&f.keyIn, "key-in", "", "inbound KEYMAT (hex)")
	flag.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	return f
}

var transforms = map[string]esp.Transform{
	"aes128gcm16": esp.AESGCM128, "aes256gcm16": esp.AESGCM256,
	"chacha20poly1305": esp.ChaCha20Poly1305, "aes128-sha256": esp.AESCBC128SHA256,
}

func tunnelSA(f flags) (dataplane.TunnelSA, error) {
	var t dataplane.TunnelSA
	tf, ok := transforms[f.alg]
	if !ok {
		return t, fmt.Errorf("unknown -alg %q", f.alg)
	}
	t.Transform = tf
	var err error
	parsers := []func() error{
		func() (e error) { t.Local, e = netip.ParseAddrPort(f.local); return },
		func() (e error) { t.Remote, e = netip.ParseAddrPort(f.remote); return },
		func() (e error) { t.LocalTS, e = netip.ParsePrefix(f.lts); return },
		func() (e error) { t.RemoteTS, e = netip.ParsePrefix(f.rts); return },
		func() (e error) { t.SPIOut, e = parseSPI(f.spiOut); return },
		func() (e error) { t.SPIIn, e = parseSPI(f.spiIn); return },
		func() (e error) { t.KeyOut, e = hex.DecodeString(f.keyOut); return },
		func() (e error) { t.KeyIn, e = hex.DecodeString(f.keyIn); return },
	}
	for _, p := range parsers {
		if err = p(); err != nil {
			return t, err
		}
	}
	return t, nil
}

func parseSPI(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 16, 32)
	return uint32(v), err
}

func run() error {
	f := parseFlags()
	t, err := tunnelSA(f)
	if err != nil {
		return err
	}
	dev, err := dataplane.CreateTUN(f.dev, f.mtu)
	if err != nil {
		return err
	}
	listen, err := netip.ParseAddrPort(f.listen)
	if err != nil {
		return err
	}
	bind, err := dataplane.ListenUDP(listen, 0)
	if err != nil {
		return err
	}
	p, err := dataplane.New(dataplane.Config{TUN: dev, Bind: bind, SPD: ipsec.NewSPD(), SAD: ipsec.NewSAD(), Workers: f.workers})
	if err != nil {
		return err
	}
	if _, err := p.InstallTunnel(t); err != nil {
		p.Close()
		return err
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}
	fmt.Println("esptun: ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	fmt.Println("esptun:", p.Stats())
	return p.Close()
}
