package loginradius

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/segmentio/encoding/json"
)

// InFlight keeps track of the writes LoginRadius may still store after
// their client stopped waiting for them, so that a newer version of a user
// is not written before them and then undone by them.
//
// LoginRadius' writes are synchronous: an answer means the write is done.
// A write that got no answer (a network error, the attempt's timeout, a
// loader killed while it waited) may still be stored afterwards, and it
// carries no version LoginRadius would compare. Nothing tells when it
// lands; InFlight assumes that LoginRadius finishes or drops a request
// within the client's per-attempt timeout of its sending (unconfirmed, see
// docs/apis/loginradius.md), so such a write is settled once that time has
// passed. Until then [InFlight.Settle] waits, and the sinks call it before
// a batch that holds updates: a first import is the oldest version of its
// user, and cannot undo anything.
//
// A crash leaves no one to remember the unanswered writes, so every write's
// deadline (its sending + the timeout) is covered by a record in the
// loader's [sink.State] before it is sent, and a restarted loader's
// [InFlight.Recover] takes over the deadlines an earlier instance left. A
// record reaches a quarter of the timeout beyond the deadline it was put
// for, so that the writes of that quarter need no state write of their
// own: at 50 Account API calls a second, one write every few seconds
// instead of 50, for a restart that may wait a quarter longer.
// The zero value is not usable; see [NewInFlight].
type InFlight struct {
	timeout time.Duration
	log     *slog.Logger
	key     string

	mu        sync.Mutex
	until     time.Time // the latest deadline of a write sent (recorded)
	unsettled time.Time // the latest deadline of a write without an answer
	state     sink.State

	putMu    sync.Mutex // orders the records
	recorded time.Time  // the deadline last put in the state
}

// inFlightPrefix starts the keys of InFlight's records in a loader's state,
// which other sinks of the same loader name may share.
const inFlightPrefix = "lr-"

// NewInFlight returns an InFlight for writes sent with a per-attempt
// timeout.
func NewInFlight(timeout time.Duration, log *slog.Logger) *InFlight {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &InFlight{timeout: timeout, log: log,
		key: inFlightPrefix + time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)}
}

// inFlightRecord is the value of a record.
type inFlightRecord struct {
	// Until is when the last write the instance sent is settled.
	Until time.Time `json:"until"`
}

// sending is called before each attempt of a write is sent: from now on
// the write may be stored until at + timeout, which is recorded first.
func (f *InFlight) sending(ctx context.Context, at time.Time) {
	deadline := at.Add(f.timeout)
	f.mu.Lock()
	if deadline.After(f.until) {
		f.until = deadline
	}
	f.mu.Unlock()
	f.record(ctx)
}

// unanswered is called after an attempt sent at sent that got no answer.
func (f *InFlight) unanswered(sent time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := sent.Add(f.timeout); d.After(f.unsettled) {
		f.unsettled = d
	}
}

// record puts the latest deadline, with the slack, in the state, if there
// is a state and the deadline is beyond the record. A failed write is
// logged, not returned: the request goes out either way, and failing the
// batch would only send it again.
func (f *InFlight) record(ctx context.Context) {
	f.putMu.Lock()
	defer f.putMu.Unlock()
	f.mu.Lock()
	st, until := f.state, f.until
	f.mu.Unlock()
	if st == nil || !until.After(f.recorded) {
		return
	}
	until = until.Add(f.timeout / 4)
	data, _ := json.Marshal(inFlightRecord{Until: until.UTC()})
	if err := st.Put(context.WithoutCancel(ctx), f.key, data); err != nil {
		f.log.Warn("LoginRadius write not recorded in the loader's state: should the loader crash while it is in flight, a restart may write a newer version of its users before it lands",
			"err", err)
		return
	}
	f.recorded = until
}

// Recover takes over the deadlines the loader's earlier instances recorded
// (see [sink.Recoverer]): writes they may have left in flight make
// [InFlight.Settle] wait, and are recorded as this instance's, so that
// another crash does not forget them. The earlier records are deleted.
func (f *InFlight) Recover(ctx context.Context, st sink.State) error {
	entries, err := st.List(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	var latest time.Time
	for _, e := range entries {
		if !strings.HasPrefix(e.Key, inFlightPrefix) || e.Key == f.key {
			continue // another sink's, sharing the loader name
		}
		var r inFlightRecord
		if err := json.Unmarshal(e.Value, &r); err != nil {
			f.log.Warn("unreadable record of LoginRadius writes in the loader's state; ignoring it", "key", e.Key, "err", err)
		} else if r.Until.After(latest) {
			latest = r.Until
		}
	}
	f.mu.Lock()
	f.state = st
	if latest.After(now) {
		// Settled at that time, whether it was answered or not: the
		// instance that knew died.
		f.unsettled = later(f.unsettled, latest)
		f.until = later(f.until, latest)
	}
	f.mu.Unlock()
	if latest.After(now) {
		f.log.Info("an earlier loader may have left LoginRadius writes in flight: batches with updates wait until they are settled, so that they cannot land after newer versions",
			"until", latest.UTC().Format(time.RFC3339Nano))
		f.record(ctx)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Key, inFlightPrefix) && e.Key != f.key {
			if err := st.Delete(ctx, e.Key, e.Revision); err != nil {
				return err
			}
		}
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Settle returns once every write that got no answer, of this instance or
// of an earlier one, is settled (its deadline passed), or when ctx ends.
func (f *InFlight) Settle(ctx context.Context) error {
	f.mu.Lock()
	until := f.unsettled
	f.mu.Unlock()
	wait := time.Until(until)
	if wait <= 0 {
		return nil
	}
	f.log.Info("waiting before writing updates: a LoginRadius write that got no answer may still be stored until then, and must not land after them",
		"until", until.UTC().Format(time.RFC3339Nano), "wait", wait.Round(time.Millisecond))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("loginradius: waiting for writes that got no answer to settle: %w", ctx.Err())
	}
}

// Close forgets the instance's record when every write it sent is
// settled or answered (it is called after the last write returned), and
// otherwise records only what is still unsettled.
func (f *InFlight) Close(ctx context.Context) error {
	f.putMu.Lock()
	defer f.putMu.Unlock()
	f.mu.Lock()
	st, unsettled := f.state, f.unsettled
	f.mu.Unlock()
	if st == nil || f.recorded.IsZero() {
		return nil
	}
	if unsettled.After(time.Now()) {
		data, _ := json.Marshal(inFlightRecord{Until: unsettled.UTC()})
		return st.Put(ctx, f.key, data)
	}
	return st.Delete(ctx, f.key, 0)
}
