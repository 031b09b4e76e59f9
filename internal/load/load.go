// Package load is the loader binary: it consumes users.mapped.<target>
// through the durable consumer loader-<name>, batches the users by count,
// bytes and time, hands each batch to a sink, and acks a user only after the
// sink stored it (or after its dead letter is stored). The consumer's
// MaxAckPending bounds what is in flight, so a slow target slows consumption
// instead of growing memory.
package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/claims"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/consume"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/heartbeat"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/telemetry"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/versions"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// Totals are the counts of one loader instance since it started.
type Totals struct {
	Consumed     int64 `json:"consumed"`      // messages settled (acked)
	Loaded       int64 `json:"loaded"`        // users the sink stored
	DeadLettered int64 `json:"dead_lettered"` // users the target refused, stored in ETL_DEADLETTER
	Retried      int64 `json:"retried"`       // users handed back for a later retry
	Batches      int64 `json:"batches"`       // sink writes
	Superseded   int64 `json:"superseded"`    // older versions of a user acked unwritten: a newer one was in the same batch or already written
	// Conflicts counts, among DeadLettered, the users whose email (a value
	// of loader.unique) another Gigya account holds at the target.
	Conflicts int64 `json:"conflicts"`
	// MigratedAtLogin counts the users acked unwritten because the login
	// service moved them to the target at their login: its own messages,
	// and any other version of those users (docs/login-migration.md).
	MigratedAtLogin int64 `json:"migrated_at_login"`
}

type publisher interface {
	PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

type loader struct {
	nc         *nats.Conn // the pull requests' connection
	sink       sink.Sink
	started    time.Time // when it began consuming, for the summary
	pub        publisher
	target     string
	consumer   topology.ConsumerConfig
	maxRecords int
	maxBytes   int
	maxWait    time.Duration
	quiet      time.Duration      // a partial batch of a caught-up consumer waits this long for more; 0: max_wait only
	writers    int                // batches in flight at once (1 unless the sink is a ConcurrentWriter)
	limiter    *rate.Limiter      // users per second; nil: unlimited
	maxPayload int64              // the server's limit on one message; 0: none
	versions   *versions.Register // newest update written per user; nil: none (tests)
	claims     *claims.Register   // values that must be unique at the target; nil: none
	unique     []uniqueField      // loader.unique
	users      *userLocks         // users of the batches being written (run)
	log        *slog.Logger
	metrics    *metrics

	consumed, loaded, deadLettered, retried, batches, superseded, conflicts, atLogin atomic.Int64

	// tally counts the outcomes by extraction run, for the balance of each
	// run (status); a replay's users count apart, as replay_*.
	tally heartbeat.Tally
}

// run consumes until ctx is done, then writes and acks the partial batch.
func (l *loader) run(ctx context.Context, cons jetstream.Consumer) error {
	msgs := make(chan jetstream.Msg, l.maxRecords)
	pullErr := make(chan error, 1)
	go func() { pullErr <- consume.Pull(ctx, l.nc, cons, l.maxRecords, msgs, l.log) }()

	var batch []jetstream.Msg
	size := 0
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// The quiet timer is armed at a batch's first record and re-armed for
	// the rest of the period when it fires early, not reset per record.
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	var lastAt time.Time
	// Up to l.writers batches are written at once; the semaphore makes the
	// batcher wait for a free writer, which is the back-pressure.
	slots := make(chan struct{}, max(l.writers, 1))
	var writing sync.WaitGroup
	if l.users == nil {
		l.users = newUserLocks()
	}
	users := l.users
	flush := func() {
		timer.Stop()
		quiet.Stop()
		if len(batch) > 0 {
			full := batch
			// The heartbeats start now, not when the write starts: a batch
			// waiting for a free writer (an Auth0 job slot) must not be
			// redelivered meanwhile.
			stop := l.keepAlive(full)
			slots <- struct{}{}
			// Two versions of a user in batches written at once would
			// reach the target in the order the writes finish. The later
			// batch waits for the earlier one, then finds its versions in
			// the register (notStale).
			var keys []string
			if l.writers > 1 {
				keys = batchKeys(full)
				users.lock(keys)
			}
			writing.Add(1)
			go func() {
				defer func() { users.unlock(keys); stop(); <-slots; writing.Done() }()
				l.write(ctx, full)
			}()
		}
		batch, size = nil, 0
	}
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				flush()
				writing.Wait()
				return <-pullErr
			}
			// Each record counts a separator byte, as sink.BatchLimiter
			// says: a sink whose limit is a file's size gets batches that
			// fill a file without spilling a record into a second one.
			if len(batch) > 0 && size+len(m.Data())+1 > l.maxBytes {
				flush()
			}
			if len(batch) == 0 {
				timer.Reset(l.maxWait)
				if l.quiet > 0 {
					quiet.Reset(l.quiet)
				}
			}
			if l.quiet > 0 {
				lastAt = time.Now()
			}
			batch = append(batch, m)
			size += len(m.Data()) + 1
			if len(batch) >= l.maxRecords {
				flush()
			}
		case <-timer.C:
			flush()
		case <-quiet.C:
			if len(batch) == 0 {
				continue
			}
			if rest := l.quiet - time.Since(lastAt); rest > 0 {
				quiet.Reset(rest)
				continue
			}
			if caughtUp(batch[len(batch)-1]) {
				flush()
			}
		}
	}
}

