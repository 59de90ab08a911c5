package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"mip6/internal/demo"
)

// runDemo runs HA, MN, correspondent and DNS on the in-process lab network.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pcapDir := fs.String("pcap", "", "write one pcap file per lab link into `DIR`")
	keys := fs.String("keys", "", "write IKE and ESP keys to `FILE` (Wireshark ikev2_decryption_table / esp_sa rows)")
	pings := fs.Int("pings", 3, "echo requests from the correspondent per phase")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opt := demo.Options{Out: stdout, PcapDir: *pcapDir, Pings: *pings}
	if *keys != "" {
		f, err := os.OpenFile(*keys, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			fmt.Fprintln(stderr, "mip6 demo: --keys:", err)
			return 1
		}
		defer f.Close()
		opt.KeyLog = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := demo.Run(ctx, opt); err != nil {
		fmt.Fprintln(stderr, "mip6 demo:", err)
		return 1
	}
	if *pcapDir != "" {
		fmt.Fprintf(stdout, "captures written to %s\n", *pcapDir)
	}
	return 0
}
