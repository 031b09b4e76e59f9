package status

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// textRuns is how many run records the text output lists (newest first);
// the totals cover them all and JSON has every one.
const textRuns = 10

// WriteText writes s as plain-text tables: what status prints when stdout
// is not a terminal (a pipe, a log, a cron mail).
func WriteText(w io.Writer, s Snapshot) error {
	var b strings.Builder
	fmt.Fprintf(&b, "gigya-migrate status at %s\n\n", s.Taken.UTC().Format(time.DateTime+" MST"))
	writeStreams(&b, s)
	b.WriteString("\n")
	writeConsumers(&b, s, true)
	b.WriteString("\n")
	writeDetails(&b, s, textRuns)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

// writeDetails writes the sections below the consumers: instances, dead
// letters, checkpoints and runs.
func writeDetails(b *strings.Builder, s Snapshot, runs int) {
	writeInstances(b, s)
	b.WriteString("\n")
	writeDeadLetters(b, s)
	b.WriteString("\n")
	writeBalances(b, s, runs)
	b.WriteString("\n")
	writeCheckpoints(b, s)
	b.WriteString("\n")
	writeRuns(b, s, runs)
}

// table is a tabwriter over b; flush it before writing anything else to b.
func table(b *strings.Builder) *tabwriter.Writer {
	return tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
}

func writeStreams(b *strings.Builder, s Snapshot) {
	b.WriteString("STREAMS\n")
	t := table(b)
	fmt.Fprintln(t, "NAME\tROLE\tMESSAGES\tBYTES\tFIRST SEQ\tFIRST\tLAST SEQ\tLAST\tCONSUMERS")
	for _, st := range s.Streams {
		if st.Missing {
			fmt.Fprintf(t, "%s\t%s\tMISSING: not created yet (a stage creates it when it starts)\n", st.Name, st.Role)
			continue
		}
		fmt.Fprintf(t, "%s\t%s\t%d\t%s\t%d\t%s\t%d\t%s\t%d\n", st.Name, st.Role, st.Messages, bytesText(st.Bytes),
			st.FirstSeq, timeText(st.FirstTime), st.LastSeq, timeText(st.LastTime), st.Consumers)
	}
	_ = t.Flush()
}

// writeConsumers writes the consumer table; the live view leaves out the
// progress columns (withProgress false) because its bars show them.
func writeConsumers(b *strings.Builder, s Snapshot, withProgress bool) {
	b.WriteString("CONSUMERS\n")
	if len(s.Consumers) == 0 {
		b.WriteString("  none (a stage creates its durable consumer when it starts)\n")
		return
	}
	t := table(b)
	head := "STREAM\tCONSUMER\tFILTER\tPENDING\tACK PENDING\tREDELIVERED\tWAITING"
	if withProgress {
		head += "\tDONE/TOTAL\tPROGRESS\tRATE\tETA"
	}
	fmt.Fprintln(t, head+"\tLAST ACTIVE")
	for _, c := range s.Consumers {
		fmt.Fprintf(t, "%s\t%s\t%s\t%d\t%d\t%d\t%d", c.Stream, consumerName(c),
			strings.Join(c.Filters, ","), c.Pending, c.AckPending, c.Redelivered, c.Waiting)
		if withProgress {
			fmt.Fprintf(t, "\t%d/%d\t%s\t%s\t%s", c.Done, c.Total, percentText(c.Done, c.Total), rateText(c.RatePerSec), etaText(c))
		}
		fmt.Fprintf(t, "\t%s\n", ageText(c.LastActive, s.Taken))
	}
	_ = t.Flush()
}

func consumerName(c ConsumerStatus) string {
	name := c.Name
	if !c.Durable {
		name += " (ephemeral)"
	}
	if c.ServerPaused {
		name += " (paused on the server)"
	}
	return name
}

func writeInstances(b *strings.Builder, s Snapshot) {
	b.WriteString("INSTANCES\n")
	switch {
	case s.StateMissing:
		fmt.Fprintf(b, "  KV bucket %s MISSING: no stage has started yet\n", s.StateBucket)
		return
	case len(s.Instances) == 0:
		b.WriteString("  none running\n")
		return
	}
	t := table(b)
	fmt.Fprintln(t, "STAGE\tINSTANCE\tSTATE\tUPDATED\tDETAIL\tCOUNTS")
	for _, in := range s.Instances {
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\n", in.Stage, in.Instance, instanceState(in),
			ageText(in.Updated, s.Taken), orDash(in.Detail), countsText(in.Counts))
	}
	_ = t.Flush()
	// A paused producer is the first thing to notice: the pipeline is
	// waiting for a slow consumer, so say which one, on its own line.
	for _, in := range s.Instances {
		if in.Paused && !in.Stale {
			fmt.Fprintf(b, "%s (%s %s)\n", pausedText(in), in.Stage, in.Instance)
		}
	}
}

func instanceState(in Instance) string {
	switch {
	case in.Stale:
		return "stale (no heartbeat: stopped or dead)"
	case in.Paused:
		return "PAUSED"
	}
	return "running"
}

func pausedText(in Instance) string {
	if in.PausedReason == "" {
		return "PAUSED: back-pressure"
	}
	return "PAUSED: " + in.PausedReason
}

