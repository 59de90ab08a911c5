package hostnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// nftTimeout bounds every nft run.
const nftTimeout = 10 * time.Second

var rawTables atomic.Uint64

// rawTableName is unique per process (pid) and per RawMobility within it.
func rawTableName() string {
	return fmt.Sprintf("mip6_raw_%d_%d", os.Getpid(), rawTables.Add(1))
}

// nftLookPath finds nft or says what to install.
func nftLookPath() (string, error) {
	p, err := exec.LookPath("nft")
	if err != nil {
		return "", fmt.Errorf("hostnet: nft (nftables) not found: install the Debian package nftables (scripts/install-deps.sh): %w", err)
	}
	return p, nil
}

// nftScript is the table holding the role's drop rule: a prerouting chain
// at priority raw runs before conntrack and before the IPv6 stack parses
// extension headers; AF_PACKET taps have already had their copy.
func nftScript(table string, cfg RawConfig) string {
	return fmt.Sprintf(`table ip6 %s {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		%s
	}
}
`, table, rawRules(cfg))
}

// runNft feeds script to `nft -f -` in the calling thread's namespace (the
// child is forked from this thread and inherits it).
func runNft(nft, script string) error {
	ctx, cancel := context.WithTimeout(context.Background(), nftTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, nft, "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("hostnet: nft -f - %q: %w: %s", script, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// openThreadNetns opens the calling thread's network namespace, to come
// back to it from whichever thread Close runs on.
func openThreadNetns() (*os.File, error) {
	f, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		return nil, fmt.Errorf("hostnet: own network namespace: %w", err)
	}
	return f, nil
}

// inNetns runs f on an OS thread in the namespace ns. It switches the
// thread only if it is elsewhere (setns needs CAP_SYS_ADMIN); a thread
// that cannot switch back stays locked and ends with its goroutine.
func inNetns(ns *os.File, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- switchedTo(ns, f)
	}()
	return <-errc
}

// switchedTo runs f with the locked calling thread in ns, and unlocks the
// thread if it is back in its own namespace afterwards.
func switchedTo(ns *os.File, f func() error) error {
	orig, err := openThreadNetns()
	if err != nil {
		return err
	}
	defer orig.Close()
	same, err := sameFile(orig, ns)
	if err != nil {
		return err
	}
	if same {
		defer runtime.UnlockOSThread()
		return f()
	}
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("hostnet: setns: %w", err)
	}
	ferr := f()
	if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
		runtime.UnlockOSThread()
	}
	return ferr
}

func sameFile(a, b *os.File) (bool, error) {
	var sa, sb unix.Stat_t
	if err := errors.Join(unix.Fstat(int(a.Fd()), &sa), unix.Fstat(int(b.Fd()), &sb)); err != nil {
		return false, fmt.Errorf("hostnet: stat network namespace: %w", err)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino, nil
}
