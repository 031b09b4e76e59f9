package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/segmentio/encoding/json"
)

// TestEndToEndThreeTransformers runs three transformer processes on 50,000
// accounts while the extractor publishes them; one of them is stopped with
// SIGTERM a third of the way and replaced. Every user is mapped and loaded
// exactly once, and every instance did a share of the work.
func TestEndToEndThreeTransformers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	srv := natstest.Start(t)
	js := srv.JetStream()
	dir := t.TempDir()
	input, out := filepath.Join(dir, "accounts.jsonl.gz"), filepath.Join(dir, "out")
	exp := harness.WriteInput(t, input, 50_000)
	// One worker each, so that three instances compete on two cores.
	p := harness.NewPipeline(t, srv.ClientURL(), out, "GM_TRANSFORMER_WORKERS=1")

	ex := p.Start("extractor", "-site", "e2e", input)
	ld := p.Start("loader")
	trs := []*quickstart.Proc{p.Start("transformer"), p.Start("transformer"), p.Start("transformer")}
	natstest.Eventually(t, 2*time.Minute, func() error {
		info := harness.ConsumerInfo(t, js, "GIGYA_ACCOUNTS", "transformer-auth0")
		if info == nil || info.AckFloor.Stream < uint64(exp.Lines)/3 {
			return fmt.Errorf("not a third of the way yet: %+v", info)
		}
		return nil
	})
	harness.StopGracefully(t, trs[1]) // under load: drains, acks what it holds, exits 0
	trs = append(trs, p.Start("transformer"))
	if code := harness.ExitCode(t, ex); code != 3 {
		t.Fatalf("extractor exit %d, want 3 (the broken lines)", code)
	}
	waitDrained(t, js)
	harness.StopGracefully(t, trs[0], trs[2], trs[3], ld)

	var sum harness.TransformerTotals
	for i, tr := range trs {
		var tot harness.TransformerTotals
		if err := tr.Summary(&tot); err != nil {
			t.Fatal(err)
		}
		t.Logf("transformer %d: consumed %d, mapped %d, duplicates %d, filtered %d, dead-lettered %d",
			i+1, tot.Consumed, tot.Mapped, tot.Duplicates, tot.Filtered, tot.DeadLettered)
		if tot.Consumed == 0 {
			t.Errorf("transformer %d did no work", i+1)
		}
		sum.Consumed += tot.Consumed
		sum.Mapped += tot.Mapped
		sum.Filtered += tot.Filtered
		sum.DeadLettered += tot.DeadLettered
	}
	// Each record mapped by exactly one instance: the stored outputs add up
	// to the users, whatever the redeliveries (those count as duplicates).
	if int(sum.Mapped) != len(exp.Loaded) {
		t.Fatalf("instances stored %d mapped users in all, want %d", sum.Mapped, len(exp.Loaded))
	}
	if sum.Consumed < int64(exp.Lines-exp.ExtractDL) {
		t.Fatalf("instances consumed %d in all, want at least %d", sum.Consumed, exp.Lines-exp.ExtractDL)
	}
	harness.CheckExactlyOnce(t, js, out, exp, sum.Filtered)
	if got := mappedUIDs(t, js); len(got) != len(exp.Loaded) {
		t.Fatalf("USERS_MAPPED holds %d users, want %d", len(got), len(exp.Loaded))
	}
}

// rss is the resident set size of a process in KiB, from /proc.
func rss(pid int) (int, error) { return harness.ProcStatusKiB(pid, "VmRSS") }

