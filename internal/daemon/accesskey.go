package daemon

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mip6/bootstrap"
)

// accessKeyFile is how an access key travels from the network access
// authentication to mip6 (RFC 4640 Parameter Set 2): on the mobile node the
// access client writes it; in an integrated ASP (§7.2) the AAA server
// leaves one per subscriber in the home agent's access_keys.dir.
type accessKeyFile struct {
	Name   string    `json:"name"`   // hex, e.g. the EAP Session-Id
	Key    string    `json:"key"`    // hex, the MSK or a key derived from the EMSK
	Issued time.Time `json:"issued"` // when the access authentication made it
}

// readAccessKey reads and checks an access key file.
func readAccessKey(path string) (bootstrap.AccessKey, time.Time, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return bootstrap.AccessKey{}, time.Time{}, fmt.Errorf("access key: %w", err)
	}
	var f accessKeyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return bootstrap.AccessKey{}, time.Time{}, fmt.Errorf("access key %s: not JSON {\"name\": hex, \"key\": hex, \"issued\": time}: %w", path, err)
	}
	name, err1 := hex.DecodeString(f.Name)
	key, err2 := hex.DecodeString(f.Key)
	if err1 != nil || err2 != nil {
		return bootstrap.AccessKey{}, time.Time{}, fmt.Errorf("access key %s: name and key must be hex", path)
	}
	if len(key) < 32 {
		return bootstrap.AccessKey{}, time.Time{}, fmt.Errorf("access key %s: %d octets, at least 32 needed", path, len(key))
	}
	return bootstrap.AccessKey{Name: name, Key: key}, f.Issued, nil
}

// accessKeyIn is the file of identity's access key in dir; identities that
// could name another file are refused.
func accessKeyIn(dir, identity string) (string, error) {
	if identity == "" || strings.ContainsAny(identity, "/\\\x00") || identity == "." || identity == ".." {
		return "", fmt.Errorf("access key: identity %q cannot name a file", identity)
	}
	return filepath.Join(dir, identity), nil
}
