package transform

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/nats-io/nats.go/jetstream"
)

const replayUsage = `transformer replay maps a selection of GIGYA_ACCOUNTS again, typically after
a mapping fix, through its own temporary consumer: the running transformers
are not disturbed. It stops once it has caught up with the stream as it was
when the replay started, prints a JSON summary and exits (3 when some
records were dead-lettered).

A fixed mapping has a new Mapping-Version, so the replayed users are new
messages on USERS_MAPPED; loaders apply them as updates (upsert). Only users
whose mapped output differs from what USERS_MAPPED holds are sent, and only
failures the dead-letter stream does not hold yet are recorded, whenever the
replay runs: with an unchanged mapping a replay sends nothing (-force sends
everything again).

Usage:
  transformer replay (-all | -from-seq N | -since TIME) [-uids FILE] [-mapping FILE] [flags]
  transformer replay -uids FILE [flags]       (every stored version of those users)

Flags:
`

// replaySelection is what a replay maps; the rest of what its consumer
// delivers is acked and counted as skipped.
type replaySelection struct {
	id     string
	endSeq uint64              // the stream's last sequence when the replay began
	uids   map[string]struct{} // nil: every UID
	force  bool
	// known is what the streams held when the replay began; nil with
	// force, which sends everything again.
	known *produced
	// deadLetters is the stream whose dead letters of earlier mappings a
	// replay's new outcome replaces.
	deadLetters interface {
		DeleteMsg(ctx context.Context, seq uint64) error
	}
	resolved atomic.Int64
}

// resolve deletes the dead letters that earlier mappings left for (uid,
// lastUpdated), now that the replay's outcome for the user is stored: a
// fixed mapping turns a failed user into a mapped one, or into one failure
// of its own; either way the stream keeps at most one failure per user and
// version, so that it still says how many users failed.
func (r *replaySelection) resolve(uid, lastUpdated string, log *slog.Logger) {
	if r == nil || r.known == nil || r.deadLetters == nil || uid == "" || lastUpdated == "" {
		return
	}
	for _, seq := range r.known.takeStale(uid, lastUpdated) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := r.deadLetters.DeleteMsg(ctx, seq)
		cancel()
		if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			log.Warn("a dead letter of an earlier mapping was not removed; delete it by hand", "uid", uid, "dead_letter_seq", seq, "err", err)
			continue
		}
		r.resolved.Add(1)
	}
}

// changed reports whether the output data of (uid, lastUpdated, element)
// must be sent: always outside a replay or with -force; in a replay, only
// when it differs from what USERS_MAPPED holds. What it sends is claimed in
// o, so that a second copy of the same input is not sent too.
func (r *replaySelection) changed(o *outcome, uid, lastUpdated, elem string, data []byte) bool {
	if r == nil || r.known == nil || uid == "" || lastUpdated == "" {
		return true
	}
	c, ok := r.known.claimMapped(r.known.key(uid, lastUpdated, elem), r.known.digest(data))
	if !ok {
		o.unchanged++
		return false
	}
	o.claims = append(o.claims, c)
	return true
}

// newFailure reports whether the failure of (uid, lastUpdated, mapping
// version) must be dead-lettered: always outside a replay or with -force;
// in a replay, only when ETL_DEADLETTER does not hold it yet.
func (r *replaySelection) newFailure(o *outcome, uid, lastUpdated, version string) bool {
	if r == nil || r.known == nil || uid == "" || lastUpdated == "" {
		return true
	}
	c, ok := r.known.claimFailure(r.known.key(uid, lastUpdated, version))
	if ok {
		o.claims = append(o.claims, c)
	}
	return ok
}

// undo forgets the claims of outputs whose publication failed: the input
// is retried and must send them then.
func (r *replaySelection) undo(cs []claim) {
	if r != nil && r.known != nil && len(cs) > 0 {
		r.known.undo(cs)
	}
}

func (r *replaySelection) selects(seq uint64, uid string) bool {
	if seq > r.endSeq {
		return false // published after the replay began: the running transformers map it
	}
	if r.uids == nil {
		return true
	}
	_, ok := r.uids[uid]
	return ok
}