// TestEndToEndBackpressure: a fast extraction of 100,000 accounts into a
// loader throttled to 900 users/s. The producers pause at the high-water
// mark instead of running ahead: the lag of each consumer stays within the
// mark plus what one producer has in flight, the pause shows in status,
// memory stays flat, and everything arrives exactly once.
func TestEndToEndBackpressure(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	const high, low, rate = 5000, 2500, 900
	srv := natstest.Start(t)
	js := srv.JetStream()
	dir := t.TempDir()
	input, out := filepath.Join(dir, "accounts.jsonl.gz"), filepath.Join(dir, "out")
	exp := harness.WriteInput(t, input, 100_000)
	p := harness.NewPipeline(t, srv.ClientURL(), out,
		"GM_BACKPRESSURE_HIGH_WATER="+strconv.Itoa(high), "GM_BACKPRESSURE_LOW_WATER="+strconv.Itoa(low),
		"GM_BACKPRESSURE_INTERVAL=200ms", "GM_LOADER_RATE="+strconv.Itoa(rate))

	ex := p.Start("extractor", "-site", "e2e", input)
	tr := p.Start("transformer")
	ld := p.Start("loader")
	procs := map[string]*quickstart.Proc{"extractor": ex, "transformer": tr, "loader": ld}

	type sample struct {
		progress float64 // share of the users loaded
		rss      map[string]int
	}
	var samples []sample
	maxLag := map[string]int{}
	sawPause := false
	ctx := context.Background()
	deadline := time.Now().Add(6 * time.Minute)
	for {
		raw := harness.ConsumerInfo(t, js, "GIGYA_ACCOUNTS", "transformer-auth0")
		mapped := harness.ConsumerInfo(t, js, "USERS_MAPPED", "loader-auth0-file")
		if raw != nil {
			maxLag["transformer-auth0"] = max(maxLag["transformer-auth0"], int(raw.NumPending)+raw.NumAckPending)
		}
		if mapped != nil {
			maxLag["loader-auth0-file"] = max(maxLag["loader-auth0-file"], int(mapped.NumPending)+mapped.NumAckPending)
		}
		s := sample{rss: map[string]int{}}
		if mapped != nil {
			s.progress = float64(mapped.AckFloor.Consumer) / float64(len(exp.Loaded))
		}
		for name, proc := range procs {
			if kb, err := rss(proc.Pid()); err == nil {
				s.rss[name] = kb
			}
		}
		samples = append(samples, s)
		if !sawPause && s.progress > 0.2 {
			// The operator's view: status names the paused producer.
			st := p.Start("transformer", "status", "-json", "-interval", "0")
			if code := harness.ExitCode(t, st); code != 0 {
				t.Fatalf("status exit %d", code)
			}
			var snap struct {
				Instances []struct {
					Stage        string `json:"stage"`
					Paused       bool   `json:"paused"`
					PausedReason string `json:"paused_reason"`
				} `json:"instances"`
			}
			if err := json.Unmarshal([]byte(st.Output()), &snap); err != nil {
				t.Fatalf("status -json: %v", err)
			}
			for _, in := range snap.Instances {
				if in.Paused {
					sawPause = true
					t.Logf("status at %.0f%%: %s paused: %s", 100*s.progress, in.Stage, in.PausedReason)
				}
			}
		}
		if mapped != nil && raw != nil && raw.NumPending+uint64(raw.NumAckPending) == 0 &&
			mapped.NumPending+uint64(mapped.NumAckPending) == 0 && s.progress >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drained after 6 minutes: raw %+v mapped %+v", raw, mapped)
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond): // a sampling period, not a wait for a condition
		}
	}
	if code := harness.ExitCode(t, ex); code != 3 {
		t.Fatalf("extractor exit %d, want 3 (the broken lines)", code)
	}
	waitDrained(t, js)
	harness.StopGracefully(t, tr, ld)
	harness.CheckExactlyOnce(t, js, out, exp, -1)

	// Lag: the mark, plus what a producer publishes after its last check
	// before it sees it: the transformer's fetch (2 workers + 512 pending) and
	// the extractor's pending publishes (1024), each counted twice for the
	// check that races with them.
	bounds := map[string]int{"transformer-auth0": high + 2*1024, "loader-auth0-file": high + 2*(2*2+512)}
	for c, lag := range maxLag {
		t.Logf("max lag of %s: %d (high water %d, bound %d)", c, lag, high, bounds[c])
		if lag > bounds[c] {
			t.Errorf("%s lagged %d, beyond the high-water mark %d plus one batch (%d)", c, lag, high, bounds[c])
		}
	}
	if !sawPause {
		t.Error("status never showed a paused producer")
	}
	b, _ := os.ReadFile(p.LogPath())
	if !strings.Contains(string(b), "back-pressure: paused") || !strings.Contains(string(b), "back-pressure: resumed") {
		t.Error("the pause and the resume are not in the logs")
	}

	// Memory: flat, whatever the input size. Compare each binary's peak in
	// the second half of the run with its peak in the first half.
	for name := range procs {
		first, second := 0, 0
		var marks []string
		next := 0.0
		for _, s := range samples {
			if s.progress < 0.5 {
				first = max(first, s.rss[name])
			} else {
				second = max(second, s.rss[name])
			}
			if s.progress >= next && s.rss[name] > 0 {
				marks = append(marks, fmt.Sprintf("%.0f%%:%dMiB", 100*s.progress, s.rss[name]/1024))
				next += 0.25
			}
		}
		t.Logf("RSS of %s: %s; peak %d MiB in the first half, %d MiB in the second", name, strings.Join(marks, " "), first/1024, second/1024)
		if first == 0 || second > first*5/4+16*1024 {
			t.Errorf("RSS of %s grew: peak %d KiB in the first half, %d KiB in the second", name, first, second)
		}
	}
}

