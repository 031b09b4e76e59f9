// Package transform is the transformer binary: many instances share the
// durable consumer transformer-<target> on GIGYA_ACCOUNTS; each maps records
// with a pool of workers (one expr evaluator each) and publishes the result
// to users.mapped.<target>. An input is acked only after the PubAck of its
// output — the mapped user, or the dead letter when the mapping failed — so
// a crash at any point loses nothing, and the deterministic Nats-Msg-Id
// drops the duplicates a redelivery would cause.
package transform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/consume"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/heartbeat"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/telemetry"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Totals are the counts of one transformer instance since it started.
type Totals struct {
	Consumed     int64 `json:"consumed"`      // input messages handled to the end (acked)
	Mapped       int64 `json:"mapped"`        // mapped users stored in USERS_MAPPED
	Duplicates   int64 `json:"duplicates"`    // redeliveries: mapped users or dead letters the server already had, filtered inputs delivered before
	Filtered     int64 `json:"filtered"`      // skipped by a mapping filter
	DeadLettered int64 `json:"dead_lettered"` // failed mappings stored in ETL_DEADLETTER
	Retried      int64 `json:"retried"`       // inputs handed back for a later retry (transient errors)
	Flagged      int64 `json:"flagged"`       // fields dropped by an on_error: omit policy (e.g. password reset)
	// Unchanged counts, in a replay, mapped users equal to what
	// USERS_MAPPED already holds for the same user and version: not sent.
	Unchanged int64 `json:"unchanged,omitempty"`
	// FailedBefore counts, in a replay, failures the dead-letter stream
	// already holds for the same user, version and mapping: not recorded
	// twice.
	FailedBefore int64 `json:"failed_before,omitempty"`
	// FilteredBy counts the filtered inputs by filter name.
	FilteredBy map[string]int64 `json:"filtered_by,omitempty"`
}

type publisher interface {
	PublishMsgAsync(msg *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error)
}

type transformer struct {
	nc       *nats.Conn // the pull requests' connection
	pub      publisher
	mapping  *mapping.Mapping
	consumer topology.ConsumerConfig
	workers  int
	log      *slog.Logger
	metrics  *metrics

	// validator checks every mapped user against the target's import
	// rules; nil: none. It is safe for concurrent use.
	validator validate.Validator
	// gate pauses pulling while the loaders lag (back-pressure); nil: none.
	gate consume.Gate
	// replay is set when the instance replays a selection of GIGYA_ACCOUNTS.
	replay *replaySelection
	// maxPayload is the server's limit on one message (0: none).
	maxPayload int64

	// outs recycles the mapped users' messages once their PubAck arrived.
	outs outPool

	consumed, mapped, duplicates, filtered, deadLettered, retried, flagged, skipped, unchanged, failedBefore atomic.Int64

	filteredMu sync.Mutex
	filteredBy map[string]int64

	// tally counts the outcomes by extraction run, for the balance of each
	// run (status).
	tally heartbeat.Tally
	// dl sums up the dead letters for the log.
	dl dlSummary
}

// outcome pairs an input with the publications that must all succeed
// before the input is acked: its mapped users, or its dead letter.
type outcome struct {
	in      jetstream.Msg
	pubs    []*nats.Msg // to publish; then futs holds their PubAcks
	futs    []jetstream.PubAckFuture
	owned   []*outMsg // pooled messages among pubs, released when settled
	kind    outKind
	flagged int    // fields dropped by on_error: omit
	skip    string // the filter that skipped the input
	err     error  // set when the input must be retried instead
	dups    int64  // PubAcks that said duplicate (settle)
	// unchanged counts the outputs a replay did not send: USERS_MAPPED
	// holds them already (or, for a dead letter, ETL_DEADLETTER does).
	unchanged int
	claims    []claim // a replay's record of what it sends, undone if sending fails
	// uid and lastUpdated identify the user and version, for a replay's
	// clean-up of the dead letters of earlier mappings.
	uid, lastUpdated string
}

