package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go/jetstream"
)

// TestWriterLifecycle: the record appears when the instance starts, a pause
// is published at once (not at the next refresh), and a clean stop removes it.
func TestWriterLifecycle(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).JetStream()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "etl_state"})
	if err != nil {
		t.Fatal(err)
	}
	w := New(kv, "transformer", "consumer transformer-auth0", func() map[string]int64 { return map[string]int64{"mapped": 7} },
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(runCtx) }()

	beat := func() (Beat, error) {
		beats, err := List(ctx, kv)
		if err != nil {
			return Beat{}, err
		}
		if len(beats) != 1 {
			return Beat{}, fmt.Errorf("%d records", len(beats))
		}
		return beats[0], nil
	}
	natstest.Eventually(t, 5*time.Second, func() error {
		b, err := beat()
		if err != nil {
			return err
		}
		if b.Stage != "transformer" || b.Counts["mapped"] != 7 || b.Paused || !strings.Contains(b.Instance, "-") {
			return fmt.Errorf("record %+v", b)
		}
		if b.Stale(time.Now()) || !b.Stale(time.Now().Add(time.Minute)) {
			return fmt.Errorf("staleness of %+v", b)
		}
		return nil
	})
	w.SetPaused(true, "consumer loader-x lags 10")
	// Well within Interval: the pause must not wait for the next refresh.
	natstest.Eventually(t, Interval/2, func() error {
		b, err := beat()
		if err != nil {
			return err
		}
		if !b.Paused || b.PausedReason != "consumer loader-x lags 10" {
			return fmt.Errorf("record %+v", b)
		}
		return nil
	})
	stop()
	<-done
	if _, err := kv.Get(ctx, Key("transformer", InstanceID())); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("record left after a clean stop: %v", err)
	}
}

func TestInstanceIDIsAValidKey(t *testing.T) {
	id := InstanceID()
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			t.Fatalf("instance id %q has %q, not allowed in a KV key", id, r)
		}
	}
}
