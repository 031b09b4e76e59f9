package telemetry

import (
	"context"
	"log/slog"
	"time"
)

// ProgressEvery is how often the binaries log progress on long runs.
const ProgressEvery = 10 * time.Second

// LogProgress logs a "progress" line every interval until ctx is done, so
// that a long run shows it is moving. sample returns the count the rate is
// computed from and the attributes to log; nothing is logged while the
// count stands still (an idle stage waiting for work).
func LogProgress(ctx context.Context, log *slog.Logger, interval time.Duration, sample func() (int64, []any)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	logProgress(ctx, log, t.C, interval, sample)
}

func logProgress(ctx context.Context, log *slog.Logger, ticks <-chan time.Time, interval time.Duration, sample func() (int64, []any)) {
	start, last := time.Now(), int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		n, attrs := sample()
		if n == last {
			continue
		}
		perSecond := float64(n-last) / interval.Seconds()
		log.Info("progress", append(attrs, "per_second", int64(perSecond), "elapsed", time.Since(start).Round(time.Second))...)
		last = n
	}
}
