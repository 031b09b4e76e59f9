package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLogProgress: a line per tick while the count moves, with the
// caller's attributes, a rate and the elapsed time; none while it stands
// still (an idle stage).
func TestLogProgress(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	ticks := make(chan time.Time)
	counts := []int64{100, 100, 100, 250}
	i := 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		logProgress(ctx, log, ticks, 10*time.Second, func() (int64, []any) {
			n := counts[i]
			i++
			return n, []any{"read", n}
		})
	}()
	for range counts {
		ticks <- time.Now() // unbuffered: the previous tick's line is written when this one is taken
	}
	cancel()
	<-done
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 progress lines (100, then 250), got %d:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[0], "read=100") || !strings.Contains(lines[0], "per_second=10") ||
		!strings.Contains(lines[1], "read=250") || !strings.Contains(lines[1], "per_second=15") || !strings.Contains(lines[1], "elapsed=") {
		t.Fatalf("lines:\n%s", out.String())
	}
}