// outMsg is a mapped user's message with its own buffers: the user's JSON
// (the evaluator's output is only valid until its next record) and the
// header map and values, reused once the server has acknowledged it.
type outMsg struct {
	msg  nats.Msg
	data []byte
	vals [mappedHeaders][]string
	id   []byte // the Nats-Msg-Id and Source-Seq values, viewed as strings
	// keys are the header keys of vals at the last use (nkeys of them),
	// whose slices the header map holds: a message whose next headers have
	// the same keys only has the values replaced. nkeys -1: the map was
	// changed otherwise, set it anew.
	keys  [mappedHeaders]string
	nkeys int
}

// mappedHeaders is how many headers a mapped user has at most.
const mappedHeaders = 11

type outKind uint8

const (
	outMapped outKind = iota
	outDeadLetter
	outFiltered
	outRetry
	outSkipped // a replay's input outside its selection
	outKnown   // a replay's input whose outputs the streams already hold
)

// Pulling, mapping and acking. Records move in chunks: the puller hands a
// worker a chunk of what one pull request brought; the worker maps all of
// it, then publishes the outputs back to back; the acker waits for the
// chunk's PubAcks, then acks its inputs back to back. Publishing and acking
// in bursts lets the client write many messages per system call and the
// server read and handle them together, instead of one write and one
// wake-up per message on both sides. The puller keeps the next pull
// request in flight and never holds more than the window (half the
// consumer's max_ack_pending), so the server answers every request at once
// (see consume.Window).

// chunkSize is the most records a worker maps before publishing them.
const chunkSize = 32

// window returns the in-flight bound and the pull batch of an instance.
func (t *transformer) window() (window, batch int) {
	window = max(t.consumer.MaxAckPending/2, 2)
	batch = max(window/4, 1)
	return window, batch
}

// run consumes until ctx is done, then finishes and acks what is in flight.
func (t *transformer) run(ctx context.Context, cons jetstream.Consumer, maxPending int) error {
	windowSize, batch := t.window()
	windowSize = min(windowSize, max(maxPending, 2*batch))
	win := consume.NewWindow(windowSize)
	t.outs = make(outPool, windowSize+t.workers*chunkSize)
	chunks := make(chan []jetstream.Msg, t.workers)
	settled := make(chan []outcome, max(windowSize/chunkSize, t.workers))

	pullErr := make(chan error, 1)
	go func() {
		pullErr <- consume.PullChunks(ctx, cons, consume.ChunkOptions{Conn: t.nc, Batch: batch, Chunk: chunkSize, Window: win}, chunks, t.gate, t.log)
	}()

	var workers sync.WaitGroup
	for range t.workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			rm := t.newRecordMapper()
			for chunk := range chunks {
				outs := make([]outcome, len(chunk))
				for i, m := range chunk {
					outs[i] = t.handle(rm, m)
				}
				for i := range outs {
					t.publish(&outs[i])
				}
				settled <- outs
			}
		}()
	}
	ackerDone := make(chan struct{})
	go func() {
		defer close(ackerDone)
		for outs := range settled {
			for i := range outs {
				t.await(&outs[i])
			}
			for i := range outs {
				t.settle(&outs[i])
			}
			win.Release(len(outs))
		}
	}()

	err := <-pullErr
	workers.Wait()
	close(settled)
	<-ackerDone
	return err
}

func (t *transformer) newRecordMapper() *recordMapper {
	return &recordMapper{ev: t.mapping.NewEvaluator().WithValidator(t.validator)}
}

