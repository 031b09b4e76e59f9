package badinput

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/extract"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya/filesource"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// TestCorpusThroughBinaries runs the cases marked `binaries: true` through
// the three built binaries and a JetStream server with the default 1 MiB
// max_payload: one extractor process per case (its own site), one
// transformer and one loader (auth0-file sink) for all of them. Every record
// must end mapped and loaded, filtered, dead-lettered or dropped as a
// duplicate, as the manifest says; the extractor must not fail.
func TestCorpusThroughBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	var cases []testCase
	for _, c := range loadManifest(t) {
		if c.Binaries {
			cases = append(cases, c)
		}
	}
	bin := buildBinaries(t)
	srv := natstest.Start(t)
	js := srv.JetStream()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	cfg := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "loader:\n  sink:\n    type: auth0-file\n    options: {dir: %q}\n", out), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"NATS_URL=" + srv.ClientURL(), "GM_CONFIG=" + cfg,
		// Retries that end within the test: a transient publish failure is
		// retried once after 100ms, then the input is dead-lettered as
		// max_deliver_exceeded.
		"GM_TRANSFORMER_CONSUMER_ACK_WAIT=2s", "GM_TRANSFORMER_CONSUMER_MAX_DELIVER=2", "GM_TRANSFORMER_CONSUMER_BACKOFF=100ms",
		"GM_LOADER_BATCH_MAX_WAIT=50ms",
	}
	// The transformer logs every filtered record at debug level (with its
	// UID): the only trace a filtered record leaves.
	tr := startProc(t, filepath.Join(bin, "transformer"), nil, append(env, "GM_TELEMETRY_LOG_LEVEL=debug", "GM_TELEMETRY_LOG_FORMAT=json"), dir)
	ld := startProc(t, filepath.Join(bin, "loader"), nil, env, dir)

	type caseRun struct {
		c    testCase
		path string
		recs []filesource.Record
		exit int
		sum  extract.Summary
		logs string
	}
	var runs []caseRun
	for _, c := range cases {
		path := inputPath(t, c)
		ex := startProc(t, filepath.Join(bin, "extractor"), []string{"-site", c.Name, "-restart", path}, env, dir)
		exit := ex.wait(t, time.Minute)
		var sum extract.Summary
		_ = json.Unmarshal([]byte(lastLine(ex.stdout.String())), &sum)
		logs, _ := os.ReadFile(ex.logPath)
		runs = append(runs, caseRun{c: c, path: path, recs: readRecords(t, path), exit: exit, sum: sum, logs: string(logs)})
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	waitDrained(ctx, t, js)
	tr.stop(t)
	ld.stop(t)
	var trSum struct {
		Mapped       int64            `json:"mapped"`
		DeadLettered int64            `json:"dead_lettered"`
		Filtered     int64            `json:"filtered"`
		FilteredBy   map[string]int64 `json:"filtered_by"`
	}
	if err := json.Unmarshal([]byte(lastLine(tr.stdout.String())), &trSum); err != nil {
		t.Fatalf("transformer summary %q: %v", tr.stdout.String(), err)
	}
	filteredUIDs := filteredByLog(t, tr.logPath)

	mapped := map[uint64]*jetstream.RawStreamMsg{} // by Source-Seq
	for _, m := range subjectMsgs(ctx, t, js, "USERS_MAPPED", message.MappedSubject("auth0")) {
		seq, _ := strconv.ParseUint(m.Header.Get(message.HdrSourceSeq), 10, 64)
		if mapped[seq] != nil {
			t.Errorf("two mapped users for GIGYA_ACCOUNTS sequence %d", seq)
		}
		mapped[seq] = m
	}
	transformDLs := map[uint64]*jetstream.RawStreamMsg{} // by Etl-Source-Seq
	for _, m := range subjectMsgs(ctx, t, js, "ETL_DEADLETTER", message.DeadLetterSubject(message.StageTransform, "auth0")) {
		seq, _ := strconv.ParseUint(m.Header.Get(message.HdrSourceSeqDL), 10, 64)
		transformDLs[seq] = m
	}
	if trSum.Mapped != int64(len(mapped)) || trSum.DeadLettered != int64(len(transformDLs)) {
		t.Errorf("the transformer counted %d mapped and %d dead-lettered; the streams hold %d and %d",
			trSum.Mapped, trSum.DeadLettered, len(mapped), len(transformDLs))
	}
	loaded := loadedUsers(t, out)
	var mappedUsers []string
	type version struct {
		key     string
		updated int64
	}
	newest := map[string]version{} // per UID, its newest mapped version
	filteredSeen := 0
	for _, r := range runs {
		t.Run(r.c.Name, func(t *testing.T) {
			checkExtractorRun(t, r.c, extractorRun{Summary: r.sum, Exit: r.exit, Err: errors.New(lastLine(r.logs))}, len(r.recs))
			obs := extractOutcomes(ctx, t, js, r.c.Name, r.path, r.recs)
			for i := range obs {
				o := &obs[i]
				if o.Outcome != "published" {
					continue
				}
				switch m, dl := mapped[o.rawSeq], transformDLs[o.rawSeq]; {
				case m != nil && dl != nil:
					t.Errorf("record %d (%s) is both mapped and dead-lettered", i+1, o.where)
				case m != nil:
					o.Outcome = "mapped"
					if err := json.Unmarshal(m.Data, &o.User); err != nil {
						t.Fatalf("mapped user is not JSON: %v", err)
					}
					if m.Header.Get(message.HdrUID) != o.UID {
						t.Errorf("record %d: mapped Gigya-UID %q, raw %q", i+1, m.Header.Get(message.HdrUID), o.UID)
					}
					if pw, _ := lookup(o.User, "app_metadata.password_reset_required"); pw == true {
						o.Flagged = append(o.Flagged, "custom_password_hash")
					}
					mappedUsers = append(mappedUsers, userKey(m.Data))
					updated, _ := strconv.ParseInt(m.Header.Get(message.HdrLastUpdated), 10, 64)
					if cur, ok := newest[o.UID]; !ok || updated > cur.updated {
						newest[o.UID] = version{key: userKey(m.Data), updated: updated}
					}
				case dl != nil:
					o.Outcome = "dead_letter:transform:" + dl.Header.Get(message.HdrErrorCode)
					o.Err = dl.Header.Get(message.HdrError)
				case filteredUIDs[o.UID] > 0:
					filteredUIDs[o.UID]--
					filteredSeen++
					o.Outcome = "filtered:" + onlyFilter(trSum.FilteredBy)
				default:
					o.Outcome = "missing"
				}
			}
			verifyBinaries(t, r.c, obs)
			logAccounting(t, obs)
			if t.Failed() {
				t.Logf("extractor logs:\n%s", tail(r.logs, 2000))
			}
		})
	}
	if int64(filteredSeen) != trSum.Filtered {
		t.Errorf("the transformer counted %d filtered records, the corpus accounts for %d", trSum.Filtered, filteredSeen)
	}
	// Every mapped user is loaded at most once, and the newest version of
	// every UID is loaded. An older version of a UID is written too, unless
	// it met the newer one in a loader batch, which writes only the newest
	// (the older is acked as superseded).
	written := map[string]int{}
	for _, u := range loaded {
		written[u]++
	}
	mappedSet := map[string]bool{}
	for _, u := range mappedUsers {
		mappedSet[u] = true
	}
	for u, n := range written {
		if n != 1 || !mappedSet[u] {
			t.Errorf("the auth0-file sink wrote %q %d times (mapped: %v)", u, n, mappedSet[u])
		}
	}
	for uid, v := range newest {
		if written[v.key] != 1 {
			t.Errorf("the newest version of %s (%q) was not written; written %v", uid, v.key, loaded)
		}
	}
	// Two versions of one UID: where they end up, for the record (the
	// transformer's workers publish in parallel, so USERS_MAPPED and the
	// files need not follow the input order).
	for _, uid := range []string{"dup-a", "dup-b", "dup-c"} {
		var stream, files []string
		for _, m := range subjectMsgs(ctx, t, js, "USERS_MAPPED", message.MappedSubject("auth0")) {
			if m.Header.Get(message.HdrUID) == uid {
				stream = append(stream, strings.TrimPrefix(userKey(m.Data), uid+" "))
			}
		}
		for _, u := range loaded {
			if strings.HasPrefix(u, uid+" ") {
				files = append(files, strings.TrimPrefix(u, uid+" "))
			}
		}
		t.Logf("user_id %s: USERS_MAPPED order %v; written to the import files in the order %v", uid, stream, files)
	}
}

