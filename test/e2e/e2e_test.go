package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/nats-io/nats.go/jetstream"
)

func waitDrained(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := quickstart.WaitDrained(ctx, js,
		quickstart.ConsumerRef{Stream: "GIGYA_ACCOUNTS", Durable: "transformer-auth0"},
		quickstart.ConsumerRef{Stream: "USERS_MAPPED", Durable: "loader-auth0-file"})
	if err != nil {
		t.Fatalf("pipeline did not drain: %v", err)
	}
}

// mappedUIDs counts USERS_MAPPED messages per UID.
func mappedUIDs(t *testing.T, js jetstream.JetStream) map[string]int {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, "USERS_MAPPED")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(ctx)
	got := map[string]int{}
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		got[m.Header.Get("Gigya-UID")]++
	}
	return got
}

// TestEndToEndTransformerKilled runs the three binaries on 10,000 accounts,
// kills the transformer with SIGKILL half-way, restarts it, and checks that
// every user is loaded exactly once.
func TestEndToEndTransformerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	srv := natstest.Start(t)
	js := srv.JetStream()
	dir := t.TempDir()
	input, out := filepath.Join(dir, "accounts.jsonl.gz"), filepath.Join(dir, "out")
	exp := harness.WriteInput(t, input, 10_000)
	// One worker and a small in-flight window make the half-way point
	// observable; the kill then leaves unacked messages to redeliver.
	p := harness.NewPipeline(t, srv.ClientURL(), out, "GM_TRANSFORMER_WORKERS=1", "GM_TRANSFORMER_CONSUMER_MAX_ACK_PENDING=64")

	ex := p.Start("extractor", "-site", "e2e", input)
	if code := harness.ExitCode(t, ex); code != 3 { // 3: finished with dead letters (the broken lines)
		t.Fatalf("extractor exit %d, want 3", code)
	}
	ld := p.Start("loader")
	tr := p.Start("transformer")
	var killedAt uint64
	natstest.Eventually(t, time.Minute, func() error {
		info := harness.ConsumerInfo(t, js, "GIGYA_ACCOUNTS", "transformer-auth0")
		if info == nil || info.AckFloor.Stream < uint64(exp.Lines)/2 {
			return fmt.Errorf("not half-way yet: %+v", info)
		}
		killedAt = info.AckFloor.Stream
		return tr.Signal(syscall.SIGKILL)
	})
	harness.ExitCode(t, tr)
	if killedAt >= uint64(exp.Lines-exp.ExtractDL) {
		t.Fatalf("transformer finished before the kill (ack floor %d): the test did not exercise a crash", killedAt)
	}
	t.Logf("transformer killed at ack floor %d of %d", killedAt, exp.Lines)
	tr2 := p.Start("transformer")
	waitDrained(t, js)
	harness.StopGracefully(t, tr2, ld)
	harness.CheckExactlyOnce(t, js, out, exp, -1) // the killed instance reported no count
	mapped, _ := js.Stream(context.Background(), "USERS_MAPPED")
	info, _ := mapped.Info(context.Background())
	if info.State.Msgs != uint64(len(exp.Loaded)) {
		t.Fatalf("USERS_MAPPED holds %d messages, want %d: a redelivery was stored twice", info.State.Msgs, len(exp.Loaded))
	}
}

// TestEndToEndGracefulStops sends SIGTERM to each binary in the middle of
// its work: each finishes and acks what it holds, exits 0, and a restart
// continues with nothing lost or duplicated.
func TestEndToEndGracefulStops(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	srv := natstest.Start(t)
	js := srv.JetStream()
	dir := t.TempDir()
	input, out := filepath.Join(dir, "accounts.jsonl.gz"), filepath.Join(dir, "out")
	exp := harness.WriteInput(t, input, 10_000)
	// A single pending publish makes extraction slow enough to interrupt.
	p := harness.NewPipeline(t, srv.ClientURL(), out, "GM_EXTRACTOR_MAX_PENDING=1", "GM_TRANSFORMER_WORKERS=1",
		"GM_TRANSFORMER_CONSUMER_MAX_ACK_PENDING=64", "GM_LOADER_BATCH_MAX_WAIT=50ms")

	ex := p.Start("extractor", "-site", "e2e", input)
	tr := p.Start("transformer")
	ld := p.Start("loader")
	raw := func() uint64 {
		s, err := js.Stream(context.Background(), "GIGYA_ACCOUNTS")
		if err != nil {
			return 0
		}
		return s.CachedInfo().State.Msgs
	}
	natstest.Eventually(t, time.Minute, func() error {
		if n := raw(); n < 2000 {
			return fmt.Errorf("%d accounts extracted", n)
		}
		return nil
	})
	harness.StopGracefully(t, ex, tr, ld)
	var first struct {
		Status    string
		Read      int64
		Published int64
	}
	if err := ex.Summary(&first); err != nil {
		t.Fatal(err)
	}
	if first.Status != "interrupted" || first.Read >= int64(exp.Lines) {
		t.Fatalf("extractor was not interrupted mid-way: %+v", first)
	}
	// Everything acked so far is in the output already.
	if got := harness.OutputUIDs(t, out); len(got) == 0 {
		t.Fatal("nothing loaded before the stop")
	}

	ex2 := p.Start("extractor", "-site", "e2e", input)
	if code := harness.ExitCode(t, ex2); code != 3 {
		t.Fatalf("restarted extractor exit %d, want 3", code)
	}
	var second struct {
		Resumed, Read, Duplicates int64
	}
	if err := ex2.Summary(&second); err != nil {
		t.Fatal(err)
	}
	if second.Resumed == 0 || second.Duplicates != 0 || second.Resumed+second.Read != int64(exp.Lines) {
		t.Fatalf("restart did not resume from the checkpoint: first %+v, second %+v", first, second)
	}
	tr2, ld2 := p.Start("transformer"), p.Start("loader")
	waitDrained(t, js)
	harness.StopGracefully(t, tr2, ld2)
	harness.CheckExactlyOnce(t, js, out, exp, -1)
}

