package backpressure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestOverlap(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"users.mapped.auth0", "users.mapped.auth0", true},
		{"users.mapped.auth0", "users.mapped.lr", false},
		{"users.mapped.*", "users.mapped.auth0", true},
		{"users.mapped.>", "users.mapped.auth0", true},
		{"users.>", "users.mapped.auth0", true},
		{"users.mapped.>", "users.mapped", false},
		{"users.mapped", "users.mapped.auth0", false},
		{"gigya.accounts.>", "users.mapped.auth0", false},
		{"*.*.x", "a.*.y", false},
		{"*.b.>", "a.*.c.d", true},
		{">", "anything.at.all", true},
	}
	for _, c := range cases {
		if got := Overlap(c.a, c.b); got != c.want {
			t.Errorf("Overlap(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := Overlap(c.b, c.a); got != c.want {
			t.Errorf("Overlap(%q, %q) = %v, want %v (not symmetric)", c.b, c.a, got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []Config{
		{HighWater: 10, LowWater: 10, Interval: time.Second},
		{HighWater: -1, Interval: time.Second},
		{HighWater: 10, LowWater: 5, Interval: 0},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (Config{HighWater: 0, LowWater: 99, Interval: time.Second}).Validate(); err != nil {
		t.Errorf("high_water 0 (off) must accept any low_water: %v", err)
	}
}

// TestGatePausesAndResumes drives the gate with a real consumer: it closes
// when the lag reaches the high-water mark, stays closed between the marks,
// and opens at the low one; consumers of other subjects and ephemeral
// consumers are ignored.
func TestGatePausesAndResumes(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t)
	js := srv.JetStream()
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "M", Subjects: []string{"users.mapped.>"}})
	if err != nil {
		t.Fatal(err)
	}
	down, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "loader-a", FilterSubject: "users.mapped.auth0", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	// Lagging, but not downstream of users.mapped.auth0, or not durable.
	if _, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "loader-lr", FilterSubject: "users.mapped.lr", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy, InactiveThreshold: time.Minute}); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := js.Publish(ctx, "users.mapped.lr", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}

	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	var mu sync.Mutex
	var changes []bool
	g := New(Config{HighWater: 10, LowWater: 4, Interval: 10 * time.Millisecond}, stream, []string{"users.mapped.auth0"}, m,
		slog.New(slog.NewTextHandler(io.Discard, nil)), func(p bool, reason string) {
			mu.Lock()
			changes = append(changes, p)
			mu.Unlock()
		})
	publish := func(n int) {
		for range n {
			if _, err := js.Publish(ctx, "users.mapped.auth0", []byte("{}")); err != nil {
				t.Fatal(err)
			}
		}
	}
	consume := func(n int) {
		batch, err := down.Fetch(n, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for msg := range batch.Messages() {
			if err := msg.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
			got++
		}
		if got != n {
			t.Fatalf("fetched %d, want %d", got, n)
		}
	}

	publish(9)
	g.Check(ctx)
	if g.Paused() {
		t.Fatal("paused at lag 9 < high water 10 (the lr consumer and the ephemeral one must not count)")
	}
	publish(1)
	// The server counts a consumer's pending messages a moment after it
	// acked the publication, so poll.
	natstest.Eventually(t, 5*time.Second, func() error {
		if g.Check(ctx); !g.Paused() {
			return errors.New("not paused at lag 10")
		}
		return nil
	})
	if got := value(t, m.paused.WithLabelValues("users.mapped.auth0")); got != 1 {
		t.Fatalf("gm_backpressure_paused = %v", got)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	err = g.Wait(waitCtx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait while paused returned %v", err)
	}

	consume(5) // lag 5: between the marks, still paused
	g.Check(ctx)
	if !g.Paused() {
		t.Fatal("resumed at lag 5 > low water 4")
	}

	// Run opens the gate once the consumer catches up to the low-water mark;
	// a waiting producer is released.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go g.Run(runCtx)
	released := make(chan error, 1)
	go func() { released <- g.Wait(ctx) }()
	consume(1)
	select {
	case err := <-released:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait not released after the lag fell to the low-water mark")
	}
	if g.Paused() {
		t.Fatal("still paused")
	}
	if got := value(t, m.pauses.WithLabelValues("users.mapped.auth0")); got != 1 {
		t.Fatalf("gm_backpressure_pauses_total = %v", got)
	}
	// onChange runs right after the gate opens, so poll for it.
	natstest.Eventually(t, 5*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(changes) != "[true false]" {
			return fmt.Errorf("onChange calls %v, want [true false]", changes)
		}
		return nil
	})
}

func TestGateOffNeverPauses(t *testing.T) {
	g := New(Config{HighWater: 0, Interval: time.Second}, nil, []string{"x"}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	g.Run(context.Background()) // returns at once: nothing to watch
	if err := g.Wait(context.Background()); err != nil || g.Paused() {
		t.Fatalf("a disabled gate blocked: %v", err)
	}
}

func value(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Gauge != nil {
		return m.Gauge.GetValue()
	}
	return m.Counter.GetValue()
}
