package status

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/heartbeat"
	"github.com/vbauerster/mpb/v8"
)

// fixedSnapshot is a pipeline in mid-flight, rates included.
func fixedSnapshot() Snapshot {
	taken := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	f := func(v float64) *float64 { return &v }
	s := Snapshot{
		Taken: taken,
		Streams: []StreamStatus{
			{Role: RoleRaw, Name: "GIGYA_ACCOUNTS", Messages: 1000, Bytes: 2 << 20, FirstSeq: 1, FirstTime: taken.Add(-time.Hour), LastSeq: 1000, LastTime: taken.Add(-time.Second), Consumers: 1},
			{Role: RoleMapped, Name: "USERS_MAPPED", Messages: 400, Bytes: 300 << 10, FirstSeq: 1, LastSeq: 400, Consumers: 1},
			{Role: RoleDeadLetter, Name: "ETL_DEADLETTER", Messages: 7},
		},
		Consumers: []ConsumerStatus{
			{Stream: "GIGYA_ACCOUNTS", Name: "transformer-auth0", Filters: []string{"gigya.accounts.>"}, Durable: true,
				Pending: 500, AckPending: 100, Redelivered: 3, Waiting: 2, Delivered: 500, Done: 400, Total: 1000,
				LastActive: taken.Add(-2 * time.Second), RatePerSec: f(50), ETASeconds: f(12)},
			{Stream: "USERS_MAPPED", Name: "loader-auth0", Filters: []string{"users.mapped.auth0"}, Durable: true,
				Pending: 400, Total: 400, RatePerSec: f(0)},
		},
		StateBucket: "etl_state",
		Instances: []Instance{
			{Beat: heartbeat.Beat{Stage: "extractor", Instance: "host-1", Updated: taken.Add(-3 * time.Second),
				Paused: true, PausedReason: pausedReason, Counts: map[string]int64{"read": 1000, "published": 990}}},
			{Beat: heartbeat.Beat{Stage: "transformer", Instance: "host-2", Updated: taken.Add(-time.Hour)}, Stale: true},
		},
		Checkpoints: []Checkpoint{{Key: "checkpoint.x", Input: "file:/data/export.json", Site: "site1", Run: "r12", Updated: taken.Add(-time.Minute)}},
		DeadLetters: []DeadLetterGroup{{Stage: "transform", Target: "auth0", Code: "invalid_email", Count: 7, Redriven: 2}},
	}
	for i := range 12 {
		s.Runs = append(s.Runs, RunRecord{Key: fmt.Sprintf("run.r%d.site1", 12-i), Stage: "extractor", Run: fmt.Sprintf("r%d", 12-i),
			Site: "site1", Status: "completed", Elapsed: "2s", Read: 100, Published: 99, Duplicates: 1, Started: taken.Add(-time.Duration(i+1) * time.Hour)})
		s.ExtractorTotals.Runs++
		s.ExtractorTotals.Read += 100
		s.ExtractorTotals.Published += 99
		s.ExtractorTotals.Duplicates++
	}
	return s
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, fixedSnapshot()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"gigya-migrate status at 2025-03-01 10:00:00 UTC",
		// streams
		`GIGYA_ACCOUNTS\s+raw\s+1000\s+2\.0 MiB\s+1\s+2025-03-01 09:00:00\s+1000\s+2025-03-01 09:59:59\s+1`,
		`USERS_MAPPED\s+mapped\s+400\s+300\.0 KiB`,
		// consumers: pending, ack pending, redelivered, waiting, progress, rate, ETA
		`transformer-auth0\s+gigya\.accounts\.>\s+500\s+100\s+3\s+2\s+400/1000\s+40\.0%\s+50/s\s+12s\s+2s ago`,
		`loader-auth0\s+users\.mapped\.auth0\s+400\s+0\s+0\s+0\s+0/400\s+0\.0%\s+0\.0/s\s+-\s+-`,
		// instances: the pause stands out, the dead one is marked
		`extractor\s+host-1\s+PAUSED\s+3s ago\s+-\s+published=990 read=1000`,
		`(?m)^PAUSED: consumer loader-x lags 120000 > high water 100000 \(extractor host-1\)$`,
		`transformer\s+host-2\s+stale`,
		// dead letters by code
		`DEAD LETTERS \(ETL_DEADLETTER: 7 messages\)`,
		`transform\s+auth0\s+invalid_email\s+7\s+2`,
		// checkpoints and runs
		`site1\s+file:/data/export\.json\s+r12\s+in progress \(resumable\)\s+1m00s ago`,
		`EXTRACTOR RUNS \(12; totals: read 1200, published 1188, duplicates 12, dead-lettered 0\)`,
		`r12\s+site1\s+completed\s+100\s+99\s+1\s+0\s+0\s+2025-03-01 09:00:00\s+2s`,
		`\.\.\. 2 older runs`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("text output lacks %s\n%s", want, out)
		}
	}
	if strings.Contains(out, " r2 ") || strings.Contains(out, "\x1b[") {
		t.Errorf("text output lists runs beyond the limit or has terminal escapes:\n%s", out)
	}
}

