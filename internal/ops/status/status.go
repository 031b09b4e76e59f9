// Package status shows the whole pipeline at a glance: the streams, the
// progress of every consumer, the running instances (and which producer is
// paused by back-pressure), the dead letters by code, and the extractor's
// checkpoints and run totals.
//
// Collection ([Collect]) is separate from rendering ([WriteText], the live
// view, JSON) so that the rendering of a fixed [Snapshot] is testable
// without a server. Status only reads: it never creates a stream, a
// consumer or a bucket, so looking at a half-deployed pipeline does not
// change it.
package status

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/heartbeat"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/nats-io/nats.go/jetstream"
)

// KV key prefixes the extractor writes (internal/extract): status reads
// them generically so that pkg does not depend on a binary.
const (
	checkpointPrefix = "checkpoint."
	runPrefix        = "run."
)

// Stream roles, in pipeline order.
const (
	RoleRaw        = "raw"
	RoleMapped     = "mapped"
	RoleDeadLetter = "deadletter"
)

// Snapshot is the state of the pipeline at one instant.
type Snapshot struct {
	Taken   time.Time      `json:"taken"`
	Streams []StreamStatus `json:"streams"`
	// Consumers are those of the raw and mapped streams: the stages' work queues.
	Consumers []ConsumerStatus `json:"consumers"`
	// StateBucket is the KV bucket of checkpoints, runs and heartbeats;
	// StateMissing is set when it does not exist (nothing ran yet).
	StateBucket  string       `json:"state_bucket"`
	StateMissing bool         `json:"state_missing,omitempty"`
	Instances    []Instance   `json:"instances"`
	Checkpoints  []Checkpoint `json:"checkpoints"`
	// Runs are the extractor's run records, newest first.
	Runs            []RunRecord     `json:"runs"`
	ExtractorTotals ExtractorTotals `json:"extractor_totals"`
	// DeadLetters is nil when no summary was available (no summarizer, or
	// it failed: DeadLetterError says why).
	DeadLetters     []DeadLetterGroup `json:"dead_letters"`
	DeadLetterError string            `json:"dead_letter_error,omitempty"`
	// Balances account for each extraction run at each target, newest run
	// first.
	Balances []Balance `json:"balances"`
}

// Balance accounts for the accounts of one extraction run at one target:
//
//	extracted = extract dead letters + filtered + transform dead letters
//	          + loaded + load dead letters + superseded + migrated at login
//	          + in flight
//
// from the extractor's run records and the counts by run that the
// transformers and loaders keep (running, dead or stopped). Once the
// consumers are drained, in flight is 0; anything else is an account the
// books lost. A replay's users count apart (Replayed), since they are
// accounts of the run sent a second time. Migrated at login counts the
// accounts the loaders did not write because the login service moved those
// users to the target (docs/login-migration.md): in the login service's
// own runs, every user it migrated; in a bulk run, the users who logged in
// first.
type Balance struct {
	Run                   string `json:"run"`
	Target                string `json:"target"`
	Extracted             int64  `json:"extracted"` // published plus dead-lettered by the extractor
	ExtractDeadLettered   int64  `json:"extract_dead_lettered"`
	Filtered              int64  `json:"filtered"`
	TransformDeadLettered int64  `json:"transform_dead_lettered"`
	Loaded                int64  `json:"loaded"`
	LoadDeadLettered      int64  `json:"load_dead_lettered"` // Conflicts among them
	Conflicts             int64  `json:"conflicts"`
	Superseded            int64  `json:"superseded"`
	MigratedAtLogin       int64  `json:"migrated_at_login"`
	InFlight              int64  `json:"in_flight"`
	Replayed              int64  `json:"replayed,omitempty"` // replayed users the loaders settled
}

