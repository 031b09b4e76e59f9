package quickstart_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/pkg/natstest"
	"github.com/gigya-migrate/gigya-migrate/pkg/quickstart"
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

// unused until the back-pressure test lands.
var _ = context.Background
var _ = syscall.SIGTERM
