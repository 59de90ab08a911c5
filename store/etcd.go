package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// EtcdOptions say where the shared store lives.
type EtcdOptions struct {
	// Endpoints are the cluster's client URLs: "[2001:db8::5]:2379",
	// "http://[2001:db8::5]:2379" or "https://..." (with TLS).
	Endpoints []string
	// Prefix is the key prefix of this store; home agents sharing leases
	// use the same one (default "/mip6/default").
	Prefix string
	// DialTimeout bounds OpenEtcd's first exchange with the cluster
	// (default 2 s).
	DialTimeout time.Duration
	// RequestTimeout bounds each request of a transaction (default 2 s).
	// An Update whose request got no answer runs once more (a leader
	// may have died), so it fails after about twice this when etcd is
	// down.
	RequestTimeout time.Duration
	// MaxAttempts bounds how often Update runs its function when other
	// home agents keep changing what it read (default 32).
	MaxAttempts int
	// TLS, when set, is used for every endpoint (client certificates
	// included).
	TLS *tls.Config
	// Username and Password authenticate to an etcd with auth enabled.
	Username, Password string
}

// EtcdCause classifies an *EtcdError.
type EtcdCause int

const (
	EtcdOther       EtcdCause = iota
	EtcdUnreachable           // no answer in time
	EtcdDenied                // authentication or permission refused
	EtcdRejected              // the request was refused (too many writes in one Update, too large)
	EtcdNotAStore             // the prefix holds another schema
)

// EtcdError reports a failed exchange with the etcd cluster.
type EtcdError struct {
	Endpoints []string
	Prefix    string
	Op        string // "open", "read", "commit"
	Cause     EtcdCause
	Timeout   time.Duration // for EtcdUnreachable
	Err       error
}

func (e *EtcdError) Error() string {
	where := fmt.Sprintf("store: etcd %s (prefix %s): %s", strings.Join(e.Endpoints, ","), e.Prefix, e.Op)
	switch e.Cause {
	case EtcdUnreachable:
		return fmt.Sprintf("%s: unavailable: no answer within %v, or no leader (check that etcd runs and listens on these client URLs, that a majority of its members is up, the routes and firewall to them, and TLS: https:// endpoints need the TLS settings): %v", where, e.Timeout, e.Err)
	case EtcdDenied:
		return fmt.Sprintf("%s: refused (check the etcd user, password and its role's permissions on the prefix): %v", where, e.Err)
	case EtcdRejected:
		return fmt.Sprintf("%s: request refused by the server (one Update writes at most --max-txn-ops keys, 128 by default): %v", where, e.Err)
	case EtcdNotAStore:
		return fmt.Sprintf("%s: the prefix does not hold a mip6 store of a supported schema (pick another prefix): %v", where, e.Err)
	}
	return fmt.Sprintf("%s: %v", where, e.Err)
}

func (e *EtcdError) Unwrap() error { return e.Err }

// ContentionError: an Update ran MaxAttempts times and each time another
// home agent had changed what it read before it could commit.
type ContentionError struct {
	Attempts int
	Buckets  []string // what the last attempt read
}

func (e *ContentionError) Error() string {
	return fmt.Sprintf("store: etcd transaction gave up after %d attempts: other home agents kept changing the %s records it read",
		e.Attempts, strings.Join(e.Buckets, ", "))
}

// errStale marks a read at a revision etcd compacted meanwhile: the
// attempt starts again from the newest revision.
var errStale = errors.New("store: snapshot revision compacted")

type etcdBackend struct {
	cli       *clientv3.Client
	o         EtcdOptions
	prefix    string
	mu        sync.Mutex // one Update at a time per process: retries are for other home agents
	schemaKey string
}

// OpenEtcd connects to an etcd cluster and opens (creating when empty)
// the store under o.Prefix. Errors are *EtcdError.
func OpenEtcd(o EtcdOptions) (*Store, error) {
	if o.Prefix == "" {
		o.Prefix = "/mip6/default"
	}
	o.Prefix = strings.TrimRight(o.Prefix, "/")
	if o.DialTimeout <= 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 2 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 32
	}
	e := &etcdBackend{o: o, prefix: o.Prefix}
	if len(o.Endpoints) == 0 || o.Prefix == "" {
		return nil, e.fail("open", errors.New("no endpoints, or a prefix of only '/'"))
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: o.Endpoints, DialTimeout: o.DialTimeout, TLS: o.TLS,
		Username: o.Username, Password: o.Password, Logger: zap.NewNop(),
		// gRPC's default reconnect backoff grows to 2 minutes: a home
		// agent would keep failing that long after etcd came back.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: o.DialTimeout,
		})},
	})
	if err != nil {
		return nil, e.fail("open", err)
	}
	e.cli = cli
	e.schemaKey = e.key(bMeta, keySchema)
	if err := e.initSchema(); err != nil {
		cli.Close()
		return nil, err
	}
	return &Store{b: e, path: "etcd:" + strings.Join(o.Endpoints, ",") + o.Prefix}, nil
}

