package loginradiusbulk

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
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

func (m *memState) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.data))
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling period
	}
}

// A loader killed while LoginRadius held its request for a user's first
// version: the request is stored when LoginRadius finishes it. The
// restarted loader must not write the user's newer version before that, or
// the older one lands last and stays. (Found by the fault-injection
// suite's kill-loader-loginradius trials.)
func TestAnUpdateWaitsForTheRequestAKilledLoaderLeftInFlight(t *testing.T) {
	sim := lrsim.New(lrsim.Options{BcryptCost: 4, SlowDelay: 700 * time.Millisecond})
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	state := newMemState()
	const timeout = 1500 * time.Millisecond // LoginRadius is assumed to be done with a request by then
	tweak := func(o *Options) { o.Timeout, o.MaxRetries = timeout, 1 }

	// The first loader: its request of version 1 is held by LoginRadius
	// when the loader dies (its context ends; it never closes).
	first := newSink(t, base, tweak)
	if err := first.Recover(context.Background(), state); err != nil {
		t.Fatal(err)
	}
	sim.Inject(lrsim.FaultSlow, 1)
	ctx, die := context.WithCancel(context.Background())
	done := make(chan error, 1)
	sent := time.Now()
	go func() { done <- first.Write(ctx, []sink.Record{rec("u1", `,"FirstName":"Version1"`)}) }()
	waitFor(t, "the request to be held", func() bool { return sim.Stats().Held > 0 })
	die()
	<-done
	if len(state.keys()) != 1 {
		t.Fatalf("the request in flight is not recorded in the loader's state: %v", state.keys())
	}

	// The restarted loader: a first import goes at once, an update waits.
	second := newSink(t, base, tweak)
	if err := second.Recover(context.Background(), state); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := second.Write(context.Background(), []sink.Record{rec("u2", `,"FirstName":"Other"`)}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 500*time.Millisecond {
		t.Errorf("a batch of first imports waited %v: only updates must wait", d)
	}
	update := rec("u1", `,"FirstName":"Version2"`)
	update.Update = true
	if err := second.Write(context.Background(), []sink.Record{update}); err != nil {
		t.Fatal(err)
	}
	if at := time.Since(sent); at < timeout {
		t.Errorf("the update was written %v after the held request was sent, before its deadline %v", at, timeout)
	}
	waitFor(t, "the held request to land", func() bool { st := sim.Stats(); return st.Held == 0 && st.InFlight == 0 })
	u, _ := sim.User("u1")
	if u["FirstName"] != "Version2" {
		t.Fatalf("LoginRadius holds FirstName %v, want the update's Version2: the request the killed loader left in flight landed after the update", u["FirstName"])
	}
	// A clean stop forgets the records: nothing is left in flight.
	if err := second.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if k := state.keys(); len(k) != 0 {
		t.Fatalf("records left after a clean stop: %v", k)
	}
}

// Recover leaves the records of other sinks of the same loader name alone.
func TestRecoverKeepsOtherSinksRecords(t *testing.T) {
	_, base := startSim(t)
	state := newMemState()
	state.Put(context.Background(), "20260101T000000Z-abc", []byte(`["job_1"]`)) // auth0-api's form
	s := newSink(t, base, nil)
	if err := s.Recover(context.Background(), state); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), []sink.Record{rec("u1", "")}); err != nil {
		t.Fatal(err)
	}
	keys := state.keys()
	if len(keys) != 2 || !slices.Contains(keys, "20260101T000000Z-abc") || !strings.HasPrefix(keys[1], "lr-") {
		t.Fatalf("keys %v: want the other sink's and this one's", keys)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if keys := state.keys(); !slices.Equal(keys, []string{"20260101T000000Z-abc"}) {
		t.Fatalf("after Close: %v", keys)
	}
}