// TestEndToEndFixReplayRedrive is the operator's recipe, with the binaries:
// a mapping with two bugs (given and family names swapped for everyone, and
// an expression that fails for users without a gender) runs on 12,000
// accounts into a jsonl sink. The operator finds why users failed from the
// dead-letter list, deploys the fixed mapping, redrives the failed ones and
// replays the rest; the sink ends with every user correct, exactly one
// version per update, and the counts reconcile.
func TestEndToEndFixReplayRedrive(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	srv := natstest.Start(t)
	js := srv.JetStream()
	dir := t.TempDir()
	input, out := filepath.Join(dir, "accounts.jsonl.gz"), filepath.Join(dir, "users.jsonl")
	exp := harness.WriteInput(t, input, 12_000)
	fixed := string(configs.Auth0Mapping)
	buggy := strings.Replace(fixed, "  given_name: profile.firstName\n", "  given_name: profile.lastName\n  app_metadata.gigya_gender: upper(profile.gender)\n", 1)
	buggy = strings.Replace(buggy, "  family_name: profile.lastName\n", "  family_name: profile.firstName\n", 1)
	if buggy == fixed {
		t.Fatal("the bug was not introduced: configs/auth0.yaml changed")
	}
	buggyPath := filepath.Join(dir, "buggy.yaml")
	if err := os.WriteFile(buggyPath, []byte(buggy), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "jsonl.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "loader:\n  sink:\n    type: jsonl\n    options: {path: %q}\n", out), 0o600); err != nil {
		t.Fatal(err)
	}
	// The last GM_CONFIG wins over the pipeline's auth0-file one.
	p := harness.NewPipeline(t, srv.ClientURL(), out, "GM_LOADER_BATCH_MAX_WAIT=100ms", "GM_CONFIG="+cfg)
	drained := func() {
		t.Helper()
		ctx, cancel := contextWithTimeout(2 * time.Minute)
		defer cancel()
		if err := harness.WaitDrainedRefs(ctx, js, "loader-jsonl"); err != nil {
			t.Fatalf("not drained: %v", err)
		}
	}
	run := func(want []int, args ...string) *quickstart.Proc {
		t.Helper()
		proc := p.Start("transformer", args...)
		code := harness.ExitCode(t, proc)
		for _, w := range want {
			if code == w {
				return proc
			}
		}
		t.Fatalf("transformer %v: exit %d, want one of %v\n%s", args, code, want, proc.Output())
		return nil
	}

	ex := p.Start("extractor", "-site", "e2e", input)
	ld := p.Start("loader")
	tr := p.Start("transformer", "-mapping", buggyPath)
	if code := harness.ExitCode(t, ex); code != 3 {
		t.Fatalf("extractor exit %d", code)
	}
	drained()

	// Why did users fail? The list groups them by code, with a sample error.
	list := run([]int{0}, "deadletter", "list", "-stage", "transform", "-json")
	var groups struct {
		Groups []struct {
			Code        string `json:"code"`
			Count       int    `json:"count"`
			SampleError string `json:"sample_error"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(list.Output()), &groups); err != nil {
		t.Fatalf("deadletter list -json: %v\n%s", err, list.Output())
	}
	failed := 0
	for _, g := range groups.Groups {
		t.Logf("dead letters: %s × %d: %s", g.Code, g.Count, g.SampleError)
		if g.Code == "mapping_failed" {
			failed = g.Count
			if !strings.Contains(g.SampleError, "gigya_gender") {
				t.Errorf("the sample error does not name the failing field: %q", g.SampleError)
			}
		}
	}
	if failed == 0 {
		t.Fatal("the buggy mapping dead-lettered nobody")
	}

	sinkUsers := func() int {
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), "\n")
	}
	buggyLoaded := sinkUsers()

	// Fix: the running transformer gets the fixed mapping.
	harness.StopGracefully(t, tr)
	tr = p.Start("transformer")
	// Redrive those the bug refused...
	rd := run([]int{0}, "deadletter", "redrive", "-stage", "transform", "-code", "mapping_failed", "-json")
	var res struct {
		Redriven int `json:"redriven"`
	}
	if err := json.Unmarshal([]byte(rd.Output()), &res); err != nil || res.Redriven != failed {
		t.Fatalf("redrive: %v, %s; want %d redriven", err, rd.Output(), failed)
	}
	drained()
	redriveLoaded := sinkUsers() - buggyLoaded // the others fail again: no email either
	// ...and replay everything else: the wrongly mapped users come again as updates.
	rp := run([]int{0, 3}, "replay", "-all")
	var sum struct {
		Mapped       int `json:"mapped"`
		Unchanged    int `json:"unchanged"`
		DeadLettered int `json:"dead_lettered"`
		FailedBefore int `json:"failed_before"`
		Resolved     int `json:"resolved"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(rp.Output())), &sum); err != nil {
		t.Fatalf("replay summary: %v\n%s", err, rp.Output())
	}
	t.Logf("buggy run loaded %d; redriven %d, of which %d loaded; replay: %+v", buggyLoaded, res.Redriven, redriveLoaded, sum)
	// The replay maps again what the bug had mapped; the redriven users are
	// in GIGYA_ACCOUNTS twice (the original and the redriven copy), and both
	// map to what the fixed transformer already published: unchanged. The
	// redriven users that failed again are in the dead-letter stream under
	// the fixed mapping already (twice the copies, recorded once); the users
	// without an email fail under the fixed mapping too, and their new dead
	// letters take the place of the bug's.
	refusedAgain := res.Redriven - redriveLoaded
	noEmail := len(exp.TransformDL) - refusedAgain
	if sum.Mapped != buggyLoaded || sum.Unchanged != 2*redriveLoaded || sum.FailedBefore != 2*refusedAgain ||
		sum.DeadLettered != noEmail || sum.Resolved != noEmail {
		t.Fatalf("replay %+v, want mapped %d, unchanged %d, failed_before %d, dead_lettered and resolved %d",
			sum, buggyLoaded, 2*redriveLoaded, 2*refusedAgain, noEmail)
	}
	drained()
	harness.StopGracefully(t, tr, ld)

	// The sink: the last line of every user is the fixed mapping's.
	accounts := map[string]map[string]any{}
	g := sample.New(7, sample.Options{PBKDF2Rounds: 10, BcryptCost: 4})
	for range 12_000 {
		a := g.Next()
		var acc map[string]any
		if err := json.Unmarshal(a.JSON, &acc); err != nil {
			t.Fatal(err)
		}
		accounts[a.UID] = acc
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	last, lines := map[string]map[string]any{}, map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var u map[string]any
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatalf("sink line %q: %v", line, err)
		}
		uid, _ := u["user_id"].(string)
		last[uid] = u
		lines[uid]++
	}
	if len(last) != len(exp.Loaded) {
		t.Fatalf("the sink holds %d users, want %d", len(last), len(exp.Loaded))
	}
	updated := 0
	for uid := range exp.Loaded {
		u, acc := last[uid], accounts[uid]
		if u == nil {
			t.Fatalf("user %s missing at the sink", uid)
		}
		profile, _ := acc["profile"].(map[string]any)
		if u["given_name"] != profile["firstName"] || u["family_name"] != profile["lastName"] {
			t.Fatalf("user %s: given_name %v family_name %v, want %v %v", uid, u["given_name"], u["family_name"], profile["firstName"], profile["lastName"])
		}
		if md, _ := u["app_metadata"].(map[string]any); md["gigya_gender"] != nil {
			t.Fatalf("user %s still has the buggy field", uid)
		}
		if lines[uid] > 2 {
			t.Fatalf("user %s written %d times", uid, lines[uid])
		}
		if lines[uid] == 2 {
			updated++
		}
	}
	if updated != buggyLoaded || buggyLoaded+redriveLoaded != len(exp.Loaded) {
		t.Fatalf("%d users updated, want %d; %d + %d redriven loaded, want %d users", updated, buggyLoaded, buggyLoaded, redriveLoaded, len(exp.Loaded))
	}
	// Reconcile: the dead letters left are the users the fixed mapping refuses too.
	bySubject, _ := harness.DeadLetters(t, js)
	if bySubject["etl.deadletter.transform.auth0"] != len(exp.TransformDL) || bySubject["etl.deadletter.extract.e2e"] != exp.ExtractDL {
		t.Fatalf("dead letters after the fix %v, want transform %d, extract %d", bySubject, len(exp.TransformDL), exp.ExtractDL)
	}
	if exp.Lines != len(last)+len(exp.TransformDL)+exp.ExtractDL+exp.Filtered {
		t.Fatalf("extracted %d != loaded %d + dead-lettered %d + filtered %d", exp.Lines, len(last), len(exp.TransformDL)+exp.ExtractDL, exp.Filtered)
	}
	t.Logf("%d users: %d corrected by the replay, %d loaded after the redrive, %d still refused (no email), %d filtered",
		len(last), updated, redriveLoaded, len(exp.TransformDL), exp.Filtered)
}