// verifyBinaries is verify for the binaries' outcomes: the mapped user
// comes from USERS_MAPPED, where warnings are not visible and a dropped
// field shows only through its flag (app_metadata.password_reset_required
// for the password), so those expectations are narrowed to what shows.
func verifyBinaries(t *testing.T, c testCase, obs []observed) {
	t.Helper()
	relaxed := c
	relaxed.Records = slices.Clone(c.Records)
	for i := range relaxed.Records {
		r := &relaxed.Records[i]
		r.Warnings = nil
		if !slices.Contains(r.Flagged, "custom_password_hash") {
			r.Flagged = nil
		} else {
			r.Flagged = []string{"custom_password_hash"}
		}
	}
	verify(t, relaxed, obs)
}

// userKey identifies a user in the mapped stream and the import files.
func userKey(b []byte) string {
	var u struct {
		UserID string `json:"user_id"`
		Email  string `json:"email"`
	}
	_ = json.Unmarshal(b, &u)
	return u.UserID + " " + u.Email
}

// loadedUsers reads every Auth0 import file the sink wrote, in file order.
func loadedUsers(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	slices.Sort(files)
	var users []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var arr []json.RawMessage
		if err := json.Unmarshal(b, &arr); err != nil {
			t.Fatalf("%s is not an Auth0 import file: %v", f, err)
		}
		for _, u := range arr {
			users = append(users, userKey(u))
		}
	}
	return users
}

