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

// runHA runs the home agent daemon, or `mip6 ha show policy IDENTITY`.
func runHA(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "show" {
		return runHAShow(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("ha", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "/etc/mip6/ha.conf", "the home agent's config `file`")
	check := fs.Bool("check", false, "validate the config file and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.LoadHA(*path)
	if err != nil {
		fmt.Fprintln(stderr, "mip6 ha: config error:")
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *check {
		fmt.Fprintf(stdout, "%s: ok\n", *path)
		return 0
	}
	log := daemon.NewLogger(stderr, cfg.Daemon.LogLevel, cfg.Daemon.LogFormat)
	h, err := daemon.StartHomeAgent(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "mip6 ha:", err)
		return 1
	}
	defer h.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := h.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "mip6 ha:", err)
		return 1
	}
	return 0
}

// runHAShow prints a mobile node's SPD/SAD/PAD entries (RFC 4877 §6, §7).
func runHAShow(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ha show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sock := fs.String("s", "/run/mip6/ha.sock", "the home agent's control socket")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 || fs.Arg(0) != "policy" {
		fmt.Fprintln(stderr, "usage: mip6 ha show [-s SOCKET] policy IDENTITY")
		return 2
	}
	var text string
	if err := control.Call(*sock, "policy", map[string]string{"identity": fs.Arg(1)}, &text); err != nil {
		fmt.Fprintln(stderr, "mip6 ha show policy:", err)
		return 1
	}
	fmt.Fprint(stdout, text)
	return 0
}
