package ops_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/ops"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/telemetry"
)

func runHealthz(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	handled, err := ops.Dispatch(context.Background(), stage.Env{
		Args: append([]string{"healthz"}, args...), Getenv: func(k string) string { return env[k] },
		Stdout: &out, Stderr: io.Discard,
	})
	if !handled {
		t.Fatal("healthz not dispatched")
	}
	return out.String(), err
}

func TestHealthz(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	notReady := errors.New("not connected to NATS")
	addr, err := telemetry.Serve(ctx, "127.0.0.1:0", telemetry.NewRegistry(), func() error { return notReady },
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)

	if out, err := runHealthz(t, nil, "-addr", addr); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("alive: %q, %v", out, err)
	}
	// The address from the config, as a container sets it: no host.
	if _, err := runHealthz(t, map[string]string{"GM_TELEMETRY_LISTEN": ":" + port}); err != nil {
		t.Fatalf("from GM_TELEMETRY_LISTEN: %v", err)
	}
	if _, err := runHealthz(t, nil, "-addr", addr, "-path", "/readyz"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("not ready must fail with the status, got %v", err)
	}
	var usage *stage.UsageError
	if _, err := runHealthz(t, nil); !errors.As(err, &usage) {
		t.Fatalf("no address must be a usage error, got %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if _, err := runHealthz(t, nil, "-addr", closed); err == nil || errors.As(err, &usage) {
		t.Fatalf("nothing listening must fail (not as usage), got %v", err)
	}
}
