// Command mip6 runs the Mobile IPv6 home agent, the mobile node, the lab demo
// and the tools around them.
package main

import (
	"fmt"
	"io"
	"os"
)

// command is one subcommand of mip6.
type command struct {
	name  string
	usage string
	run   func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"version", "print the version", runVersion},
		{"ha", "run the home agent (-c ha.conf [--check]); ha show policy IDENTITY", runHA},
		{"mn", "run the mobile node (-c mn.conf [--check]); mn solicit-prefixes [-s SOCKET]", runMN},
		{"demo", "run HA, MN, correspondent and DNS on the in-process lab and show the timeline (--wire-form transport|tunnel, --pcap DIR, --keys DIR)", runDemo},
		{"status", "show a running daemon's bindings, SAs and counters (-s SOCKET, --json)", runStatus},
	}
}

const version = "0.1.0-dev"

func runVersion(_ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "mip6", version)
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: mip6 <command> [arguments]")
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.usage)
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "mip6: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}
