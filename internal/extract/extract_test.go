package extract

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

func testEnv(url string, vars map[string]string, args ...string) (stage.Env, *bytes.Buffer) {
	var out bytes.Buffer
	return stage.Env{
		Args: args, Stdout: &out, Stderr: &bytes.Buffer{},
		Getenv: func(k string) string {
			if k == "NATS_URL" {
				return url
			}
			return vars[k]
		},
	}, &out
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	acct1 = `{"UID":"u1","lastUpdatedTimestamp":1706781600000,"profile":{"email":"a@example.com"}}`
	acct2 = `{"UID":"u2","lastUpdatedTimestamp":1706781600001}`
)

func TestSameAccountTwiceIsStoredOnce(t *testing.T) {
	srv := natstest.Start(t)
	js := srv.JetStream()
	f := writeFile(t, "a.jsonl", acct1+"\n"+acct2+"\n"+acct1+"\n")
	env, out := testEnv(srv.ClientURL(), nil, "-site", "s1", f)
	if err := Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Read != 3 || sum.Published != 2 || sum.Duplicates != 1 || sum.Status != "completed" {
		t.Fatalf("summary %+v", sum)
	}
	s, _ := js.Stream(context.Background(), "GIGYA_ACCOUNTS")
	info, _ := s.Info(context.Background())
	if info.State.Msgs != 2 {
		t.Fatalf("stream holds %d messages, want 2", info.State.Msgs)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), "gigya.accounts.s1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		message.HdrMsgID: "s1:u2:1706781600001", message.HdrUID: "u2", message.HdrSite: "s1",
		message.HdrLastUpdated: "1706781600001", message.HdrRun: sum.Run,
	}
	for k, v := range want {
		if got := m.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if string(m.Data) != acct2 {
		t.Fatalf("payload changed: %s", m.Data)
	}
	// Run record.
	kv, _ := js.KeyValue(context.Background(), "etl_state")
	e, err := kv.Get(context.Background(), "run."+sum.Run+".s1")
	if err != nil || !bytes.Contains(e.Value(), []byte(`"published":2`)) {
		t.Fatalf("run record: %v %s", err, e.Value())
	}
	// The same file again is a new run of a completed input: all duplicates.
	env, out = testEnv(srv.ClientURL(), nil, "-site", "s1", f)
	if err := Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(out.Bytes(), &sum)
	if sum.Published != 0 || sum.Duplicates != 3 || sum.Resumed != 0 {
		t.Fatalf("second run %+v", sum)
	}
}