// handle maps one input and prepares what must be published for it.
func (t *transformer) handle(rm *recordMapper, in jetstream.Msg) outcome {
	meta, err := in.Metadata()
	if err != nil {
		return outcome{in: in, kind: outRetry, err: err}
	}
	inHdr := in.Headers()
	uid, lastUpdated := inHdr.Get(message.HdrUID), inHdr.Get(message.HdrLastUpdated)
	if uid == "" || lastUpdated == "" {
		// Published by something other than our extractor: identify it ourselves.
		if key, err := gigya.Identify(in.Data()); err == nil {
			uid, lastUpdated = key.UID, key.LastUpdated
		}
	}
	if t.replay != nil && !t.replay.selects(meta.Sequence.Stream, uid) {
		return outcome{in: in, kind: outSkipped}
	}
	rec, mapErr := rm.mapRecord(in.Data())
	if mapErr == nil && rec.Skip != "" {
		t.metrics.filtered.WithLabelValues(rec.Skip).Inc()
		t.log.Debug("record filtered", "uid", uid, "filter", rec.Skip)
		return outcome{in: in, kind: outFiltered, skip: rec.Skip}
	}
	if mapErr == nil && uid == "" {
		mapErr = fault.Permanent("no_uid", gigya.ErrNoUID)
	}
	for _, w := range rec.Warnings {
		// A repair is what the mapping asked for; a warning (a profile
		// over the target's size, say) may need the operator.
		level := slog.LevelInfo
		if strings.HasPrefix(w, "repaired ") {
			level = slog.LevelDebug
		}
		t.log.Log(context.Background(), level, "mapped user has a warning", "uid", uid, "warning", w)
	}
	kind := outMapped
	o := outcome{in: in, flagged: len(rec.Notes), uid: uid, lastUpdated: lastUpdated}
	if mapErr != nil {
		kind = outDeadLetter
		if !t.replay.newFailure(&o, uid, lastUpdated, t.mapping.Version()) {
			o.kind = outKnown
			return o
		}
		o.pubs = []*nats.Msg{t.deadLetter(in, meta, uid, lastUpdated, mapErr)}
	} else {
		debug := len(rec.Notes) > 0 && t.log.Enabled(context.Background(), slog.LevelDebug)
		for _, n := range rec.Notes {
			t.metrics.flagged.WithLabelValues(n.Field).Inc()
			// Counted in the metric and the summary, and marked in the
			// user (its flag): one line per user would be noise. Checked
			// first: the arguments would be boxed for a disabled level too.
			if debug {
				t.log.Debug("field dropped by its on_error policy", "uid", uid, "field", n.Field, "flag", n.Flag, "reason", cause(n.Err))
			}
		}
		for i, data := range rec.Outputs {
			om := t.newOutMsg(uid, lastUpdated, i, meta.Sequence.Stream, inHdr, data)
			id := om.msg.Header[message.HdrMsgID][0]
			if !t.replay.changed(&o, uid, lastUpdated, element(id), om.data) {
				t.outs.put(om)
				continue
			}
			if t.replay != nil && t.replay.force {
				om.msg.Header.Set(message.HdrMsgID, id+":replay-"+t.replay.id) // sent again even though the mapping is unchanged
				om.nkeys = -1                                                  // the map no longer holds vals[0]
			}
			o.owned = append(o.owned, om)
			o.pubs = append(o.pubs, &om.msg)
			if !message.Fits(om.msg.Data, om.msg.Header, t.maxPayload) {
				// It could never be published: dead-letter the input instead.
				kind = outDeadLetter
				err := fault.Permanent("record_too_large", fmt.Errorf("the mapped user is %d bytes, more than the NATS server's max_payload (%d bytes with the headers)", len(data), t.maxPayload))
				t.release(&o)
				o.pubs = []*nats.Msg{t.deadLetter(in, meta, uid, lastUpdated, err)}
				t.replay.undo(o.claims)
				o.claims, o.unchanged = nil, 0
				break
			}
		}
		if len(o.pubs) == 0 && o.unchanged > 0 {
			o.kind = outKnown
			return o
		}
	}
	o.kind = kind
	return o
}

