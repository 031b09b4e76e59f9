package deadletter

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/nats-io/nats.go/jetstream"
)

const usage = `deadletter inspects the dead-letter stream (ETL_DEADLETTER by default) and
sends dead letters back to the stage that rejected them once the cause is fixed.
It never creates streams; it reads the same config file as the binaries.

Usage:
  deadletter list [flags]          dead letters grouped by stage, target and error code
  deadletter show [flags] SEQ      one dead letter: headers and payload, secrets redacted
  deadletter redrive [flags]       republish a selection to its source subject, then delete it

Run "deadletter COMMAND -h" for the flags of a command.
`

const listUsage = `Usage: deadletter list [--stage S] [--target T] [--code C] [--json] [-config FILE]

Counts dead letters by stage, target and error code, largest group first,
with their time and sequence range, how many were redriven before, and a
sample error and UIDs. Only headers are read.

Flags:
`

const showUsage = `Usage: deadletter show [--json] [-config FILE] SEQ

Prints the dead letter at stream sequence SEQ (see list or redrive output):
every header and the payload, with password hashes, salts, secrets and
tokens replaced by "[redacted]" at any depth.

Flags:
`

const redriveUsage = `Usage: deadletter redrive SELECTION [--dry-run] [--limit N] [--json] [-config FILE]

Republishes the selected dead letters, payload unchanged, to the subject they
came from (Etl-Source-Subject) so the stage that rejected them tries again,
then deletes them from the dead-letter stream. Run it after fixing the cause
(mapping, target settings); try --dry-run first.

SELECTION combines (all must match): --stage, --target, --code, --uid
(repeatable) or --uids FILE (one UID per line, # comments), --seq N, A-B or
A- (repeatable, or comma-separated). --all selects everything and is
required when nothing else is given.

Each redriven record carries Etl-Redriven (one more each time) and the
Nats-Msg-Id redrive:<stream>:<seq>, so a second run soon after an interruption
(within the source stream's duplicate window, 2 minutes by default) does not
duplicate it. Records already redriven --loop-at times are flagged.
Extract-stage dead letters are skipped: fix the input file and run the
extractor on it again.

Exit status: 0 done (skips included), 1 some failed (they stay; rerun),
2 bad flags or config.

Flags:
`

// Run runs one dead-letter command: args are what follows the command's
// name, e.g. ["redrive", "--code", "invalid_email", "--dry-run"]; env
// supplies the environment (GM_CONFIG, NATS_URL, GM_* overrides) and the
// output streams. Results go to env.Stdout, logs and usage to env.Stderr.
// Errors map to exit codes with [stage.ExitCode].
func Run(ctx context.Context, env stage.Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return stage.Usage(errors.New("missing command: list, show or redrive"))
	}
	switch args[0] {
	case "list":
		return runList(ctx, env, args[1:])
	case "show":
		return runShow(ctx, env, args[1:])
	case "redrive":
		return runRedrive(ctx, env, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(env.Stderr, usage)
		return stage.ErrHelp
	}
	fmt.Fprint(env.Stderr, usage)
	return stage.Usage(fmt.Errorf("unknown command %q: use list, show or redrive", args[0]))
}

// parseInterspersed parses flags placed before and after positional
// arguments ("show 42 --json"), which the flag package alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := stage.ParseFlags(fs, args, true); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil // after "--" everything is positional
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// session is a connection to the configured pipeline.
type session struct {
	cfg   stage.OpsConfig
	js    jetstream.JetStream
	close func()
}

func connect(ctx context.Context, env stage.Env, cfgPath string) (*session, error) {
	cfg, err := stage.LoadOpsConfig(cfgPath, env.Getenv)
	if err != nil {
		return nil, err
	}
	log := cfg.Telemetry.Logger(env.Stderr).With("command", "deadletter")
	nc, js, err := stage.Connect(ctx, "gigya-migrate-deadletter", cfg.Common, log)
	if err != nil {
		return nil, err
	}
	return &session{cfg: cfg, js: js, close: nc.Close}, nil
}

func runList(ctx context.Context, env stage.Env, args []string) error {
	fs, cfgPath := stage.Flags("deadletter list", listUsage, env)
	stg := fs.String("stage", "", "only this stage: extract, transform or load")
	target := fs.String("target", "", "only this target (the site for the extract stage)")
	code := fs.String("code", "", "only this Etl-Error-Code")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := stage.ParseFlags(fs, args, false); err != nil {
		return err
	}
	if err := (Selection{Stage: *stg, Target: *target, All: true}).Validate(); err != nil {
		return err
	}
	s, err := connect(ctx, env, *cfgPath)
	if err != nil {
		return err
	}
	defer s.close()
	stream := s.cfg.Streams.DeadLetter.Name
	groups, err := summarize(ctx, s.js, stream, *stg, *target)
	if err != nil {
		return err
	}
	if *code != "" {
		kept := groups[:0]
		for _, g := range groups {
			if g.Code == *code {
				kept = append(kept, g)
			}
		}
		groups = kept
	}
	total := 0
	for _, g := range groups {
		total += g.Count
	}
	if *asJSON {
		return writeJSON(env.Stdout, struct {
			Stream string  `json:"stream"`
			Total  int     `json:"total"`
			Groups []Group `json:"groups"`
		}{stream, total, groups})
	}
	return writeGroups(env.Stdout, stream, total, groups)
}

