package deadletter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// SeqRange is an inclusive range of dead-letter stream sequences; To 0
// leaves it open at the end.
type SeqRange struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

func (r SeqRange) contains(seq uint64) bool {
	return seq >= r.From && (r.To == 0 || seq <= r.To)
}

// Selection says which dead letters to redrive. The criteria that are set
// must all match; All selects everything and is required when no criterion
// is set, so that an empty selection never means "everything" by accident.
type Selection struct {
	Stage  string              `json:"stage,omitempty"`
	Target string              `json:"target,omitempty"`
	Code   string              `json:"code,omitempty"`
	UIDs   map[string]struct{} `json:"-"`              // Gigya-UID in this set
	Seqs   []SeqRange          `json:"seqs,omitempty"` // sequence in any of these ranges
	All    bool                `json:"all,omitempty"`
}

// Empty reports whether s selects nothing explicitly (no criterion, no All).
func (s Selection) Empty() bool {
	return !s.All && s.Stage == "" && s.Target == "" && s.Code == "" && len(s.UIDs) == 0 && len(s.Seqs) == 0
}

// Validate reports a selection the scan cannot express, as a
// [stage.UsageError].
func (s Selection) Validate() error {
	if s.Empty() {
		return stage.Usage(errors.New("no dead letters selected: give --stage, --target, --code, --uid/--uids or --seq, or --all to redrive every one"))
	}
	for _, tok := range []struct{ name, v string }{{"stage", s.Stage}, {"target", s.Target}} {
		if tok.v != "" && !config.SubjectToken(tok.v) {
			return stage.Usage(fmt.Errorf("%s %q: must be a name without '.', '*', '>' or spaces", tok.name, tok.v))
		}
	}
	for _, r := range s.Seqs {
		if r.From == 0 || (r.To != 0 && r.To < r.From) {
			return stage.Usage(fmt.Errorf("sequence range %d-%d: sequences start at 1 and a range goes upwards", r.From, r.To))
		}
	}
	return nil
}

// bounds is the smallest sequence range holding every selected sequence
// (0, 0: the whole stream).
func (s Selection) bounds() (from, to uint64) {
	open := false
	for i, r := range s.Seqs {
		if i == 0 || r.From < from {
			from = r.From
		}
		if r.To == 0 {
			open = true
		}
		to = max(to, r.To)
	}
	if open {
		to = 0
	}
	return from, to
}

func (s Selection) match(e entry) bool {
	if s.Stage != "" && e.stage() != s.Stage {
		return false
	}
	if s.Target != "" && e.target() != s.Target {
		return false
	}
	if s.Code != "" && e.Header.Get(message.HdrErrorCode) != s.Code {
		return false
	}
	if len(s.UIDs) > 0 {
		if _, ok := s.UIDs[e.Header.Get(message.HdrUID)]; !ok {
			return false
		}
	}
	if len(s.Seqs) > 0 {
		in := false
		for _, r := range s.Seqs {
			in = in || r.contains(e.Seq)
		}
		if !in {
			return false
		}
	}
	return true
}

// DefaultLoopAt is the Etl-Redriven count from which a redriven record is
// flagged as looping: it was sent back that many times and failed again.
const DefaultLoopAt = 3

// Options tune [Redrive].
type Options struct {
	// DryRun selects and classifies without publishing or deleting anything.
	DryRun bool
	// Limit caps how many dead letters are selected, oldest first (0: no cap).
	Limit int
	// LoopAt is the Etl-Redriven count of a dead letter from which it is
	// flagged as looping (0: [DefaultLoopAt]). Flagged ones are still redriven.
	LoopAt int
	// Log receives a warning per failure and a debug line per loop (nil: discarded).
	Log *slog.Logger
}

// Reasons a selected dead letter is not redriven.
const (
	// SkipExtractStage: the extractor could not read the record from its
	// input, so there is nothing in a stream to send it back to.
	SkipExtractStage = "extract_stage"
	// SkipUnknownSource: the source subject is neither a RAW nor a MAPPED
	// subject; publishing there could feed the dead-letter stream itself.
	SkipUnknownSource = "unknown_source_subject"
	// SkipGone: the dead letter disappeared between selection and redrive
	// (another redrive, or a purge).
	SkipGone = "gone"
)