// newOutMsg builds the message of the i-th user mapped from an input, in
// a recycled outMsg: the user's JSON copied, the headers set without
// allocating where the values allow.
func (t *transformer) newOutMsg(uid, lastUpdated string, i int, seq uint64, inHdr nats.Header, data []byte) *outMsg {
	om := t.outs.get()
	if om == nil {
		om = &outMsg{}
		// Sized for the usual seven headers, not the most there can be:
		// a map of up to eight is one group, which the clear below and
		// the client's two walks of it (size, then encoding) cost a third
		// less than the two groups of eleven (measured per message).
		om.msg.Header = make(nats.Header, 8)
		// One target per transformer: a recycled message keeps its subject.
		om.msg.Subject = message.MappedSubject(t.mapping.Target())
	}
	om.data = append(om.data[:0], data...)
	om.msg.Data = om.data
	// The id and the sequence are written into one buffer and viewed as
	// strings: the buffer is reused only after the server acknowledged
	// the message, when the client no longer reads the headers.
	b := om.id[:0]
	b = append(b, t.mapping.Target()...)
	b = append(b, ':')
	b = append(b, uid...)
	b = append(b, ':')
	b = append(b, lastUpdated...)
	b = append(b, ':')
	b = append(b, t.mapping.Version()...)
	if v := inHdr[message.HdrLoginMigrated]; len(v) > 0 && v[0] != "" {
		// Not a duplicate of the same version mapped from a bulk
		// extraction, which lacks the mark.
		b = append(b, ":login"...)
	}
	if t.mapping.Explode() != "" {
		b = append(b, '#') // one message per exploded element
		b = strconv.AppendInt(b, int64(i), 10)
	}
	idEnd := len(b)
	b = strconv.AppendUint(b, seq, 10)
	om.id = b
	var keys, vals [mappedHeaders]string
	keys[0], vals[0] = message.HdrMsgID, unsafe.String(unsafe.SliceData(b), idEnd)
	keys[1], vals[1] = message.HdrUID, uid
	keys[2], vals[2] = message.HdrMappingVersion, t.mapping.Version()
	keys[3], vals[3] = message.HdrSourceSeq, unsafe.String(&b[idEnd], len(b)-idEnd)
	n := 4
	if t.replay != nil {
		keys[n], vals[n] = message.HdrReplay, t.replay.id
		n++
	}
	for _, k := range copiedHeaders {
		if v := inHdr[k]; len(v) > 0 && v[0] != "" {
			keys[n], vals[n] = k, v[0]
			n++
		}
	}
	if n == om.nkeys && keys == om.keys {
		// The map holds vals' slices: replacing their element is enough.
		for i := range n {
			om.vals[i][0] = vals[i]
		}
		return om
	}
	h := om.msg.Header
	clear(h)
	for i := range n {
		om.vals[i] = append(om.vals[i][:0], vals[i])
		h[keys[i]] = om.vals[i]
	}
	om.keys, om.nkeys = keys, n
	return om
}

// outPool recycles outMsgs. Not a sync.Pool: the collector empties those
// at every cycle, and the transformer's heap is small, so it collects
// every few hundred records and most messages were built anew. The pool
// holds what the window can have in flight; a nil pool recycles nothing.
type outPool chan *outMsg

func (p outPool) get() *outMsg {
	select {
	case om := <-p:
		return om
	default:
		return nil
	}
}

func (p outPool) put(om *outMsg) {
	select {
	case p <- om:
	default:
	}
}

// copiedHeaders are the input's headers a mapped user carries.
var copiedHeaders = [...]string{message.HdrSite, message.HdrLastUpdated, message.HdrRun, message.HdrRedriven, message.HdrUpdate, message.HdrLoginMigrated}

// publish starts publishing an outcome's messages.
func (t *transformer) publish(o *outcome) {
	for _, msg := range o.pubs {
		fut, err := t.pub.PublishMsgAsync(msg)
		for errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			fut, err = t.pub.PublishMsgAsync(msg) // waits for pending acks: back-pressure from the server
		}
		if err != nil {
			t.replay.undo(o.claims)
			t.await(o) // the publications under way, before release
			*o = outcome{in: o.in, kind: outRetry, err: err}
			return
		}
		o.futs = append(o.futs, fut)
	}
	o.pubs = nil
}

// release recycles an outcome's messages.
func (t *transformer) release(o *outcome) {
	for _, om := range o.owned {
		t.outs.put(om)
	}
	o.owned = nil
}

