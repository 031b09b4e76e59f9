package badinput

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/extract"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya/filesource"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
	"github.com/gigya-migrate/gigya-migrate/internal/transform"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// moduleRoot is the repository root, from this package's directory.
func moduleRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	return root
}

// inputPath returns the case's input file, generating it when needed.
func inputPath(t *testing.T, c testCase) string {
	t.Helper()
	if c.File != "" {
		p, err := filepath.Abs(filepath.Join("testdata", c.File))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := generators[c.Generate](t.TempDir())
	if err != nil {
		t.Fatalf("generate %s: %v", c.Generate, err)
	}
	return p
}

// readRecords is what the file source makes of the input: the reference
// list of records that must each end somewhere.
func readRecords(t *testing.T, path string) []filesource.Record {
	t.Helper()
	var recs []filesource.Record
	err := filesource.Read(context.Background(), []string{path}, func(r filesource.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Logf("filesource.Read returned %v after %d records", err, len(recs))
	}
	return recs
}

// extractorRun is the outcome of one extractor run.
type extractorRun struct {
	Summary extract.Summary
	Err     error  // Run's error (in-process) or the exit status (binary)
	Exit    int    // exit code: 0 done, 3 dead letters, 1 failure
	Logs    string // stderr
}

// runExtractor runs the extractor's Run in-process on one file, as
// `extractor -site <site> -restart <path>`.
func runExtractor(ctx context.Context, url, site, path string) extractorRun {
	var out syncbuf.Buffer
	var logs syncbuf.Buffer
	env := stage.Env{
		Args:   []string{"-site", site, "-restart", path},
		Stdout: &out, Stderr: &logs,
		Getenv: func(k string) string {
			if k == "NATS_URL" {
				return url
			}
			return ""
		},
	}
	err := extract.Run(ctx, env)
	r := extractorRun{Err: err, Exit: stage.ExitCode("extractor", err, &bytes.Buffer{}), Logs: logs.String()}
	_ = json.Unmarshal([]byte(lastLine(out.String())), &r.Summary)
	return r
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// subjectMsgs returns every message of stream on subject, in order.
func subjectMsgs(ctx context.Context, t *testing.T, js jetstream.JetStream, streamName, subject string) []*jetstream.RawStreamMsg {
	t.Helper()
	s, err := js.Stream(ctx, streamName)
	if err != nil {
		t.Fatalf("stream %s: %v", streamName, err)
	}
	var msgs []*jetstream.RawStreamMsg
	for seq := uint64(1); ; {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return msgs
		}
		if err != nil {
			t.Fatalf("read %s on %s: %v", subject, streamName, err)
		}
		msgs = append(msgs, m)
		seq = m.Sequence + 1
	}
}

// extractOutcomes finds where the extractor put each record: a dead letter
// of the extract stage (matched by file and offset), a message in
// GIGYA_ACCOUNTS (matched by its deterministic Nats-Msg-Id, outcome
// "published" for the caller to follow), a duplicate of an earlier record's
// message, or nowhere ("missing").
func extractOutcomes(ctx context.Context, t *testing.T, js jetstream.JetStream, site, path string, recs []filesource.Record) []observed {
	t.Helper()
	dls := map[string]*jetstream.RawStreamMsg{}
	for _, m := range subjectMsgs(ctx, t, js, "ETL_DEADLETTER", message.DeadLetterSubject(message.StageExtract, site)) {
		if m.Header.Get(message.HdrStage) != message.StageExtract {
			t.Errorf("dead letter %d on the extract subject has Etl-Stage %q", m.Sequence, m.Header.Get(message.HdrStage))
		}
		key := m.Header.Get(message.HdrSourceFile) + "@" + m.Header.Get(message.HdrSourceOffset)
		if dls[key] != nil {
			t.Errorf("two extract dead letters for %s", key)
		}
		dls[key] = m
	}
	raws := map[string]*jetstream.RawStreamMsg{}
	for _, m := range subjectMsgs(ctx, t, js, "GIGYA_ACCOUNTS", message.RawSubject(site)) {
		raws[m.Header.Get(message.HdrMsgID)] = m
	}
	claimed := map[string]bool{}
	used := 0
	obs := make([]observed, len(recs))
	for i, r := range recs {
		o := &obs[i]
		o.where = r.Origin.String()
		if dl := dls[r.Origin.File+"@"+strconv.FormatInt(r.Origin.Offset, 10)]; dl != nil {
			o.Outcome = "dead_letter:extract:" + dl.Header.Get(message.HdrErrorCode)
			// The error starts with the input's path: take it out, so that
			// the manifest's substrings match the reason, not the file name.
			o.Err = strings.ReplaceAll(dl.Header.Get(message.HdrError), path, "<input>")
			o.UID = dl.Header.Get(message.HdrUID)
			used++
			continue
		}
		o.Outcome = "missing"
		if r.Err != nil {
			continue
		}
		data := r.Data
		key, err := gigya.Identify(data)
		if err != nil {
			continue
		}
		id := message.RawMsgID(site, key.UID, key.LastUpdated)
		m := raws[id]
		if m == nil {
			continue
		}
		o.UID = m.Header.Get(message.HdrUID)
		if claimed[id] {
			o.Outcome = "duplicate"
			continue
		}
		claimed[id] = true
		used++
		if !bytes.Equal(m.Data, data) {
			t.Errorf("record %d (%s): the stored message is not the record byte for byte", i+1, o.where)
		}
		o.Outcome, o.rawSeq = "published", m.Sequence
	}
	if used != len(dls)+len(raws) {
		t.Errorf("the streams hold %d extract dead letters and %d accounts for site %s, but only %d belong to a record of the input",
			len(dls), len(raws), site, used)
	}
	return obs
}

// checkReport is what `transformer check` printed, by record.
type checkReport struct {
	lines   map[string][]checkLine // by file:line@offset
	users   [][]byte               // stdout, in order
	summary string
	err     error
}

type checkLine struct {
	kind string // REJECTED, SKIPPED, FLAGGED, WARNING
	uid  string
	code string // REJECTED: code; SKIPPED: filter; FLAGGED: field
	text string // the rest: the reason
}

// runCheck runs `transformer check -mapping configs/auth0.yaml <path>`
// in-process.
func runCheck(ctx context.Context, t *testing.T, path string) checkReport {
	t.Helper()
	var out, errw bytes.Buffer
	env := stage.Env{
		Args:   []string{"check", "-mapping", filepath.Join(moduleRoot(t), "configs", "auth0.yaml"), path},
		Stdout: &out, Stderr: &errw, Getenv: func(string) string { return "" },
	}
	rep := checkReport{lines: map[string][]checkLine{}, err: transform.Run(ctx, env)}
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		rep.users = append(rep.users, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("check stdout: %v", err)
	}
	for l := range strings.SplitSeq(errw.String(), "\n") {
		kind, rest, ok := strings.Cut(l, " ")
		switch {
		case !ok:
			continue
		case kind == "check":
			rep.summary = l
			continue
		case kind != "REJECTED" && kind != "SKIPPED" && kind != "FLAGGED" && kind != "WARNING":
			continue
		}
		rest = strings.TrimLeft(rest, " ")
		where, rest, ok := strings.Cut(rest, " uid=")
		if !ok {
			t.Fatalf("check: unreadable line %q", l)
		}
		cl := checkLine{kind: kind}
		var sep string
		switch kind {
		case "REJECTED":
			sep = " code="
		case "SKIPPED":
			sep = " filter="
		case "FLAGGED":
			sep = " field="
		case "WARNING":
			sep = ": "
		}
		var tail string
		cl.uid, tail, _ = strings.Cut(rest, sep)
		switch kind {
		case "REJECTED":
			cl.code, cl.text, _ = strings.Cut(tail, ": ")
		case "SKIPPED":
			cl.code = tail
		case "FLAGGED":
			cl.code, cl.text, _ = strings.Cut(tail, " ")
		case "WARNING":
			cl.text = tail
		}
		rep.lines[where] = append(rep.lines[where], cl)
	}
	return rep
}

// checkOutcomes maps each record through the check report: what the
// transformer's record mapper and the Auth0 validator made of it.
func checkOutcomes(t *testing.T, recs []filesource.Record, rep checkReport) []observed {
	t.Helper()
	obs := make([]observed, len(recs))
	next := 0
	for i, r := range recs {
		o := &obs[i]
		o.where = r.Origin.String()
		o.Outcome = "mapped"
		for _, l := range rep.lines[o.where] {
			switch l.kind {
			case "REJECTED":
				o.Outcome, o.Err, o.UID = "dead_letter:check:"+l.code, l.text, l.uid
			case "SKIPPED":
				o.Outcome, o.UID = "filtered:"+l.code, l.uid
			case "FLAGGED":
				o.Flagged = append(o.Flagged, l.code)
				o.Warnings = append(o.Warnings, l.text) // the reason a field was dropped
			case "WARNING":
				o.Warnings = append(o.Warnings, l.text)
			}
		}
		if o.Outcome != "mapped" {
			continue
		}
		if next >= len(rep.users) {
			o.Outcome = "missing"
			continue
		}
		if err := json.Unmarshal(rep.users[next], &o.User); err != nil {
			t.Fatalf("check printed a user that is not JSON: %v", err)
		}
		next++
	}
	if next != len(rep.users) {
		t.Errorf("check printed %d users for %d mapped records", len(rep.users), next)
	}
	return obs
}
