package quickstart_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// binaries builds the three commands once for all tests of the package.
var binaries = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gigya-migrate-e2e-bin-")
	if err != nil {
		return "", err
	}
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		return "", err
	}
	return dir, quickstart.Build(context.Background(), root, dir)
})

func binDir(t *testing.T) string {
	t.Helper()
	dir, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// expectation is what the pipeline must do with a generated input file,
// computed independently of the pipeline: every account through the mapping.
type expectation struct {
	lines       int             // lines in the input
	loaded      map[string]bool // UIDs that must appear once in the output
	transformDL map[string]bool // UIDs the mapping refuses
	filtered    int
	extractDL   int // unusable lines
}

// writeInput writes n generated accounts plus unusable lines (broken JSON,
// an account without UID) as gzipped JSON lines, and what should become of them.
func writeInput(t *testing.T, path string, n int) expectation {
	t.Helper()
	m, err := mapping.Parse("auth0.yaml", configs.Auth0Mapping)
	if err != nil {
		t.Fatal(err)
	}
	ev := m.NewEvaluator()
	exp := expectation{loaded: map[string]bool{}, transformDL: map[string]bool{}}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	g := sample.New(7, sample.Options{PBKDF2Rounds: 10, BcryptCost: 4})
	for i := range n {
		a := g.Next()
		zw.Write(a.JSON)
		zw.Write([]byte("\n"))
		exp.lines++
		_, skip, err := ev.ApplyJSON(a.JSON)
		switch {
		case skip != "":
			exp.filtered++
		case err != nil:
			exp.transformDL[a.UID] = true
		default:
			exp.loaded[a.UID] = true
		}
		if i == n/3 {
			zw.Write([]byte("{\"UID\": broken json\n"))
			zw.Write([]byte("{\"profile\":{\"email\":\"no-uid@example.com\"}}\n"))
			exp.lines += 2
			exp.extractDL += 2
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if len(exp.loaded) == 0 || len(exp.transformDL) == 0 || exp.filtered == 0 {
		t.Fatalf("generated input does not exercise every outcome: %+v", exp)
	}
	return exp
}

// readImportFiles decodes the Auth0 import files of dir in name order, each
// an array of users within Auth0's 500 KB limit, and hands each to each.
func readImportFiles[U any](t *testing.T, dir string, each func(file string, users []U)) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 500_000 {
			t.Fatalf("%s is %d bytes, over Auth0's 500 KB", f, len(b))
		}
		var users []U
		if err := json.Unmarshal(b, &users); err != nil {
			t.Fatalf("%s is not an Auth0 import file: %v", f, err)
		}
		each(f, users)
	}
}

// outputUIDs counts every user_id in the Auth0 import files of dir.
func outputUIDs(t *testing.T, dir string) map[string]int {
	t.Helper()
	got := map[string]int{}
	type user struct {
		UserID string `json:"user_id"`
		Email  string `json:"email"`
	}
	readImportFiles(t, dir, func(f string, users []user) {
		for _, u := range users {
			if u.Email == "" {
				t.Fatalf("%s: user %s has no email", f, u.UserID)
			}
			got[u.UserID]++
		}
	})
	return got
}

// deadLetters counts the dead letters by stage subject and collects UIDs.
func deadLetters(t *testing.T, js jetstream.JetStream) (map[string]int, map[string]bool) {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, "ETL_DEADLETTER")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter("etl.deadletter.>"))
	if err != nil {
		t.Fatal(err)
	}
	bySubject := map[string]int{}
	for subj, n := range info.State.Subjects {
		bySubject[subj] = int(n)
	}
	uids := map[string]bool{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted by a redrive
		}
		if err != nil {
			t.Fatal(err)
		}
		if u := m.Header.Get("Gigya-UID"); u != "" {
			uids[u] = true
		}
	}
	return bySubject, uids
}

