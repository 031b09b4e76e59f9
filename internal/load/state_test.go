package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func keys(t *testing.T, st *sinkState) []string {
	t.Helper()
	es, err := st.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Key+"="+string(e.Value))
	}
	slices.Sort(out)
	return out
}

func TestSinkStateIsTheLoadersOwnAndDeletesOnlyUnchangedKeys(t *testing.T) {
	ctx := context.Background()
	top, err := topology.Ensure(ctx, natstest.Start(t).JetStream(), topology.Default())
	if err != nil {
		t.Fatal(err)
	}
	a, other, odd := newSinkState(top.State, "auth0-api"), newSinkState(top.State, "auth0-api2"), newSinkState(top.State, "ümlaut/x")
	for _, p := range []struct {
		st  *sinkState
		key string
	}{{a, "s1"}, {a, "s2"}, {other, "s1"}, {odd, "s1"}} {
		if err := p.st.Put(ctx, p.key, []byte(p.st.prefix)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := keys(t, a), []string{"s1=sink.auth0-api.", "s2=sink.auth0-api."}; !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v: only this loader's keys", got, want)
	}
	if got := keys(t, odd); len(got) != 1 {
		t.Fatalf("a loader name that is no KV token: %v", got)
	}
	if err := a.Put(ctx, "bad.key", nil); err == nil {
		t.Fatal("a key with a dot must be refused: it would leave the loader's prefix")
	}

	es, _ := a.List(ctx)
	var s1 sink.StateEntry
	for _, e := range es {
		if e.Key == "s1" {
			s1 = e
		}
	}
	// Another instance put s1 again after it was read: the delete must not
	// take its record away.
	if err := a.Put(ctx, "s1", []byte("newer")); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "s1", s1.Revision); err != nil {
		t.Fatalf("a delete that lost the race is no error: %v", err)
	}
	if got := keys(t, a); !slices.Contains(got, "s1=newer") {
		t.Fatalf("the newer s1 was deleted: %v", got)
	}
	if err := a.Delete(ctx, "s2", 0); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(t, a), []string{"s1=newer"}; !slices.Equal(got, want) {
		t.Fatalf("after deletes: %v, want %v", got, want)
	}
}

// recoveringSink checks that the loader hands it its state before the
// first write.
type recoveringSink struct {
	mu        sync.Mutex
	recovered []string // the keys Recover found
	st        sink.State
	wrote     chan struct{}
	errs      []error
	// waiting, when set, makes Recover wait for a job that never ends.
	waiting chan struct{}
}

func (r *recoveringSink) Recover(ctx context.Context, st sink.State) error {
	if r.waiting != nil {
		close(r.waiting)
		<-ctx.Done()
		return fmt.Errorf("waiting for job j1: %w", ctx.Err())
	}
	es, err := st.List(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st = st
	for _, e := range es {
		r.recovered = append(r.recovered, e.Key)
	}
	return st.Put(ctx, "mine", []byte("1"))
}

func (r *recoveringSink) Write(context.Context, []sink.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.st == nil {
		r.errs = append(r.errs, errors.New("Write before Recover"))
	}
	select {
	case r.wrote <- struct{}{}:
	default:
	}
	return nil
}

// Close deletes the sink's record, as auth0-api does at a clean stop: the
// loader must close its sink while the state is still reachable.
func (r *recoveringSink) Close(ctx context.Context) error {
	r.mu.Lock()
	st := r.st
	r.mu.Unlock()
	if st == nil {
		return nil
	}
	return st.Delete(ctx, "mine", 0)
}

func TestRunRecoversTheSinkBeforeItsFirstWrite(t *testing.T) {
	srv := natstest.Start(t)
	js := srv.JetStream()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	top, err := topology.Ensure(ctx, js, topology.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sink.rec.left-by-a-crash", "sink.another.x"} {
		if _, err := top.State.Put(ctx, k, []byte("[]")); err != nil {
			t.Fatal(err)
		}
	}
	snk := &recoveringSink{wrote: make(chan struct{}, 1)}
	var stderr bytes.Buffer
	done := runWith(ctx, srv.ClientURL(), snk, &stderr)
	m := nats.NewMsg(message.MappedSubject("auth0"))
	m.Data = []byte(`{"user_id":"u1"}`)
	m.Header.Set(message.HdrUID, "u1")
	m.Header.Set(message.HdrMsgID, "auth0:u1")
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	select {
	case <-snk.wrote:
	case err := <-done:
		t.Fatalf("loader stopped: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no write within 30s\n%s", stderr.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	snk.mu.Lock()
	defer snk.mu.Unlock()
	if len(snk.errs) > 0 {
		t.Fatal(snk.errs)
	}
	if fmt.Sprint(snk.recovered) != "[left-by-a-crash]" {
		t.Fatalf("Recover found %v, want the loader's own key only", snk.recovered)
	}
	hist, err := top.State.History(context.Background(), "sink.rec.mine")
	if err != nil || len(hist) != 2 || string(hist[0].Value()) != "1" || hist[1].Operation() != jetstream.KeyValueDelete {
		t.Fatalf("the sink's Put, then its Delete at Close, are not in the state bucket under the loader's prefix: %v %v", hist, err)
	}
}

// runWith runs the loader with snk as sink "rec".
func runWith(ctx context.Context, url string, snk sink.Sink, stderr io.Writer) <-chan error {
	reg := sink.Registry{"rec": {New: func(context.Context, sink.Params) (sink.Sink, error) { return snk, nil }}}
	env := stage.Env{Args: []string{"-sink", "rec", "-target", "auth0"}, Stdout: &bytes.Buffer{}, Stderr: stderr,
		Getenv: func(k string) string {
			if k == "NATS_URL" {
				return url
			}
			return ""
		}}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, env, reg) }()
	return done
}

func TestAStopWhileRecoveringIsAStop(t *testing.T) {
	srv := natstest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snk := &recoveringSink{waiting: make(chan struct{})}
	var stderr bytes.Buffer
	done := runWith(ctx, srv.ClientURL(), snk, &stderr)
	select {
	case <-snk.waiting:
	case err := <-done:
		t.Fatalf("loader stopped before Recover: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("Recover not called within 30s\n%s", stderr.String())
	}
	cancel() // SIGTERM
	if err := <-done; err != nil {
		t.Fatalf("a stop during Recover must end the loader cleanly, got %v", err)
	}
}

// A loader whose target has no users while USERS_MAPPED holds some for
// another target says so, instead of waiting without a word.
func TestALoaderForAnEmptyTargetNamesTheOthers(t *testing.T) {
	srv := natstest.Start(t)
	js := srv.JetStream()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := topology.Ensure(ctx, js, topology.Default()); err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(message.MappedSubject("loginradius"))
	m.Data = []byte(`{"Uid":"u1"}`)
	m.Header.Set(message.HdrUID, "u1")
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	var stderr syncbuf.Buffer
	done := runWith(ctx, srv.ClientURL(), &fakeSink{stored: map[string]int{}, write: func(int, []sink.Record) error { return nil }}, &stderr)
	natstest.Eventually(t, 20*time.Second, func() error {
		if !strings.Contains(stderr.String(), "other_targets=[loginradius]") {
			return fmt.Errorf("no warning yet:\n%s", stderr.String())
		}
		return nil
	})
	cancel() // maybe while it still starts: a stop then, which exits 0
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
