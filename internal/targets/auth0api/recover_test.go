package auth0api

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/segmentio/encoding/json"
)

// memState is a sink.State in memory, with the loader's revisions.
type memState struct {
	mu   sync.Mutex
	rev  uint64
	data map[string]sink.StateEntry
}

func newMemState() *memState { return &memState{data: map[string]sink.StateEntry{}} }

func (m *memState) List(context.Context) ([]sink.StateEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Collect(maps.Values(m.data)), nil
}

func (m *memState) Put(_ context.Context, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rev++
	m.data[key] = sink.StateEntry{Key: key, Value: slices.Clone(value), Revision: m.rev}
	return nil
}

func (m *memState) Delete(_ context.Context, key string, revision uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.data[key]; ok && (revision == 0 || e.Revision == revision) {
		delete(m.data, key)
	}
	return nil
}

// jobs returns the job ids recorded under every key.
func (m *memState) jobs(t *testing.T) []string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []string
	for _, e := range m.data {
		var ids []string
		if err := json.Unmarshal(e.Value, &ids); err != nil {
			t.Fatalf("state %s: %q: %v", e.Key, e.Value, err)
		}
		all = append(all, ids...)
	}
	return all
}

func version(given string) sink.Record {
	return sink.Record{UID: "u0001", Update: true,
		Data: []byte(`{"user_id":"u0001","email":"u0001@example.com","given_name":"` + given + `"}`)}
}

// startAbandoned starts writing rec with a slow job and stops waiting for it
// once the job is recorded, as a crash (or a stop) of the loader would: the
// job still runs at Auth0.
func startAbandoned(t *testing.T, s *apiSink, st *memState, rec sink.Record) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Write(ctx, []sink.Record{rec}) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(st.jobs(t)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the job was never recorded in the loader's state")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned write: %v", err)
	}
}

// givenName is the user's given_name once every job created has ended, so
// that a job landing late is seen.
func givenName(t *testing.T, sim *auth0sim.Sim) any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for st := sim.Stats(); st.JobsCompleted+st.JobsFailed < st.JobsCreated; st = sim.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("jobs still running: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	u, ok := sim.User("u0001@example.com")
	if !ok {
		t.Fatal("user not imported")
	}
	return u["given_name"]
}

// abandonedSlowJob starts a simulator with slow jobs and a recovered sink
// that abandons a job writing the user's version "Old".
func abandonedSlowJob(t *testing.T, slow time.Duration) (*auth0sim.Sim, string, *memState, *apiSink) {
	t.Helper()
	sim, base := startSimWith(t, auth0sim.Options{JobDuration: 50 * time.Millisecond, SlowJobDuration: slow})
	st := newMemState()
	s := newSink(t, sim, base, nil)
	if err := s.Recover(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	sim.Inject(auth0sim.FaultSlowJob, 1)
	startAbandoned(t, s, st, version("Old"))
	return sim, base, st, s
}

func TestARestartedLoaderWaitsForTheJobsACrashLeftRunning(t *testing.T) {
	sim, base, st, _ := abandonedSlowJob(t, 1500*time.Millisecond)
	ctx := context.Background()
	// No Close: the process died. Its successor must let the old job land
	// before its own, or the old version would overwrite the new one.
	restarted := newSink(t, sim, base, nil)
	if err := restarted.Recover(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got := sim.Stats().JobsCompleted; got != 1 {
		t.Fatalf("Recover returned before the job left running ended: %d jobs completed", got)
	}
	if ids := st.jobs(t); len(ids) != 0 {
		t.Fatalf("the settled jobs are still recorded: %v", ids)
	}
	if err := restarted.Write(ctx, []sink.Record{version("New")}); err != nil {
		t.Fatal(err)
	}
	if g := givenName(t, sim); g != "New" {
		t.Fatalf("given_name %v: the job the crash left running landed after the newer version", g)
	}
	if err := restarted.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.List(ctx); len(n) != 0 {
		t.Fatalf("a cleanly closed sink with no job left leaves %v", n)
	}
}

func TestAJobAWriteStoppedPollingEndsBeforeTheNextJob(t *testing.T) {
	sim, _, st, s := abandonedSlowJob(t, 1500*time.Millisecond)
	ctx := context.Background()
	// The loader retries the failed batch later, or writes the next one:
	// the job it gave up on must land first.
	if err := s.Write(ctx, []sink.Record{version("New")}); err != nil {
		t.Fatal(err)
	}
	if g := givenName(t, sim); g != "New" {
		t.Fatalf("given_name %v: the abandoned job landed after the newer version", g)
	}
	if ids := st.jobs(t); len(ids) != 0 {
		t.Fatalf("ended jobs still recorded: %v", ids)
	}
}

func TestAStopWithAJobRunningKeepsItsRecord(t *testing.T) {
	_, _, st, s := abandonedSlowJob(t, time.Second)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ids := st.jobs(t); len(ids) != 1 {
		t.Fatalf("a stop while a job runs must leave it for the next start, state %v", ids)
	}
}