// StreamStatus is one stream's state. A stream that does not exist is
// reported with Missing set, not as an error: status must work on a
// pipeline that is not fully deployed.
type StreamStatus struct {
	Role      string    `json:"role"` // raw, mapped or deadletter
	Name      string    `json:"name"`
	Missing   bool      `json:"missing,omitempty"`
	Messages  uint64    `json:"messages"`
	Bytes     uint64    `json:"bytes"`
	FirstSeq  uint64    `json:"first_seq"`
	FirstTime time.Time `json:"first_time,omitzero"`
	LastSeq   uint64    `json:"last_seq"`
	LastTime  time.Time `json:"last_time,omitzero"`
	Consumers int       `json:"consumers"`
}

// ConsumerStatus is one consumer's state and progress.
//
// Done and Total count deliveries: Done = Delivered - AckPending (the
// messages delivered and acked), Total = Delivered + Pending. With in-order
// acks Done equals the ack floor; unlike the ack floor it stays right when
// acks arrive out of order (worker pools, loader batches), where the floor
// lags behind what is really acked. A redelivery adds one to both.
type ConsumerStatus struct {
	Stream      string    `json:"stream"`
	Name        string    `json:"name"`
	Filters     []string  `json:"filters"`
	Durable     bool      `json:"durable"`
	Created     time.Time `json:"created,omitzero"`
	Pending     uint64    `json:"pending"`     // not delivered yet
	AckPending  int       `json:"ack_pending"` // delivered, not acked yet
	Redelivered int       `json:"redelivered"` // redelivered and still unacked
	Waiting     int       `json:"waiting"`     // outstanding pull requests: a worker is idle and asking
	// Delivered and AckFloor are consumer sequences (deliveries).
	Delivered      uint64    `json:"delivered"`
	AckFloor       uint64    `json:"ack_floor"`
	AckFloorStream uint64    `json:"ack_floor_stream_seq"`
	LastActive     time.Time `json:"last_active,omitzero"`
	ServerPaused   bool      `json:"server_paused,omitempty"` // paused by the JetStream consumer pause API
	Done           uint64    `json:"done"`
	Total          uint64    `json:"total"`
	// RatePerSec (acks per second) and ETASeconds are only known from two
	// snapshots ([WithRates]); ETASeconds stays unset while the rate is 0.
	RatePerSec *float64 `json:"rate_per_sec,omitempty"`
	ETASeconds *float64 `json:"eta_seconds,omitempty"`
}

// Remaining is what is left to do.
func (c ConsumerStatus) Remaining() uint64 { return c.Total - c.Done }

// Instance is a running (or dead, when Stale) stage instance.
type Instance struct {
	heartbeat.Beat
	Stale bool `json:"stale"`
}

// Checkpoint is an extractor checkpoint: where an input's extraction stands.
type Checkpoint struct {
	Key      string          `json:"key"`
	Input    string          `json:"input"`
	Site     string          `json:"site"`
	Run      string          `json:"run"`
	Complete bool            `json:"complete"`
	Updated  time.Time       `json:"updated,omitzero"`
	State    json.RawMessage `json:"state,omitempty"` // the source's own position
}

// RunRecord is what an extractor run recorded for one site.
type RunRecord struct {
	Key          string    `json:"key"`
	Stage        string    `json:"stage"`
	Run          string    `json:"run"`
	Site         string    `json:"site"`
	Status       string    `json:"status"` // completed, interrupted or failed
	Elapsed      string    `json:"elapsed"`
	Read         int64     `json:"read"`
	Published    int64     `json:"published"`
	Duplicates   int64     `json:"duplicates"`
	DeadLettered int64     `json:"dead_lettered"`
	Resumed      int64     `json:"resumed"`
	Started      time.Time `json:"started,omitzero"`
	Finished     time.Time `json:"finished,omitzero"`
}

// ExtractorTotals sums every recorded run.
type ExtractorTotals struct {
	Runs         int   `json:"runs"`
	Read         int64 `json:"read"`
	Published    int64 `json:"published"`
	Duplicates   int64 `json:"duplicates"`
	DeadLettered int64 `json:"dead_lettered"`
}