func TestUnusableRecordsAreDeadLettered(t *testing.T) {
	srv := natstest.Start(t)
	js := srv.JetStream()
	f := writeFile(t, "a.jsonl", acct1+"\n{not json\n"+`{"profile":{}}`+"\n"+acct2+"\n")
	env, out := testEnv(srv.ClientURL(), nil, "-site", "s1", f)
	err := Run(context.Background(), env)
	if !errors.Is(err, stage.ErrDeadLetters) {
		t.Fatalf("want ErrDeadLetters (exit 3), got %v", err)
	}
	var sum Summary
	_ = json.Unmarshal(out.Bytes(), &sum)
	if sum.Read != 4 || sum.Published != 2 || sum.DeadLettered != 2 {
		t.Fatalf("summary %+v", sum)
	}
	s, _ := js.Stream(context.Background(), "ETL_DEADLETTER")
	for seq, want := range map[uint64]struct{ code, line, data string }{
		1: {"invalid_json", "2", "{not json"},
		2: {"no_uid", "3", `{"profile":{}}`},
	} {
		m, err := s.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		h := m.Header
		if m.Subject != "etl.deadletter.extract.s1" || h.Get(message.HdrErrorCode) != want.code ||
			h.Get(message.HdrSourceLine) != want.line || h.Get(message.HdrSourceFile) != f ||
			h.Get(message.HdrStage) != "extract" || string(m.Data) != want.data || h.Get(message.HdrError) == "" {
			t.Fatalf("dead letter %d: %s %v %q", seq, m.Subject, h, m.Data)
		}
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	env, _ := testEnv("nats://127.0.0.1:1", map[string]string{"GM_EXTRACTOR_SITE": "a.b", "GM_EXTRACTOR_MAX_PENDING": "0"}, "x.json")
	err := Run(context.Background(), env)
	var usage *stage.UsageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "extractor.site") || !strings.Contains(err.Error(), "extractor.max_pending") {
		t.Fatalf("want a usage error naming both keys, got %v", err)
	}
	cfg := writeFile(t, "c.yaml", "extractor:\n  sitee: x\n")
	env, _ = testEnv("nats://127.0.0.1:1", map[string]string{"GM_CONFIG": cfg}, "x.json")
	if err := Run(context.Background(), env); err == nil || !strings.Contains(err.Error(), "sitee") {
		t.Fatalf("unknown key must be reported, got %v", err)
	}
	env, _ = testEnv("nats://127.0.0.1:1", nil)
	if err := Run(context.Background(), env); err == nil || !strings.Contains(err.Error(), "no input files") {
		t.Fatalf("no input must say what to do, got %v", err)
	}
	missing := filepath.Join(t.TempDir(), "missing.jsonl")
	env, _ = testEnv("nats://127.0.0.1:1", nil, missing)
	if err := Run(context.Background(), env); !errors.As(err, &usage) || err.Error() != "input "+missing+": no such file or directory" {
		t.Fatalf("a missing input must be named plainly, got %v", err)
	}
}

// A context cancelled mid-run (SIGTERM) stores a checkpoint; the next run
// resumes after it instead of re-publishing.
func TestInterruptedRunResumes(t *testing.T) {
	srv := natstest.Start(t)
	js := srv.JetStream()
	var lines []string
	for i := range 200 {
		lines = append(lines, `{"UID":"u`+string(rune('a'+i%26))+strings.Repeat("x", i/26)+`","lastUpdatedTimestamp":1}`)
	}
	f := writeFile(t, "a.jsonl", strings.Join(lines, "\n"))
	ctx, cancel := context.WithCancel(context.Background())
	src := Registry{"file": func(s Settings, o SourceOptions) ([]SiteSource, error) {
		inner, err := newFileSource(s, o)
		if err != nil {
			return nil, err
		}
		inner[0].Source = cancelAfter{Source: inner[0].Source, n: 50, cancel: cancel}
		return inner, nil
	}}
	env, out := testEnv(srv.ClientURL(), map[string]string{"GM_EXTRACTOR_CHECKPOINT_EVERY": "7"}, f)
	if err := run(ctx, env, src); err != nil {
		t.Fatal(err)
	}
	var first Summary
	_ = json.Unmarshal(out.Bytes(), &first)
	if first.Status != "interrupted" || first.Read == 0 || first.Read >= 200 {
		t.Fatalf("first run %+v", first)
	}
	env, out = testEnv(srv.ClientURL(), nil, f)
	if err := Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	var second Summary
	_ = json.Unmarshal(out.Bytes(), &second)
	if second.Resumed != first.Published || second.Duplicates != 0 || second.Published != 200-first.Published {
		t.Fatalf("second run %+v after %+v", second, first)
	}
	s, _ := js.Stream(context.Background(), "GIGYA_ACCOUNTS")
	if info, _ := s.Info(context.Background()); info.State.Msgs != 200 {
		t.Fatalf("stream holds %d", info.State.Msgs)
	}
}

type cancelAfter struct {
	Source
	n      int
	cancel func()
}

