package versions

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go/jetstream"
)

func TestRegisterIsSharedAndSurvivesRestarts(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).JetStream()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "etl_versions"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func(loader string) *Register {
		t.Helper()
		r, err := Open(ctx, kv, js, loader, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		return r
	}

	a, b, other := open("auth0"), open("auth0"), open("loginradius")
	// UIDs that are not valid KV keys as they are: dots, spaces, unicode.
	entries := []Entry{{"u.1", 200}, {"ü 2#1", 300}, {"u3", 0}}
	if err := a.Wrote(ctx, entries); err != nil {
		t.Fatal(err)
	}
	if !a.Stale("u.1", 199) || a.Stale("u.1", 200) || a.Stale("u.1", 201) || !a.Stale("ü 2#1", 1) || a.Stale("ü 2", 1) {
		t.Fatal("the writer's own view is wrong")
	}
	if a.Stale("u.1", 0) {
		t.Fatal("an unknown version (0) must never be stale")
	}
	if a.Len() != 2 {
		t.Fatalf("recorded %d users, want 2 (a version 0 is not recorded)", a.Len())
	}
	// Another instance of the same loader learns it through the watch.
	natstest.Eventually(t, 5*time.Second, func() error {
		if !b.Stale("u.1", 199) || !b.Stale("ü 2#1", 299) {
			return fmt.Errorf("instance b sees %d users", b.Len())
		}
		return nil
	})
	// An older version recorded later (a race between instances) does not
	// lower the newest.
	if err := b.Wrote(ctx, []Entry{{"u.1", 150}}); err != nil {
		t.Fatal(err)
	}
	if !a.Stale("u.1", 199) || !b.Stale("u.1", 199) {
		t.Fatal("an older record lowered the newest version")
	}
	// A loader with another name (another target) is independent.
	if other.Stale("u.1", 1) || other.Len() != 0 {
		t.Fatal("another loader sees auth0's versions")
	}
	// A malformed entry (a hand edit) is ignored, not fatal.
	if _, err := kv.Put(ctx, "auth0.===", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "auth0.dTQ", []byte("not-a-number")); err != nil {
		t.Fatal(err)
	}
	// A restart loads what is in the bucket before it returns.
	c := open("auth0")
	if !c.Stale("ü 2#1", 299) || c.Stale("u4", 1) || c.Stale("u3", 1) {
		t.Fatalf("the restarted register is wrong: %d users", c.Len())
	}
	if !c.Stale("u.1", 199) {
		t.Fatal("the restarted register lost u.1's newest version")
	}
}

func TestOpenFailsOnACancelledContext(t *testing.T) {
	js := natstest.Start(t).JetStream()
	kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: "etl_versions"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Open(ctx, kv, js, "auth0", slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Fatal("Open with a cancelled context succeeded")
	}
}
