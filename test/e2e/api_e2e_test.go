package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
)

// TestEndToEndAPI is the Gigya API path end to end, with the three real
// binaries: a simulated site of 100,000 accounts that enforces Gigya's
// smallest rate tier (10 searches/s), injected faults of every kind, and a
// SIGKILL of the extractor mid-run. Every account that maps must be in
// USERS_MAPPED exactly once and in the Auth0 files exactly once, and the
// extractor must never exceed the rate limit.
func TestEndToEndAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	const accounts, rate = 100_000, 10
	start := time.Now()
	sim, err := gigyasim.New(gigyasim.Options{Accounts: accounts, Seed: 21, APIKey: "3_e2e", Secret: "e2e-secret", SearchRate: rate})
	if err != nil {
		t.Fatal(err)
	}
	base, stopSim, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stopSim()
	t.Logf("simulated site of %d accounts ready in %v", accounts, time.Since(start).Round(time.Millisecond))

	// What should become of every account, computed without the pipeline.
	m, err := mapping.Parse("auth0.yaml", configs.Auth0Mapping)
	if err != nil {
		t.Fatal(err)
	}
	ev := m.NewEvaluator()
	want := map[string]bool{}
	full := 0
	for _, uid := range sim.UIDs() {
		raw, _ := sim.Account(uid)
		r, err := ev.MapJSON(raw)
		if r.Skip == "lite_account" {
			continue // a full-account search does not return it
		}
		full++
		if err == nil && r.Skip == "" {
			want[uid] = true
		}
	}

	srv := natstest.Start(t)
	js := srv.JetStream()
	out := filepath.Join(t.TempDir(), "out")
	cfg := filepath.Join(t.TempDir(), "extractor.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, `extractor:
  source: {type: gigya-api}
  gigya:
    rate: %d
    timeout: 10s
    sites:
      - {name: e2e, api_key: 3_e2e, secret: "${SIM_SECRET}", base_url: %q, allow_http: true}
loader:
  sink: {type: auth0-file, options: {dir: %q}}
`, rate, base, out), 0o600)
	p := harness.NewPipeline(t, srv.ClientURL(), out, "GM_CONFIG="+cfg, "SIM_SECRET=e2e-secret")

	// Faults of every kind, spread over the run (and over the restart).
	for i, f := range []gigyasim.Fault{gigyasim.HTTP500, gigyasim.GigyaGeneral500001, gigyasim.Timeout504001,
		gigyasim.Truncated, gigyasim.ExpireCursor, gigyasim.RateLimited} {
		sim.Inject(f, 2, gigyasim.OnSearch(), gigyasim.AfterMatches(3+8*i))
	}
	sim.Inject(gigyasim.SpuriousCursor, 1)
	tr, ld := p.Start("transformer"), p.Start("loader")
	ex := p.Start("extractor")
	natstest.Eventually(t, 2*time.Minute, func() error {
		select {
		case <-ex.Done():
			code, _ := ex.Wait(0)
			t.Fatalf("the extractor exited (%d) before the kill", code)
		default:
		}
		if n := sim.Stats().PagesServed; n < 30 {
			return fmt.Errorf("%d pages served", n)
		}
		return ex.Signal(syscall.SIGKILL)
	})
	harness.ExitCode(t, ex)
	t.Logf("extractor killed after %d pages", sim.Stats().PagesServed)
	ex2 := p.Start("extractor")
	if code := harness.ExitCode(t, ex2); code != 0 {
		t.Fatalf("restarted extractor exit %d", code)
	}
	var sum struct{ Read, Published, Resumed, Duplicates int64 }
	if err := ex2.Summary(&sum); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted extractor: %+v", sum)
	// The restart resumed from the checkpoint: it re-read at most what was
	// in flight at the kill (a page and the pending publishes).
	if sum.Duplicates > 2000 {
		t.Fatalf("the restart re-published %d stored accounts: it did not resume from its checkpoint", sum.Duplicates)
	}
	waitDrained(t, js)
	harness.StopGracefully(t, tr, ld)

	got := mappedUIDs(t, js)
	for uid := range want {
		if got[uid] != 1 {
			t.Fatalf("%s is in USERS_MAPPED %d times, want once", uid, got[uid])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("USERS_MAPPED holds %d users, want %d", len(got), len(want))
	}
	files := harness.OutputUIDs(t, out)
	if len(files) != len(want) {
		t.Fatalf("the Auth0 files hold %d users, want %d", len(files), len(want))
	}
	for uid, n := range files {
		if n != 1 || !want[uid] {
			t.Fatalf("%s is in the Auth0 files %d times (expected: %v)", uid, n, want[uid])
		}
	}
	st := sim.Stats()
	// The only 403048s are the two injected ones: the extractor kept to the limit.
	if st.Faults[gigyasim.RateLimited] != 2 || st.RateLimited != 2 {
		t.Fatalf("the simulator rate-limited %d searches (2 injected): the extractor exceeded %d/s", st.RateLimited, rate)
	}
	t.Logf("%d full accounts, %d loaded, %d pages, %d searches, %v in all", full, len(files), st.PagesServed, st.Requests["accounts.search"], time.Since(start).Round(time.Second))
}
