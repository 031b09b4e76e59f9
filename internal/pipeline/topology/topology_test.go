package topology_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

func TestEnsureIsIdempotentAndUpdates(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).JetStream()
	cfg := topology.Default()
	for range 2 {
		if _, err := topology.Ensure(ctx, js, cfg); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Raw.MaxAge = 48 * time.Hour
	top, err := topology.Ensure(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	info, err := top.Raw.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxAge != 48*time.Hour || info.Config.Retention != jetstream.LimitsPolicy || info.Config.Subjects[0] != topology.RawSubjects {
		t.Fatalf("raw stream not updated: %+v", info.Config)
	}
	names := js.StreamNames(ctx)
	var got []string
	for n := range names.Name() {
		got = append(got, n)
	}
	if len(got) != 6 { // three streams + the three KV buckets'
		t.Fatalf("streams = %v", got)
	}
	for _, b := range []string{"etl_state", "etl_versions", "etl_claims"} {
		if _, err := js.KeyValue(ctx, b); err != nil {
			t.Fatal(b, err)
		}
	}
}

func TestEnsureReportsSubjectConflict(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).JetStream()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OLD", Subjects: []string{"gigya.accounts.>"}}); err != nil {
		t.Fatal(err)
	}
	_, err := topology.Ensure(ctx, js, topology.Default())
	if err == nil || !strings.Contains(err.Error(), "GIGYA_ACCOUNTS") || !strings.Contains(err.Error(), "another stream already captures") {
		t.Fatalf("want a conflict error naming the stream, got %v", err)
	}
}

// TestEnsurePlacement passes the placement to every stream and the KV
// bucket. (A single server does not enforce it; a cluster picks the servers
// by it, which is the server's own, tested behaviour.)
func TestEnsurePlacement(t *testing.T) {
	ctx := context.Background()
	js := natstest.StartWith(t, func(o *server.Options) { o.Tags = jwt.TagList{"ssd", "az:eu-1"} }).JetStream()
	cfg := topology.Default()
	cfg.Placement.Tags = []string{"ssd"}
	top, err := topology.Ensure(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []jetstream.Stream{top.Raw, top.Mapped, top.DeadLetter} {
		if p := s.CachedInfo().Config.Placement; p == nil || len(p.Tags) != 1 || p.Tags[0] != "ssd" {
			t.Fatalf("stream %s placement %+v", s.CachedInfo().Config.Name, p)
		}
	}
	kv, err := js.Stream(ctx, "KV_etl_state")
	if err != nil {
		t.Fatal(err)
	}
	if p := kv.CachedInfo().Config.Placement; p == nil || p.Tags[0] != "ssd" {
		t.Fatalf("KV placement %+v", p)
	}

}

func TestValidate(t *testing.T) {
	c := topology.Default()
	c.Raw.Name = "bad.name"
	c.Mapped.Duplicates = time.Hour * 24 * 30
	c.State.History = 0
	c.Placement.Tags = []string{"ssd", " "}
	err := c.Validate()
	for _, want := range []string{"raw.name", "mapped.duplicates", "state.history", "placement.tags[1]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v does not name %s", err, want)
		}
	}
	if err := topology.Default().Validate(); err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
}

func TestConsumerDelay(t *testing.T) {
	c := topology.ConsumerConfig{Backoff: []time.Duration{time.Second, 5 * time.Second}}
	for delivered, want := range map[uint64]time.Duration{1: time.Second, 2: 5 * time.Second, 9: 5 * time.Second} {
		if got := c.Delay(delivered); got != want {
			t.Errorf("Delay(%d) = %v, want %v", delivered, got, want)
		}
	}
}
