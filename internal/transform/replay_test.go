package transform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// replayEnv runs the transformer in-process against the fixture's server.
func replayEnv(url string, args ...string) (stage.Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errs bytes.Buffer
	return stage.Env{Args: args, Getenv: func(k string) string {
		if k == "NATS_URL" {
			return url
		}
		return ""
	}, Stdout: &out, Stderr: &errs}, &out, &errs
}

func writeMapping(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mapping.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mappedByUID reads USERS_MAPPED: the latest user per UID and the number of
// messages that carry a replay header.
func mappedByUID(t *testing.T, js jetstream.JetStream, top *topology.Topology) (map[string]map[string]any, map[string]string, int) {
	t.Helper()
	ctx := context.Background()
	cons, err := top.Mapped.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := top.Mapped.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	users, versions, replayed := map[string]map[string]any{}, map[string]string{}, 0
	for range info.State.Msgs {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var u map[string]any
		if err := json.Unmarshal(m.Data(), &u); err != nil {
			t.Fatal(err)
		}
		uid := m.Headers().Get(message.HdrUID)
		users[uid], versions[uid] = u, m.Headers().Get(message.HdrMappingVersion)
		if m.Headers().Get(message.HdrReplay) != "" {
			replayed++
		}
	}
	return users, versions, replayed
}

func TestReplayAfterAMappingFix(t *testing.T) {
	f := setup(t, 30*time.Second)
	ctx := context.Background()
	const n = 40
	for i := range n {
		f.publishRaw(t, fmt.Sprintf("u%02d", i), fmt.Sprintf(`{"UID":"u%02d","profile":{"email":"User%02d@Example.com"}}`, i, i))
	}
	// The normal transformer maps everything with a wrong mapping.
	buggy := strings.Replace(testMapping, `lower(profile.email ?? "")`, `upper(profile.email ?? "")`, 1)
	bugPath, fixPath := writeMapping(t, buggy), writeMapping(t, testMapping)
	url := f.js.Conn().ConnectedUrl()
	env, out, errs := replayEnv(url, "replay", "-all", "-mapping", bugPath)
	if err := Run(ctx, env); err != nil {
		t.Fatalf("replay with the buggy mapping: %v\n%s", err, errs)
	}
	users, _, _ := mappedByUID(t, f.js, f.top)
	if len(users) != n || users["u07"]["email"] != "USER07@EXAMPLE.COM" {
		t.Fatalf("buggy mapping: %d users, u07 = %v", len(users), users["u07"])
	}

	// The normal durable consumer must not be disturbed by replays.
	before, err := f.cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Fix, replay only some users: they get the fixed mapping, the rest keep theirs.
	uids := filepath.Join(t.TempDir(), "uids.txt")
	if err := os.WriteFile(uids, []byte("u03\n\n# comment\nu07\nu11\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env, out, errs = replayEnv(url, "replay", "-all", "-uids", uids, "-mapping", fixPath)
	if err := Run(ctx, env); err != nil {
		t.Fatalf("replay: %v\n%s", err, errs)
	}
	var sum ReplaySummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	if sum.Mapped != 3 || sum.Skipped != n-3 || sum.Status != "completed" || sum.EndSeq != n {
		t.Fatalf("summary %+v", sum)
	}
	users, versions, replayed := mappedByUID(t, f.js, f.top)
	if users["u07"]["email"] != "user07@example.com" || users["u08"]["email"] != "USER08@EXAMPLE.COM" || versions["u07"] == versions["u08"] {
		t.Fatalf("after the partial replay: u07 %v (%s), u08 %v (%s)", users["u07"], versions["u07"], users["u08"], versions["u08"])
	}
	if replayed != n+3 {
		t.Fatalf("%d mapped messages carry %s, want %d", replayed, message.HdrReplay, n+3)
	}

	// From a sequence: the users stored from there on.
	env, out, errs = replayEnv(url, "replay", "-from-seq", "31", "-mapping", fixPath)
	if err := Run(ctx, env); err != nil {
		t.Fatalf("replay -from-seq: %v\n%s", err, errs)
	}
	sum = ReplaySummary{}
	_ = json.Unmarshal(out.Bytes(), &sum)
	if sum.Consumed != 10 || sum.Mapped != 10 {
		t.Fatalf("-from-seq 31 of %d: %+v", n, sum)
	}

	// The same mapping again: every user is a duplicate, and the summary says so...
	env, out, errs = replayEnv(url, "replay", "-all", "-mapping", fixPath)
	if err := Run(ctx, env); err != nil {
		t.Fatalf("replay -all: %v", err)
	}
	sum = ReplaySummary{}
	_ = json.Unmarshal(out.Bytes(), &sum)
	if sum.Mapped != n-13 || sum.Duplicates != 13 {
		t.Fatalf("replay -all after partial replays: %+v", sum)
	}
	env, out, errs = replayEnv(url, "replay", "-all", "-mapping", fixPath)
	if err := Run(ctx, env); err != nil {
		t.Fatalf("replay -all again: %v", err)
	}
	sum = ReplaySummary{}
	_ = json.Unmarshal(out.Bytes(), &sum)
	if sum.Mapped != 0 || sum.Duplicates != n || !strings.Contains(errs.String(), "mapping is unchanged") {
		t.Fatalf("an unchanged mapping: %+v\n%s", sum, errs)
	}
	// ...unless forced.
	env, out, _ = replayEnv(url, "replay", "-all", "-force", "-mapping", fixPath)
	if err := Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	sum = ReplaySummary{}
	_ = json.Unmarshal(out.Bytes(), &sum)
	if sum.Mapped != n {
		t.Fatalf("-force: %+v", sum)
	}

	after, err := f.cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.NumPending != before.NumPending || after.Delivered.Consumer != before.Delivered.Consumer {
		t.Fatalf("the normal consumer moved: pending %d → %d, delivered %d → %d", before.NumPending, after.NumPending,
			before.Delivered.Consumer, after.Delivered.Consumer)
	}
	// Replay consumers are removed when they finish.
	names := f.top.Raw.ConsumerNames(ctx)
	for name := range names.Name() {
		if strings.HasPrefix(name, "replay-") {
			t.Errorf("replay consumer %s left behind", name)
		}
	}
}

func TestReplayFlags(t *testing.T) {
	for _, args := range [][]string{
		{"replay"},
		{"replay", "-all", "-from-seq", "3"},
		{"replay", "-since", "yesterday"},
		{"replay", "-uids", filepath.Join(t.TempDir(), "missing.txt")},
	} {
		env, _, _ := replayEnv("nats://127.0.0.1:1", args...)
		err := Run(context.Background(), env)
		var usage *stage.UsageError
		if !errors.As(err, &usage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

func TestReplaySelection(t *testing.T) {
	all := &replaySelection{endSeq: 10}
	if !all.selects(10, "a") || all.selects(11, "a") {
		t.Fatal("endSeq bound")
	}
	some := &replaySelection{endSeq: 10, uids: map[string]struct{}{"a": {}}}
	if !some.selects(3, "a") || some.selects(3, "b") {
		t.Fatal("uid selection")
	}
}
