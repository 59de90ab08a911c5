//go:build race

package esp

// raceEnabled: the race detector makes sync.Pool drop items, so pooled
// scratch space allocates and allocation counts mean nothing.
const raceEnabled = true
