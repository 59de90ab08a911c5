// Command ikebench compares IKEv2 responders: it measures IKE_SA_INIT +
// IKE_AUTH handshakes (PSK, Curve25519, AES-GCM-128, one CHILD_SA, a CP
// address) per responder CPU-second, and the responder's memory per
// established IKE SA, for a mip6 responder and for strongSwan's charon
// driven by the same load generator. run.sh builds the network namespaces
// and runs everything; the subcommands are:
//
//	ikebench responder -listen [2001:db8:b::1]:500 -pool 2001:db8:d::/112 -stats FILE
//	ikebench initiator -target [2001:db8:b::1]:500 -pid PID -n 10000 -out FILE
//	ikebench report -mip6 FILE -charon FILE [-charon FILE ...]
//
// It is a benchmark, not a test: go test never runs it.
package main

import (
	"fmt"
	"os"
)

const usage = "usage: ikebench responder|initiator|report [flags] (see -h of each)"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "responder":
		err = runResponder(os.Args[2:])
	case "initiator":
		err = runInitiator(os.Args[2:])
	case "report":
		err = runReport(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ikebench:", err)
		os.Exit(1)
	}
}