func (t *transformer) deadLetter(in jetstream.Msg, meta *jetstream.MsgMetadata, uid, lastUpdated string, err error) *nats.Msg {
	code := mappingErrorCode(err)
	dl := message.DeadLetter{
		Stage: message.StageTransform, Target: t.mapping.Target(), Code: code, Err: err.Error(), UID: uid,
		SourceSubject: in.Subject(), SourceSeq: meta.Sequence.Stream, Attempts: int(meta.NumDelivered),
		Data: in.Data(), Extra: nats.Header{},
	}
	if field := failedField(err); field != "" {
		dl.Extra.Set(message.HdrField, field)
	}
	dl.Extra.Set(message.HdrMappingVersion, t.mapping.Version())
	redriven := in.Headers().Get(message.HdrRedriven)
	if redriven != "" {
		dl.Extra.Set(message.HdrRedriven, redriven) // failed again after a redrive: keep the loop visible
	}
	if uid != "" && lastUpdated != "" {
		// One dead letter per user, version and mapping, however many
		// copies of the input fail (a replay maps the stored accounts
		// again). A redrive deletes the dead letter it sends back, so the
		// copy it sends gets an id of its own: reusing the deleted one's
		// would drop the new failure as a duplicate.
		dl.Extra.Set(message.HdrLastUpdated, lastUpdated)
		dl.ID = message.TransformDeadLetterID(t.mapping.Target(), uid, lastUpdated, t.mapping.Version(), redriven)
	}
	t.metrics.deadLetters.WithLabelValues(code).Inc()
	t.log.Debug("mapping failed, dead-lettered", "uid", uid, "stream_seq", meta.Sequence.Stream, "code", code, "err", err)
	t.dl.add(code, uid, err)
	return dl.MsgWithin(t.maxPayload)
}

// failedField names the output field a failure is about, for the Etl-Field
// header.
func failedField(err error) string {
	var fe *mapping.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	var ve *validate.ViolationError
	if errors.As(err, &ve) && len(ve.Violations) > 0 {
		return ve.Violations[0].Path
	}
	return ""
}

// await waits for the PubAcks of an outcome's publications, all of them
// even after a failure: a publish still pending may be sent again (no
// responders) from its message, which release recycles.
func (t *transformer) await(o *outcome) {
	done, _ := t.pub.(futureRecycler)
	for _, fut := range o.futs {
		select {
		case ack := <-fut.Ok():
			if ack.Duplicate {
				o.dups++
			}
		case err := <-fut.Err():
			if o.err == nil {
				o.err = err
			}
		}
		if done != nil {
			done.Done(fut)
		}
	}
	t.release(o) // acknowledged (or failed): the client is done with them
}

// futureRecycler takes back the futures whose outcome was read (package
// publish reuses them).
type futureRecycler interface {
	Done(jetstream.PubAckFuture)
}

// settle acks the input of an outcome whose publications are acknowledged
// (await), or hands it back for a retry with the consumer's backoff.
func (t *transformer) settle(o *outcome) {
	if o.kind == outSkipped {
		if err := o.in.Ack(); err != nil {
			t.log.Debug("ack of an unselected input failed", "err", err)
		}
		t.skipped.Add(1)
		return
	}
	if o.kind == outKnown {
		t.replay.resolve(o.uid, o.lastUpdated, t.log)
		t.ack(o.in)
		if o.unchanged > 0 {
			t.unchanged.Add(int64(o.unchanged))
		} else {
			t.failedBefore.Add(1)
		}
		return
	}
	run := o.in.Headers().Get(message.HdrRun)
	if o.kind == outFiltered {
		t.ack(o.in)
		if redelivered(o.in) {
			// A filter stores nothing whose PubAck could tell a repeat, so the
			// delivery count does: a record the server sent again (an ack lost
			// or too late, another instance holding it past ack_wait) was
			// counted by whoever had it first, and the balance counts each
			// extracted record once.
			t.duplicates.Add(1)
			t.metrics.records.WithLabelValues("duplicate").Inc()
			return
		}
		t.tally.Add(run, "filtered", 1)
		t.filtered.Add(1)
		t.filteredMu.Lock()
		if t.filteredBy == nil {
			t.filteredBy = map[string]int64{}
		}
		t.filteredBy[o.skip]++
		t.filteredMu.Unlock()
		return
	}
	err, dups := o.err, o.dups
	if err == nil {
		t.replay.resolve(o.uid, o.lastUpdated, t.log)
		t.ack(o.in)
		t.unchanged.Add(int64(o.unchanged))
		switch {
		case o.kind == outDeadLetter && dups > 0:
			// The dead-letter stream already held it: a redelivery.
			t.duplicates.Add(dups)
			t.metrics.records.WithLabelValues("duplicate").Add(float64(dups))
		case o.kind == outDeadLetter:
			t.deadLettered.Add(1)
			t.tally.Add(run, "dead_lettered", 1)
			t.metrics.records.WithLabelValues("dead_lettered").Inc()
		default:
			n := int64(len(o.futs))
			t.tally.Add(run, "mapped", n-dups)
			t.mapped.Add(n - dups)
			t.duplicates.Add(dups)
			t.flagged.Add(int64(o.flagged))
			t.metrics.mapped.Add(float64(n - dups))
			t.metrics.duplicate.Add(float64(dups))
		}
		return
	}
	// Publishing failed: the server is unreachable or overloaded. The input
	// is retried; its redelivery is recognised by the Nats-Msg-Id.
	t.replay.undo(o.claims)
	delivered := uint64(1)
	if meta, merr := o.in.Metadata(); merr == nil {
		delivered = meta.NumDelivered
	}
	delay := t.consumer.Delay(delivered)
	t.log.Warn("publish failed, input will be retried", "subject", o.in.Subject(), "delivered", delivered, "retry_in", delay, "err", err)
	if nerr := o.in.NakWithDelay(delay); nerr != nil {
		t.log.Warn("nak failed; the server redelivers after ack_wait", "err", nerr)
	}
	t.retried.Add(1)
	t.metrics.records.WithLabelValues("retried").Inc()
}

