package main

import (
	"flag"
	"fmt"
	"io"

	"mip6/internal/config"
	"mip6/internal/control"
	"mip6/internal/daemon"
)

// runHA runs the home agent daemon, or `mip6 ha show policy IDENTITY`.
func runHA(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "show" {
		return runHAShow(args[1:], stdout, stderr)
	}
	path, check, ok := daemonFlags("ha", "/etc/mip6/ha.conf", "home agent", args, stderr)
	if !ok {
		return 2
	}
	cfg, err := config.LoadHA(path)
	if err != nil {
		fmt.Fprintln(stderr, "mip6 ha: config error:")
		fmt.Fprintln(stderr, err)
		return 1
	}
	if check {
		fmt.Fprintf(stdout, "%s: ok\n", path)
		return 0
	}
	log := daemon.NewLogger(stderr, cfg.Daemon.LogLevel, cfg.Daemon.LogFormat)
	h, err := daemon.StartHomeAgent(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "mip6 ha:", err)
		return 1
	}
	defer h.Close()
	return runUntilSignal("ha", h.Run, stderr)
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
