package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"mip6/internal/control"
)

// runStatus asks a running daemon for its bindings, SAs and counters.
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sock := fs.String("s", "/run/mip6/ha.sock", "the daemon's control socket (daemon.control_socket in its config)")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	if err := fs.Parse(args); err != nil {
		return 2
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
