package quickstart_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/pkg/natstest"
	"github.com/gigya-migrate/gigya-migrate/pkg/quickstart"
	"github.com/segmentio/encoding/json"
)

// transformerTotals is the part of a transformer's summary the tests read.
type transformerTotals struct {
	Consumed     int64 `json:"consumed"`
	Mapped       int64 `json:"mapped"`
	Duplicates   int64 `json:"duplicates"`
	Filtered     int64 `json:"filtered"`
	DeadLettered int64 `json:"dead_lettered"`
}

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
	exp := writeInput(t, input, 50_000)
	// One worker each, so that three instances compete on two cores.
	p := newPipeline(t, srv.ClientURL(), out, "GM_TRANSFORMER_WORKERS=1")

	ex := p.start("extractor", "-site", "e2e", input)
	ld := p.start("loader")
	trs := []*quickstart.Proc{p.start("transformer"), p.start("transformer"), p.start("transformer")}
	natstest.Eventually(t, 2*time.Minute, func() error {
		info := consumerInfo(t, js, "GIGYA_ACCOUNTS", "transformer-auth0")
		if info == nil || info.AckFloor.Stream < uint64(exp.lines)/3 {
			return fmt.Errorf("not a third of the way yet: %+v", info)
		}
		return nil
	})
	stopGracefully(t, trs[1]) // under load: drains, acks what it holds, exits 0
	trs = append(trs, p.start("transformer"))
	if code := exitCode(t, ex); code != 3 {
		t.Fatalf("extractor exit %d, want 3 (the broken lines)", code)
	}
	waitDrained(t, js)
	stopGracefully(t, trs[0], trs[2], trs[3], ld)

	var sum transformerTotals
	for i, tr := range trs {
		var tot transformerTotals
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
	if int(sum.Mapped) != len(exp.loaded) {
		t.Fatalf("instances stored %d mapped users in all, want %d", sum.Mapped, len(exp.loaded))
	}
	if sum.Consumed < int64(exp.lines-exp.extractDL) {
		t.Fatalf("instances consumed %d in all, want at least %d", sum.Consumed, exp.lines-exp.extractDL)
	}
	checkExactlyOnce(t, js, out, exp, sum.Filtered)
	if got := mappedUIDs(t, js); len(got) != len(exp.loaded) {
		t.Fatalf("USERS_MAPPED holds %d users, want %d", len(got), len(exp.loaded))
	}
}

// rss is the resident set size of a process in KiB, from /proc.
func rss(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// TestEndToEndBackpressure: a fast extraction of 100,000 accounts into a
// loader throttled to 700 users/s. The producers pause at the high-water
// mark instead of running ahead: the lag of each consumer stays within the
// mark plus what one producer has in flight, the pause shows in status,
// memory stays flat, and everything arrives exactly once.
func TestEndToEndBackpressure(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	const high, low, rate = 5000, 2500, 700
	srv := natstest.Start(t)
	js := srv.JetStream()
	dir := t.TempDir()
	input, out := filepath.Join(dir, "accounts.jsonl.gz"), filepath.Join(dir, "out")
	exp := writeInput(t, input, 100_000)
	p := newPipeline(t, srv.ClientURL(), out,
		"GM_BACKPRESSURE_HIGH_WATER="+strconv.Itoa(high), "GM_BACKPRESSURE_LOW_WATER="+strconv.Itoa(low),
		"GM_BACKPRESSURE_INTERVAL=200ms", "GM_LOADER_RATE="+strconv.Itoa(rate))

	ex := p.start("extractor", "-site", "e2e", input)
	tr := p.start("transformer")
	ld := p.start("loader")
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
		raw := consumerInfo(t, js, "GIGYA_ACCOUNTS", "transformer-auth0")
		mapped := consumerInfo(t, js, "USERS_MAPPED", "loader-auth0-file")
		if raw != nil {
			maxLag["transformer-auth0"] = max(maxLag["transformer-auth0"], int(raw.NumPending)+raw.NumAckPending)
		}
		if mapped != nil {
			maxLag["loader-auth0-file"] = max(maxLag["loader-auth0-file"], int(mapped.NumPending)+mapped.NumAckPending)
		}
		s := sample{rss: map[string]int{}}
		if mapped != nil {
			s.progress = float64(mapped.AckFloor.Consumer) / float64(len(exp.loaded))
		}
		for name, proc := range procs {
			if kb, err := rss(proc.Pid()); err == nil {
				s.rss[name] = kb
			}
		}
		samples = append(samples, s)
		if !sawPause && s.progress > 0.2 {
			// The operator's view: status names the paused producer.
			st := p.start("transformer", "status", "-json", "-interval", "0")
			if code := exitCode(t, st); code != 0 {
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
	if code := exitCode(t, ex); code != 3 {
		t.Fatalf("extractor exit %d, want 3 (the broken lines)", code)
	}
	waitDrained(t, js)
	stopGracefully(t, tr, ld)
	checkExactlyOnce(t, js, out, exp, -1)

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
	b, _ := os.ReadFile(p.log.Name())
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