func writeGroups(w io.Writer, stream string, total int, groups []Group) error {
	if len(groups) == 0 {
		_, err := fmt.Fprintf(w, "no dead letters in %s\n", stream)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tTARGET\tCODE\tCOUNT\tREDRIVEN\tFIRST\tLAST\tSEQ\tSAMPLE UIDS\tSAMPLE ERROR")
	for _, g := range groups {
		redriven := "-"
		if g.Redriven > 0 {
			redriven = fmt.Sprintf("%d (max %d×)", g.Redriven, g.MaxRedriven)
		}
		uids := "-"
		if len(g.SampleUIDs) > 0 {
			uids = strings.Join(g.SampleUIDs[:min(2, len(g.SampleUIDs))], ",")
			if g.Count > 2 && len(g.SampleUIDs) > 2 {
				uids += ",…"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d-%d\t%s\t%s\n",
			clean(g.Stage, 20), clean(g.Target, 30), clean(g.Code, 40), g.Count, redriven,
			stamp(g.First), stamp(g.Last), g.FirstSeq, g.LastSeq, clean(uids, 70), clean(g.SampleError, 70))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d dead letters in %d groups in %s\n", total, len(groups), stream)
	return err
}

func runShow(ctx context.Context, env stage.Env, args []string) error {
	fs, cfgPath := stage.Flags("deadletter show", showUsage, env)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return stage.Usage(fmt.Errorf("show takes one stream sequence (from list or redrive), got %q", pos))
	}
	seq, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil || seq == 0 {
		return stage.Usage(fmt.Errorf("sequence %q: must be a positive integer", pos[0]))
	}
	s, err := connect(ctx, env, *cfgPath)
	if err != nil {
		return err
	}
	defer s.close()
	l, err := Show(ctx, s.js, s.cfg.Streams.DeadLetter.Name, seq)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, l)
	}
	return writeLetter(env.Stdout, l)
}

func writeLetter(w io.Writer, l *Letter) error {
	fmt.Fprintf(w, "dead letter %d of %s\n", l.Seq, l.Stream)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"subject", l.Subject}, {"stored", stamp(l.Time)}, {"stage", l.Stage}, {"target", l.Target},
		{"code", l.Code}, {"error", l.Error}, {"uid", l.UID}, {"redriven", strconv.Itoa(l.Redriven)},
	} {
		fmt.Fprintf(tw, "  %s\t%s\n", kv[0], clean(kv[1], 0))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "headers:")
	names := make([]string, 0, len(l.Headers))
	for k := range l.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range l.Headers[k] {
			fmt.Fprintf(w, "  %s: %s\n", clean(k, 0), clean(v, 0))
		}
	}
	switch {
	case l.Payload != nil:
		fmt.Fprintf(w, "payload: %d bytes of JSON, %d values redacted\n%s\n", l.Size, l.RedactedValues, l.Payload)
	case l.PreviewHex:
		fmt.Fprintf(w, "payload: %d bytes, not JSON nor UTF-8; first %d bytes in hex:\n%s\n", l.Size, min(l.Size, previewBytes), l.Preview)
	default:
		fmt.Fprintf(w, "payload: %d bytes, not JSON; its start, quoted (%d values redacted where a key names a secret):\n%s\n",
			l.Size, l.RedactedValues, l.Preview)
	}
	return nil
}

