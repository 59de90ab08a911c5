package bootstrap

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"mip6/discovery"
)

// CacheConfig says what the mobile node keeps between bootstraps (RFC
// 4640 §5.3: a re-bootstrapping MN may reuse what it learned) and where.
type CacheConfig struct {
	// Path of the cache file; empty disables caching.
	Path string
	// HomeAgent: the last home agent is tried first next time.
	HomeAgent bool
	// HomeAddress: the last home address is suggested in CP next time.
	HomeAddress bool
}

// Cached is the content of the cache file (JSON).
type Cached struct {
	Identity    string               `json:"identity"`
	HomeAgent   *discovery.Candidate `json:"home_agent,omitempty"`
	HomeAddress netip.Prefix         `json:"home_address,omitzero"`
	Updated     time.Time            `json:"updated"`
}

const maxCacheSize = 64 << 10

// LoadCache reads the cache file; a missing file is an empty cache. A
// cache written for another identity is ignored.
func LoadCache(path, identity string) (Cached, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Cached{}, nil
	}
	if err != nil {
		return Cached{}, err
	}
	defer f.Close()
	var c Cached
	dec := json.NewDecoder(&limited{f, maxCacheSize})
	if err := dec.Decode(&c); err != nil {
		return Cached{}, fmt.Errorf("bootstrap: cache %s: %w", path, err)
	}
	if c.Identity != identity {
		return Cached{}, nil
	}
	return c, nil
}

// save writes the cache atomically (temporary file, rename).
func (cc CacheConfig) save(c Cached) error {
	if cc.Path == "" || (!cc.HomeAgent && !cc.HomeAddress) {
		return nil
	}
	if !cc.HomeAgent {
		c.HomeAgent = nil
	}
	if !cc.HomeAddress {
		c.HomeAddress = netip.Prefix{}
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(cc.Path), ".bootstrap-cache-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), cc.Path)
}

// limited reads at most n bytes and then fails, so a huge file is refused.
type limited struct {
	f *os.File
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("cache file too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}