// ReplaySummary is what a replay prints on stdout when it ends.
type ReplaySummary struct {
	Stage          string `json:"stage"` // "replay"
	Replay         string `json:"replay"`
	Target         string `json:"target"`
	MappingVersion string `json:"mapping_version"`
	Selection      string `json:"selection"`
	EndSeq         uint64 `json:"end_seq"`
	Status         string `json:"status"` // completed or interrupted
	Elapsed        string `json:"elapsed"`
	Totals
	Skipped int64 `json:"skipped"` // delivered but outside the selection (other UIDs, or newer than end_seq)
	// Resolved counts the dead letters of earlier mappings that the
	// replay's outcome replaced (a user fixed, or failing for another
	// reason now).
	Resolved int64 `json:"resolved"`
}

func runReplay(ctx context.Context, env stage.Env) error {
	fs, cfgPath := stage.Flags("transformer replay", replayUsage, env)
	mappingPath := fs.String("mapping", "", "mapping YAML file (overrides transformer.mapping)")
	all := fs.Bool("all", false, "replay the whole stream")
	fromSeq := fs.Uint64("from-seq", 0, "replay from this GIGYA_ACCOUNTS sequence (see status, or Source-Seq on a mapped user)")
	since := fs.String("since", "", "replay what was stored at or after this time (RFC 3339, e.g. 2026-11-20T14:00:00Z)")
	uidsFile := fs.String("uids", "", "file with one Gigya UID per line: replay only those users ('-': stdin)")
	force := fs.Bool("force", false, "send the users again even if the mapping is unchanged (new message ids)")
	if err := stage.ParseFlags(fs, env.Args, false); err != nil {
		return err
	}
	starts := 0
	for _, set := range []bool{*all, *fromSeq > 0, *since != ""} {
		if set {
			starts++
		}
	}
	if starts > 1 || (starts == 0 && *uidsFile == "") {
		return stage.Usage(errors.New("choose what to replay: exactly one of -all, -from-seq N, -since TIME, optionally with -uids FILE (or -uids FILE alone)"))
	}
	cc := jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	selection := "all"
	switch {
	case *fromSeq > 0:
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, *fromSeq
		selection = "from-seq " + strconv.FormatUint(*fromSeq, 10)
	case *since != "":
		ts, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			return stage.Usage(fmt.Errorf("-since %q: want RFC 3339, e.g. 2026-11-20T14:00:00Z", *since))
		}
		cc.DeliverPolicy, cc.OptStartTime = jetstream.DeliverByStartTimePolicy, &ts
		selection = "since " + ts.UTC().Format(time.RFC3339)
	}
	var uids map[string]struct{}
	if *uidsFile != "" {
		var err error
		if uids, err = readUIDs(*uidsFile); err != nil {
			return stage.Usage(err)
		}
		selection += fmt.Sprintf(", %d uids from %s", len(uids), *uidsFile)
	}

	cfg, m, validator, err := loadSetup(*cfgPath, *mappingPath, env)
	if err != nil {
		return err
	}
	id := newReplayID()
	log := cfg.Telemetry.Logger(env.Stderr).With("stage", "replay", "target", m.Target(), "replay", id)
	rt, err := stage.Start(ctx, "transformer-replay", cfg.Common, log)
	if err != nil {
		return err
	}
	defer rt.Close()
	pub, err := rt.Publisher(cfg.Transformer.MaxPending)
	if err != nil {
		return err
	}

	// A named ephemeral consumer: its own position, removed at the end (or
	// by the server after InactiveThreshold if the replay dies), and
	// ignored by the producers' back-pressure, which watches durables only.
	name := "replay-" + m.Target() + "-" + id
	cc.Name = name
	cc.FilterSubjects = rawFilters(cfg.Transformer.Sites)
	cc.AckPolicy = jetstream.AckExplicitPolicy
	cc.AckWait = cfg.Transformer.Consumer.AckWait
	cc.MaxDeliver = cfg.Transformer.Consumer.MaxDeliver
	cc.BackOff = cfg.Transformer.Consumer.Backoff
	cc.MaxAckPending = cfg.Transformer.Consumer.MaxAckPending
	cc.InactiveThreshold = 5 * time.Minute
	if len(cc.FilterSubjects) == 1 {
		cc.FilterSubject, cc.FilterSubjects = cc.FilterSubjects[0], nil
	}
	cons, err := rt.Topology.Raw.CreateConsumer(ctx, cc)
	if err != nil {
		return fmt.Errorf("create the replay consumer on %s: %w", cfg.Streams.Raw.Name, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = rt.Topology.Raw.DeleteConsumer(dctx, name)
	}()
	info, err := rt.Topology.Raw.Info(ctx)
	if err != nil {
		return fmt.Errorf("read %s: %w", cfg.Streams.Raw.Name, err)
	}
	sel := &replaySelection{id: id, endSeq: info.State.LastSeq, uids: uids, force: *force}
	if !*force {
		// Before the first record: what the replay would send again is
		// recognised by content, not by the duplicate window.
		if sel.known, err = loadProduced(ctx, rt.JS, rt.Topology, m.Target(), m.Version(), uids); err != nil {
			return err
		}
		log.Info("replay knows what the streams hold", "mapped", len(sel.known.mapped), "failed", len(sel.known.failed), "failed_under_other_mappings", len(sel.known.stale))
		sel.deadLetters = rt.Topology.DeadLetter
	}
	t := &transformer{
		nc: rt.NC, pub: pub, mapping: m, consumer: cfg.Transformer.Consumer, workers: workers(cfg.Transformer),
		log: log, metrics: newMetrics(rt.Metrics), validator: validator, maxPayload: rt.NC.MaxPayload(), replay: sel,
	}
	t.gate = rt.Gate(ctx, rt.Topology.Mapped, []string{message.MappedSubject(m.Target())}, rt.Heartbeat(ctx, "replay", selection, func() map[string]int64 {
		return t.totals().counts(t.skipped.Load())
	}))
	log.Info("replay started", "selection", selection, "end_seq", sel.endSeq, "mapping_version", m.Version(), "consumer", name)

	started := time.Now()
	runCtx, caughtUp := context.WithCancel(ctx)
	defer caughtUp()
	go watchCaughtUp(runCtx, cons, sel.endSeq, caughtUp)
	rt.Go(ctx, t.progress)
	runErr := t.run(runCtx, cons, cfg.Transformer.MaxPending)

	tot := t.totals()
	sum := ReplaySummary{Stage: "replay", Replay: id, Target: m.Target(), MappingVersion: m.Version(), Selection: selection,
		EndSeq: sel.endSeq, Status: "completed", Elapsed: time.Since(started).Round(time.Millisecond).String(),
		Totals: tot, Skipped: t.skipped.Load(), Resolved: sel.resolved.Load()}
	if ctx.Err() != nil {
		sum.Status = "interrupted"
	}
	stage.PrintSummary(env.Stdout, sum)
	log.Info("replay "+sum.Status, "consumed", tot.Consumed, "mapped", tot.Mapped, "duplicates", tot.Duplicates,
		"filtered", tot.Filtered, "dead_lettered", tot.DeadLettered, "unchanged", tot.Unchanged, "failed_before", tot.FailedBefore, "resolved", sum.Resolved, "skipped", sum.Skipped)
	if tot.Mapped == 0 && tot.DeadLettered == 0 && tot.Unchanged+tot.FailedBefore+tot.Duplicates > 0 {
		log.Warn("nothing new: every replayed user maps to what USERS_MAPPED already holds, and every failure is already in the dead-letter stream; the mapping is unchanged for them, so the loaders get nothing; fix the mapping, or use -force to send the users again",
			"mapping_version", m.Version(), "unchanged", tot.Unchanged, "failed_before", tot.FailedBefore)
	}
	if runErr != nil {
		return runErr
	}
	if failed := tot.DeadLettered + tot.FailedBefore; failed > 0 {
		return fmt.Errorf("%w: %d failed during the replay, %d of them already in the dead-letter stream and not recorded again (list them: transformer deadletter list -stage transform)",
			stage.ErrDeadLetters, failed, tot.FailedBefore)
	}
	return nil
}

// watchCaughtUp calls done once everything the replay consumer delivered is
// settled and it has nothing left at or below endSeq.
func watchCaughtUp(ctx context.Context, cons jetstream.Consumer, endSeq uint64, done func()) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		info, err := cons.Info(ctx)
		if err != nil {
			continue
		}
		if info.NumAckPending == 0 && (info.NumPending == 0 || info.AckFloor.Stream >= endSeq) {
			done()
			return
		}
	}
}

func readUIDs(path string) (map[string]struct{}, error) {
	f := os.Stdin
	if path != "-" {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, fmt.Errorf("-uids: %w", err)
		}
		defer f.Close()
	}
	uids := map[string]struct{}{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if uid := strings.TrimSpace(sc.Text()); uid != "" && !strings.HasPrefix(uid, "#") {
			uids[uid] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-uids %s: %w", path, err)
	}
	if len(uids) == 0 {
		return nil, fmt.Errorf("-uids %s: no UID in the file (one per line)", path)
	}
	return uids, nil
}

func newReplayID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}