func (c cancelAfter) Read(ctx context.Context, from Checkpoint, emit func(Item) error) error {
	seen := 0
	return c.Source.Read(ctx, from, func(it Item) error {
		seen++
		if seen == c.n {
			c.cancel()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return emit(it)
	})
}

// Two extractors reading the same input would overwrite each other's
// progress: the checkpoint is written with a revision check, and the
// loser stops with an error that says why.
func TestCheckpointRevisionCheck(t *testing.T) {
	js := natstest.Start(t).JetStream()
	ctx := context.Background()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "etl_state"})
	if err != nil {
		t.Fatal(err)
	}
	x := &extraction{kv: kv, site: "s1", run: "r1"}
	w := &checkpointWriter{x: x, key: checkpointKey("file:a"), input: "file:a"}
	w.advance(filePosition{Done: 5})
	if err := w.save(false); err != nil {
		t.Fatal(err)
	}
	// Someone else writes the same checkpoint meanwhile.
	if _, err := kv.Put(ctx, w.key, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	w.advance(filePosition{Done: 9})
	err = w.save(false)
	if err == nil || !strings.Contains(err.Error(), "another extractor") {
		t.Fatalf("want a conflict error, got %v", err)
	}
	// A save whose reply was lost (a stream leader gone in a cluster) but
	// which landed leaves this run's own checkpoint at a newer revision:
	// that is no conflict.
	own := &checkpointWriter{x: x, key: checkpointKey("file:c"), input: "file:c"}
	own.advance(filePosition{Done: 1})
	if err := own.save(false); err != nil {
		t.Fatal(err)
	}
	landed, _ := json.Marshal(Checkpoint{Input: "file:c", Site: "s1", Run: "r1", State: json.RawMessage(`{"done":2}`)})
	if _, err := kv.Update(ctx, own.key, landed, own.rev); err != nil {
		t.Fatal(err)
	}
	own.advance(filePosition{Done: 3})
	if err := own.save(false); err != nil {
		t.Fatalf("this run's own landed write taken for a conflict: %v", err)
	}
	if cp, _ := x.loadCheckpoint(ctx, own.key); string(cp.State) != `{"done":3}` {
		t.Fatalf("stored %s", cp.State)
	}

	fresh := &checkpointWriter{x: x, key: checkpointKey("file:b"), input: "file:b"}
	fresh.advance(filePosition{Done: 1})
	if err := fresh.save(true); err != nil {
		t.Fatal(err)
	}
	cp, rev := x.loadCheckpoint(ctx, fresh.key)
	if !cp.Complete || string(cp.State) != `{"done":1}` || rev == 0 {
		t.Fatalf("stored %+v rev %d", cp, rev)
	}
}

// TestUpdateMarksTheAccounts: a second export run with -update marks its
// accounts Etl-Update (loaders upsert them); a plain run does not.
func TestUpdateMarksTheAccounts(t *testing.T) {
	srv := natstest.Start(t)
	js := srv.JetStream()
	first := writeFile(t, "a.jsonl", acct1+"\n")
	env, _ := testEnv(srv.ClientURL(), nil, "-site", "s1", first)
	if err := Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	newer := strings.Replace(acct1, "1706781600000", "1706781600009", 1)
	second := writeFile(t, "b.jsonl", newer+"\n")
	env, _ = testEnv(srv.ClientURL(), nil, "-site", "s1", "-update", second)
	if err := Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	s, _ := js.Stream(context.Background(), "GIGYA_ACCOUNTS")
	for seq, want := range map[uint64]string{1: "", 2: "1"} {
		m, err := s.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Header.Get(message.HdrUpdate); got != want {
			t.Errorf("message %d: %s = %q, want %q", seq, message.HdrUpdate, got, want)
		}
	}
}

// flakyPublisher fails the first sends as a dropped connection does.
type flakyPublisher struct {
	failures int
	err      error
	calls    int
}

func (p *flakyPublisher) PublishMsgAsync(*nats.Msg, ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	p.calls++
	if p.calls <= p.failures {
		return nil, p.err
	}
	return nil, nil
}

