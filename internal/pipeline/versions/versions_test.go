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
	entries := []Entry{{Key: "u.1", Version: 200}, {Key: "ü 2#1", Version: 300}, {Key: "u3", Version: 0}}
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
	if err := b.Wrote(ctx, []Entry{{Key: "u.1", Version: 150}}); err != nil {
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

// TestLoginMarkIsStickyAndSurvivesRestarts: a user migrated at login is
// marked, whatever versions come later, in this instance, in another and
// after a restart; its mark is never overwritten in the bucket.
func TestLoginMarkIsStickyAndSurvivesRestarts(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).JetStream()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "etl_versions"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func() *Register {
		t.Helper()
		r, err := Open(ctx, kv, js, "auth0", log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		return r
	}
	a, b := open(), open()
	if err := a.Wrote(ctx, []Entry{{Key: "u1", Version: 100}, {Key: "u2", Version: 500, AtLogin: true}, {Key: "u3", AtLogin: true}}); err != nil {
		t.Fatal(err)
	}
	if a.AtLogin("u1") || !a.AtLogin("u2") || !a.AtLogin("u3") {
		t.Fatal("the writer's own view of the login marks is wrong")
	}
	// A newer bulk version recorded later (a race) neither clears the mark
	// here nor in the bucket.
	if err := b.Wrote(ctx, []Entry{{Key: "u2", Version: 900}}); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 5*time.Second, func() error {
		if !b.AtLogin("u2") || !b.AtLogin("u3") || b.AtLogin("u1") {
			return fmt.Errorf("instance b: u2 %t, u3 %t, u1 %t", b.AtLogin("u2"), b.AtLogin("u3"), b.AtLogin("u1"))
		}
		return nil
	})
	if e, err := kv.Get(ctx, "auth0.login.dTI"); err != nil || string(e.Value()) != "500" {
		t.Fatalf("u2's mark in the bucket: %v %v", e, err)
	}
	// A user marked after a bulk version was recorded.
	if err := a.Wrote(ctx, []Entry{{Key: "u1", Version: 50, AtLogin: true}}); err != nil {
		t.Fatal(err)
	}
	c := open()
	if !c.AtLogin("u1") || !c.AtLogin("u2") || !c.AtLogin("u3") || c.AtLogin("u4") {
		t.Fatalf("the restarted register lost a login mark (%d users)", c.Len())
	}
}