// SkipHint says what to do about dead letters skipped for reason.
func SkipHint(reason string) string {
	switch reason {
	case SkipExtractStage:
		return "extract-stage dead letters come from a broken input record: fix the input file (Etl-Source-File, Etl-Source-Line) and run the extractor on it again"
	case SkipUnknownSource:
		return "the Etl-Source-Subject is not a gigya.accounts.* or users.mapped.* subject: inspect them with show and republish by hand if they are really wanted"
	case SkipGone:
		return "already redriven or deleted by someone else: nothing to do"
	}
	return ""
}

// Loop is a redriven record that keeps coming back.
type Loop struct {
	Seq      uint64 `json:"seq"`
	Stage    string `json:"stage"`
	Target   string `json:"target"`
	Code     string `json:"code"`
	UID      string `json:"uid,omitempty"`
	Redriven int    `json:"redriven"` // Etl-Redriven of the dead letter, before this redrive
}

// Result reports a [Redrive]. Selected = Redriven + sum(Skipped) + Failed,
// unless the redrive was interrupted.
type Result struct {
	DryRun   bool `json:"dry_run"`
	Selected int  `json:"selected"`
	// Redriven counts the dead letters published back and deleted; in a dry
	// run, those that would be.
	Redriven int `json:"redriven"`
	// Duplicates counts, among Redriven, those the source stream already
	// had: an earlier redrive published them, then stopped before deleting.
	Duplicates int            `json:"duplicates"`
	Skipped    map[string]int `json:"skipped,omitempty"`
	// Failed counts the dead letters left in place because publishing or
	// deleting failed; Errors holds the first few reasons.
	Failed int      `json:"failed"`
	Errors []string `json:"errors,omitempty"`
	// Looping counts the selected dead letters whose Etl-Redriven reached
	// the LoopAt option; Loops holds the first few.
	Looping int    `json:"looping"`
	Loops   []Loop `json:"loops,omitempty"`
}

const (
	maxResultErrors = 10
	maxResultLoops  = 20
	// maxConsecutiveFailures stops a redrive that cannot work (NATS gone, the
	// source stream deleted) instead of timing out on every dead letter.
	maxConsecutiveFailures = 10
	opTimeout              = 10 * time.Second
)

func (r *Result) skip(reason string) {
	if r.Skipped == nil {
		r.Skipped = map[string]int{}
	}
	r.Skipped[reason]++
}

func (r *Result) fail(err error) {
	r.Failed++
	if len(r.Errors) < maxResultErrors {
		r.Errors = append(r.Errors, err.Error())
	}
}