// caughtUp says the stream held nothing more for the consumer when the
// server delivered m: the records after it, if any, are still to be
// published. A partial batch then has nothing to wait for but max_wait,
// which at the end of a run, a replay or a burst of changes is only
// latency. Where records are pending, they are on their way, and the batch
// waits for them. The count is the consumer's own tally, which can lag just
// published records: the batch then goes out early and smaller, which
// costs a write, nothing else.
func caughtUp(m jetstream.Msg) bool {
	meta, err := m.Metadata()
	return err == nil && meta.NumPending == 0
}

// write stores one batch and settles every message in it.
func (l *loader) write(ctx context.Context, batch []jetstream.Msg) {
	// A graceful stop still finishes the write in flight: the target may
	// have stored part of it already, and acking is what stops repeats.
	wctx := context.WithoutCancel(ctx)
	batch, taken := l.claim(wctx, l.notStale(l.newestOnly(l.migratedAtLogin(wctx, batch))))
	if len(batch) == 0 {
		return
	}
	// The updates are recorded before the write, not after it: a loader
	// killed between the two would leave the target holding them unknown to
	// the register, while the acks of older versions written just before
	// may be lost with it; those older versions, redelivered, would then be
	// written over the newer ones. A version the target may hold counts as
	// written, as after a failed write that may have landed; one it refuses
	// stays recorded, which makes older versions of that user superseded
	// (its dead letter is then the record of the user).
	l.recordVersions(wctx, batch)
	recs := make([]sink.Record, len(batch))
	for i, m := range batch {
		recs[i] = sink.Record{UID: m.Headers().Get(message.HdrUID), MsgID: m.Headers().Get(message.HdrMsgID), Data: m.Data(),
			Update: isUpdate(m)}
	}
	if l.limiter != nil {
		// The batch waits its turn before the write; its heartbeats run.
		_ = l.limiter.WaitN(wctx, min(len(recs), l.limiter.Burst()))
	}
	l.metrics.batchRecords.Observe(float64(len(recs)))
	start := time.Now()
	err := l.sink.Write(wctx, recs)
	l.metrics.writeSeconds.Observe(time.Since(start).Seconds())
	l.batches.Add(1)

	var rejected *sink.RejectedError
	switch {
	case err == nil:
		for _, m := range batch {
			l.settle(m, true)
		}
	case errors.As(err, &rejected):
		refused := make(map[int]sink.Rejection, len(rejected.Rejections))
		for _, r := range rejected.Rejections {
			refused[r.Index] = r
		}
		var free []claims.Claim
		for i, m := range batch {
			if r, ok := refused[i]; ok {
				l.deadLetter(wctx, m, r.Code, r.Reason, nil)
				free = append(free, taken[i]...)
				continue
			}
			l.settle(m, true)
		}
		l.release(wctx, free)
	default:
		kind, code := fault.Classify(err)
		l.log.Warn("sink write failed", "records", len(batch), "kind", kind, "code", code, "err", err)
		// The target may have stored the batch before the failure (an
		// answer lost on its way back looks like a network error): the
		// register, written before, counts it as written, so an older
		// version of one of these users is not written after it; the retry
		// of this version itself is not older, and goes through.
		var free []claims.Claim
		for i, m := range batch {
			delivered := numDelivered(m)
			switch {
			case kind == fault.KindPermanent:
				l.deadLetter(wctx, m, code, err.Error(), nil)
			case delivered >= uint64(l.consumer.MaxDeliver):
				l.deadLetter(wctx, m, "max_deliver_exceeded", fmt.Sprintf("gave up after %d attempts: %v", delivered, err), nil)
			default:
				l.retry(m, delivered)
				continue
			}
			free = append(free, taken[i]...)
		}
		l.release(wctx, free)
	}
}

