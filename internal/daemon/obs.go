// Package daemon wires the roles (ha, mn) to the IKE engine, the data plane,
// the control socket, logs and metrics.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mip6/internal/control"
)

// NewLogger builds the structured logger a config asks for.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	switch level {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// statusCollector turns a daemon's status snapshot into Prometheus metrics,
// so the control socket and the metrics never disagree.
type statusCollector struct {
	snapshot func() *control.Status
	bindings *prometheus.Desc
	ikeSAs   *prometheus.Desc
	childSAs *prometheus.Desc
	counter  *prometheus.Desc
}

func newStatusCollector(role string, snapshot func() *control.Status) *statusCollector {
	cl := prometheus.Labels{"role": role}
	return &statusCollector{
		snapshot: snapshot,
		bindings: prometheus.NewDesc("mip6_bindings", "Registered bindings (HA: binding cache; MN: binding update list).", nil, cl),
		ikeSAs:   prometheus.NewDesc("mip6_ike_sas", "Established IKE SAs.", nil, cl),
		childSAs: prometheus.NewDesc("mip6_child_sas", "Installed CHILD SA pairs.", nil, cl),
		counter:  prometheus.NewDesc("mip6_events_total", "Events by name: registrations, handovers, drops by reason.", []string{"event"}, cl),
	}
}

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.bindings
	ch <- c.ikeSAs
	ch <- c.childSAs
	ch <- c.counter
}

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.snapshot()
	ch <- prometheus.MustNewConstMetric(c.bindings, prometheus.GaugeValue, float64(len(s.Bindings)))
	ch <- prometheus.MustNewConstMetric(c.ikeSAs, prometheus.GaugeValue, float64(len(s.IKESAs)))
	ch <- prometheus.MustNewConstMetric(c.childSAs, prometheus.GaugeValue, float64(len(s.ChildSAs)))
	for name, v := range s.Counters {
		ch <- prometheus.MustNewConstMetric(c.counter, prometheus.CounterValue, float64(v), name)
	}
}

// ServeMetrics serves /metrics on addr until ctx ends. An empty addr is off.
func ServeMetrics(ctx context.Context, addr, role string, snapshot func() *control.Status, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newStatusCollector(role, snapshot))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listen %s: %w (set daemon.metrics_listen to a free address or remove it)", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}
