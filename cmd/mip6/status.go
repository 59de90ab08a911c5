package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"mip6/internal/control"
)

// runStatus asks a running daemon for its bindings, SAs and counters.
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sock := fs.String("s", "", "the daemon's control socket (daemon.control_socket in its config; default: the first of /run/mip6/ha.sock and /run/mip6/mn.sock that exists)")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *sock == "" {
		*sock = defaultSocket()
	}
	var st control.Status
	if err := control.Call(*sock, "status", nil, &st); err != nil {
		fmt.Fprintln(stderr, "mip6 status:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(&st)
		return 0
	}
	st.WriteText(stdout, time.Now())
	return 0
}

// defaultSocket picks the control socket of the daemon that runs here.
func defaultSocket() string {
	for _, p := range []string{"/run/mip6/ha.sock", "/run/mip6/mn.sock"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/run/mip6/ha.sock"
}