// TestQuickstart runs what `make run` runs (go tool nats-server included)
// on a small input and checks its report against the output.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	dir := t.TempDir()
	input, out := filepath.Join(dir, "accounts.jsonl.gz"), filepath.Join(dir, "out")
	exp := harness.WriteInput(t, input, 500)
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	rep, err := quickstart.Run(context.Background(), quickstart.Options{
		Root: root, BinDir: harness.BinDir(t), Inputs: []string{input}, OutDir: out, Stdout: &stdout,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := harness.OutputUIDs(t, out)
	if int(rep.Loaded) != len(exp.Loaded) || len(got) != len(exp.Loaded) || int(rep.Filtered) != exp.Filtered ||
		int(rep.DeadLettered["transform"]) != len(exp.TransformDL) || int(rep.DeadLettered["extract"]) != exp.ExtractDL ||
		int(rep.Read) != exp.Lines {
		t.Fatalf("report %+v, output %d users; want %+v", rep, len(got), exp)
	}
	rep.Print(&stdout, out)
	printed := stdout.String()
	sc := bufio.NewScanner(&stdout)
	found := false
	for sc.Scan() {
		if bytes.Contains(sc.Bytes(), []byte("loaded")) {
			found = true
		}
	}
	if !found {
		t.Fatalf("summary not printed:\n%s", stdout.String())
	}

	// The store is kept, and the command the summary names reads its dead
	// letters afterwards: make deadletters runs quickstart.Inspect.
	want := fmt.Sprintf("JetStream store kept in %s/ (the next run starts a new one); dead letters: make deadletters OUT=%s BIN=%s",
		filepath.Join(out, "nats"), out, harness.BinDir(t))
	if !strings.Contains(printed, want) {
		t.Fatalf("the summary does not say how to read the dead letters afterwards (%q):\n%s", want, printed)
	}
	if rep.Unaccounted() != 0 || !strings.Contains(printed, ": balances") || len(rep.Files) == 0 {
		t.Fatalf("the summary does not balance, or lists no file:\n%s", printed)
	}

	// A second run in the same directory counts its own files, not the
	// first run's too.
	again, err := quickstart.Run(context.Background(), quickstart.Options{
		Root: root, BinDir: harness.BinDir(t), Inputs: []string{input}, OutDir: out, Stdout: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range again.Files {
		for _, g := range rep.Files {
			if f.Name == g.Name {
				t.Fatalf("the second run lists the first run's file %s", f.Name)
			}
		}
	}
	if len(again.Files) == 0 || again.Loaded != rep.Loaded {
		t.Fatalf("second run: %d files, %d loaded; want its own files and %d loaded", len(again.Files), again.Loaded, rep.Loaded)
	}

	var listed bytes.Buffer
	code, err := quickstart.Inspect(context.Background(), quickstart.Options{Root: root, BinDir: harness.BinDir(t), OutDir: out, Stdout: &listed}, []string{"deadletter", "list"})
	if err != nil || code != 0 {
		t.Fatalf("deadletter list on the kept store: exit %d, %v\n%s", code, err, listed.String())
	}
	total := exp.ExtractDL + len(exp.TransformDL)
	if !strings.Contains(listed.String(), fmt.Sprintf("%d dead letters", total)) || !strings.Contains(listed.String(), "transform") {
		t.Fatalf("deadletter list on the kept store shows\n%s\nwant the %d dead letters of the run", listed.String(), total)
	}
}

// TestQuickstartMissingInput: a stage that fails at once (here the
// extractor, on an input that does not exist) makes the quickstart fail
// with the stage's own error, not only a log's path.
func TestQuickstartMissingInput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	dir := t.TempDir()
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.jsonl")
	_, err = quickstart.Run(context.Background(), quickstart.Options{
		Root: root, BinDir: harness.BinDir(t), Inputs: []string{missing}, OutDir: filepath.Join(dir, "out"), Stdout: io.Discard,
	})
	if want := "extractor exited with 2: input " + missing + ": no such file or directory"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want the cause: %q", err, want)
	}
}

// TestQuickstartTruncatedInput: an export cut short goes through up to the
// cut, and the quickstart's summary says the run failed and why.
func TestQuickstartTruncatedInput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	dir := t.TempDir()
	whole, cut := filepath.Join(dir, "whole.jsonl.gz"), filepath.Join(dir, "cut.jsonl.gz")
	harness.WriteInput(t, whole, 500)
	b, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	rep, err := quickstart.Run(context.Background(), quickstart.Options{
		Root: root, BinDir: harness.BinDir(t), Inputs: []string{cut}, OutDir: out, Stdout: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "extractor exited with 1: site sample: input " + cut + " is cut short at line"; !strings.Contains(rep.Failed, want) {
		t.Fatalf("report says %q, want %q", rep.Failed, want)
	}
	if rep.Read == 0 || rep.Loaded == 0 || rep.DeadLettered["extract"] == 0 {
		t.Fatalf("report %+v: what came before the cut must go through", rep)
	}
	var summary bytes.Buffer
	rep.Print(&summary, out)
	if !strings.Contains(summary.String(), "gigya-migrate: FAILED after") || !strings.Contains(summary.String(), "FAILED: extractor exited with 1") {
		t.Fatalf("the summary does not say the run failed:\n%s", summary.String())
	}
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
