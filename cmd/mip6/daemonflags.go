package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// daemonFlags parses a role's `-c FILE [--check]`; ok is false (and the
// exit code 2 is due) when the arguments are wrong.
func daemonFlags(role, defaultPath, what string, args []string, stderr io.Writer) (path string, check, ok bool) {
	fs := flag.NewFlagSet(role, flag.ContinueOnError)
	fs.SetOutput(stderr)
	p := fs.String("c", defaultPath, "the "+what+"'s config `file`")
	c := fs.Bool("check", false, "validate the config file and exit")
	if err := fs.Parse(args); err != nil {
		return "", false, false
	}
	return *p, *c, true
}

// runUntilSignal runs a daemon until SIGINT or SIGTERM, then lets it shut
// down; its error is reported as `mip6 ROLE: ...`.
func runUntilSignal(role string, run func(context.Context) error, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintf(stderr, "mip6 %s: %v\n", role, err)
		return 1
	}
	return 0
}
