// Package extract is the extractor binary: it reads Gigya accounts from a
// source and publishes one message per account to the GIGYA_ACCOUNTS stream
// (subject gigya.accounts.<site>), with the headers and deterministic
// Nats-Msg-Id of docs/architecture.md. Unusable input goes to the dead-letter
// stream (stage extract) and the run goes on, unless the input itself ends
// there (a file cut short, or unreadable): then the run fails, with the
// checkpoint before the record that was cut.
//
// Publishing is asynchronous with a bounded number of pending acks. Acks are
// awaited in publication order, so the records known to be durable are a
// prefix of the input: the source's position after that prefix is the
// checkpoint (stored in KV with a revision check) that lets an interrupted
// run resume without re-publishing what is already stored.
package extract

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/telemetry"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/encoding/json"
)

// Totals are the counts of one extractor run.
type Totals struct {
	Read         int64 `json:"read"`          // items read from the source in this run (resumed items excluded)
	Published    int64 `json:"published"`     // new messages stored in GIGYA_ACCOUNTS
	Duplicates   int64 `json:"duplicates"`    // messages the server already had (same Nats-Msg-Id)
	DeadLettered int64 `json:"dead_lettered"` // unusable items stored in ETL_DEADLETTER
	Resumed      int64 `json:"resumed"`       // items skipped because a previous run had stored them
}

// gate holds publishing back while the consumers downstream lag.
type gate interface {
	Pass(ctx context.Context) error
}

// publisher is the narrow JetStream role the extraction needs.
type publisher interface {
	PublishMsgAsync(msg *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error)
	PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

// kvStore is the narrow KV role for checkpoints and run records.
type kvStore interface {
	Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error)
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error)
	Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error)
}

type extraction struct {
	pub             publisher
	kv              kvStore
	log             *slog.Logger
	site, run       string
	maxPending      int
	checkpointEvery int
	metrics         *metrics
	gate            gate  // back-pressure from the transformers; nil: none
	maxPayload      int64 // the server's limit on one message; 0: none
	update          bool  // mark the accounts Etl-Update: they may be at the target already

	read, published, duplicates, deadLettered, resumed atomic.Int64
}

type kind uint8

const (
	kindRaw kind = iota
	kindDeadLetter
)

type inflight struct {
	fut  jetstream.PubAckFuture
	msg  *nats.Msg
	kind kind
	pos  any // the source position after this item, nil when none
}

func checkpointKey(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return "checkpoint." + hex.EncodeToString(sum[:12])
}

// execute reads src to the end (or until ctx is done) and publishes it.
// restart ignores the checkpoint of an earlier run.
func (x *extraction) execute(ctx context.Context, src Source, restart bool) (Totals, error) {
	key := checkpointKey(src.Identity())
	from, rev := x.loadCheckpoint(ctx, key)
	if restart {
		from = Checkpoint{}
	}
	if from.State != nil && !from.Complete {
		x.log.Info("resuming an interrupted run from its checkpoint (use -restart to start over)", "previous_run", from.Run)
	}
	cps := &checkpointWriter{x: x, key: key, input: src.Identity(), rev: rev, last: from.State}

	queue := make(chan inflight, x.maxPending)
	var fatal atomic.Pointer[error]
	ackDone := make(chan struct{})
	go func() {
		defer close(ackDone)
		since := 0
		for p := range queue {
			// After a failure nothing counts as stored any more (the
			// checkpoint is a prefix), so the rest is only drained, not retried.
			if err := x.await(p, fatal.Load() == nil); err != nil {
				fatal.CompareAndSwap(nil, &err)
				continue
			}
			if fatal.Load() != nil {
				continue
			}
			// Every stored item counts towards the next checkpoint, which is
			// written at the first position at or after checkpoint_every
			// items (a file source has one per item, the API source one per
			// page).
			since++
			if p.pos != nil {
				cps.advance(p.pos)
				if since >= x.checkpointEvery {
					since = 0
					if err := cps.save(false); err != nil {
						fatal.CompareAndSwap(nil, &err)
					}
				}
			}
		}
	}()

	stopProgress := x.progress(ctx)
	readErr := src.Read(ctx, from, func(it Item) error {
		if errp := fatal.Load(); errp != nil {
			return *errp
		}
		if it.Resumed {
			x.resumed.Add(1)
			if it.Position != nil {
				// Stored by an earlier run, but its position may only be
				// recorded once everything queued before it is stored.
				queue <- inflight{pos: it.Position}
			}
			return nil
		}
		if x.gate != nil {
			if err := x.gate.Pass(ctx); err != nil {
				return err
			}
		}
		x.read.Add(1)
		msg, k := x.message(it)
		fut, err := x.publishAsync(ctx, msg)
		if err != nil {
			return err
		}
		queue <- inflight{fut: fut, msg: msg, kind: k, pos: it.Position}
		return nil
	})
	close(queue)
	<-ackDone
	stopProgress()

	if errp := fatal.Load(); errp != nil && (readErr == nil || errors.Is(readErr, *errp)) {
		readErr = *errp
	}
	if err := cps.save(readErr == nil); err != nil && readErr == nil {
		readErr = err
	}
	return x.totals(), readErr
}

