package daemon

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"mip6/internal/control"
)

func TestMetricsFromStatus(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snap := func() *control.Status {
		return &control.Status{Bindings: make([]control.Binding, 2), Counters: map[string]uint64{"bu_rejected_sequence": 4}}
	}
	if err := ServeMetrics(ctx, addr, "ha", snap, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`mip6_bindings{role="ha"} 2`, `mip6_events_total{event="bu_rejected_sequence",role="ha"} 4`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestNewLoggerJSON(t *testing.T) {
	var buf bytes.Buffer
	NewLogger(&buf, "debug", "json").Debug("bu accepted", "identity", "alice@example.net")
	if !strings.Contains(buf.String(), `"identity":"alice@example.net"`) {
		t.Fatalf("log = %s", buf.String())
	}
}