// filteredByLog counts the "record filtered" debug lines of the
// transformer's JSON log by UID.
func filteredByLog(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			Msg string `json:"msg"`
			UID string `json:"uid"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "record filtered" {
			n[l.UID]++
		}
	}
	return n
}

func onlyFilter(by map[string]int64) string {
	if len(by) != 1 {
		return fmt.Sprintf("one of %v", by)
	}
	for k := range by {
		return k
	}
	return ""
}

// waitDrained waits until the transformer and the loader have nothing
// pending or unacknowledged (a record NAKed for a retry is unacknowledged
// until it is redelivered or exhausts max_deliver).
func waitDrained(ctx context.Context, t *testing.T, js jetstream.JetStream) {
	t.Helper()
	refs := [][2]string{{"GIGYA_ACCOUNTS", "transformer-auth0"}, {"USERS_MAPPED", "loader-auth0-file"}}
	natstest.Eventually(t, 90*time.Second, func() error {
		for _, r := range refs {
			c, err := js.Consumer(ctx, r[0], r[1])
			if err != nil {
				return fmt.Errorf("consumer %s: %w", r[1], err)
			}
			info, err := c.Info(ctx)
			if err != nil {
				return err
			}
			if info.NumPending > 0 || info.NumAckPending > 0 {
				return fmt.Errorf("consumer %s: %d pending, %d unacknowledged", r[1], info.NumPending, info.NumAckPending)
			}
		}
		return nil
	})
	// The dead letter of an input that exhausted max_deliver is written
	// after the server's advisory: give it a moment.
	time.Sleep(500 * time.Millisecond)
}

// buildBinaries compiles extractor, transformer and loader.
func buildBinaries(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./extractor", "./transformer", "./loader")
	cmd.Dir = moduleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// proc is a binary running as a child process of the test.
type proc struct {
	name    string
	cmd     *exec.Cmd
	stdout  syncbuf.Buffer
	logPath string
	done    chan struct{}
	err     error
}

// startProc starts bin; when the test fails, the logs of the long-running
// ones (no args) are shown, the extractor's by its case.
func startProc(t *testing.T, bin string, args, env []string, dir string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(bin), done: make(chan struct{})}
	logf, err := os.CreateTemp(dir, p.name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	p.logPath = logf.Name()
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); _ = logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() && len(args) == 0 {
			b, _ := os.ReadFile(p.logPath)
			t.Logf("%s %v logs:\n%s", p.name, args, tail(string(b), 3000))
		}
	})
	return p
}

// wait returns the exit code, killing the process after d.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s did not exit within %v", p.name, d)
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("%s: %v", p.name, p.err)
	}
	return 0
}

// stop sends SIGTERM and expects a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("%s exit %d after SIGTERM, want 0", p.name, code)
	}
}
