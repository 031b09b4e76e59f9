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
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// replayEnv runs the transformer in-process against the fixture's server.
func replayEnv(url string, args ...string) (stage.Env, *bytes.Buffer, *bytes.Buffer) {
	return replayEnvWith(map[string]string{"NATS_URL": url}, args...)
}

// replayEnvWith runs it with the environment vars.
func replayEnvWith(vars map[string]string, args ...string) (stage.Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errs bytes.Buffer
	return stage.Env{Args: args, Getenv: func(k string) string { return vars[k] }, Stdout: &out, Stderr: &errs}, &out, &errs
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
	if sum.Mapped != n-13 || sum.Unchanged != 13 {
		t.Fatalf("replay -all after partial replays: %+v", sum)
	}
	env, out, errs = replayEnv(url, "replay", "-all", "-mapping", fixPath)
	if err := Run(ctx, env); err != nil {
		t.Fatalf("replay -all again: %v", err)
	}
	sum = ReplaySummary{}
	_ = json.Unmarshal(out.Bytes(), &sum)
	if sum.Mapped != 0 || sum.Unchanged != n || !strings.Contains(errs.String(), "mapping is unchanged") {
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

// A replay is recognised by content, not by the streams' duplicate window:
// long after the window (made short here and waited out), a replay with an
// unchanged mapping sends nothing and records no failure again, not even
// for a user whose redriven copy sits in the stream beside the original; a
// changed mapping sends only the users whose output changed.
func TestReplayIsANoOpPastTheDuplicateWindow(t *testing.T) {
	streams := topology.Default()
	for _, s := range []*topology.StreamConfig{&streams.Raw, &streams.Mapped, &streams.DeadLetter} {
		s.Duplicates = 100 * time.Millisecond
	}
	f := setupWith(t, 30*time.Second, streams)
	ctx := context.Background()
	const n, failing = 20, 4
	for i := range n {
		body := fmt.Sprintf(`{"UID":"u%02d","profile":{"email":"user%02d@example.com"}}`, i, i)
		if i < failing {
			body = fmt.Sprintf(`{"UID":"u%02d","profile":{}}`, i) // no email: required_missing
		}
		f.publishRaw(t, fmt.Sprintf("u%02d", i), body)
	}
	// A redriven copy of a failed account, as `deadletter redrive` leaves
	// it after deleting the dead letter it came from.
	m := nats.NewMsg("gigya.accounts.s1")
	m.Data = []byte(`{"UID":"u00","profile":{}}`)
	for k, v := range map[string]string{message.HdrUID: "u00", message.HdrLastUpdated: "1000", message.HdrSite: "s1",
		message.HdrRedriven: "1", message.HdrMsgID: "redrive:ETL_DEADLETTER:1"} {
		m.Header.Set(k, v)
	}
	if _, err := f.js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	f.runUntil(t, func() error {
		if got := msgs(t, f.top.Mapped) + msgs(t, f.top.DeadLetter); got != n+1 {
			return fmt.Errorf("%d outputs of %d inputs", got, n+1)
		}
		return nil
	})
	mapped, failed := msgs(t, f.top.Mapped), msgs(t, f.top.DeadLetter)
	if mapped != n-failing || failed != failing+1 {
		t.Fatalf("first run: %d mapped, %d dead letters", mapped, failed)
	}

	probes := waitPastDuplicateWindow(t, f.js)
	mappedOf := func() uint64 { return msgs(t, f.top.Mapped) - probes }
	vars := map[string]string{"NATS_URL": f.js.Conn().ConnectedUrl(), "GM_STREAMS_RAW_DUPLICATES": "100ms",
		"GM_STREAMS_MAPPED_DUPLICATES": "100ms", "GM_STREAMS_DEADLETTER_DUPLICATES": "100ms"}
	mappingPath := writeMapping(t, testMapping)
	for round := range 2 {
		env, out, errs := replayEnvWith(vars, "replay", "-all", "-mapping", mappingPath)
		if err := Run(ctx, env); !errors.Is(err, stage.ErrDeadLetters) {
			t.Fatalf("replay %d: %v, want the failures reported\n%s", round, err, errs)
		}
		var sum ReplaySummary
		if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
			t.Fatalf("summary %q: %v", out, err)
		}
		if sum.Mapped != 0 || sum.DeadLettered != 0 || sum.Unchanged != n-failing || sum.FailedBefore != failing+1 || sum.Consumed != n+1 {
			t.Fatalf("replay %d of an unchanged mapping: %+v", round, sum)
		}
		if !strings.Contains(errs.String(), "nothing new") {
			t.Errorf("replay %d does not say that nothing was sent:\n%s", round, errs)
		}
		if m, d := mappedOf(), msgs(t, f.top.DeadLetter); m != mapped || d != failed {
			t.Fatalf("replay %d changed the streams: %d mapped (was %d), %d dead letters (was %d)", round, m, mapped, d, failed)
		}
	}

	// A mapping that changes the output of three users only.
	changed := strings.Replace(testMapping, `app_metadata.site: "'x'"`, `app_metadata.site: "UID in ['u05', 'u06', 'u07'] ? 'y' : 'x'"`, 1)
	env, out, errs := replayEnvWith(vars, "replay", "-all", "-mapping", writeMapping(t, changed))
	if err := Run(ctx, env); !errors.Is(err, stage.ErrDeadLetters) {
		t.Fatalf("replay with a changed mapping: %v\n%s", err, errs)
	}
	var sum ReplaySummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	// The failures are new for the new mapping version: recorded once each,
	// the redriven copy beside its original included.
	if sum.Mapped != 3 || sum.Unchanged != n-failing-3 || sum.DeadLettered != failing || sum.FailedBefore != 1 {
		t.Fatalf("replay with a changed mapping: %+v", sum)
	}
	if m := mappedOf(); m != mapped+3 {
		t.Fatalf("%d mapped messages after the changed replay, want %d", m, mapped+3)
	}
	// The new mapping's failures take the place of the old mapping's: the
	// dead-letter stream still holds one failure per failed user.
	if d := msgs(t, f.top.DeadLetter); d != failing || sum.Resolved != failing+1 {
		t.Fatalf("after the changed replay: %d dead letters (want %d), %d resolved (want %d)", d, failing, sum.Resolved, failing+1)
	}
}

// waitPastDuplicateWindow returns once USERS_MAPPED no longer drops a
// repeated Nats-Msg-Id: its duplicate window has passed since the probe's
// first publication. It returns how many probes the stream stored.
func waitPastDuplicateWindow(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	probe := func() (bool, error) {
		m := nats.NewMsg(message.MappedSubject("probe"))
		m.Header.Set(message.HdrMsgID, "duplicate-window-probe")
		ack, err := js.PublishMsg(context.Background(), m)
		if err != nil {
			return false, err
		}
		return ack.Duplicate, nil
	}
	if dup, err := probe(); err != nil || dup {
		t.Fatalf("first probe: duplicate %v, %v", dup, err)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		dup, err := probe()
		if err == nil && dup {
			return errors.New("still inside the duplicate window")
		}
		return err
	})
	return 2
}
