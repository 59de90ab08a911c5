package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"mip6/internal/config"
	"mip6/internal/control"
	"mip6/internal/daemon"
)

// runMN runs the mobile node daemon.
func runMN(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "solicit-prefixes" {
		return runMNSolicit(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("mn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "/etc/mip6/mn.conf", "the mobile node's config `file`")
	check := fs.Bool("check", false, "validate the config file and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.LoadMN(*path)
	if err != nil {
		fmt.Fprintln(stderr, "mip6 mn: config error:")
		fmt.Fprintln(stderr, err)
		return 1
	}
	log := daemon.NewLogger(stderr, cfg.Daemon.LogLevel, cfg.Daemon.LogFormat)
	m, err := daemon.NewMobileNode(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "mip6 mn: %s: %v\n", *path, err)
		return 1
	}
	if *check {
		fmt.Fprintf(stdout, "%s: ok\n", *path)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "mip6 mn:", err)
		return 1
	}
	return 0
}

// runMNSolicit makes a running mobile node send a Mobile Prefix
// Solicitation to its home agent now (RFC 6275 §11.4.2).
func runMNSolicit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mn solicit-prefixes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sock := fs.String("s", "/run/mip6/mn.sock", "the mobile node's control socket")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var text string
	if err := control.Call(*sock, "solicit-prefixes", nil, &text); err != nil {
		fmt.Fprintln(stderr, "mip6 mn solicit-prefixes:", err)
		return 1
	}
	fmt.Fprintln(stdout, text)
	return 0
}
