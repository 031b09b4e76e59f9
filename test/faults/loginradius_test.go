package faults

// The LoginRadius trials of TestFaults: the same pipeline as the Auth0
// ones (a simulated Gigya site through accounts.search, a full and an
// incremental run with accounts changed between them), the LoginRadius
// mapping, and a simulated LoginRadius tenant behind loginradius-bulk (or
// loginradius-api) that fails in the ways lrsim can inject.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/segmentio/encoding/json"
)

// lrMappingPath is configs/loginradius.yaml, which the transformer runs.
func lrMappingPath(t *testing.T) string {
	p, err := filepath.Abs(filepath.Join("..", "..", "configs", "loginradius.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newLRFaultModel is the model of a LoginRadius trial: the shipped mapping,
// and the validation the transformer applies for target loginradius.
func newLRFaultModel(t *testing.T) *faultModel {
	b, err := os.ReadFile(lrMappingPath(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Parse("loginradius.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	return &faultModel{ev: m.NewEvaluator(), check: validate.Builtin()["loginradius"](validate.Options{}), api: true,
		refused: map[string]string{}}
}

// lrRefusals are the ErrorCodes a trial makes the tenant refuse some users
// with, and the dead-letter code each must get (written out here rather
// than taken from the client, so that a wrong mapping of codes fails).
var lrRefusals = []struct {
	errorCode int
	code      string
}{
	{936, "email_exists"}, {1017, "username_exists"}, {1058, "phone_exists"}, {990, "invalid_email"},
	{1134, "validation_failed"}, {1200, "invalid_uid"}, {4242, "lr_4242"},
}

// lrWrites records the version (lastUpdatedTimestamp) of every profile the
// LoginRadius simulator stores, per Uid, in the order it stores them
// (lrsim.Options.OnWrite): the tenant's history, not only its last state.
type lrWrites struct {
	mu     sync.Mutex
	stamps map[string][]string
	n      int
}

func (w *lrWrites) record(uid string, p map[string]any) {
	s, _ := p["UpdatedTime"].(string)
	stamp := "?" + s
	if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
		stamp = strconv.FormatInt(ts.UnixMilli(), 10)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stamps[uid] = append(w.stamps[uid], stamp)
	w.n++
}

// of is the versions of uid in the order they were stored.
func (w *lrWrites) of(uid string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.stamps[uid])
}

func (w *lrWrites) total() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// check fails the trial for a user of which an older version was stored
// after a newer one (a user logging in meanwhile would have seen the newer
// one undone, even if a later write restored it), for a version the
// mapping never produced, and for a refused user that was stored. It
// returns how many writes stored a version again: the bulk API upserts, so
// a redelivered user is updated with what it holds already, which the
// tenant cannot tell from nothing.
func (w *lrWrites) check(t *testing.T, m *faultModel) (rewritten int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	known := map[string]bool{}
	for _, v := range m.versions {
		if v.outcome == "loaded" {
			known[v.uid+":"+v.stamp] = true
		}
	}
	regressed := 0
	for uid, stamps := range w.stamps {
		if m.refused[uid] != "" {
			t.Errorf("user %s, which the tenant refuses, was stored: %v", uid, stamps)
		}
		newest := ""
		seen := map[string]bool{}
		for _, s := range stamps {
			if !known[uid+":"+s] {
				t.Errorf("user %s: the tenant stored version %s, which the mapping never produced", uid, s)
			}
			if seen[s] {
				rewritten++
			}
			seen[s] = true
			if newest != "" && stampBefore(s, newest) {
				regressed++
				if regressed <= 5 {
					t.Errorf("OLDER VERSION WRITTEN AFTER A NEWER ONE: user %s was stored as versions %v, in this order", uid, stamps)
				}
				continue
			}
			newest = s
		}
	}
	if regressed > 5 {
		t.Errorf("... %d writes in all put an older version over a newer one", regressed)
	}
	return rewritten
}

// lrPipeline sets up a LoginRadius trial: a server, a simulated Gigya site
// of accounts (modelled), a simulated LoginRadius tenant with lopts, the
// transformer on configs/loginradius.yaml, and the loader config of
// sinkType with the given sink options and loader settings (YAML lines
// under loader:). It returns the site and the extractor's config.
func (ft *faultTrial) lrPipeline(accounts int, sinkType, sinkOpts, loaderExtra string, lopts lrsim.Options) (*gigyasim.Sim, string) {
	t := ft.t
	srv := natstest.Start(t)
	ft.connect(srv.ClientURL())
	ft.target = "loginradius"
	sim, cfg := ft.gigyaSite(accounts, "    rate: 1000\n")
	ft.model = newLRFaultModel(t)
	ft.modelSite(sim, sim.UIDs())
	ft.lr = &lrWrites{stamps: map[string][]string{}}
	lopts.BcryptCost = 4
	lopts.OnWrite = ft.lr.record
	var base string
	ft.lsim, base = harness.StartLoginRadiusSim(t, lopts)
	dir := t.TempDir()
	ft.sink = sinkType
	urls := fmt.Sprintf("api_url: %q", base)
	if sinkType == "loginradius-bulk" {
		urls += fmt.Sprintf(", migration_url: %q", base)
	}
	if sinkOpts != "" {
		sinkOpts = ", " + sinkOpts
	}
	ft.loadCfg = filepath.Join(dir, "loader.yaml")
	if err := os.WriteFile(ft.loadCfg, fmt.Appendf(nil, `loader:
  target: loginradius
  unique: [Email.Value, PhoneId]   # as docs/targets.md configures it
%s  sink:
    type: %s
    options: {api_key: sim-api-key, api_secret: sim-api-secret, allow_http: true, %s%s}
`, loaderExtra, sinkType, urls, sinkOpts), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SIM_SECRET=faults-secret", "GM_TRANSFORMER_MAPPING=" + lrMappingPath(t),
		"GM_TRANSFORMER_WORKERS=" + strconv.Itoa(ft.intn(1, 2))}
	ft.p = harness.NewPipeline(t, srv.ClientURL(), filepath.Join(dir, "unused"), env...)
	ft.exArgs = [][]string{{"-config", cfg}}
	t.Logf("%d accounts: %d versions (%d to load, %d refused by the mapping), sink %s {%s}",
		accounts, len(ft.model.versions), ft.model.count("loaded"), ft.model.count("refused"), sinkType, strings.TrimPrefix(sinkOpts, ", "))
	return sim, cfg
}

// refuseSome makes the tenant refuse 2 to 6 users the mapping loads, each
// with an ErrorCode of lrRefusals. They are never updated (updateSite
// skips them), so each has one version and must end as one dead letter
// with its code.
func (ft *faultTrial) refuseSome() []string {
	var uids []string
	for _, v := range ft.model.versions {
		if v.outcome == "loaded" {
			uids = append(uids, v.uid)
		}
	}
	var out []string
	for _, k := range ft.rng.Perm(len(uids))[:ft.intn(2, 6)] {
		r := lrRefusals[ft.rng.IntN(len(lrRefusals))]
		ft.lsim.Refuse(uids[k], r.errorCode)
		ft.model.refused[uids[k]] = r.code
		out = append(out, fmt.Sprintf("%s:%d", uids[k], r.errorCode))
	}
	return out
}

// incremental updates some accounts and starts the incremental run.
func (ft *faultTrial) incremental(sim *gigyasim.Sim, cfg string) []string {
	changed := ft.updateSite(sim)
	ft.modelSite(sim, changed)
	ft.exArgs = append(ft.exArgs, []string{"-config", cfg, "-incremental"})
	ft.startExtractor()
	return changed
}

// lrFaultTrial loads into a LoginRadius tenant through loginradius-bulk
// while it answers 429s (with and without Retry-After), 500s and 503s,
// holds requests (slow answers, beyond the loader's ack_wait at times),
// stores requests whose answer is then lost, and refuses some users in
// Failed; some accounts change between the full and the incremental run.
// The client retries max_retries times, and a batch whose retries run out
// goes back to the loader, which sends it again later: both are exercised.
func (ft *faultTrial) lrFaultTrial() {
	t := ft.t
	retries := ft.intn(1, 3)
	slow := ft.duration(200*time.Millisecond, 2200*time.Millisecond) // the loader's ack_wait is 2s: its heartbeats keep the batch
	sim, cfg := ft.lrPipeline(ft.intn(250, 600), "loginradius-bulk",
		fmt.Sprintf("rate: 0, max_retries: %d, concurrent_writes: %d, timeout: 2500ms", retries, ft.intn(1, 2)), // above the slow answers: the sink's assumption
		fmt.Sprintf("  batch: {max_records: %d, max_wait: 50ms}\n  consumer: {max_ack_pending: 4000, ack_wait: 2s, backoff: [300ms, 1s]}\n", ft.intn(40, 250)),
		lrsim.Options{SlowDelay: slow, RetryAfter: 1})
	refused := ft.refuseSome()

	// Faults armed for the next requests, whichever they are: each round
	// 2 to 4 kinds, one of each HTTP failure at most, as they may hit one
	// request's attempts in a row, and more than max_retries in a row hand
	// the batch back to the loader (backoff 300ms, then 1s).
	kinds := []lrsim.Fault{lrsim.FaultRateLimit, lrsim.FaultRateLimitRetryAfter, lrsim.Fault500, lrsim.Fault503,
		lrsim.FaultSlow, lrsim.FaultLostAnswer}
	var injected []string
	inject := func() {
		for _, k := range ft.rng.Perm(len(kinds))[:ft.intn(2, 4)] {
			n := 1
			if kinds[k] == lrsim.FaultSlow || kinds[k] == lrsim.FaultLostAnswer {
				n = ft.intn(1, 2)
			}
			ft.lsim.Inject(kinds[k], n)
			injected = append(injected, fmt.Sprintf("%v×%d", kinds[k], n))
		}
	}
	inject()
	began := time.Now()
	ft.startAll(ft.intn(1, 2))
	deadline := time.Now().Add(3 * time.Minute)
	more := false
	for ft.extracting() {
		ft.alive()
		if !more && ft.lsim.Stats().BulkRequests >= 1 {
			inject() // a second round once the first request went through
			more = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("the full run did not end within 3 minutes: %+v", ft.lsim.Stats())
		}
		time.Sleep(5 * time.Millisecond) // polling period
	}
	// Accounts change while the loader may still be at work on the full
	// run; more faults; the incremental run.
	changed := ft.incremental(sim, cfg)
	inject()
	ft.finishExtraction()
	ft.drainAndStop()
	st := ft.lsim.Stats()
	t.Logf("drained at %v; refused %v; faults armed %v, fired %v; slow answers %v; %d accounts changed between the runs; tenant: %d bulk requests, %d profiles (%d inserted, %d updated, %d failed)",
		time.Since(began).Round(time.Millisecond), refused, injected, st.Faults, slow.Round(time.Millisecond), len(changed),
		st.BulkRequests, st.BulkProfiles, st.Inserted, st.Updated, st.Failed)
	ft.verify()
}

// lrKillTrial kills the loader 1 to 3 times while one of its bulk requests
// is in flight (held by the tenant), and restarts it: the request is
// stored when the tenant finishes it, after its loader died, and the
// restarted loader sends the batch again. The kills fall at random points
// of the loader's progress over the full run and the incremental one, for
// which some accounts changed (so a request of the full run may be in
// flight when the newer versions of its users arrive).
func (ft *faultTrial) lrKillTrial() {
	t := ft.t
	slow := ft.duration(300*time.Millisecond, 1500*time.Millisecond)
	sim, cfg := ft.lrPipeline(ft.intn(250, 500), "loginradius-bulk",
		fmt.Sprintf("rate: 0, concurrent_writes: %d, timeout: 2s", ft.intn(1, 2)), // above the hold: the sink's assumption
		fmt.Sprintf("  batch: {max_records: %d, max_wait: 50ms}\n  consumer: {max_ack_pending: 4000, ack_wait: 2s}\n", ft.intn(30, 120)),
		lrsim.Options{SlowDelay: slow})
	refused := ft.refuseSome()
	// The points, as fractions of the versions the full run maps, and in
	// a third of the trials one more in the incremental run (above 1),
	// if a request of it is left when the loader gets there.
	full := float64(ft.model.count("loaded"))
	points := ft.fractions(0.05, 0.95)
	if ft.rng.IntN(3) == 0 {
		points = append(points, 1.001)
	}
	ft.startAll(ft.intn(1, 2))
	var changed []string
	armed := -1 // slow answers fired when the kill was armed; -1: not armed
	deadline := time.Now().Add(3 * time.Minute)
	for len(points) > 0 {
		ft.alive()
		if !ft.extracting() && changed == nil {
			changed = ft.incremental(sim, cfg)
		}
		st := ft.lsim.Stats()
		at := float64(ft.ackFloor("USERS_MAPPED", ft.loaderDurable())) / full
		switch {
		case armed < 0 && at >= points[0]:
			armed = st.Faults[lrsim.FaultSlow]
			ft.lsim.Inject(lrsim.FaultSlow, 1)
		case armed >= 0 && st.Faults[lrsim.FaultSlow] > armed && st.Held > 0:
			time.Sleep(ft.duration(0, slow*3/4)) // some moment of the request
			ft.kill(ft.ld, at)
			time.Sleep(ft.duration(0, 200*time.Millisecond))
			ft.startLoader()
			armed, points = -1, points[1:]
		case changed != nil && ft.exRun >= len(ft.exArgs) && ft.consumerDrained(ft.loaderDurable()):
			t.Logf("the loader had nothing left to send at %.0f%% after %d kills", 100*at, ft.killed)
			points = nil
		}
		if time.Now().After(deadline) {
			t.Fatalf("no request to kill the loader in within 3 minutes: %+v", ft.lsim.Stats())
		}
		time.Sleep(2 * time.Millisecond) // polling period
	}
	ft.lsim.Inject(lrsim.FaultSlow, 0)
	if ft.killed == 0 {
		t.Fatal("the run finished before the first kill: the trial exercised no crash")
	}
	ft.finishExtraction()
	if changed == nil {
		changed = ft.incremental(sim, cfg)
		ft.finishExtraction()
	}
	ft.drainAndStop()
	st := ft.lsim.Stats()
	t.Logf("refused %v; %d kills with a request held %v; %d accounts changed between the runs; tenant: %d bulk requests, %d profiles (%d inserted, %d updated, %d failed)",
		refused, ft.killed, slow.Round(time.Millisecond), len(changed), st.BulkRequests, st.BulkProfiles, st.Inserted, st.Updated, st.Failed)
	ft.verify()
}

// lrUpdateTrial is the plain update case into LoginRadius, without faults,
// with the sink's default options but the simulator's URLs, no pacing
// (rate: 0; the simulator needs none, and it would only make the trial
// longer) and, for loginradius-api, password_hash: drop, since nearly every
// user has a hash the Account API cannot take: the first version is in the
// tenant before the second exists.
func (ft *faultTrial) lrUpdateTrial(sinkType string) {
	opts := "rate: 0"
	if sinkType == "loginradius-api" {
		opts += ", password_hash: drop"
	}
	sim, cfg := ft.lrPipeline(300, sinkType, opts, "  batch: {max_wait: 100ms}\n", lrsim.Options{})
	ft.startAll(1)
	ft.finishExtraction()
	ft.drainAndStop()
	ft.trs = []*quickstart.Proc{ft.p.Start("transformer")}
	ft.startLoader()
	changed := ft.incremental(sim, cfg)
	ft.finishExtraction()
	ft.drainAndStop()
	st := ft.lsim.Stats()
	raw, _ := json.Marshal(st)
	ft.t.Logf("%d accounts changed between the runs; tenant %s", len(changed), raw)
	ft.verify()
}