// checkExactlyOnce asserts the invariant: every account that maps is loaded
// exactly once; extracted = loaded + dead-lettered + filtered.
func checkExactlyOnce(t *testing.T, js jetstream.JetStream, out string, exp expectation, filtered int64) {
	t.Helper()
	got := outputUIDs(t, out)
	for uid := range exp.loaded {
		if got[uid] != 1 {
			t.Fatalf("user %s loaded %d times, want exactly once", uid, got[uid])
		}
	}
	if len(got) != len(exp.loaded) {
		t.Fatalf("output has %d users, want %d", len(got), len(exp.loaded))
	}
	bySubject, dlUIDs := deadLetters(t, js)
	if bySubject["etl.deadletter.extract.e2e"] != exp.extractDL || bySubject["etl.deadletter.transform.auth0"] != len(exp.transformDL) {
		t.Fatalf("dead letters %v, want extract %d transform %d", bySubject, exp.extractDL, len(exp.transformDL))
	}
	for uid := range exp.transformDL {
		if !dlUIDs[uid] {
			t.Fatalf("refused user %s is not in the dead-letter stream", uid)
		}
	}
	dl := 0
	for _, n := range bySubject {
		dl += n
	}
	if filtered >= 0 && int64(exp.filtered) != filtered {
		t.Fatalf("filtered %d, want %d", filtered, exp.filtered)
	}
	if extracted := exp.lines; extracted != len(got)+dl+exp.filtered {
		t.Fatalf("extracted %d != loaded %d + dead-lettered %d + filtered %d", extracted, len(got), dl, exp.filtered)
	}
}

type pipeline struct {
	t   *testing.T
	bin string
	env []string
	log *os.File
}

func newPipeline(t *testing.T, url, out string, extraEnv ...string) *pipeline {
	log, err := os.Create(filepath.Join(t.TempDir(), "pipeline.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("process logs:\n%s", lastBytes(b, 8000))
		}
		log.Close()
	})
	cfg := filepath.Join(t.TempDir(), "loader.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, "loader:\n  sink:\n    type: auth0-file\n    options: {dir: %q}\n", out), 0o644)
	env := append([]string{"NATS_URL=" + url, "GM_CONFIG=" + cfg, "GM_TRANSFORMER_CONSUMER_ACK_WAIT=2s"}, extraEnv...)
	return &pipeline{t: t, bin: binDir(t), env: env, log: log}
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (p *pipeline) start(name string, args ...string) *quickstart.Proc {
	p.t.Helper()
	proc, err := quickstart.Start(filepath.Join(p.bin, name), args, p.env, p.log)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = proc.Signal(syscall.SIGKILL) })
	return proc
}