// redelivered reports whether the server delivered m before.
func redelivered(m jetstream.Msg) bool {
	meta, err := m.Metadata()
	return err == nil && meta.NumDelivered > 1
}

func (t *transformer) ack(m jetstream.Msg) {
	if err := m.Ack(); err != nil {
		t.log.Warn("ack failed; the input will be redelivered and its output dropped as a duplicate", "err", err)
	}
	t.consumed.Add(1)
}

func (t *transformer) totals() Totals {
	t.filteredMu.Lock()
	by := maps.Clone(t.filteredBy)
	t.filteredMu.Unlock()
	return Totals{Consumed: t.consumed.Load(), Mapped: t.mapped.Load(), Duplicates: t.duplicates.Load(),
		Filtered: t.filtered.Load(), DeadLettered: t.deadLettered.Load(), Retried: t.retried.Load(), Flagged: t.flagged.Load(),
		Unchanged: t.unchanged.Load(), FailedBefore: t.failedBefore.Load(), FilteredBy: by}
}

// counts is the heartbeat form of the totals.
func (t Totals) counts(skipped int64) map[string]int64 {
	c := map[string]int64{"consumed": t.Consumed, "mapped": t.Mapped, "duplicates": t.Duplicates, "filtered": t.Filtered,
		"dead_lettered": t.DeadLettered, "retried": t.Retried, "flagged": t.Flagged}
	if skipped > 0 {
		c["skipped"] = skipped
	}
	return c
}

// progress logs the counts at an interval while records flow.
func (t *transformer) progress(ctx context.Context) {
	telemetry.LogProgress(ctx, t.log, telemetry.ProgressEvery, func() (int64, []any) {
		tot := t.totals()
		return tot.Consumed, []any{"consumed", tot.Consumed, "mapped", tot.Mapped, "filtered", tot.Filtered, "dead_lettered", tot.DeadLettered}
	})
}

type metrics struct {
	records     *prometheus.CounterVec
	filtered    *prometheus.CounterVec
	flagged     *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	// The records counters every mapped user increments, resolved once.
	mapped, duplicate prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gm_transformer_records_total",
			Help: "Inputs handled by the transformer, by result (mapped, duplicate, dead_lettered, retried).",
		}, []string{"result"}),
		filtered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gm_transformer_filtered_total",
			Help: "Inputs skipped by a mapping filter, by filter name.",
		}, []string{"filter"}),
	}
	m.flagged = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gm_transformer_flagged_total",
		Help: "Fields dropped by an on_error: omit policy (the user is flagged, e.g. for a password reset), by field.",
	}, []string{"field"})
	m.deadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gm_transformer_dead_letters_total",
		Help: "Inputs whose mapping failed, by error code (schema_violation, expression errors...). Counted when the dead letter is built.",
	}, []string{"code"})
	reg.MustRegister(m.records, m.filtered, m.flagged, m.deadLetters)
	m.mapped = m.records.WithLabelValues("mapped")
	m.duplicate = m.records.WithLabelValues("duplicate")
	return m
}
