package ike

import (
	"os"
	"testing"
)

// TestMain lets the comparison benchmark run this binary as a separate
// responder process (MIP6_IKE_RESPONDER=address).
func TestMain(m *testing.M) {
	if a := os.Getenv("MIP6_IKE_RESPONDER"); a != "" {
		runResponder(a)
	}
	os.Exit(m.Run())
}