// migratedAtLogin settles, unwritten, the users the login service moved to
// the target (docs/login-migration.md): the messages it marked
// (Etl-Login-Migrated), once their mark is in the versions register and
// their unique values are claimed, and every version of a user the register
// marks, which would otherwise overwrite what the user brought at login.
// It returns the rest of the batch.
func (l *loader) migratedAtLogin(ctx context.Context, batch []jetstream.Msg) []jetstream.Msg {
	var marked []jetstream.Msg
	var marks []versions.Entry
	for _, m := range batch {
		if key := userKey(m); key != "" && m.Headers().Get(message.HdrLoginMigrated) != "" {
			marked = append(marked, m)
			marks = append(marks, versions.Entry{Key: key, Version: lastUpdated(m), AtLogin: true})
		}
	}
	if len(marked) > 0 {
		if l.versions != nil {
			// The mark must be durable before the ack: a loader restarted
			// without it could write a bulk version over the user.
			if err := l.versions.Wrote(ctx, marks); err != nil {
				// The whole batch waits: another version of one of these
				// users may be in it.
				l.log.Warn("could not record users migrated at login; the batch will be retried", "users", len(marked), "err", err)
				for _, m := range batch {
					l.retry(m, numDelivered(m))
				}
				return nil
			}
		}
		l.claimAtLogin(ctx, marked)
	}
	out := batch[:0:0]
	for _, m := range batch {
		key := userKey(m)
		switch {
		case key != "" && m.Headers().Get(message.HdrLoginMigrated) != "":
		case key != "" && l.versions != nil && l.versions.AtLogin(key):
			l.log.Debug("user migrated at login; not writing this version", "uid", m.Headers().Get(message.HdrUID))
		case key != "" && slices.ContainsFunc(marks, func(e versions.Entry) bool { return e.Key == key }):
			// Another version in the batch of a user marked just now (no
			// register in tests).
		default:
			out = append(out, m)
			continue
		}
		if err := m.Ack(); err != nil {
			l.log.Warn("ack of a user migrated at login failed; it will be redelivered", "uid", m.Headers().Get(message.HdrUID), "err", err)
		}
		l.consumed.Add(1)
		l.atLogin.Add(1)
		l.count(m, "migrated_at_login")
		l.metrics.records.WithLabelValues("migrated_at_login").Inc()
	}
	return out
}

// newestOnly keeps, of several versions of one user in a batch, the newest
// (highest Gigya-Last-Updated, then the latest stream sequence: a replay's
// mapping), and acks the others as superseded. A target given two versions
// in one import would keep the first (Auth0 refuses the second as
// "duplicated in the users file"), and a file sink would write both in an
// order nobody chose. Exploded outputs of one user (msg ids ending #i) are
// different records, not versions.
func (l *loader) newestOnly(batch []jetstream.Msg) []jetstream.Msg {
	type version struct {
		at      int
		updated int64
		seq     uint64
	}
	newest := make(map[string]version, len(batch))
	superseded := 0
	for i, m := range batch {
		key := userKey(m)
		if key == "" {
			continue
		}
		v := version{at: i, updated: lastUpdated(m)}
		if meta, err := m.Metadata(); err == nil {
			v.seq = meta.Sequence.Stream
		}
		old, seen := newest[key]
		switch {
		case !seen:
			newest[key] = v
			continue
		case v.updated > old.updated || (v.updated == old.updated && v.seq > old.seq):
			newest[key] = v
		}
		superseded++
	}
	if superseded == 0 {
		return batch
	}
	keep := make(map[int]bool, len(newest))
	for _, v := range newest {
		keep[v.at] = true
	}
	out := batch[:0:0]
	for i, m := range batch {
		if m.Headers().Get(message.HdrUID) == "" || keep[i] {
			out = append(out, m)
			continue
		}
		l.supersede(m)
	}
	return out
}

// notStale acks as superseded the users of which a newer version was
// already written (see package versions): a redelivery after a crash or a
// restart, or a version a parallel transformer published late.
func (l *loader) notStale(batch []jetstream.Msg) []jetstream.Msg {
	if l.versions == nil || l.versions.Len() == 0 {
		return batch
	}
	out := batch[:0:0]
	for _, m := range batch {
		if key := userKey(m); key != "" && l.versions.Stale(key, lastUpdated(m)) {
			l.log.Debug("a newer version of this user was already written; skipping this one", "uid", m.Headers().Get(message.HdrUID))
			l.supersede(m)
			continue
		}
		out = append(out, m)
	}
	return out
}