// initSchema writes the schema version into an empty prefix, or checks it.
func (e *etcdBackend) initSchema() error {
	ctx, cancel := context.WithTimeout(context.Background(), e.o.DialTimeout)
	defer cancel()
	r, err := e.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(e.schemaKey), "=", 0)).
		Then(clientv3.OpPut(e.schemaKey, string(schemaVersion1))).
		Else(clientv3.OpGet(e.schemaKey)).Commit()
	if err != nil {
		ee := e.fail("open", err)
		if ee.Cause == EtcdUnreachable {
			ee.Timeout = e.o.DialTimeout
			if d := e.diagnose(); d != nil {
				ee.Err = fmt.Errorf("%w; %w", err, d)
			}
		}
		return ee
	}
	if r.Succeeded {
		return nil
	}
	var have []byte
	if kvs := r.Responses[0].GetResponseRange().GetKvs(); len(kvs) == 1 {
		have = kvs[0].Value
	}
	if string(have) != string(schemaVersion1) {
		ee := e.fail("open", fmt.Errorf("%s holds schema %x, want %x", e.schemaKey, have, schemaVersion1))
		ee.Cause = EtcdNotAStore
		return ee
	}
	return nil
}

// fail wraps err with where it happened and what the operator can do.
func (e *etcdBackend) fail(op string, err error) *EtcdError {
	ee := &EtcdError{Endpoints: e.o.Endpoints, Prefix: e.o.Prefix, Op: op, Err: err}
	code := status.Code(err)
	var server rpctypes.EtcdError // the client's form of the server's errors
	if errors.As(err, &server) {
		code = server.Code() // no leader, leader changed, ...: Unavailable
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), code == codes.DeadlineExceeded, code == codes.Unavailable:
		ee.Cause, ee.Timeout = EtcdUnreachable, e.o.RequestTimeout
	case code == codes.Unauthenticated, code == codes.PermissionDenied,
		errors.Is(err, rpctypes.ErrAuthFailed), errors.Is(err, rpctypes.ErrPermissionDenied),
		errors.Is(err, rpctypes.ErrUserEmpty), errors.Is(err, rpctypes.ErrInvalidAuthToken):
		ee.Cause = EtcdDenied
	case errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrRequestTooLarge),
		code == codes.InvalidArgument, code == codes.ResourceExhausted:
		ee.Cause = EtcdRejected
	}
	return ee
}

func (e *etcdBackend) close() error { return e.cli.Close() }

// view runs fn once: a rerun would repeat fn's effects on its results.
func (e *etcdBackend) view(fn func(*Tx) error) error {
	t := &etcdTx{e: e, readOnly: true}
	err := runTx(t, fn)
	if errors.Is(t.failed, errStale) {
		return &EtcdError{Endpoints: e.o.Endpoints, Prefix: e.o.Prefix, Op: "read", Err: errors.New("revision compacted during a View; try again")}
	}
	if t.failed != nil {
		return t.failed
	}
	return err
}

// update runs fn optimistically: reads at one revision, writes buffered,
// then one Txn that commits only if nothing read changed since; else fn
// runs again on fresh data, at most MaxAttempts times.
func (e *etcdBackend) update(fn func(*Tx) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var t *etcdTx
	var lost lostAttempts
	for attempt := 1; attempt <= e.o.MaxAttempts; attempt++ {
		t = &etcdTx{e: e, reads: map[string]int64{}, writes: map[string]etcdWrite{}}
		err := runTx(t, fn)
		ok := false
		if t.failed == nil && err == nil {
			ok, err = t.commit()
		}
		if t.failed != nil {
			err = t.failed
		}
		switch {
		case t.failed == errStale:
		case lost.retry(err):
			// The cluster elects a leader: wait for it, not for a peer.
			time.Sleep(100 * time.Millisecond << min(lost.n, 3))
			continue
		case err != nil || ok:
			return err
		}
		// Random backoff so two home agents racing for the same records
		// stop colliding; bounded by 50 ms a try (the shift is capped: past
		// 43 it would leave int64).
		time.Sleep(rand.N(min(time.Millisecond<<min(attempt, 6), 50*time.Millisecond)))
	}
	return &ContentionError{Attempts: e.o.MaxAttempts, Buckets: t.readBucketNames()}
}

// lostAttempts counts an Update's attempts lost to a leader election or a
// member going away. Such an attempt may or may not have been applied; a
// new one reads everything again, so it decides on what is really there.
type lostAttempts struct {
	n, timeouts int
}

// At most 5 attempts are lost (about 3 s of waiting), and at most one of
// them to a request without any answer in RequestTimeout (a proposal to a
// leader that died gets none; a second silence means etcd is down).
const maxLost, maxLostTimeouts = 5, 1

func (l *lostAttempts) retry(err error) bool {
	var ee *EtcdError
	if l.n >= maxLost || !errors.As(err, &ee) || ee.Cause != EtcdUnreachable {
		return false
	}
	if errors.Is(ee.Err, context.DeadlineExceeded) || status.Code(ee.Err) == codes.DeadlineExceeded {
		if l.timeouts >= maxLostTimeouts {
			return false
		}
		l.timeouts++
	}
	l.n++
	return true
}

// LoadEtcdTLS builds EtcdOptions.TLS from PEM files: caFile the CA that
// signed the etcd servers' certificates ("" trusts the system's roots),
// certFile and keyFile this home agent's client certificate (both or
// neither).
func LoadEtcdTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("store: etcd TLS CA: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("store: etcd TLS CA: no PEM certificate in %s", caFile)
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("store: etcd TLS: a client certificate needs both its certificate and key file")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("store: etcd TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