func (p *flakyPublisher) PublishMsg(context.Context, *nats.Msg, ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	return nil, errors.New("not used")
}

// TestPublishAsyncRetriesADroppedConnection: a send that fails because the
// connection to a (lost) node dropped is sent again once the client has
// reconnected; a permanent failure still ends the run at once.
func TestPublishAsyncRetriesADroppedConnection(t *testing.T) {
	reset := &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	pub := &flakyPublisher{failures: 2, err: reset}
	x := &extraction{pub: pub, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	msg := nats.NewMsg("gigya.accounts.s")
	if _, err := x.publishAsync(context.Background(), msg); err != nil || pub.calls != 3 {
		t.Fatalf("err %v after %d calls, want success on the third", err, pub.calls)
	}
	bad := &flakyPublisher{failures: 1, err: nats.ErrMaxPayload}
	x.pub = bad
	if _, err := x.publishAsync(context.Background(), msg); !errors.Is(err, nats.ErrMaxPayload) || bad.calls != 1 {
		t.Fatalf("err %v after %d calls, want the permanent error at once", err, bad.calls)
	}
}

// TestTruncatedInputFailsTheRun: an export cut short (a gzip stream that
// stops mid-way) is a failed run that names the file and where it ends;
// every complete record before the cut is published, and a rerun with the
// repaired file continues after them: nothing lost, nothing twice.
func TestTruncatedInputFailsTheRun(t *testing.T) {
	srv := natstest.Start(t)
	js := srv.JetStream()
	var whole bytes.Buffer
	zw := gzip.NewWriter(&whole)
	const n = 300
	for i := range n {
		fmt.Fprintf(zw, `{"UID":"u%03d","lastUpdatedTimestamp":1,"data":{"pad":%q}}`+"\n", i, strings.Repeat(fmt.Sprint(i), 40))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	cut := whole.Bytes()[:whole.Len()/2]
	// The records that decompress whole from the cut stream.
	zr, err := gzip.NewReader(bytes.NewReader(cut))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	complete := int64(bytes.Count(plain, []byte("\n")))
	if complete == 0 || complete >= n {
		t.Fatalf("the cut keeps %d of %d records; the test needs some", complete, n)
	}
	path := filepath.Join(t.TempDir(), "export.jsonl.gz")
	if err := os.WriteFile(path, cut, 0o644); err != nil {
		t.Fatal(err)
	}

	env, out := testEnv(srv.ClientURL(), nil, "-site", "s1", path)
	err = Run(context.Background(), env)
	var sum Summary
	_ = json.Unmarshal(out.Bytes(), &sum)
	if code := stage.ExitCode("extractor", err, io.Discard); code != stage.ExitFailure {
		t.Fatalf("exit %d (%v), want %d: a cut input is a failed run", code, err, stage.ExitFailure)
	}
	want := fmt.Sprintf("site s1: input %s is cut short at line %d", path, complete+1)
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("the %d records before the cut are stored", complete)) {
		t.Fatalf("error %q, want it to name the file and where it is cut (%q)", err, want)
	}
	if sum.Status != "failed" || sum.Published != complete || sum.DeadLettered != 1 {
		t.Fatalf("summary %+v, want failed with %d published and the cut record dead-lettered", sum, complete)
	}

	if err := os.WriteFile(path, whole.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	env, out = testEnv(srv.ClientURL(), nil, "-site", "s1", path)
	if err := Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(out.Bytes(), &sum)
	if sum.Status != "completed" || sum.Resumed != complete || sum.Published != n-complete || sum.Duplicates != 0 {
		t.Fatalf("rerun with the repaired file %+v, want %d resumed and %d published", sum, complete, n-complete)
	}
	s, _ := js.Stream(context.Background(), "GIGYA_ACCOUNTS")
	if info, _ := s.Info(context.Background()); info.State.Msgs != n {
		t.Fatalf("stream holds %d, want %d", info.State.Msgs, n)
	}
}
