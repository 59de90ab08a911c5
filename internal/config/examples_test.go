package config

import "testing"

// The shipped examples must always load.
func TestExamplesLoad(t *testing.T) {
	if _, err := LoadHA("../../examples/ha.conf"); err != nil {
		t.Errorf("examples/ha.conf: %v", err)
	}
	if _, err := LoadMN("../../examples/mn.conf"); err != nil {
		t.Errorf("examples/mn.conf: %v", err)
	}
}
