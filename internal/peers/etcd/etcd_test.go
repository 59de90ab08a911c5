package etcd

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
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

// TestCluster: three members; with one killed the other two still
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
	s.Kill(0)
	if _, err := cli.Put(ctx, "/t/a", "2"); err != nil {
		t.Fatalf("with one member of three down: %v", err)
	}
	g, err := cli.Get(ctx, "/t/a")
	if err != nil || len(g.Kvs) != 1 || string(g.Kvs[0].Value) != "2" {
		t.Fatalf("%v %v", g, err)
	}
}
