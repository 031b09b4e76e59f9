// Package heartbeat lets every running instance of a stage say what it is
// doing: each writes a small record to the etl_state KV bucket under
// instance.<stage>.<id> every few seconds and deletes it when it stops
// cleanly. The status command reads them to show which instances run,
// their counts, and whether a producer is paused by back-pressure; a record
// that stopped being updated belongs to an instance that died.
package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// KeyPrefix starts every instance key.
const KeyPrefix = "instance."

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
			if err := w.kv.Delete(dctx, w.key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
				w.log.Debug("heartbeat not removed", "key", w.key, "err", err)
			}
			return
		case <-t.C:
		case <-w.kick:
		}
	}
}

func (w *Writer) put(ctx context.Context) {
	w.mu.Lock()
	b := w.beat
	w.mu.Unlock()
	b.Updated = time.Now().UTC()
	if w.counts != nil {
		b.Counts = w.counts()
	}
	data, err := json.Marshal(b)
	if err != nil {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := w.kv.Put(pctx, w.key, data); err != nil && ctx.Err() == nil {
		w.log.Debug("heartbeat not written", "key", w.key, "err", err)
	}
}

// List reads every instance record of the bucket, newest first within a stage.
func List(ctx context.Context, kv jetstream.KeyValue) ([]Beat, error) {
	lister, err := kv.ListKeysFiltered(ctx, KeyPrefix+">")
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