func TestWriteTextMissingAndEmpty(t *testing.T) {
	s := Snapshot{
		Taken: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
		Streams: []StreamStatus{
			{Role: RoleRaw, Name: "GIGYA_ACCOUNTS", Missing: true},
			{Role: RoleMapped, Name: "USERS_MAPPED", Missing: true},
			{Role: RoleDeadLetter, Name: "ETL_DEADLETTER", Missing: true},
		},
		StateBucket: "etl_state", StateMissing: true,
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, s); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`GIGYA_ACCOUNTS\s+raw\s+MISSING`,
		`ETL_DEADLETTER\s+deadletter\s+MISSING`,
		`stream ETL_DEADLETTER MISSING`,
		`KV bucket etl_state MISSING`,
		`CONSUMERS\n  none`,
		`EXTRACTOR CHECKPOINTS\n  none`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("text output lacks %s\n%s", want, out)
		}
	}
}

func TestLiveViewOnce(t *testing.T) {
	first := fixedSnapshot()
	second := fixedSnapshot()
	second.Taken = first.Taken.Add(2 * time.Second)
	second.Consumers[0].Done = 600 // 200 in 2s: 100/s, 400 left: 4s
	second.Consumers[0].RatePerSec, second.Consumers[0].ETASeconds = nil, nil
	samples := []Snapshot{first, second}
	collect := func(context.Context) (Snapshot, error) {
		s := samples[0]
		samples = samples[1:]
		return s, nil
	}
	var buf bytes.Buffer
	// A buffer is no terminal: force mpb to draw on it anyway.
	if err := runLive(testContext(t), &buf, collect, liveOptions{interval: time.Millisecond, once: true,
		mpb: []mpb.ContainerOption{mpb.WithAutoRefresh(), mpb.WithWidth(200)}}); err != nil {
		t.Fatal(err)
	}
	last := lastFrame(buf.String())
	for _, want := range []string{
		"gigya-migrate status at 10:00:02 UTC",
		`GIGYA_ACCOUNTS\s+raw\s+1000`,
		`GIGYA_ACCOUNTS/transformer-auth0\s+\[=+>?-*\]\s+600/1000\s+60\.0%\s+100/s\s+ETA 4s`,
		`USERS_MAPPED/loader-auth0\s+\[-+\]\s+0/400\s+0\.0%\s+0\.0/s\s+ETA -`,
		"\x1b\\[1;31mPAUSED: consumer loader-x lags 120000 > high water 100000",
		`transform\s+auth0\s+invalid_email\s+7`,
		`file:/data/export\.json`,
		`\.\.\. 7 older runs`,
	} {
		if !regexp.MustCompile(want).MatchString(last) {
			t.Errorf("live frame lacks %q\n%s", want, last)
		}
	}
	if len(samples) != 0 {
		t.Errorf("-once took %d samples, want 2", 2-len(samples))
	}
}

// lastFrame is what stays on the screen: mpb starts each frame by moving
// the cursor up over the previous one and erasing it (ESC [ n A ESC [ J).
func lastFrame(out string) string {
	if i := strings.LastIndex(out, "\x1b[J"); i >= 0 {
		return out[i+len("\x1b[J"):]
	}
	return out
}

func TestLiveViewFitsTerminalHeight(t *testing.T) {
	collect := func(context.Context) (Snapshot, error) { return fixedSnapshot(), nil }
	var buf bytes.Buffer
	err := runLive(testContext(t), &buf, collect, liveOptions{height: func() int { return 24 },
		mpb: []mpb.ContainerOption{mpb.WithAutoRefresh(), mpb.WithWidth(200)}})
	if err != nil {
		t.Fatal(err)
	}
	last := lastFrame(buf.String())
	if n := strings.Count(last, "\n"); n > 23 {
		t.Errorf("frame of %d lines on a 24-line terminal:\n%s", n, last)
	}
	for _, want := range []string{"gigya-migrate status at", "GIGYA_ACCOUNTS/transformer-auth0", "USERS_MAPPED/loader-auth0", "more lines: a taller terminal shows them"} {
		if !strings.Contains(last, want) {
			t.Errorf("clipped frame lacks %q:\n%s", want, last)
		}
	}
}

func TestLiveViewCutsLinesToWidth(t *testing.T) {
	var buf bytes.Buffer
	if err := writeLines(&buf, "short\n"+strings.Repeat("x", 30)+"\nPAUSED: y\n", 10); err != nil {
		t.Fatal(err)
	}
	want := "short\nxxxxxxxxx…\n\x1b[1;31mPAUSED: y\x1b[0m\n"
	if buf.String() != want {
		t.Errorf("writeLines = %q, want %q", buf.String(), want)
	}
}

func TestDurationAndBytesText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		12 * time.Second:                      "12s",
		3*time.Minute + 7*time.Second:         "3m07s",
		5*time.Hour + 30*time.Minute:          "5h30m",
		75 * time.Hour:                        "3d03h",
		-time.Second:                          "0s",
		400 * time.Millisecond:                "0s",
		59*time.Second + 600*time.Millisecond: "1m00s",
	} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%v) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 3 << 30: "3.0 GiB"} {
		if got := bytesText(n); got != want {
			t.Errorf("bytesText(%d) = %q, want %q", n, got, want)
		}
	}
}
