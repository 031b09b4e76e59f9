package loginradius

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/segmentio/encoding/json"
)

// memState is a sink.State in memory, with the loader's revisions.
type memState struct {
	mu   sync.Mutex
	rev  uint64
	data map[string]sink.StateEntry
}

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

// until is the deadline recorded under key.
func (m *memState) until(t *testing.T, key string) time.Time {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var r inFlightRecord
	if err := json.Unmarshal(m.data[key].Value, &r); err != nil {
		t.Fatalf("record %s: %q: %v", key, m.data[key].Value, err)
	}
	return r.Until
}

// The client tells InFlight of every attempt of a write, before it is
// sent, and of those without an answer; reads are not writes.
func TestClientReportsWritesInFlight(t *testing.T) {
	sim := lrsim.New(lrsim.Options{BcryptCost: 4})
	const timeout = 400 * time.Millisecond
	f := NewInFlight(timeout, nil)
	st := &memState{data: map[string]sink.StateEntry{}}
	if err := f.Recover(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	c, _ := simClient(t, sim, func(c *Config) { c.InFlight, c.Timeout, c.MaxRetries = f, timeout, 1 })

	if _, err := c.AccountByUID(context.Background(), "nobody"); err == nil {
		t.Fatal("found nobody")
	}
	if len(st.data) != 0 {
		t.Fatalf("a read was recorded: %v", st.data)
	}
	before := time.Now()
	if _, err := c.BulkUpsert(context.Background(), []byte(`{"Profiles":[{"Uid":"a","Email":[{"Type":"Primary","Value":"a@example.com"}]}]}`)); err != nil {
		t.Fatal(err)
	}
	first := st.until(t, f.key)
	if first.Before(before.Add(timeout*5/4)) || first.After(time.Now().Add(timeout*5/4)) {
		t.Fatalf("recorded deadline %v, want the sending + %v and a quarter", first, timeout)
	}

	// Answered: nothing to settle.
	began := time.Now()
	if err := f.Settle(context.Background()); err != nil || time.Since(began) > 50*time.Millisecond {
		t.Fatalf("Settle after answered writes: %v after %v", err, time.Since(began))
	}
	// Answers lost twice: the call fails, and Settle waits out the last
	// attempt's deadline.
	sim.Inject(lrsim.FaultLostAnswer, 2)
	if _, err := c.BulkUpsert(context.Background(), []byte(`{"Profiles":[{"Uid":"a","Email":[{"Type":"Primary","Value":"a@example.com"}]}]}`)); err == nil {
		t.Fatal("no error without an answer")
	}
	lastSent := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Settle(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Settle with an ended context: %v", err)
	}
	if err := f.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(lastSent.Add(timeout - 50*time.Millisecond)) {
		t.Fatalf("Settle returned %v after the last unanswered attempt, before its deadline %v", time.Since(lastSent), timeout)
	}
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(st.data) != 0 {
		t.Fatalf("Close left %v", st.data)
	}
}

// Recover takes over an earlier instance's future deadline (recording it
// as its own, in case it crashes too) and deletes the earlier records;
// Close keeps a record while something is unsettled.
func TestInFlightRecover(t *testing.T) {
	st := &memState{data: map[string]sink.StateEntry{}}
	future := time.Now().Add(300 * time.Millisecond).UTC()
	b, _ := json.Marshal(inFlightRecord{Until: future})
	st.Put(context.Background(), "lr-dead", b)
	b, _ = json.Marshal(inFlightRecord{Until: time.Now().Add(-time.Hour)})
	st.Put(context.Background(), "lr-older", b)
	st.Put(context.Background(), "lr-garbled", []byte("{"))
	f := NewInFlight(time.Minute, nil)
	if err := f.Recover(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if len(st.data) != 1 || st.until(t, f.key).Before(future) {
		t.Fatalf("state after Recover: %v, want this instance's record, at %v or later", st.data, future)
	}
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !st.until(t, f.key).Equal(future) {
		t.Fatal("Close forgot a deadline still ahead")
	}
	began := time.Now()
	if err := f.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(future) {
		t.Fatalf("Settle returned after %v, before the earlier instance's deadline", time.Since(began))
	}
}

// A write whose deadline is within the record's slack needs no state write
// of its own; one beyond it moves the record.
func TestInFlightRecordSlack(t *testing.T) {
	st := &memState{data: map[string]sink.StateEntry{}}
	const timeout = 40 * time.Second
	f := NewInFlight(timeout, nil)
	if err := f.Recover(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	f.sending(context.Background(), t0)
	if got, want := st.until(t, f.key), t0.Add(timeout+timeout/4); !got.Equal(want.UTC()) {
		t.Fatalf("record %v, want the deadline %v and a quarter of the timeout", got, want)
	}
	f.sending(context.Background(), t0.Add(timeout/4))
	if st.rev != 1 {
		t.Fatalf("a write within the slack was recorded again (%d puts)", st.rev)
	}
	f.sending(context.Background(), t0.Add(timeout/4+time.Millisecond))
	if got, want := st.until(t, f.key), t0.Add(timeout/4+time.Millisecond+timeout+timeout/4); st.rev != 2 || !got.Equal(want.UTC()) {
		t.Fatalf("after a write beyond the slack: %d puts, record %v, want %v", st.rev, got, want)
	}
	// Answered writes: a clean stop forgets the record.
	if err := f.Close(context.Background()); err != nil || len(st.data) != 0 {
		t.Fatalf("Close: %v, left %v", err, st.data)
	}
}
