package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/segmentio/encoding/json"
)

// TestEndToEndAuth0API migrates a simulated Gigya site into a simulated
// Auth0 tenant through the Management API's import jobs, with the three real
// binaries: the loader is killed while jobs run and restarted, then a second
// loader replays everything with upsert. Every user that can be migrated
// must exist exactly once with its mapped fields, and every user whose Gigya
// hash Auth0 can verify must log in with the original password.
func TestEndToEndAuth0API(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	gsim, gbase := harness.StartGigyaSim(t, gigyasim.Options{Accounts: 2000, Seed: 8})
	asim, _, abase := harness.StartAuth0Sim(t, auth0sim.Options{JobDuration: 300 * time.Millisecond, RehashCost: 4})

	// Expected users, computed without the pipeline.
	ev := auth0Evaluator(t)
	type expected struct{ email, password string }
	want := map[string]expected{} // by UID
	passwords := gsim.Passwords()
	for _, uid := range gsim.UIDs() {
		raw, _ := gsim.Account(uid)
		out, skip, err := ev.ApplyJSON(raw)
		if err != nil || skip != "" {
			continue
		}
		want[uid] = expected{email: out["email"].(string), password: passwords[uid]}
	}

	srv := natstest.Start(t)
	js := srv.JetStream()
	dir := t.TempDir()
	exCfg := writeAPIExtractorConfig(t, dir, gsim, gbase, "    rate: 1000\n")
	loaderCfg := func(name string, upsert bool) string {
		p := filepath.Join(dir, name+".yaml")
		os.WriteFile(p, fmt.Appendf(nil, `loader:
  name: %s
  sink:
    type: auth0-api
    options: {base_url: %q, allow_http: true, client_id: sim-client-id, client_secret: sim-client-secret,
              connection: Username-Password-Authentication, upsert: %v, poll_interval: 50ms}
  consumer: {max_ack_pending: 4000, ack_wait: 10s}
`, name, abase, upsert), 0o600)
		return p
	}
	p := harness.NewPipeline(t, srv.ClientURL(), filepath.Join(dir, "unused"))

	tr := p.Start("transformer")
	ld := p.Start("loader", "-config", loaderCfg("auth0-api", false))
	ex := p.Start("extractor", "-config", exCfg)
	if code := harness.ExitCode(t, ex); code != 0 {
		t.Fatalf("extractor exit %d", code)
	}
	natstest.Eventually(t, 2*time.Minute, func() error {
		if st := asim.Stats(); st.JobsCompleted < 2 || st.JobsCreated == st.JobsCompleted {
			return fmt.Errorf("waiting for a running job after two completed: %+v", st)
		}
		return ld.Signal(syscall.SIGKILL)
	})
	harness.ExitCode(t, ld)
	t.Logf("loader killed with a job running: %+v", asim.Stats())
	ld2 := p.Start("loader", "-config", loaderCfg("auth0-api", false))
	drain := func(loader string) {
		t.Helper()
		ctx, cancel := contextWithTimeout(3 * time.Minute)
		defer cancel()
		if err := harness.WaitDrainedRefs(ctx, js, loader); err != nil {
			t.Fatalf("not drained: %v", err)
		}
	}
	drain("loader-auth0-api")
	harness.StopGracefully(t, ld2)

	// The same run again, with upsert: a second loader replays every user.
	up := p.Start("loader", "-config", loaderCfg("upsert", true))
	drain("loader-upsert")
	harness.StopGracefully(t, up, tr)

	users := asim.Users()
	byID := map[string]map[string]any{}
	for _, u := range users {
		id, _ := u["user_id"].(string)
		if byID[id] != nil {
			t.Fatalf("user %s exists twice in the tenant", id)
		}
		byID[id] = u
	}
	if len(byID) != len(want) {
		t.Fatalf("the tenant has %d users, want %d", len(byID), len(want))
	}
	logins, verifiable := 0, 0
	for uid, w := range want {
		u := byID[uid]
		if u == nil {
			u = byID["auth0|"+uid]
		}
		if u == nil || u["email"] != w.email {
			t.Fatalf("user %s missing or wrong: %v", uid, u)
		}
		if w.password == "" {
			continue
		}
		verifiable++
		ok, err := asim.Login(w.email, w.password)
		if err != nil || !ok {
			t.Fatalf("%s cannot log in with the original password: %v", uid, err)
		}
		if bad, _ := asim.Login(w.email, w.password+"x"); bad {
			t.Fatalf("%s logs in with a wrong password", uid)
		}
		logins++
	}
	bySubject, _ := harness.DeadLetters(t, js)
	if n := bySubject["etl.deadletter.load.auth0"]; n != 0 {
		t.Fatalf("%d users dead-lettered by the loader: the kill, the re-sends or the upsert lost users", n)
	}
	dlCount := bySubject["etl.deadletter.transform.auth0"]
	st := asim.Stats()
	t.Logf("%d users in the tenant; %d of %d users with a verifiable password log in (%.1f%%; %.1f%% of all users, the rest have no password or a hash Auth0 cannot verify and are flagged); jobs %d created, %d completed; %d refused by the mapping (no email)",
		len(byID), logins, verifiable, 100*float64(logins)/float64(max(verifiable, 1)), 100*float64(logins)/float64(len(byID)), st.JobsCreated, st.JobsCompleted, dlCount)
	raw, _ := json.Marshal(st)
	t.Logf("simulator stats: %s", raw)
}

