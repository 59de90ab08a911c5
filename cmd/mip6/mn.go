package main

import (
	"flag"
	"fmt"
	"io"

	"mip6/internal/config"
	"mip6/internal/control"
	"mip6/internal/daemon"
)

// runMN runs the mobile node daemon.
func runMN(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "solicit-prefixes" {
		return runMNSolicit(args[1:], stdout, stderr)
	}
	path, check, ok := daemonFlags("mn", "/etc/mip6/mn.conf", "mobile node", args, stderr)
	if !ok {
		return 2
	}
	cfg, err := config.LoadMN(path)
	if err != nil {
		fmt.Fprintln(stderr, "mip6 mn: config error:")
		fmt.Fprintln(stderr, err)
		return 1
	}
	log := daemon.NewLogger(stderr, cfg.Daemon.LogLevel, cfg.Daemon.LogFormat)
	m, err := daemon.NewMobileNode(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "mip6 mn: %s: %v\n", path, err)
		return 1
	}
	if check {
		fmt.Fprintf(stdout, "%s: ok\n", path)
		return 0
	}
	return runUntilSignal("mn", m.Run, stderr)
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