func (l *loader) supersede(m jetstream.Msg) {
	if err := m.Ack(); err != nil {
		l.log.Warn("ack of a superseded version failed; it will be redelivered", "uid", m.Headers().Get(message.HdrUID), "err", err)
	}
	l.consumed.Add(1)
	l.superseded.Add(1)
	l.count(m, "superseded")
	l.metrics.records.WithLabelValues("superseded").Inc()
}

// recordVersions registers the updates and replays of batch before the
// sink writes them (see write): from then on an older version of these
// users is superseded. A failure to record is logged, not fatal: this
// instance still knows them.
func (l *loader) recordVersions(ctx context.Context, batch []jetstream.Msg) {
	if l.versions == nil {
		return
	}
	var entries []versions.Entry
	for _, m := range batch {
		if !isUpdate(m) {
			continue
		}
		if v := lastUpdated(m); v > 0 {
			entries = append(entries, versions.Entry{Key: userKey(m), Version: v})
		}
	}
	if len(entries) == 0 {
		return
	}
	if err := l.versions.Wrote(ctx, entries); err != nil {
		l.log.Warn("could not record the versions about to be written; a restarted loader may write an older version of these users again", "users", len(entries), "err", err)
	}
}

// userLocks are the users of the batches being written.
type userLocks struct {
	mu      sync.Mutex
	cond    *sync.Cond
	held    map[string]bool
	waiting int // batches waiting for another's users
}

func newUserLocks() *userLocks {
	u := &userLocks{held: map[string]bool{}}
	u.cond = sync.NewCond(&u.mu)
	return u
}

// lock waits until no batch being written holds one of keys, then holds
// them all. Only the batcher locks, so there is no lock-order deadlock.
func (u *userLocks) lock(keys []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for slices.ContainsFunc(keys, func(k string) bool { return u.held[k] }) {
		u.waiting++
		u.cond.Wait()
		u.waiting--
	}
	for _, k := range keys {
		u.held[k] = true
	}
}

func (u *userLocks) waiters() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.waiting
}

func (u *userLocks) unlock(keys []string) {
	if len(keys) == 0 {
		return
	}
	u.mu.Lock()
	for _, k := range keys {
		delete(u.held, k)
	}
	u.mu.Unlock()
	u.cond.Broadcast()
}