func runRedrive(ctx context.Context, env stage.Env, args []string) error {
	fs, cfgPath := stage.Flags("deadletter redrive", redriveUsage, env)
	var sel Selection
	var uids, seqs listFlag
	fs.StringVar(&sel.Stage, "stage", "", "select this stage: transform or load")
	fs.StringVar(&sel.Target, "target", "", "select this target")
	fs.StringVar(&sel.Code, "code", "", "select this Etl-Error-Code")
	fs.Var(&uids, "uid", "select this Gigya UID (repeatable)")
	uidFile := fs.String("uids", "", "select the UIDs listed in this file, one per line")
	fs.Var(&seqs, "seq", "select stream sequences: N, A-B or A- (repeatable, or comma-separated)")
	fs.BoolVar(&sel.All, "all", false, "select every dead letter (required when no other selector is given)")
	dry := fs.Bool("dry-run", false, "count and classify the selection; publish and delete nothing")
	limit := fs.Int("limit", 0, "redrive at most this many, oldest first (0: no limit)")
	loopAt := fs.Int("loop-at", DefaultLoopAt, "flag records already redriven this many times")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := stage.ParseFlags(fs, args, false); err != nil {
		return err
	}
	if *limit < 0 {
		return stage.Usage(fmt.Errorf("--limit %d: must not be negative", *limit))
	}
	if *loopAt < 1 {
		return stage.Usage(fmt.Errorf("--loop-at %d: must be at least 1", *loopAt))
	}
	if len(uids) > 0 || *uidFile != "" {
		sel.UIDs = map[string]struct{}{}
		for _, u := range uids {
			sel.UIDs[strings.TrimSpace(u)] = struct{}{}
		}
		if *uidFile != "" {
			if err := readUIDs(*uidFile, sel.UIDs); err != nil {
				return stage.Usage(err)
			}
		}
	}
	for _, s := range seqs {
		for part := range strings.SplitSeq(s, ",") {
			r, err := ParseSeqRange(part)
			if err != nil {
				return stage.Usage(err)
			}
			sel.Seqs = append(sel.Seqs, r)
		}
	}
	if err := sel.Validate(); err != nil {
		return err // before connecting: an empty selection must never reach the stream
	}
	s, err := connect(ctx, env, *cfgPath)
	if err != nil {
		return err
	}
	defer s.close()
	log := s.cfg.Telemetry.Logger(env.Stderr).With("command", "deadletter redrive")
	res, runErr := Redrive(ctx, s.js, s.cfg.Streams.DeadLetter.Name, sel, Options{DryRun: *dry, Limit: *limit, LoopAt: *loopAt, Log: log})
	var werr error
	if *asJSON {
		werr = writeJSON(env.Stdout, res)
	} else {
		werr = writeResult(env.Stdout, s.cfg.Streams.DeadLetter.Name, res, *loopAt)
	}
	if runErr != nil {
		return runErr
	}
	if res.Failed > 0 {
		return fmt.Errorf("%d dead letters were not redriven and stay in the stream: see the errors above, then run the same command again (records already published are not duplicated)", res.Failed)
	}
	return werr
}

func writeResult(w io.Writer, stream string, r Result, loopAt int) error {
	if r.DryRun {
		fmt.Fprintf(w, "dry run: nothing was published or deleted in %s\n", stream)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	verb := "redriven"
	if r.DryRun {
		verb = "would redrive"
	}
	fmt.Fprintf(tw, "selected\t%d\n", r.Selected)
	fmt.Fprintf(tw, "%s\t%d\n", verb, r.Redriven)
	if r.Duplicates > 0 {
		fmt.Fprintf(tw, "  already published by an interrupted redrive\t%d\n", r.Duplicates)
	}
	skipped := 0
	reasons := make([]string, 0, len(r.Skipped))
	for reason, n := range r.Skipped {
		skipped += n
		reasons = append(reasons, reason)
	}
	sort.Strings(reasons)
	fmt.Fprintf(tw, "skipped\t%d\n", skipped)
	for _, reason := range reasons {
		fmt.Fprintf(tw, "  %s\t%d\n", reason, r.Skipped[reason])
	}
	fmt.Fprintf(tw, "failed\t%d\n", r.Failed)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, reason := range reasons {
		fmt.Fprintf(w, "%s: %s\n", reason, SkipHint(reason))
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  error: %s\n", clean(e, 0))
	}
	if r.Looping > 0 {
		fmt.Fprintf(w, "looping: %d records were already redriven %d times or more and failed again; fix their cause before redriving them again:\n", r.Looping, loopAt)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  SEQ\tSTAGE\tTARGET\tCODE\tUID\tREDRIVEN")
		for _, l := range r.Loops {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%d\n", l.Seq, clean(l.Stage, 20), clean(l.Target, 30), clean(l.Code, 40), clean(l.UID, 70), l.Redriven)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if r.Looping > len(r.Loops) {
			fmt.Fprintf(w, "  … and %d more\n", r.Looping-len(r.Loops))
		}
	}
	return nil
}

// ParseSeqRange reads a stream sequence "N", a range "A-B", or an open
// range "A-".
func ParseSeqRange(s string) (SeqRange, error) {
	s = strings.TrimSpace(s)
	a, b, isRange := strings.Cut(s, "-")
	from, err := strconv.ParseUint(a, 10, 64)
	if err != nil || from == 0 {
		return SeqRange{}, fmt.Errorf("sequence %q: want N, A-B or A- with positive integers", s)
	}
	if !isRange {
		return SeqRange{From: from, To: from}, nil
	}
	if b == "" {
		return SeqRange{From: from}, nil
	}
	to, err := strconv.ParseUint(b, 10, 64)
	if err != nil || to < from {
		return SeqRange{}, fmt.Errorf("sequence range %q: want A-B with A <= B", s)
	}
	return SeqRange{From: from, To: to}, nil
}

// readUIDs adds the UIDs of path, one per line; blank lines and lines
// starting with # are ignored.
func readUIDs(path string, into map[string]struct{}) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--uids: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	before := len(into)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		into[line] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("--uids %s: %w", path, err)
	}
	if len(into) == before {
		return fmt.Errorf("--uids %s: no UID in the file (one per line expected)", path)
	}
	return nil
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("must not be empty")
	}
	*l = append(*l, v)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// clean makes text from a stream safe for a terminal (control characters,
// escape sequences) and, with limit > 0, at most limit runes long.
func clean(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '�'
		}
		return r
	}, s)
	if limit > 0 {
		if rs := []rune(s); len(rs) > limit {
			s = string(rs[:limit-1]) + "…"
		}
	}
	if s == "" {
		return "-"
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