func writeDeadLetters(b *strings.Builder, s Snapshot) {
	dl := s.stream(RoleDeadLetter)
	switch {
	case dl.Missing:
		fmt.Fprintf(b, "DEAD LETTERS\n  stream %s MISSING\n", dl.Name)
		return
	default:
		fmt.Fprintf(b, "DEAD LETTERS (%s: %d messages)\n", dl.Name, dl.Messages)
	}
	switch {
	case s.DeadLetterError != "":
		fmt.Fprintf(b, "  summary unavailable: %s\n", s.DeadLetterError)
		return
	case s.DeadLetters == nil:
		b.WriteString("  no summary by code\n")
		return
	case len(s.DeadLetters) == 0:
		b.WriteString("  none\n")
		return
	}
	t := table(b)
	fmt.Fprintln(t, "STAGE\tTARGET\tCODE\tCOUNT\tREDRIVEN")
	for _, g := range s.DeadLetters {
		fmt.Fprintf(t, "%s\t%s\t%s\t%d\t%d\n", g.Stage, orDash(g.Target), g.Code, g.Count, g.Redriven)
	}
	_ = t.Flush()
}

func writeCheckpoints(b *strings.Builder, s Snapshot) {
	b.WriteString("EXTRACTOR CHECKPOINTS\n")
	if len(s.Checkpoints) == 0 {
		b.WriteString("  none\n")
		return
	}
	t := table(b)
	fmt.Fprintln(t, "SITE\tINPUT\tRUN\tSTATE\tUPDATED")
	for _, c := range s.Checkpoints {
		state := "in progress (resumable)"
		if c.Complete {
			state = "complete"
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\n", orDash(c.Site), shorten(c.Input, 60), c.Run, state, ageText(c.Updated, s.Taken))
	}
	_ = t.Flush()
}

func writeRuns(b *strings.Builder, s Snapshot, limit int) {
	tot := s.ExtractorTotals
	if tot.Runs == 0 {
		b.WriteString("EXTRACTOR RUNS\n  none\n")
		return
	}
	fmt.Fprintf(b, "EXTRACTOR RUNS (%d; totals: read %d, published %d, duplicates %d, dead-lettered %d)\n",
		tot.Runs, tot.Read, tot.Published, tot.Duplicates, tot.DeadLettered)
	t := table(b)
	fmt.Fprintln(t, "RUN\tSITE\tSTATUS\tREAD\tPUBLISHED\tDUPLICATES\tDEAD-LETTERED\tRESUMED\tSTARTED\tELAPSED")
	for _, r := range s.Runs[:min(limit, len(s.Runs))] {
		fmt.Fprintf(t, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", r.Run, r.Site, r.Status, r.Read, r.Published,
			r.Duplicates, r.DeadLettered, r.Resumed, timeText(r.Started), orDash(r.Elapsed))
	}
	_ = t.Flush()
	if more := len(s.Runs) - limit; more > 0 {
		fmt.Fprintf(b, "  ... %d older runs (all of them in -json)\n", more)
	}
}

func percentText(done, total uint64) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(done)/float64(total))
}

func rateText(rate *float64) string {
	switch {
	case rate == nil:
		return "-"
	case *rate < 10:
		return fmt.Sprintf("%.1f/s", *rate)
	}
	return fmt.Sprintf("%.0f/s", *rate)
}

func etaText(c ConsumerStatus) string {
	switch {
	case c.Remaining() == 0 && c.Total > 0:
		return "done"
	case c.ETASeconds == nil:
		return "-"
	}
	return durationText(time.Duration(*c.ETASeconds * float64(time.Second)))
}

// durationText keeps the two largest units: an ETA need not be precise.
func durationText(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}

// ageText says how long before now t was: operators read "5s ago" faster
// than a timestamp.
func ageText(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	if d < time.Second {
		return "just now"
	}
	return durationText(d) + " ago"
}

func bytesText(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func countsText(counts map[string]int64) string {
	if len(counts) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(counts))
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	return strings.Join(parts, " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shorten cuts s to n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// writeBalances writes the balance of the newest runs: extracted on the
// left, every way an account can end on the right.
func writeBalances(b *strings.Builder, s Snapshot, runs int) {
	b.WriteString("BALANCE (extracted = dead-lettered + filtered + loaded + superseded + migrated at login + in flight, by run and target)\n")
	if len(s.Balances) == 0 {
		b.WriteString("  none yet (a run is balanced once its extraction ended and a transformer and a loader counted it)\n")
		return
	}
	t := table(b)
	fmt.Fprintln(t, "RUN\tTARGET\tEXTRACTED\tDEAD-LETTERED (extract/transform/load)\tFILTERED\tLOADED\tSUPERSEDED\tAT LOGIN\tIN FLIGHT\tEMAIL CONFLICTS\tREPLAYED")
	for i, bal := range s.Balances {
		if i == runs {
			fmt.Fprintf(t, "... %d older\n", len(s.Balances)-runs)
			break
		}
		dl := bal.ExtractDeadLettered + bal.TransformDeadLettered + bal.LoadDeadLettered
		fmt.Fprintf(t, "%s\t%s\t%d\t%d (%d/%d/%d)\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", bal.Run, bal.Target, bal.Extracted, dl,
			bal.ExtractDeadLettered, bal.TransformDeadLettered, bal.LoadDeadLettered, bal.Filtered, bal.Loaded, bal.Superseded,
			bal.MigratedAtLogin, bal.InFlight, bal.Conflicts, bal.Replayed)
	}
	_ = t.Flush()
}