// batchKeys are the distinct users of a batch.
func batchKeys(batch []jetstream.Msg) []string {
	keys := make([]string, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, m := range batch {
		if k := userKey(m); k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// userKey identifies a user at the target: its UID, and for the outputs
// of an exploded record (msg ids ending #i) the output, which is a
// different record rather than a version.
func userKey(m jetstream.Msg) string {
	key := m.Headers().Get(message.HdrUID)
	if key == "" {
		return ""
	}
	if id := m.Headers().Get(message.HdrMsgID); strings.Contains(id, "#") {
		key += id[strings.LastIndex(id, "#"):]
	}
	return key
}

func lastUpdated(m jetstream.Msg) int64 {
	v, _ := strconv.ParseInt(m.Headers().Get(message.HdrLastUpdated), 10, 64)
	return v
}

// isUpdate: the user may already be at the target (a change during the
// cut-over, a replay), so the sink must update rather than create it.
func isUpdate(m jetstream.Msg) bool {
	return m.Headers().Get(message.HdrReplay) != "" || m.Headers().Get(message.HdrUpdate) != ""
}

// count tallies one outcome of m for its run.
func (l *loader) count(m jetstream.Msg, what string) {
	if m.Headers().Get(message.HdrReplay) != "" {
		what = "replay_" + what
	}
	l.tally.Add(m.Headers().Get(message.HdrRun), what, 1)
}

// settle acks a message whose user is stored (loaded) or dead-lettered.
func (l *loader) settle(m jetstream.Msg, loaded bool) {
	if err := m.Ack(); err != nil {
		l.log.Warn("ack failed; the user will be redelivered", "uid", m.Headers().Get(message.HdrUID), "err", err)
	}
	l.consumed.Add(1)
	if loaded {
		l.count(m, "loaded")
		l.loaded.Add(1)
		l.metrics.records.WithLabelValues("loaded").Inc()
	}
}

func (l *loader) retry(m jetstream.Msg, delivered uint64) {
	if err := m.NakWithDelay(l.consumer.Delay(delivered)); err != nil {
		l.log.Warn("nak failed; the server redelivers after ack_wait", "err", err)
	}
	l.retried.Add(1)
	l.metrics.records.WithLabelValues("retried").Inc()
}

// deadLetter stores the refused user with the reason (and the headers of
// extra), then acks it. If the dead letter cannot be stored, the user is
// retried instead: never dropped.
func (l *loader) deadLetter(ctx context.Context, m jetstream.Msg, code, reason string, extra nats.Header) {
	meta, _ := m.Metadata()
	if extra == nil {
		extra = nats.Header{}
	}
	dl := message.DeadLetter{
		Stage: message.StageLoad, Target: l.target, Code: code, Err: reason,
		UID: m.Headers().Get(message.HdrUID), SourceSubject: m.Subject(), Data: m.Data(), Extra: extra,
	}
	if meta != nil {
		dl.SourceSeq, dl.Attempts = meta.Sequence.Stream, int(meta.NumDelivered)
	}
	for _, h := range []string{message.HdrMappingVersion, message.HdrRedriven, message.HdrReplay} {
		if v := m.Headers().Get(h); v != "" {
			dl.Extra.Set(h, v)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := l.pub.PublishMsg(pctx, dl.MsgWithin(l.maxPayload)); err != nil {
		l.log.Warn("dead letter not stored; the user will be retried", "uid", dl.UID, "err", err)
		l.retry(m, numDelivered(m))
		return
	}
	l.log.Warn("user dead-lettered", "uid", dl.UID, "code", code, "reason", reason)
	l.metrics.deadLetters.WithLabelValues(code).Inc()
	l.settle(m, false)
	l.count(m, "dead_lettered")
	l.deadLettered.Add(1)
	l.metrics.records.WithLabelValues("dead_lettered").Inc()
}

// keepAlive tells the server the batch is still being worked on while a
// long sink write runs, so it is not redelivered to another instance.
func (l *loader) keepAlive(batch []jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(max(l.consumer.AckWait/3, time.Second))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, m := range batch {
					_ = m.InProgress()
				}
			}
		}
	}()
	return func() { close(done) }
}

func numDelivered(m jetstream.Msg) uint64 {
	if meta, err := m.Metadata(); err == nil {
		return meta.NumDelivered
	}
	return 1
}

func (l *loader) totals() Totals {
	return Totals{Consumed: l.consumed.Load(), Loaded: l.loaded.Load(), DeadLettered: l.deadLettered.Load(),
		Retried: l.retried.Load(), Batches: l.batches.Load(), Superseded: l.superseded.Load(), Conflicts: l.conflicts.Load(),
		MigratedAtLogin: l.atLogin.Load()}
}

// counts is the heartbeat form of the totals.
func (t Totals) counts() map[string]int64 {
	return map[string]int64{"consumed": t.Consumed, "loaded": t.Loaded, "dead_lettered": t.DeadLettered,
		"retried": t.Retried, "batches": t.Batches, "superseded": t.Superseded, "conflicts": t.Conflicts,
		"migrated_at_login": t.MigratedAtLogin}
}

// progress logs the counts at an interval while users flow.
func (l *loader) progress(ctx context.Context) {
	telemetry.LogProgress(ctx, l.log, telemetry.ProgressEvery, func() (int64, []any) {
		tot := l.totals()
		return tot.Consumed, []any{"consumed", tot.Consumed, "loaded", tot.Loaded, "dead_lettered", tot.DeadLettered, "retried", tot.Retried}
	})
}

type metrics struct {
	records      *prometheus.CounterVec
	deadLetters  *prometheus.CounterVec
	writeSeconds prometheus.Histogram
	batchRecords prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gm_loader_records_total",
			Help: "Users handled by the loader, by result (loaded, dead_lettered, retried, superseded, migrated_at_login).",
		}, []string{"result"}),
		writeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gm_loader_write_seconds",
			Help:    "Duration of one sink write (one batch).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
	}
	m.deadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gm_loader_dead_letters_total",
		Help: "Users the loader dead-lettered, by error code (the target's per-user codes, max_deliver_exceeded...).",
	}, []string{"code"})
	m.batchRecords = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gm_loader_batch_records",
		Help:    "Users per sink write.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 14),
	})
	reg.MustRegister(m.records, m.writeSeconds, m.deadLetters, m.batchRecords)
	return m
}
