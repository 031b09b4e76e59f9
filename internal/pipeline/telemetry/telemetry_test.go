package telemetry

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "gm_test_total", Help: "t"})
	reg.MustRegister(c)
	c.Add(3)
	var readyErr atomic.Pointer[error]
	down := errors.New("nats down")
	readyErr.Store(&down)
	addr, err := Serve(ctx, "127.0.0.1:0", reg, func() error { return *readyErr.Load() }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "gm_test_total 3") {
		t.Fatalf("/metrics %d %s", code, body)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "nats down") {
		t.Fatalf("/readyz %d %s", code, body)
	}
	var none error
	readyErr.Store(&none)
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz %d", code)
	}
}

func TestValidate(t *testing.T) {
	c := Config{LogLevel: "loud", LogFormat: "xml"}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "log_level") || !strings.Contains(err.Error(), "log_format") {
		t.Fatalf("got %v", err)
	}
}
