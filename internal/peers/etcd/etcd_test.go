package etcd

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"mip6/internal/netns"
)

// TestServerKVTxn checks that the v3 client speaks to Debian's etcd: a
// put, a guarded Txn that must fail and one that must succeed, a read at
// an old revision, and the data surviving a restart.
func TestServerKVTxn(t *testing.T) {
	s := Start(t, Options{})
	cli, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := cli.Put(ctx, "/t/a", "1")
	if err != nil {
		t.Fatal(err)
	}
	r, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision("/t/a"), "=", 0)).Then(clientv3.OpPut("/t/a", "2")).Commit()
	if err != nil || r.Succeeded {
		t.Fatalf("guarded put over an existing key: succeeded=%v err=%v", r != nil && r.Succeeded, err)
	}
	r, err = cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision("/t/a"), "=", p.Header.Revision)).
		Then(clientv3.OpPut("/t/a", "3"), clientv3.OpPut("/t/b", "x")).Commit()
	if err != nil || !r.Succeeded {
		t.Fatalf("guarded put at the right revision: %v %v", r, err)
	}
	old, err := cli.Get(ctx, "/t/a", clientv3.WithRev(p.Header.Revision))
	if err != nil || len(old.Kvs) != 1 || string(old.Kvs[0].Value) != "1" {
		t.Fatalf("read at revision %d: %v %v", p.Header.Revision, old, err)
	}
	s.Restart(t)
	g, err := cli.Get(ctx, "/t/", clientv3.WithPrefix())
	if err != nil || len(g.Kvs) != 2 || string(g.Kvs[0].Value) != "3" {
		t.Fatalf("after restart: %v %v", g, err)
	}
}

// TestCluster: three members; with a follower killed the other two still
// commit through a client that knows every endpoint.
func TestCluster(t *testing.T) {
	s := Start(t, Options{Members: 3})
	if len(s.Endpoints()) != 3 {
		t.Fatalf("endpoints %v", s.Endpoints())
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "/t/a", "1"); err != nil {
		t.Fatal(err)
	}
	leader := s.Leader(t)
	s.Kill((leader + 1) % 3)
	if _, err := cli.Put(ctx, "/t/a", "2"); err != nil {
		t.Fatalf("with a follower of three down: %v", err)
	}
	if l := s.Leader(t); l != leader {
		t.Fatalf("leader %d, was %d", l, leader)
	}
	g, err := cli.Get(ctx, "/t/a")
	if err != nil || len(g.Kvs) != 1 || string(g.Kvs[0].Value) != "2" {
		t.Fatalf("%v %v", g, err)
	}
}

// TestInNamespace: members inside a test namespace, on one of its
// addresses, reached by a client whose connections are opened there.
func TestInNamespace(t *testing.T) {
	netns.Require(t, "etcd")
	ns := netns.New(t, "etcd")
	addr := netip.MustParseAddr("2001:db8:e::1")
	ns.Run(t, "ip", "-6", "addr", "add", addr.String()+"/128", "dev", "lo")
	s := Start(t, Options{NS: ns, Addr: addr, Members: 3})
	if want := "http://[2001:db8:e::1]:2381"; s.Endpoints()[1] != want {
		t.Fatalf("endpoints %v, want %s second", s.Endpoints(), want)
	}
	dial := func(ctx context.Context, a string) (net.Conn, error) {
		var c net.Conn
		err := ns.Do(func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, "tcp", a)
			return err
		})
		return c, err
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithContextDialer(dial)}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "/t/ns", "1"); err != nil {
		t.Fatal(err)
	}
	if g, err := cli.Get(ctx, "/t/ns"); err != nil || len(g.Kvs) != 1 {
		t.Fatalf("%v %v", g, err)
	}
}
