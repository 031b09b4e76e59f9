// Package telemetry sets up structured logs, Prometheus metrics and the
// /metrics, /healthz and /readyz endpoints of a binary. Nothing here is
// global: each binary owns its logger and registry and passes them down.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config selects log format and the HTTP endpoint.
type Config struct {
	LogLevel  string `yaml:"log_level" doc:"debug, info, warn or error"`
	LogFormat string `yaml:"log_format" doc:"text or json"`
	Listen    string `yaml:"listen" doc:"address of /metrics, /healthz and /readyz, e.g. :9102 (empty: off)"`
}

// Default logs text at info level and serves no HTTP.
func Default() Config { return Config{LogLevel: "info", LogFormat: "text"} }

// Validate reports every problem, naming keys relative to the section.
func (c Config) Validate() error {
	var p config.Problems
	var l slog.Level
	p.Check(l.UnmarshalText([]byte(c.LogLevel)) == nil, "log_level", "must be debug, info, warn or error")
	p.Check(c.LogFormat == "text" || c.LogFormat == "json", "log_format", "must be text or json")
	return p.Err()
}

// Logger builds the logger described by c, writing to w.
func (c Config) Logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel)) // validated
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Serve serves the endpoints on addr until ctx is done. ready reports
// whether the binary can do its work (NATS connected); /healthz only says the
// process is alive. It returns the address actually bound (addr may use port 0).
func Serve(ctx context.Context, addr string, reg *prometheus.Registry, ready func() error, log *slog.Logger) (string, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("telemetry.listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("telemetry server", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Info("serving metrics and health", "addr", ln.Addr().String())
	return ln.Addr().String(), nil
}
