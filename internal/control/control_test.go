package control

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func startServer(t *testing.T) (*Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ctl.sock")
	s := &Server{Path: path}
	s.Handle("status", func(ctx context.Context, args map[string]string) (any, error) {
		return &Status{Role: "ha", Identity: "ha.example.net", Store: "etcd:[2001:db8:1::e1]:2379/mip6/homelink1",
			Bindings: []Binding{{Identity: "alice@example.net", HomeAddress: "2001:db8:1::1000", CareOf: "2001:db8:a::100", WireForm: "transport"}},
			Counters: map[string]uint64{"bu_accepted": 3}}, nil
	})
	s.Handle("fail", func(ctx context.Context, args map[string]string) (any, error) {
		return nil, errors.New("no binding for " + args["hoa"])
	})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not stop")
		}
	})
	return s, path
}

func TestCallStatus(t *testing.T) {
	_, path := startServer(t)
	var st Status
	if err := Call(path, "status", nil, &st); err != nil {
		t.Fatal(err)
	}
	if st.Role != "ha" || st.Counters["bu_accepted"] != 3 {
		t.Fatalf("status = %+v", st)
	}
	var buf bytes.Buffer
	st.WriteText(&buf, time.Now())
	for _, want := range []string{"home agent ha.example.net", "bu_accepted", "store etcd:[2001:db8:1::e1]:2379/mip6/homelink1",
		"WIRE FORM", "2001:db8:a::100", "transport"} {
		if !strings.Contains(buf.String(), want) {
			t.Fatalf("text lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestCallErrors(t *testing.T) {
	_, path := startServer(t)
	err := Call(path, "fail", map[string]string{"hoa": "2001:db8:1::100"}, nil)
	if err == nil || !strings.Contains(err.Error(), "no binding for 2001:db8:1::100") {
		t.Fatalf("err = %v", err)
	}
	err = Call(path, "bogus", nil, nil)
	if err == nil || !strings.Contains(err.Error(), `unknown command "bogus"`) {
		t.Fatalf("err = %v", err)
	}
	err = Call(filepath.Join(t.TempDir(), "none.sock"), "status", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "is it running?") {
		t.Fatalf("err = %v", err)
	}
}

func TestListenRefusesLiveSocket(t *testing.T) {
	_, path := startServer(t)
	s2 := &Server{Path: path}
	if err := s2.Listen(); err == nil || !strings.Contains(err.Error(), "another daemon") {
		t.Fatalf("err = %v", err)
	}
}