// DeadLetterGroup counts the dead letters of one stage, target and error code.
type DeadLetterGroup struct {
	Stage    string `json:"stage"`
	Target   string `json:"target"`
	Code     string `json:"code"`
	Count    int    `json:"count"`
	Redriven int    `json:"redriven"`
}

// Options say what to collect.
type Options struct {
	// Streams names the streams and the KV bucket.
	Streams topology.Config
	// DeadLetters summarizes the dead-letter stream; nil leaves
	// Snapshot.DeadLetters unset (the stream's message count still shows).
	// It is a function because the summary lives in another package.
	DeadLetters func(ctx context.Context) ([]DeadLetterGroup, error)
	// Now is the clock (nil: time.Now); tests fix it.
	Now func() time.Time
}

// Collect reads the state of the pipeline. A missing stream or bucket is
// reported in the snapshot; a failing dead-letter summary too (it is one
// part of the picture). Other failures, such as a server that does not
// answer, are errors.
func Collect(ctx context.Context, js jetstream.JetStream, o Options) (Snapshot, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	s := Snapshot{Taken: now().UTC(), StateBucket: o.Streams.State.Bucket}
	for _, r := range []struct {
		role      string
		name      string
		consumers bool
	}{
		{RoleRaw, o.Streams.Raw.Name, true},
		{RoleMapped, o.Streams.Mapped.Name, true},
		{RoleDeadLetter, o.Streams.DeadLetter.Name, false},
	} {
		st, cons, err := collectStream(ctx, js, r.role, r.name, r.consumers)
		if err != nil {
			return Snapshot{}, err
		}
		s.Streams = append(s.Streams, st)
		s.Consumers = append(s.Consumers, cons...)
	}

	if o.DeadLetters != nil && !s.stream(RoleDeadLetter).Missing {
		groups, err := o.DeadLetters(ctx)
		switch {
		case err != nil:
			s.DeadLetterError = err.Error()
		default:
			s.DeadLetters = sortedGroups(groups)
		}
	}

	kv, err := js.KeyValue(ctx, o.Streams.State.Bucket)
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		s.StateMissing = true
		return s, nil
	case err != nil:
		return Snapshot{}, fmt.Errorf("KV bucket %s: %w", o.Streams.State.Bucket, err)
	}
	beats, err := heartbeat.List(ctx, kv)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return Snapshot{}, fmt.Errorf("instances in %s: %w", o.Streams.State.Bucket, err)
	}
	for _, b := range beats {
		s.Instances = append(s.Instances, Instance{Beat: b, Stale: b.Stale(s.Taken)})
	}
	slices.SortFunc(s.Instances, func(a, b Instance) int {
		return cmp.Or(cmp.Compare(stageOrder(a.Stage), stageOrder(b.Stage)), cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.Instance, b.Instance))
	})
	if err := collectState(ctx, kv, &s); err != nil {
		return Snapshot{}, fmt.Errorf("checkpoints and runs in %s: %w", o.Streams.State.Bucket, err)
	}
	tallies, err := heartbeat.Tallies(ctx, kv)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return Snapshot{}, fmt.Errorf("tallies in %s: %w", o.Streams.State.Bucket, err)
	}
	s.Balances = balances(s.Runs, beats, tallies)
	return s, nil
}