// Redrive sends the selected dead letters of stream back to the subject
// they came from (Etl-Source-Subject), oldest first, so that the stage that
// rejected them processes them again after a fix.
//
// Each one is republished with its payload unchanged, with Gigya-UID, with
// Gigya-Site and Gigya-Last-Updated when it goes back to gigya.accounts.*,
// with Mapping-Version when it goes back to users.mapped.*, with
// Etl-Redriven incremented, and with Nats-Msg-Id
// "redrive:<stream>:<sequence>": redriving the same dead letter again
// within the source stream's duplicate window (after a crash between the
// publish and the delete) stores it once. Only after the PubAck is the dead
// letter deleted, so each record is counted once, either in the pipeline or
// in the dead-letter stream.
//
// Extract-stage dead letters are skipped (see [SkipHint]). A Selection
// without criteria and without All is refused with a [stage.UsageError].
// The returned error reports what stopped the redrive early (context,
// repeated failures); the Result then holds what was done until then.
func Redrive(ctx context.Context, js jetstream.JetStream, stream string, sel Selection, opts Options) (Result, error) {
	res := Result{DryRun: opts.DryRun}
	if err := sel.Validate(); err != nil {
		return res, err
	}
	if opts.Limit < 0 {
		return res, stage.Usage(fmt.Errorf("limit %d: must not be negative", opts.Limit))
	}
	loopAt := opts.LoopAt
	if loopAt <= 0 {
		loopAt = DefaultLoopAt
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	st, err := openStream(ctx, js, stream)
	if err != nil {
		return res, err
	}

	// Select on headers first: a redrive of a few records out of 100k reads
	// only those few payloads.
	var picked []entry
	from, to := sel.bounds()
	err = scan(ctx, js, st, filterSubject(sel.Stage, sel.Target), from, to, func(e entry) bool {
		if sel.match(e) {
			picked = append(picked, e)
		}
		return opts.Limit == 0 || len(picked) < opts.Limit
	})
	if err != nil {
		return res, err
	}
	res.Selected = len(picked)

	failures := 0
	for _, e := range picked {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if reason := skipReason(e); reason != "" {
			res.skip(reason)
			continue
		}
		if n := e.redriven(); n >= loopAt {
			res.Looping++
			if len(res.Loops) < maxResultLoops {
				res.Loops = append(res.Loops, Loop{Seq: e.Seq, Stage: e.stage(), Target: e.target(),
					Code: e.Header.Get(message.HdrErrorCode), UID: e.Header.Get(message.HdrUID), Redriven: n})
			}
			log.Debug("record redriven repeatedly and failed again",
				"stream_seq", e.Seq, "uid", e.Header.Get(message.HdrUID), "code", e.Header.Get(message.HdrErrorCode), "redriven", n)
		}
		if opts.DryRun {
			res.Redriven++
			continue
		}
		dup, gone, err := redriveOne(ctx, js, st, stream, e.Seq)
		switch {
		case gone:
			res.skip(SkipGone)
		case err != nil:
			res.fail(err)
			log.Warn("dead letter not redriven; it stays in the stream", "stream_seq", e.Seq, "err", err)
			if failures++; failures >= maxConsecutiveFailures {
				return res, fmt.Errorf("redrive stopped after %d failures in a row (last: %w); check NATS and the source streams, then run the same command again", failures, err)
			}
			continue
		default:
			res.Redriven++
			if dup {
				res.Duplicates++
			}
		}
		failures = 0
	}
	return res, nil
}

// skipReason says why e cannot be redriven, or "".
func skipReason(e entry) string {
	src := e.Header.Get(message.HdrSourceSubject)
	if e.stage() == message.StageExtract || src == "" {
		return SkipExtractStage
	}
	if !strings.HasPrefix(src, message.RawSubject("")) && !strings.HasPrefix(src, message.MappedSubject("")) {
		return SkipUnknownSource
	}
	return ""
}

// redriveOne republishes the dead letter at seq and then deletes it.
func redriveOne(ctx context.Context, js jetstream.JetStream, st jetstream.Stream, stream string, seq uint64) (dup, gone bool, err error) {
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	dl, err := st.GetMsg(octx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, true, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("read dead letter %d: %w", seq, err)
	}
	msg := redriveMsg(stream, dl)
	ack, err := js.PublishMsg(octx, msg)
	if err != nil {
		return false, false, fmt.Errorf("publish dead letter %d to %s: %w", seq, msg.Subject, err)
	}
	// From here the record is back in the pipeline; a failed delete leaves a
	// copy behind, which the next redrive removes without publishing it
	// twice while the duplicate window lasts.
	if err := st.DeleteMsg(octx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return ack.Duplicate, false, fmt.Errorf("dead letter %d was published to %s but not deleted (run the redrive again soon: the duplicate window drops the second copy): %w", seq, msg.Subject, err)
	}
	return ack.Duplicate, false, nil
}

// redriveMsg builds the message that sends dl back to its source subject,
// with the headers the stage reading that subject expects.
func redriveMsg(stream string, dl *jetstream.RawStreamMsg) *nats.Msg {
	src := dl.Header.Get(message.HdrSourceSubject)
	m := nats.NewMsg(src)
	m.Data = dl.Data
	uid := dl.Header.Get(message.HdrUID)
	if site, ok := strings.CutPrefix(src, message.RawSubject("")); ok {
		m.Header.Set(message.HdrSite, site)
		if key, err := gigya.Identify(dl.Data); err == nil {
			if uid == "" {
				uid = key.UID
			}
			m.Header.Set(message.HdrLastUpdated, key.LastUpdated)
		}
	} else if v := dl.Header.Get(message.HdrMappingVersion); v != "" {
		m.Header.Set(message.HdrMappingVersion, v)
	}
	if uid != "" {
		m.Header.Set(message.HdrUID, uid)
	}
	m.Header.Set(message.HdrRedriven, strconv.Itoa(redrivenCount(dl.Header)+1))
	m.Header.Set(message.HdrMsgID, RedriveMsgID(stream, dl.Sequence))
	return m
}

// RedriveMsgID is the Nats-Msg-Id of the redrive of the dead letter at seq
// of stream.
func RedriveMsgID(stream string, seq uint64) string {
	return "redrive:" + stream + ":" + strconv.FormatUint(seq, 10)
}
