package consume_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/consume"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/nats-io/nats.go/jetstream"
)

// TestPullChunksHoldsAtMostTheWindow: every message is handed out once, in
// chunks no larger than asked, and never more than the window is held at a
// time, even with two requests in flight; the consumer's MaxAckPending is
// larger than the window, so the server answers every request at once.
func TestPullChunksHoldsAtMostTheWindow(t *testing.T) {
	_, _, js, top := setup(t)
	ctx := context.Background()
	const total, window, batch, chunk = 300, 40, 10, 4
	for i := range total {
		if _, err := js.Publish(ctx, "gigya.accounts.s", fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := topology.ConsumerConfig{AckWait: 30 * time.Second, MaxDeliver: 3, MaxAckPending: 100, Backoff: []time.Duration{time.Second}}
	cons, err := cfg.Durable(ctx, top.Raw, "t", "gigya.accounts.>")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan []jetstream.Msg, 1)
	w := consume.NewWindow(window)
	done := make(chan error, 1)
	go func() {
		done <- consume.PullChunks(runCtx, cons, consume.ChunkOptions{Conn: js.Conn(), Batch: batch, Chunk: chunk, Window: w}, out, nil, discard)
	}()
	seen := map[uint64]bool{}
	deadline := time.After(20 * time.Second)
	for len(seen) < total {
		select {
		case c := <-out:
			if len(c) == 0 || len(c) > chunk {
				t.Fatalf("a chunk of %d, want 1 to %d", len(c), chunk)
			}
			if held := w.Held(); held > window {
				t.Fatalf("%d messages held, window %d", held, window)
			}
			for _, m := range c {
				meta, err := m.Metadata()
				if err != nil {
					t.Fatal(err)
				}
				if seen[meta.Sequence.Stream] || meta.NumDelivered != 1 {
					t.Fatalf("sequence %d handed out again (delivery %d)", meta.Sequence.Stream, meta.NumDelivered)
				}
				seen[meta.Sequence.Stream] = true
				if err := m.Ack(); err != nil {
					t.Fatal(err)
				}
			}
			w.Release(len(c))
		case <-deadline:
			t.Fatalf("%d of %d messages handed out", len(seen), total)
		}
	}
	cancel()
	for range out {
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if held := w.Held(); held != 0 {
		t.Fatalf("%d messages still held after the stop, want 0", held)
	}
}