// balances draws the balance of every run at every target from the run
// records and the instances' counts by run: a stopped instance's final
// tally, else its (live or stale) heartbeat.
func balances(runs []RunRecord, beats, tallies []heartbeat.Beat) []Balance {
	type key struct{ run, target string }
	by := map[key]*Balance{}
	get := func(run, target string) *Balance {
		k := key{run, target}
		if by[k] == nil {
			by[k] = &Balance{Run: run, Target: target}
		}
		return by[k]
	}
	final := map[string]bool{}
	for _, t := range tallies {
		final[t.Stage+"."+t.Instance] = true
	}
	var targets []string
	for _, b := range append(slices.Clone(tallies), beats...) {
		if b.Runs == nil || (b.Stage != "transformer" && b.Stage != "loader") {
			continue
		}
		if !slices.Contains(targets, b.Target) {
			targets = append(targets, b.Target)
		}
	}
	for _, b := range tallies {
		addCounts(get, b)
	}
	for _, b := range beats {
		if !final[b.Stage+"."+b.Instance] {
			addCounts(get, b)
		}
	}
	started := map[string]time.Time{}
	for _, r := range runs {
		if r.Started.After(started[r.Run]) {
			started[r.Run] = r.Started
		}
		for _, t := range targets {
			bal := get(r.Run, t)
			bal.Extracted += r.Published + r.DeadLettered
			bal.ExtractDeadLettered += r.DeadLettered
		}
	}
	out := make([]Balance, 0, len(by))
	for k, b := range by {
		if _, recorded := started[k.run]; !recorded {
			// A run still extracting (its record is written at its end),
			// or messages from outside the extractor: nothing to balance.
			continue
		}
		b.InFlight = b.Extracted - b.ExtractDeadLettered - b.Filtered - b.TransformDeadLettered - b.Loaded - b.LoadDeadLettered -
			b.Superseded - b.MigratedAtLogin
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b Balance) int {
		return cmp.Or(started[b.Run].Compare(started[a.Run]), cmp.Compare(a.Run, b.Run), cmp.Compare(a.Target, b.Target))
	})
	return out
}

func addCounts(get func(run, target string) *Balance, b heartbeat.Beat) {
	for run, c := range b.Runs {
		bal := get(run, b.Target)
		switch b.Stage {
		case "transformer":
			bal.Filtered += c["filtered"]
			bal.TransformDeadLettered += c["dead_lettered"]
		case "loader":
			bal.Loaded += c["loaded"]
			bal.LoadDeadLettered += c["dead_lettered"]
			bal.Conflicts += c["conflicts"]
			bal.Superseded += c["superseded"]
			bal.MigratedAtLogin += c["migrated_at_login"]
			bal.Replayed += c["replay_loaded"] + c["replay_dead_lettered"] + c["replay_superseded"] + c["replay_migrated_at_login"]
		}
	}
}

// stream returns the stream of role (the zero value if absent).
func (s Snapshot) stream(role string) StreamStatus {
	for _, st := range s.Streams {
		if st.Role == role {
			return st
		}
	}
	return StreamStatus{Role: role, Missing: true}
}

func collectStream(ctx context.Context, js jetstream.JetStream, role, name string, withConsumers bool) (StreamStatus, []ConsumerStatus, error) {
	st := StreamStatus{Role: role, Name: name}
	// js.Stream only looks the stream up: it never creates it.
	stream, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st.Missing = true
		return st, nil, nil
	}
	if err != nil {
		return st, nil, fmt.Errorf("stream %s: %w", name, err)
	}
	state := stream.CachedInfo().State
	st.Messages, st.Bytes = state.Msgs, state.Bytes
	st.FirstSeq, st.LastSeq = state.FirstSeq, state.LastSeq
	st.Consumers = state.Consumers
	// An empty stream reports the zero time as 0001-01-01: keep it zero.
	if state.Msgs > 0 {
		st.FirstTime, st.LastTime = state.FirstTime.UTC(), state.LastTime.UTC()
	}
	if !withConsumers {
		return st, nil, nil
	}
	var out []ConsumerStatus
	lister := stream.ListConsumers(ctx)
	for ci := range lister.Info() {
		out = append(out, consumerStatus(ci))
	}
	if err := lister.Err(); err != nil {
		return st, nil, fmt.Errorf("consumers of %s: %w", name, err)
	}
	slices.SortFunc(out, func(a, b ConsumerStatus) int { return cmp.Compare(a.Name, b.Name) })
	return st, out, nil
}