// message builds the RAW message for a usable account, or the dead letter.
func (x *extraction) message(it Item) (*nats.Msg, kind) {
	if it.Err == nil {
		var key gigya.Key
		var err error
		if it.Key != nil {
			key, err = gigya.IdentifyMembers(it.Key, it.Data)
		} else {
			key, err = gigya.Identify(it.Data)
		}
		if err == nil {
			m := nats.NewMsg(message.RawSubject(x.site))
			m.Data = it.Data
			m.Header.Set(message.HdrMsgID, message.RawMsgID(x.site, key.UID, key.LastUpdated))
			m.Header.Set(message.HdrUID, key.UID)
			m.Header.Set(message.HdrSite, x.site)
			m.Header.Set(message.HdrLastUpdated, key.LastUpdated)
			m.Header.Set(message.HdrRun, x.run)
			if x.update {
				m.Header.Set(message.HdrUpdate, "1")
			}
			if message.Fits(m.Data, m.Header, x.maxPayload) {
				return m, kindRaw
			}
			// Publishing would fail for good and stop the run: the record is
			// refused here, like any other unusable one.
			err = fmt.Errorf("the account is %d bytes, more than the NATS server's max_payload (%d bytes with the headers): raise max_payload on the server (up to 64 MB) and extract it again", len(it.Data), x.maxPayload)
			it.Code = "record_too_large"
		}
		it.Err = err
		switch {
		case it.Code != "":
		case errors.Is(err, gigya.ErrNoUID):
			it.Code = "no_uid"
		default:
			it.Code = "invalid_json"
		}
	}
	x.log.Warn("unusable record dead-lettered", "where", it.Origin.String(), "code", it.Code, "err", it.Err)
	x.metrics.deadLetters.WithLabelValues(it.Code).Inc()
	dl := message.DeadLetter{
		Stage: message.StageExtract, Target: x.site, Code: it.Code,
		Err:  fmt.Sprintf("%s: %v", it.Origin, it.Err),
		Data: it.Data, Extra: it.Origin.header(),
		ID: "dl:extract:" + x.site + ":" + it.Origin.Input + "@" + fmt.Sprint(it.Origin.Offset),
	}
	dl.Extra.Set(message.HdrRun, x.run)
	return dl.MsgWithin(x.maxPayload), kindDeadLetter
}

