package main

import (
	"bytes"
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
	keys := fs.String("keys", "", "write the IKE and ESP keys into `DIR` as a Wireshark profile (WIRESHARK_CONFIG_DIR=DIR decrypts the captures)")
	pings := fs.Int("pings", 3, "echo requests from the correspondent per phase")
	form := demo.Transport
	fs.Func("wire-form", "wire `FORM` of Binding Updates and Acks: \"transport\" (the default; RFC 3776: Home Address option, "+
		"type 2 routing header, raw ESP in transport mode) or \"tunnel\" (RFC 4877 §3: inside the ESP tunnel in UDP 4500); "+
		"the home agent accepts both", func(s string) error {
		f, err := demo.ParseWireForm(s)
		if err != nil || s == "" {
			return fmt.Errorf("want %q or %q", demo.Transport, demo.Tunnel)
		}
		form = f
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opt := demo.Options{Out: stdout, PcapDir: *pcapDir, Pings: *pings, WireForm: form}
	var keyLog bytes.Buffer
	if *keys != "" {
		opt.KeyLog = &keyLog
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
	if *keys != "" {
		if err := demo.WriteWiresharkKeys(*keys, keyLog.String()); err != nil {
			fmt.Fprintln(stderr, "mip6 demo: --keys:", err)
			return 1
		}
		fmt.Fprintf(stdout, "keys written to %s: WIRESHARK_CONFIG_DIR=%s tshark -r <capture> decrypts IKE and ESP\n", *keys, *keys)
	}
	return 0
}