func consumerStatus(ci *jetstream.ConsumerInfo) ConsumerStatus {
	c := ConsumerStatus{
		Stream:         ci.Stream,
		Name:           ci.Name,
		Filters:        ci.Config.FilterSubjects,
		Durable:        ci.Config.Durable != "",
		Created:        ci.Created.UTC(),
		Pending:        ci.NumPending,
		AckPending:     ci.NumAckPending,
		Redelivered:    ci.NumRedelivered,
		Waiting:        ci.NumWaiting,
		Delivered:      ci.Delivered.Consumer,
		AckFloor:       ci.AckFloor.Consumer,
		AckFloorStream: ci.AckFloor.Stream,
		ServerPaused:   ci.Paused,
	}
	if ci.Config.FilterSubject != "" {
		c.Filters = []string{ci.Config.FilterSubject}
	}
	for _, t := range []*time.Time{ci.Delivered.Last, ci.AckFloor.Last} {
		if t != nil && t.After(c.LastActive) {
			c.LastActive = t.UTC()
		}
	}
	inFlight := uint64(max(ci.NumAckPending, 0))
	c.Done = c.Delivered - min(inFlight, c.Delivered)
	c.Total = c.Delivered + c.Pending
	return c
}

// collectState reads the extractor's checkpoints and run records. A watch
// returns every current value in one subscription, where listing the keys
// and reading each would cost a round trip per key.
func collectState(ctx context.Context, kv jetstream.KeyValue, s *Snapshot) error {
	w, err := kv.WatchFiltered(ctx, []string{checkpointPrefix + ">", runPrefix + ">"}, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer func() { _ = w.Stop() }()
	for {
		var e jetstream.KeyValueEntry
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e = <-w.Updates():
		}
		if e == nil {
			break // the initial values are all delivered
		}
		switch key := e.Key(); {
		case strings.HasPrefix(key, checkpointPrefix):
			c := Checkpoint{Key: key}
			if json.Unmarshal(e.Value(), &c) == nil {
				s.Checkpoints = append(s.Checkpoints, c)
			}
		case strings.HasPrefix(key, runPrefix):
			r := RunRecord{Key: key}
			if json.Unmarshal(e.Value(), &r) == nil {
				s.Runs = append(s.Runs, r)
			}
		}
	}
	slices.SortFunc(s.Checkpoints, func(a, b Checkpoint) int {
		return cmp.Or(cmp.Compare(a.Site, b.Site), cmp.Compare(a.Input, b.Input))
	})
	slices.SortFunc(s.Runs, func(a, b RunRecord) int {
		return cmp.Or(b.Started.Compare(a.Started), cmp.Compare(a.Run, b.Run), cmp.Compare(a.Site, b.Site))
	})
	for _, r := range s.Runs {
		t := &s.ExtractorTotals
		t.Runs++
		t.Read += r.Read
		t.Published += r.Published
		t.Duplicates += r.Duplicates
		t.DeadLettered += r.DeadLettered
	}
	return nil
}

func sortedGroups(groups []DeadLetterGroup) []DeadLetterGroup {
	out := slices.Clone(groups)
	if out == nil {
		out = []DeadLetterGroup{}
	}
	slices.SortFunc(out, func(a, b DeadLetterGroup) int {
		return cmp.Or(cmp.Compare(stageOrder(a.Stage), stageOrder(b.Stage)), cmp.Compare(a.Stage, b.Stage),
			cmp.Compare(a.Target, b.Target), cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code))
	})
	return out
}

// stageOrder sorts stages in pipeline order, unknown ones last.
func stageOrder(stage string) int {
	switch {
	case strings.HasPrefix(stage, "extract"):
		return 0
	case strings.HasPrefix(stage, "transform"), stage == "replay":
		return 1
	case strings.HasPrefix(stage, "load"):
		return 2
	}
	return 3
}
