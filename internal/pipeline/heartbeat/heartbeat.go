// Package heartbeat lets every running instance of a stage say what it is
// doing: each writes a small record to the etl_state KV bucket under
// instance.<stage>.<id> every few seconds and deletes it when it stops
// cleanly. The status command reads them to show which instances run,
// their counts, and whether a producer is paused by back-pressure; a record
// that stopped being updated belongs to an instance that died.
//
// An instance that counts its work per extraction run (the transformer and
// the loader) also leaves its final record under tally.<stage>.<id> when it
// stops, so that the balance of a run (extracted = loaded + dead-lettered +
// filtered + superseded) can still be drawn after the instances are gone.
package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// KeyPrefix starts every instance key.
const KeyPrefix = "instance."

// TallyPrefix starts the key of a stopped instance's final record.
const TallyPrefix = "tally."

// Interval is how often a record is refreshed; status treats a record older
// than three intervals as stale.
const Interval = 5 * time.Second

// Beat is one instance's record.
type Beat struct {
	Stage    string    `json:"stage"`    // extractor, transformer, loader, replay
	Instance string    `json:"instance"` // host-pid, unique per process
	Detail   string    `json:"detail,omitempty"`
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`
	// Paused is set while a producer waits for the consumers downstream to
	// catch up (back-pressure); PausedReason says which consumer and lag.
	Paused       bool   `json:"paused,omitempty"`
	PausedReason string `json:"paused_reason,omitempty"`
	// Counts are the instance's totals since it started (consumed, mapped...).
	Counts map[string]int64 `json:"counts,omitempty"`
	// Target is the mapping target of a transformer or loader.
	Target string `json:"target,omitempty"`
	// Runs are the instance's counts by extraction run (Etl-Run): what it
	// did with the accounts of each run.
	Runs map[string]map[string]int64 `json:"runs,omitempty"`
}

// Stale reports whether the record has not been refreshed for three
// intervals at now.
func (b Beat) Stale(now time.Time) bool { return now.Sub(b.Updated) > 3*Interval }

// Key is the KV key of an instance.
func Key(stage, instance string) string { return KeyPrefix + stage + "." + instance }

// InstanceID is host-pid, restricted to the characters a KV key allows.
func InstanceID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "host"
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, host)
	return fmt.Sprintf("%s-%d", clean, os.Getpid())
}

// KV is the narrow KV role a heartbeat needs.
type KV interface {
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error
}

// Writer refreshes one instance's record.
type Writer struct {
	kv     KV
	key    string
	log    *slog.Logger
	counts func() map[string]int64
	runs   func() map[string]map[string]int64

	mu   sync.Mutex
	beat Beat
	kick chan struct{}
}

// New prepares the record of an instance of stage; counts is called at each
// refresh for the instance's totals.
func New(kv KV, stage, detail string, counts func() map[string]int64, log *slog.Logger) *Writer {
	id := InstanceID()
	return &Writer{
		kv: kv, key: Key(stage, id), log: log, counts: counts, kick: make(chan struct{}, 1),
		beat: Beat{Stage: stage, Instance: id, Detail: detail, Started: time.Now().UTC()},
	}
}

// CountRuns makes the record carry the instance's counts by run (runs is
// called at each refresh) for target, and keeps its final record under
// tally.<stage>.<id> after a clean stop. Call it before Run.
func (w *Writer) CountRuns(target string, runs func() map[string]map[string]int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.beat.Target, w.runs = target, runs
}

// SetPaused records a back-pressure pause (or its end) and publishes it at once.
func (w *Writer) SetPaused(paused bool, reason string) {
	w.mu.Lock()
	w.beat.Paused, w.beat.PausedReason = paused, reason
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run refreshes the record until ctx is done, then deletes it.
func (w *Writer) Run(ctx context.Context) {
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		w.put(ctx)
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			w.mu.Lock()
			counting := w.runs != nil
			w.mu.Unlock()
			if counting {
				// The final counts outlive the instance: the balance of
				// its runs needs them.
				w.write(dctx, TallyPrefix+strings.TrimPrefix(w.key, KeyPrefix))
			}
			if err := w.kv.Delete(dctx, w.key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
				w.log.Debug("heartbeat not removed", "key", w.key, "err", err)
			}
			return
		case <-t.C:
		case <-w.kick:
		}
	}
}

func (w *Writer) put(ctx context.Context) { w.write(ctx, w.key) }

func (w *Writer) write(ctx context.Context, key string) {
	w.mu.Lock()
	b, runs := w.beat, w.runs
	w.mu.Unlock()
	b.Updated = time.Now().UTC()
	if w.counts != nil {
		b.Counts = w.counts()
	}
	if runs != nil {
		b.Runs = runs()
	}
	data, err := json.Marshal(b)
	if err != nil {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := w.kv.Put(pctx, key, data); err != nil && ctx.Err() == nil {
		w.log.Debug("heartbeat not written", "key", key, "err", err)
	}
}

// List reads every instance record of the bucket, newest first within a stage.
func List(ctx context.Context, kv jetstream.KeyValue) ([]Beat, error) {
	return list(ctx, kv, KeyPrefix)
}

// Tallies reads the final records of the instances that stopped cleanly.
func Tallies(ctx context.Context, kv jetstream.KeyValue) ([]Beat, error) {
	return list(ctx, kv, TallyPrefix)
}

func list(ctx context.Context, kv jetstream.KeyValue, prefix string) ([]Beat, error) {
	lister, err := kv.ListKeysFiltered(ctx, prefix+">")
	if err != nil {
		return nil, err
	}
	var out []Beat
	for key := range lister.Keys() {
		e, err := kv.Get(ctx, key)
		if err != nil {
			continue // deleted between the listing and the read
		}
		var b Beat
		if json.Unmarshal(e.Value(), &b) == nil {
			out = append(out, b)
		}
	}
	return out, nil
}

// Tally counts an instance's work by extraction run. It is safe for
// concurrent use.
type Tally struct {
	mu   sync.Mutex
	runs map[string]map[string]int64
}

// NoRun stands for the run of a message without an Etl-Run header (one
// published by something other than the extractor).
const NoRun = "-"

// Add counts n of what (mapped, loaded...) for run.
func (t *Tally) Add(run, what string, n int64) {
	if run == "" {
		run = NoRun
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.runs == nil {
		t.runs = map[string]map[string]int64{}
	}
	c := t.runs[run]
	if c == nil {
		c = map[string]int64{}
		t.runs[run] = c
	}
	c[what] += n
}

// Runs returns a copy of the counts by run.
func (t *Tally) Runs() map[string]map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]map[string]int64, len(t.runs))
	for run, c := range t.runs {
		out[run] = maps.Clone(c)
	}
	return out
}
