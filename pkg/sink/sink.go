// Package sink is the plug-point of the loader: a target is a [Sink] that
// stores batches of mapped users. The loader owns consumption, batching,
// acks, retries and dead letters; a sink only writes, and says which
// records the target refused.
//
// To plug in a loader for another target, implement [Sink], add its [Spec]
// to a [Registry], build a loader binary from it with package loader
// (pkg/loader: `loader.Main(registry)`), and run the conformance suite in
// sink/sinktest against the sink. The package example is a complete sink for
// an HTTP endpoint, about fifty lines, to start from.
package sink

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// Record is one mapped user.
type Record struct {
	UID string
	// MsgID is the mapped message's Nats-Msg-Id: stable across redeliveries,
	// and so a key for idempotent writes.
	MsgID string
	// Data is the target-format user, as JSON. The sink must not keep it
	// after Write returns.
	Data []byte
	// Update says the user may already exist at the target: apply the
	// record as an update (upsert), not as a first import. The loader sets
	// it for users a replay produced (header Etl-Replay), which re-sends
	// users the target already holds after a mapping fix, and for accounts
	// an incremental extraction brought (header Etl-Update): changes made
	// during the cut-over window.
	Update bool
}

// Sink stores records in a target.
type Sink interface {
	// Write stores recs durably before returning nil: the loader acks them
	// right after. It returns a *RejectedError when the target refused some
	// records for good (they are dead-lettered, the others are acked), and
	// any other error when nothing can be assumed stored; such an error is
	// classified with package fault (transient: the batch is retried later;
	// permanent: the batch is dead-lettered). Write is called concurrently
	// only by a sink that implements [ConcurrentWriter].
	//
	// Write must be idempotent: a record it already stored (same MsgID),
	// written again, is stored once. A crash, or a lost ack, between Write
	// and the acks redelivers records, possibly to a new sink instance
	// opened on the same target after a restart.
	Write(ctx context.Context, recs []Record) error
	// Close flushes and releases everything. The loader calls it after its
	// last Write returned and writes nothing after it; should a Write still
	// be in flight, Close must not undo what that Write reports stored.
	Close(ctx context.Context) error
}

// BatchLimiter is an optional capability: a sink whose target limits the
// size of one write (Auth0 import files: 500 KB) tells the loader, which
// then never builds a larger batch. A batch's size is its records' Data
// lengths plus one byte each: the records joined by a separator, which is
// how JSON arrays and lines are written. Zero means no limit.
type BatchLimiter interface {
	BatchLimits() (maxRecords, maxBytes int)
}

// ConcurrentWriter is an optional capability: a sink whose target accepts
// several writes at once (Auth0 runs two import jobs per tenant) says how
// many, and the loader then keeps up to that many batches in flight, each
// acked when its own write returns. Its Write must be safe for concurrent use.
type ConcurrentWriter interface {
	MaxConcurrentWrites() int
}

// Rejection is one record the target refused.
type Rejection struct {
	Index  int    // into the recs passed to Write
	Code   string // stable, machine-readable, e.g. "user_too_large"
	Reason string // human-readable
}

// RejectedError lists the records of a batch that the target refused; all
// the others were stored.
type RejectedError struct {
	Rejections []Rejection
}

func (e *RejectedError) Error() string {
	if len(e.Rejections) == 1 {
		return fmt.Sprintf("target rejected 1 record: %s", e.Rejections[0].Reason)
	}
	return fmt.Sprintf("target rejected %d records, first: %s", len(e.Rejections), e.Rejections[0].Reason)
}

// Params is what a factory gets to build a sink.
type Params struct {
	// Name is the loader's name (its consumer is loader-<name>).
	Name string
	// Target is the mapping target the loader reads (users.mapped.<target>).
	Target string
	// Decode decodes the sink's options (loader.sink.options) strictly into
	// v, which holds the sink's defaults.
	Decode func(v any) error
	Log    *slog.Logger
	// Metrics registers the sink's own metrics on the loader's /metrics;
	// nil in tests that do not care.
	Metrics prometheus.Registerer
}

// Factory builds a sink.
type Factory func(ctx context.Context, p Params) (Sink, error)

// Spec is one sink type of a [Registry].
type Spec struct {
	// New builds the sink. Required.
	New Factory
	// Options returns a pointer to the sink's options struct holding its
	// defaults, the same that New decodes loader.sink.options into. The
	// loader documents the options from it (loader -h, the configuration
	// reference): a field's yaml tag names the key, its doc tag says what it
	// means. Nil: the sink takes no options.
	Options func() any
}

// Registry maps a sink type (loader.sink.type) to its [Spec]. It is passed
// explicitly, so a custom build or a test can add or replace sinks.
type Registry map[string]Spec

// State is durable key-value storage the loader lends a sink: shared by
// every instance of the loader and kept across restarts, so that an instance
// finds what an earlier one left behind. Keys are made of letters, digits,
// '-', '_' and '='.
type State interface {
	// List returns every entry of the loader's sinks, any instance's.
	List(ctx context.Context) ([]StateEntry, error)
	// Put stores value under key.
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key; with a revision other than 0, only if the key was
	// not put again since that revision (another instance still uses it),
	// which is not an error.
	Delete(ctx context.Context, key string, revision uint64) error
}

// StateEntry is one entry of a [State].
type StateEntry struct {
	Key      string
	Value    []byte
	Revision uint64
}

// Recoverer is an optional capability: a sink whose writes outlive its
// process (an Auth0 import job keeps running after the loader that submitted
// it died) records them in the loader's [State], which Recover receives
// before the first Write. Recover settles what earlier instances left in
// flight, so that such a write cannot land after, and undo, a newer version
// of the same user that this instance writes.
type Recoverer interface {
	Recover(ctx context.Context, st State) error
}
