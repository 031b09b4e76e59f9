package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/heartbeat"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go/jetstream"
)

const pausedReason = "consumer loader-x lags 120000 > high water 100000"

// pipeline is a test server holding a pipeline in mid-flight.
type pipeline struct {
	srv *natstest.Server
	js  jetstream.JetStream
	top *topology.Topology
}

// startPipeline creates the topology and puts it in a known state: 10 raw
// messages of which the transformer consumer has 6 delivered and 4 acked
// (out of order, so that its ack floor is 3), 4 mapped messages nobody
// consumes yet, a checkpoint, a run record, a paused extractor and a stale
// transformer.
func startPipeline(t *testing.T) *pipeline {
	t.Helper()
	ctx := testContext(t)
	srv := natstest.Start(t)
	js := srv.JetStream()
	top, err := topology.Ensure(ctx, js, topology.Default())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := js.Publish(ctx, "gigya.accounts.site1", fmt.Appendf(nil, `{"UID":"u%d"}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		if _, err := js.Publish(ctx, "users.mapped.auth0", fmt.Appendf(nil, `{"user_id":"u%d"}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	cc := topology.ConsumerConfig{AckWait: time.Minute, MaxDeliver: 5, MaxAckPending: 100, Backoff: []time.Duration{time.Second}}
	cons, err := cc.Durable(ctx, top.Raw, "transformer-auth0", topology.RawSubjects)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Durable(ctx, top.Mapped, "loader-auth0", "users.mapped.auth0"); err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	natstest.Eventually(t, 5*time.Second, func() error {
		batch, err := cons.FetchNoWait(6 - len(msgs))
		if err != nil {
			return err
		}
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) < 6 {
			return fmt.Errorf("fetched %d of 6", len(msgs))
		}
		return nil
	})
	for _, i := range []int{0, 1, 2, 4} { // #3 and #5 stay unacked
		if err := msgs[i].DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}

	now := time.Now().UTC()
	put := func(key string, v any) {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := top.State.Put(ctx, key, b); err != nil {
			t.Fatal(err)
		}
	}
	put("checkpoint.0123456789abcdef01234567", map[string]any{
		"input": "file:/data/export.json", "site": "site1", "run": "r1",
		"state": map[string]int{"done": 10}, "complete": false, "updated": now.Add(-time.Minute),
	})
	put("run.r1.site1", map[string]any{
		"stage": "extractor", "run": "r1", "site": "site1", "status": "completed", "elapsed": "1.2s",
		"read": 10, "published": 9, "duplicates": 1, "dead_lettered": 0, "resumed": 0,
		"started": now.Add(-2 * time.Minute), "finished": now.Add(-time.Minute),
	})
	put(heartbeat.Key("extractor", "host-1"), heartbeat.Beat{
		Stage: "extractor", Instance: "host-1", Started: now.Add(-time.Minute), Updated: now,
		Paused: true, PausedReason: pausedReason, Counts: map[string]int64{"published": 10},
	})
	put(heartbeat.Key("transformer", "host-2"), heartbeat.Beat{
		Stage: "transformer", Instance: "host-2", Started: now.Add(-time.Hour), Updated: now.Add(-time.Hour),
	})
	return &pipeline{srv: srv, js: js, top: top}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func deadLetters(context.Context) ([]DeadLetterGroup, error) {
	return []DeadLetterGroup{
		{Stage: "transform", Target: "auth0", Code: "invalid_email", Count: 3, Redriven: 1},
		{Stage: "extract", Target: "site1", Code: "bad_json", Count: 1},
	}, nil
}

func TestCollect(t *testing.T) {
	p := startPipeline(t)
	ctx := testContext(t)
	var s Snapshot
	// Acks were confirmed (DoubleAck), but poll anyway: consumer state is
	// what the server reports when asked, not a promise.
	natstest.Eventually(t, 5*time.Second, func() error {
		var err error
		s, err = Collect(ctx, p.js, Options{Streams: topology.Default(), DeadLetters: deadLetters})
		if err != nil {
			return err
		}
		if c := findConsumer(s, "transformer-auth0"); c.AckPending != 2 {
			return fmt.Errorf("ack pending %d, want 2", c.AckPending)
		}
		return nil
	})

	raw, mapped, dl := s.stream(RoleRaw), s.stream(RoleMapped), s.stream(RoleDeadLetter)
	if raw.Name != "GIGYA_ACCOUNTS" || raw.Missing || raw.Messages != 10 || raw.FirstSeq != 1 || raw.LastSeq != 10 || raw.Consumers != 1 || raw.Bytes == 0 || raw.FirstTime.IsZero() {
		t.Errorf("raw stream = %+v", raw)
	}
	if mapped.Messages != 4 || mapped.Consumers != 1 {
		t.Errorf("mapped stream = %+v", mapped)
	}
	if dl.Missing || dl.Messages != 0 || !dl.FirstTime.IsZero() {
		t.Errorf("dead-letter stream = %+v", dl)
	}

	tr := findConsumer(s, "transformer-auth0")
	if tr.Stream != "GIGYA_ACCOUNTS" || !tr.Durable || len(tr.Filters) != 1 || tr.Filters[0] != topology.RawSubjects {
		t.Errorf("transformer consumer identity = %+v", tr)
	}
	if tr.Pending != 4 || tr.AckPending != 2 || tr.Delivered != 6 || tr.AckFloor != 3 || tr.Redelivered != 0 {
		t.Errorf("transformer consumer figures = %+v", tr)
	}
	// Acked out of order: the floor says 3, but 4 are done.
	if tr.Done != 4 || tr.Total != 10 || tr.LastActive.IsZero() {
		t.Errorf("transformer progress = done %d total %d last active %v, want 4/10", tr.Done, tr.Total, tr.LastActive)
	}
	if tr.RatePerSec != nil || tr.ETASeconds != nil {
		t.Error("one snapshot cannot have a rate")
	}
	ld := findConsumer(s, "loader-auth0")
	if ld.Stream != "USERS_MAPPED" || ld.Pending != 4 || ld.Done != 0 || ld.Total != 4 {
		t.Errorf("loader consumer = %+v", ld)
	}

	if len(s.Instances) != 2 {
		t.Fatalf("instances = %+v", s.Instances)
	}
	ex, tf := s.Instances[0], s.Instances[1]
	if ex.Stage != "extractor" || !ex.Paused || ex.PausedReason != pausedReason || ex.Stale || ex.Counts["published"] != 10 {
		t.Errorf("extractor instance = %+v", ex)
	}
	if tf.Stage != "transformer" || !tf.Stale {
		t.Errorf("transformer instance = %+v", tf)
	}

	if len(s.Checkpoints) != 1 {
		t.Fatalf("checkpoints = %+v", s.Checkpoints)
	}
	cp := s.Checkpoints[0]
	if cp.Input != "file:/data/export.json" || cp.Site != "site1" || cp.Run != "r1" || cp.Complete || cp.Updated.IsZero() || string(cp.State) != `{"done":10}` {
		t.Errorf("checkpoint = %+v", cp)
	}
	if len(s.Runs) != 1 || s.Runs[0].Run != "r1" || s.Runs[0].Status != "completed" || s.Runs[0].Published != 9 {
		t.Errorf("runs = %+v", s.Runs)
	}
	if tot := s.ExtractorTotals; tot.Runs != 1 || tot.Read != 10 || tot.Published != 9 || tot.Duplicates != 1 {
		t.Errorf("extractor totals = %+v", tot)
	}

	// Sorted in pipeline order: extract before transform.
	if len(s.DeadLetters) != 2 || s.DeadLetters[0].Code != "bad_json" || s.DeadLetters[1].Count != 3 || s.DeadLetters[1].Redriven != 1 {
		t.Errorf("dead letters = %+v", s.DeadLetters)
	}
}

func TestCollectProgressAndRates(t *testing.T) {
	p := startPipeline(t)
	ctx := testContext(t)
	opts := Options{Streams: topology.Default()}
	first, err := Collect(ctx, p.js, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The loader takes and acks all 4 mapped messages.
	cons, err := p.top.Mapped.Consumer(ctx, "loader-auth0")
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(4, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var ld ConsumerStatus
	natstest.Eventually(t, 5*time.Second, func() error {
		second, err := Collect(ctx, p.js, opts)
		if err != nil {
			return err
		}
		ld = findConsumer(WithRates(first, second), "loader-auth0")
		if ld.Done != 4 {
			return fmt.Errorf("loader done %d, want 4", ld.Done)
		}
		return nil
	})
	if ld.Total != 4 || ld.RatePerSec == nil || *ld.RatePerSec <= 0 {
		t.Errorf("loader after acking everything = %+v", ld)
	}
	if ld.ETASeconds == nil || *ld.ETASeconds != 0 {
		t.Errorf("nothing remains: ETA should be 0, got %v", ld.ETASeconds)
	}
}

func TestCollectMissingStreamIsReportedNotCreated(t *testing.T) {
	p := startPipeline(t)
	ctx := testContext(t)
	if err := p.js.DeleteStream(ctx, "ETL_DEADLETTER"); err != nil {
		t.Fatal(err)
	}
	called := false
	s, err := Collect(ctx, p.js, Options{Streams: topology.Default(), DeadLetters: func(context.Context) ([]DeadLetterGroup, error) {
		called = true
		return nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if dl := s.stream(RoleDeadLetter); !dl.Missing || dl.Name != "ETL_DEADLETTER" {
		t.Errorf("dead-letter stream = %+v, want missing", dl)
	}
	if s.stream(RoleRaw).Missing {
		t.Error("raw stream reported missing")
	}
	if called {
		t.Error("dead letters summarized although their stream is missing")
	}
	if _, err := p.js.Stream(ctx, "ETL_DEADLETTER"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("status recreated the stream: %v", err)
	}
}

func TestCollectEmptyServer(t *testing.T) {
	srv := natstest.Start(t)
	js := srv.JetStream()
	ctx := testContext(t)
	s, err := Collect(ctx, js, Options{Streams: topology.Default()})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range s.Streams {
		if !st.Missing {
			t.Errorf("stream %s not reported missing", st.Name)
		}
	}
	if len(s.Streams) != 3 || !s.StateMissing || len(s.Consumers) != 0 {
		t.Errorf("snapshot of an empty server = %+v", s)
	}
	if _, err := js.KeyValue(ctx, "etl_state"); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Errorf("status created the bucket: %v", err)
	}
}

func TestCollectDeadLetterSummaryFailureIsShown(t *testing.T) {
	p := startPipeline(t)
	s, err := Collect(testContext(t), p.js, Options{Streams: topology.Default(), DeadLetters: func(context.Context) ([]DeadLetterGroup, error) {
		return nil, errors.New("summary timed out")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if s.DeadLetters != nil || s.DeadLetterError != "summary timed out" {
		t.Errorf("dead letters %+v, error %q", s.DeadLetters, s.DeadLetterError)
	}
}

func findConsumer(s Snapshot, name string) ConsumerStatus {
	for _, c := range s.Consumers {
		if c.Name == name {
			return c
		}
	}
	return ConsumerStatus{}
}