// publishAsync waits while too many acks are pending: that is the
// back-pressure from a slow server. A transient failure to send (the
// connection dropped with a lost node; the client reconnects to another
// seed) is retried for up to retryFor; the same Nats-Msg-Id makes a message
// that did go out before the drop harmless.
func (x *extraction) publishAsync(ctx context.Context, msg *nats.Msg) (jetstream.PubAckFuture, error) {
	deadline := time.Now().Add(retryFor)
	for attempt := 1; ; attempt++ {
		fut, err := x.pub.PublishMsgAsync(msg)
		switch {
		case err == nil:
			return fut, nil
		case errors.Is(err, jetstream.ErrTooManyStalledMsgs):
			// PublishMsgAsync waited for acks already: go again at once.
		case fault.IsTransient(err) && time.Now().Before(deadline):
			x.log.Warn("publish failed, retrying", "subject", msg.Subject, "msg_id", msg.Header.Get(message.HdrMsgID), "attempt", attempt, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(min(time.Duration(attempt)*100*time.Millisecond, 2*time.Second)):
			}
		default:
			return nil, fmt.Errorf("publish to %s: %w", msg.Subject, err)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// retryFor bounds how long one message's publication is retried before the
// run fails: long enough to ride out a server restart or leader election.
const retryFor = 2 * time.Minute

// await waits for the PubAck of p, republishing (same Nats-Msg-Id, so never
// twice) while the failure is transient and retry is true.
func (x *extraction) await(p inflight, retry bool) error {
	if p.fut == nil {
		return nil // a position-only entry: nothing was published
	}
	var err error
	select {
	case ack := <-p.fut.Ok():
		x.count(p.kind, ack.Duplicate)
		return nil
	case err = <-p.fut.Err():
	}
	deadline := time.Now().Add(retryFor)
	for attempt := 1; retry && fault.IsTransient(err) && time.Now().Before(deadline); attempt++ {
		x.log.Warn("publish failed, retrying", "subject", p.msg.Subject, "msg_id", p.msg.Header.Get(message.HdrMsgID), "attempt", attempt, "err", err)
		// The first retry goes at once: a lost ack (a stream leader gone)
		// fails every pending publish after stage.PubAckTimeout together,
		// and this loop is serial, so a pause each would add up to minutes.
		// PublishMsg itself waits out a stream that has no leader yet.
		if attempt > 1 {
			time.Sleep(min(time.Duration(attempt-1)*200*time.Millisecond, 5*time.Second))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var ack *jetstream.PubAck
		ack, err = x.pub.PublishMsg(ctx, p.msg)
		cancel()
		if err == nil {
			x.count(p.kind, ack.Duplicate)
			return nil
		}
	}
	return fmt.Errorf("publish %s to %s: %w", p.msg.Header.Get(message.HdrMsgID), p.msg.Subject, err)
}

func (x *extraction) count(k kind, duplicate bool) {
	switch {
	case k == kindDeadLetter:
		x.deadLettered.Add(1)
		x.metrics.records.WithLabelValues("dead_lettered").Inc()
	case duplicate:
		x.duplicates.Add(1)
		x.metrics.records.WithLabelValues("duplicate").Inc()
	default:
		x.published.Add(1)
		x.metrics.records.WithLabelValues("published").Inc()
	}
}

func (t Totals) add(o Totals) Totals {
	return Totals{Read: t.Read + o.Read, Published: t.Published + o.Published, Duplicates: t.Duplicates + o.Duplicates,
		DeadLettered: t.DeadLettered + o.DeadLettered, Resumed: t.Resumed + o.Resumed}
}

// counts is the heartbeat form of the totals.
func (t Totals) counts() map[string]int64 {
	return map[string]int64{"read": t.Read, "published": t.Published, "duplicates": t.Duplicates,
		"dead_lettered": t.DeadLettered, "resumed": t.Resumed}
}

func (x *extraction) totals() Totals {
	return Totals{Read: x.read.Load(), Published: x.published.Load(), Duplicates: x.duplicates.Load(),
		DeadLettered: x.deadLettered.Load(), Resumed: x.resumed.Load()}
}

// progress logs the counts at an interval, so long runs show they are moving.
func (x *extraction) progress(ctx context.Context) (stop func()) {
	pctx, cancel := context.WithCancel(ctx)
	go telemetry.LogProgress(pctx, x.log, telemetry.ProgressEvery, func() (int64, []any) {
		tot := x.totals()
		return tot.Read, []any{"read", tot.Read, "published", tot.Published, "duplicates", tot.Duplicates, "dead_lettered", tot.DeadLettered}
	})
	return cancel
}

// loadCheckpoint returns the stored checkpoint of key and its KV revision
// (0 when there is none).
func (x *extraction) loadCheckpoint(ctx context.Context, key string) (Checkpoint, uint64) {
	var cp Checkpoint
	e, err := x.kv.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			x.log.Warn("cannot read checkpoint; starting from the beginning", "key", key, "err", err)
		}
		return cp, 0
	}
	if err := json.Unmarshal(e.Value(), &cp); err != nil {
		x.log.Warn("unreadable checkpoint; starting from the beginning", "key", key, "err", err)
		return Checkpoint{}, e.Revision()
	}
	return cp, e.Revision()
}

// checkpointWriter stores a source's position with a revision check, so two
// extractors reading the same input cannot overwrite each other's progress
// unnoticed.
type checkpointWriter struct {
	x          *extraction
	key, input string
	rev        uint64
	last       json.RawMessage // the latest durable position, encoded
	pos        any             // not yet encoded
}

func (w *checkpointWriter) advance(pos any) { w.pos = pos }

// save runs under its own timeout: it must also work while the run's
// context is being cancelled.
func (w *checkpointWriter) save(complete bool) error {
	if w.pos != nil {
		b, err := json.Marshal(w.pos)
		if err != nil {
			return fmt.Errorf("encode checkpoint: %w", err)
		}
		w.last, w.pos = b, nil
	}
	if w.last == nil && !complete {
		return nil
	}
	cp := Checkpoint{Input: w.input, Site: w.x.site, Run: w.x.run, State: w.last, Complete: complete, Updated: time.Now().UTC()}
	b, _ := json.Marshal(cp)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rev, err := w.write(ctx, b)
	if conflict(err) {
		// A write whose reply was lost (its stream leader died, in a
		// cluster) may have landed: if the stored checkpoint is this run's
		// own, continue from its revision; only another run's is a conflict.
		if own, ok := w.ownRevision(ctx); ok {
			w.rev = own
			rev, err = w.write(ctx, b)
		}
	}
	if err != nil {
		if conflict(err) {
			return fmt.Errorf("checkpoint %s was changed by someone else: is another extractor reading the same input for site %s? Stop it, then rerun: %w", w.key, w.x.site, err)
		}
		w.x.log.Warn("checkpoint not saved; a restart may re-read more records (duplicates are dropped by Nats-Msg-Id)", "err", err)
		return nil
	}
	w.rev = rev
	return nil
}

func (w *checkpointWriter) write(ctx context.Context, b []byte) (uint64, error) {
	if w.rev == 0 {
		return w.x.kv.Create(ctx, w.key, b)
	}
	return w.x.kv.Update(ctx, w.key, b, w.rev)
}

// ownRevision returns the revision of the stored checkpoint if this run
// wrote it.
func (w *checkpointWriter) ownRevision(ctx context.Context) (uint64, bool) {
	e, err := w.x.kv.Get(ctx, w.key)
	if err != nil {
		return 0, false
	}
	var cp Checkpoint
	if json.Unmarshal(e.Value(), &cp) != nil || cp.Run != w.x.run || w.x.run == "" {
		return 0, false
	}
	return e.Revision(), true
}

func conflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || isWrongRevision(err)
}

func isWrongRevision(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

type metrics struct {
	records     *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{records: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gm_extractor_records_total",
		Help: "Records handled by the extractor, by result (published, duplicate, dead_lettered).",
	}, []string{"result"})}
	m.deadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gm_extractor_dead_letters_total",
		Help: "Unusable input records, by error code (invalid_json, no_uid...). Counted when the dead letter is built.",
	}, []string{"code"})
	reg.MustRegister(m.records, m.deadLetters)
	return m
}

// gigyaMetrics count the Gigya API calls of the gigya-api source.
type gigyaMetrics struct {
	calls   *prometheus.CounterVec
	seconds *prometheus.HistogramVec
}

func newGigyaMetrics() *gigyaMetrics {
	return &gigyaMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gm_gigya_calls_total",
			Help: "Gigya API attempts, by method and outcome code (0: success; 403048: rate limited; unavailable: no answer...).",
		}, []string{"method", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gm_gigya_call_seconds",
			Help:    "Duration of one Gigya API attempt.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}, []string{"method"}),
	}
}

func (g *gigyaMetrics) observe(method, code string, took time.Duration) {
	g.calls.WithLabelValues(method, code).Inc()
	g.seconds.WithLabelValues(method).Observe(took.Seconds())
}