// TestEndToEndAuth0APIJobOutlivesTheLoader: an import job keeps running at
// Auth0 after the loader that submitted it was killed. Accounts change
// meanwhile, and the restarted loader writes their new versions at once
// (the old ones are still unacked, held until ack_wait): unless it waits for
// the orphaned job first, that job lands afterwards and puts the old
// versions back.
func TestEndToEndAuth0APIJobOutlivesTheLoader(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	gsim, gbase := harness.StartGigyaSim(t, gigyasim.Options{Accounts: 60, Seed: 11})
	asim, _, abase := harness.StartAuth0Sim(t, auth0sim.Options{JobDuration: 50 * time.Millisecond, SlowJobDuration: 3 * time.Second, RehashCost: 4})

	srv := natstest.Start(t)
	js := srv.JetStream()
	dir := t.TempDir()
	exCfg := writeAPIExtractorConfig(t, dir, gsim, gbase, "")
	ldCfg := filepath.Join(dir, "loader.yaml")
	os.WriteFile(ldCfg, fmt.Appendf(nil, `loader:
  sink:
    type: auth0-api
    options: {base_url: %q, allow_http: true, client_id: sim-client-id, client_secret: sim-client-secret,
              connection: Username-Password-Authentication, upsert: true, poll_interval: 50ms}
  consumer: {ack_wait: 10s}
`, abase), 0o600)
	p := harness.NewPipeline(t, srv.ClientURL(), filepath.Join(dir, "unused"))
	transformed := func() {
		t.Helper()
		ctx, cancel := contextWithTimeout(time.Minute)
		defer cancel()
		if err := quickstart.WaitDrained(ctx, js, quickstart.ConsumerRef{Stream: "GIGYA_ACCOUNTS", Durable: "transformer-auth0"}); err != nil {
			t.Fatal(err)
		}
	}

	tr := p.Start("transformer")
	if code := harness.ExitCode(t, p.Start("extractor", "-config", exCfg)); code != 0 {
		t.Fatalf("extractor exit %d", code)
	}
	transformed() // every first version in one batch, one job
	asim.Inject(auth0sim.FaultSlowJob, 1)
	ld := p.Start("loader", "-config", ldCfg)
	natstest.Eventually(t, time.Minute, func() error {
		if !harness.JobsRecorded(js, asim, "auth0-api") {
			return fmt.Errorf("no job running and recorded yet: %+v", asim.Stats())
		}
		return ld.Signal(syscall.SIGKILL)
	})
	harness.ExitCode(t, ld)
	if st := asim.Stats(); st.JobsCompleted != 0 {
		t.Fatalf("the slow job ended before the kill: %+v", st)
	}

	ev := auth0Evaluator(t)
	changed := map[string]string{} // uid → new given_name
	for i, uid := range gsim.UIDs() {
		raw, _ := gsim.Account(uid)
		if _, skip, err := ev.ApplyJSON(raw); err != nil || skip != "" {
			continue // not migrated
		}
		if len(changed) == 10 {
			break
		}
		if err := gsim.Update(uid, func(a map[string]any) { harness.RenameAccount(a, i) }); err != nil {
			t.Fatal(err)
		}
		changed[uid] = fmt.Sprintf("Updated%d", i)
	}
	if code := harness.ExitCode(t, p.Start("extractor", "-config", exCfg, "-incremental")); code != 0 {
		t.Fatalf("incremental extractor exit %d", code)
	}
	transformed()
	ld2 := p.Start("loader", "-config", ldCfg)
	ctx, cancel := contextWithTimeout(2 * time.Minute)
	defer cancel()
	if err := harness.WaitDrainedRefs(ctx, js, "loader-auth0-api"); err != nil {
		t.Fatal(err)
	}
	harness.StopGracefully(t, ld2, tr)
	natstest.Eventually(t, time.Minute, func() error {
		if st := asim.Stats(); st.JobsCompleted+st.JobsFailed < st.JobsCreated {
			return fmt.Errorf("jobs still running: %+v", st)
		}
		return nil
	})

	byID := map[string]map[string]any{}
	for _, u := range asim.Users() {
		id, _ := u["user_id"].(string)
		byID[strings.TrimPrefix(id, "auth0|")] = u
	}
	stale := 0
	for uid, name := range changed {
		u := byID[uid]
		if u == nil {
			t.Errorf("changed user %s is not in the tenant", uid)
			continue
		}
		if u["given_name"] != name {
			stale++
			t.Errorf("user %s: given_name %v, want the newer %s: the job the killed loader left running landed after the newer version", uid, u["given_name"], name)
		}
	}
	raw, _ := json.Marshal(asim.Stats())
	t.Logf("%d users in the tenant, %d changed, %d stale; simulator %s", len(byID), len(changed), stale, raw)
}

// auth0Evaluator evaluates the shipped auth0 mapping, for expectations
// computed without the pipeline.
func auth0Evaluator(t *testing.T) *mapping.Evaluator {
	t.Helper()
	m, err := mapping.Parse("auth0.yaml", configs.Auth0Mapping)
	if err != nil {
		t.Fatal(err)
	}
	return m.NewEvaluator()
}

// writeAPIExtractorConfig writes dir/extractor.yaml: gsim's site, named a0,
// read through accounts.search at base; gigya holds more keys of the
// extractor.gigya section, each line indented by four spaces.
func writeAPIExtractorConfig(t *testing.T, dir string, gsim *gigyasim.Sim, base, gigya string) string {
	t.Helper()
	path := filepath.Join(dir, "extractor.yaml")
	body := fmt.Sprintf("extractor:\n  source: {type: gigya-api}\n  gigya:\n%s    sites:\n      - {name: a0, api_key: %q, secret: %q, base_url: %q, allow_http: true}\n",
		gigya, gsim.APIKey(), gsim.Secret(), base)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