func exitCode(t *testing.T, p *quickstart.Proc) int {
	t.Helper()
	code, err := p.Wait(2 * time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

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

// stopGracefully sends SIGTERM to each process and expects exit code 0.
func stopGracefully(t *testing.T, procs ...*quickstart.Proc) {
	t.Helper()
	for _, proc := range procs {
		if err := proc.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := exitCode(t, proc); code != 0 {
			t.Fatalf("%s exit %d after SIGTERM, want 0", proc.Name, code)
		}
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

func consumerInfo(t *testing.T, js jetstream.JetStream, stream, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := js.Consumer(context.Background(), stream, durable)
	if err != nil {
		return nil
	}
	return c.CachedInfo()
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
	exp := writeInput(t, input, 10_000)
	// One worker and a small in-flight window make the half-way point
	// observable; the kill then leaves unacked messages to redeliver.
	p := newPipeline(t, srv.ClientURL(), out, "GM_TRANSFORMER_WORKERS=1", "GM_TRANSFORMER_CONSUMER_MAX_ACK_PENDING=64")

	ex := p.start("extractor", "-site", "e2e", input)
	if code := exitCode(t, ex); code != 3 { // 3: finished with dead letters (the broken lines)
		t.Fatalf("extractor exit %d, want 3", code)
	}
	ld := p.start("loader")
	tr := p.start("transformer")
	var killedAt uint64
	natstest.Eventually(t, time.Minute, func() error {
		info := consumerInfo(t, js, "GIGYA_ACCOUNTS", "transformer-auth0")
		if info == nil || info.AckFloor.Stream < uint64(exp.lines)/2 {
			return fmt.Errorf("not half-way yet: %+v", info)
		}
		killedAt = info.AckFloor.Stream
		return tr.Signal(syscall.SIGKILL)
	})
	exitCode(t, tr)
	if killedAt >= uint64(exp.lines-exp.extractDL) {
		t.Fatalf("transformer finished before the kill (ack floor %d): the test did not exercise a crash", killedAt)
	}
	t.Logf("transformer killed at ack floor %d of %d", killedAt, exp.lines)
	tr2 := p.start("transformer")
	waitDrained(t, js)
	stopGracefully(t, tr2, ld)
	checkExactlyOnce(t, js, out, exp, -1) // the killed instance reported no count
	mapped, _ := js.Stream(context.Background(), "USERS_MAPPED")
	info, _ := mapped.Info(context.Background())
	if info.State.Msgs != uint64(len(exp.loaded)) {
		t.Fatalf("USERS_MAPPED holds %d messages, want %d: a redelivery was stored twice", info.State.Msgs, len(exp.loaded))
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
	exp := writeInput(t, input, 10_000)
	// A single pending publish makes extraction slow enough to interrupt.
	p := newPipeline(t, srv.ClientURL(), out, "GM_EXTRACTOR_MAX_PENDING=1", "GM_TRANSFORMER_WORKERS=1",
		"GM_TRANSFORMER_CONSUMER_MAX_ACK_PENDING=64", "GM_LOADER_BATCH_MAX_WAIT=50ms")

	ex := p.start("extractor", "-site", "e2e", input)
	tr := p.start("transformer")
	ld := p.start("loader")
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
	stopGracefully(t, ex, tr, ld)
	var first struct {
		Status    string
		Read      int64
		Published int64
	}
	if err := ex.Summary(&first); err != nil {
		t.Fatal(err)
	}
	if first.Status != "interrupted" || first.Read >= int64(exp.lines) {
		t.Fatalf("extractor was not interrupted mid-way: %+v", first)
	}
	// Everything acked so far is in the output already.
	if got := outputUIDs(t, out); len(got) == 0 {
		t.Fatal("nothing loaded before the stop")
	}

	ex2 := p.start("extractor", "-site", "e2e", input)
	if code := exitCode(t, ex2); code != 3 {
		t.Fatalf("restarted extractor exit %d, want 3", code)
	}
	var second struct {
		Resumed, Read, Duplicates int64
	}
	if err := ex2.Summary(&second); err != nil {
		t.Fatal(err)
	}
	if second.Resumed == 0 || second.Duplicates != 0 || second.Resumed+second.Read != int64(exp.lines) {
		t.Fatalf("restart did not resume from the checkpoint: first %+v, second %+v", first, second)
	}
	tr2, ld2 := p.start("transformer"), p.start("loader")
	waitDrained(t, js)
	stopGracefully(t, tr2, ld2)
	checkExactlyOnce(t, js, out, exp, -1)
}

// TestQuickstart runs what `make run` runs (go tool nats-server included)
// on a small input and checks its report against the output.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	dir := t.TempDir()
	input, out := filepath.Join(dir, "accounts.jsonl.gz"), filepath.Join(dir, "out")
	exp := writeInput(t, input, 500)
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	rep, err := quickstart.Run(context.Background(), quickstart.Options{
		Root: root, BinDir: binDir(t), Inputs: []string{input}, OutDir: out, Stdout: &stdout,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := outputUIDs(t, out)
	if int(rep.Loaded) != len(exp.loaded) || len(got) != len(exp.loaded) || int(rep.Filtered) != exp.filtered ||
		int(rep.DeadLettered["transform"]) != len(exp.transformDL) || int(rep.DeadLettered["extract"]) != exp.extractDL ||
		int(rep.Read) != exp.lines {
		t.Fatalf("report %+v, output %d users; want %+v", rep, len(got), exp)
	}
	rep.Print(&stdout, out)
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
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// waitDrainedRefs waits until the transformer and the named loader have
// nothing pending.
func waitDrainedRefs(ctx context.Context, js jetstream.JetStream, loader string) error {
	return quickstart.WaitDrained(ctx, js,
		quickstart.ConsumerRef{Stream: "GIGYA_ACCOUNTS", Durable: "transformer-auth0"},
		quickstart.ConsumerRef{Stream: "USERS_MAPPED", Durable: loader})
}
