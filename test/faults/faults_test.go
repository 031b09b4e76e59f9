package faults

// TestFaults is the fault-injection suite of "Proof under faults": the three
// real binaries run against a real JetStream server while something breaks,
// and after every trial the target must hold every expected user exactly once
// with the latest content, and extracted = loaded + dead-lettered + filtered.
//
//	kill-extractor, kill-transformer, kill-loader   SIGKILL of one binary 1-3 times at
//	                                                random points of progress, restarted
//	server-restart                                  the JetStream server (a separate
//	                                                process, file store) stopped and
//	                                                started again on the same port and store
//	gigya                                           accounts.search faults (5xx, 500001,
//	                                                504001, 403048, expired cursors, slow and
//	                                                truncated answers) into a jsonl sink
//	auth0                                           Management API faults (429, 500, 503,
//	                                                jobs failed as a whole, slow jobs)
//	loginradius                                     LoginRadius faults into loginradius-bulk
//	                                                (429 with and without Retry-After, 500,
//	                                                503, slow answers, answers lost after the
//	                                                store, Failed entries for some profiles)
//	kill-loader-loginradius                         SIGKILL of the loader 1-3 times while a
//	                                                bulk request is in flight, restarted
//	latest-version/auth0-file, .../auth0-api,       an account updated between two runs, no
//	.../loginradius-bulk, .../loginradius-api       fault, into the sinks' default configs
//	                                                (the loginradius-api sink dropping hashes)
//
// Every trial also updates accounts in the source between two extractor runs
// (a second export with -update, or an incremental search) and checks that
// the target ends with the newer version: the last line per user in jsonl,
// the upsert files after the first imports in auth0-file, the tenant for the
// APIs. An older version may be skipped (superseded) but never written after
// a newer one; the LoginRadius simulator records every profile it stores, so
// there an older version written after a newer one fails the trial even
// when a later write hid it.
//
// GM_FAULT_TRIALS sets the trials per type (default 2: `make test`; the full
// run uses 10), GM_FAULT_SEED the seed (default: the time). Each trial draws
// from its own generator, seeded by the seed and the trial's name, so one
// trial can be rerun alone with `-run 'TestFaults/kill-loader/trial-3$'`.

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/heartbeat"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// faultSettings are the suite's environment: trials per type and the seed.
type faultSettings struct {
	trials int
	seed   uint64
}

var faultEnv = sync.OnceValues(func() (faultSettings, error) {
	s := faultSettings{trials: 2, seed: uint64(time.Now().UnixNano()) % 1_000_000_000_000}
	if v := os.Getenv("GM_FAULT_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return s, fmt.Errorf("GM_FAULT_TRIALS=%q: want a positive number", v)
		}
		s.trials = n
	}
	if v := os.Getenv("GM_FAULT_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return s, fmt.Errorf("GM_FAULT_SEED=%q: want a non-negative integer", v)
		}
		s.seed = n
	}
	return s, nil
})

// repro is the line that reruns the test named run with the same seed.
func (s faultSettings) repro(run string) string {
	return fmt.Sprintf("seed=%d; reproduce with GM_FAULT_SEED=%d GM_FAULT_TRIALS=%d go test -count=1 -run '%s' -v ./test/faults",
		s.seed, s.seed, s.trials, run)
}

// exactRunPattern turns a test name into a -run pattern matching it alone.
func exactRunPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + p + "$"
	}
	return strings.Join(parts, "/")
}

func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	env, err := faultEnv()
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	t.Log(env.repro("^TestFaults$"))
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("FAILED: " + env.repro("^TestFaults$"))
		}
		t.Logf("TestFaults: %d trials per type in %v", env.trials, time.Since(began).Round(time.Second))
	})
	harness.BinDir(t) // build once, before the clock of the first trial starts

	// trial runs fn as one trial, with a generator seeded by the seed and
	// the trial's name, and its reproduction line on failure.
	trial := func(t *testing.T, fn func(ft *faultTrial)) {
		h := fnv.New64a()
		h.Write([]byte(t.Name()))
		rng := rand.New(rand.NewPCG(env.seed, h.Sum64()))
		start := time.Now()
		t.Cleanup(func() {
			if t.Failed() {
				t.Log("FAILED: " + env.repro(exactRunPattern(t.Name())))
			} else {
				t.Logf("passed in %v", time.Since(start).Round(time.Millisecond))
			}
		})
		fn(&faultTrial{t: t, rng: rng})
	}
	trials := func(name string, fn func(ft *faultTrial)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // two types at a time (-parallel defaults to GOMAXPROCS)
			for i := range env.trials {
				t.Run(fmt.Sprintf("trial-%d", i+1), func(t *testing.T) { trial(t, fn) })
			}
		})
	}
	for _, bin := range []string{"extractor", "transformer", "loader"} {
		trials("kill-"+bin, func(ft *faultTrial) { ft.killTrial(bin) })
	}
	trials("server-restart", func(ft *faultTrial) { ft.serverRestartTrial() })
	trials("gigya", func(ft *faultTrial) { ft.gigyaTrial() })
	trials("auth0", func(ft *faultTrial) { ft.auth0Trial(true) })
	trials("loginradius", func(ft *faultTrial) { ft.lrFaultTrial() })
	trials("kill-loader-loginradius", func(ft *faultTrial) { ft.lrKillTrial() })
	t.Run("latest-version", func(t *testing.T) {
		t.Parallel()
		t.Run("auth0-file", func(t *testing.T) { trial(t, func(ft *faultTrial) { ft.fileUpdateTrial() }) })
		t.Run("auth0-api", func(t *testing.T) { trial(t, func(ft *faultTrial) { ft.auth0Trial(false) }) })
		t.Run("loginradius-bulk", func(t *testing.T) { trial(t, func(ft *faultTrial) { ft.lrUpdateTrial("loginradius-bulk") }) })
		t.Run("loginradius-api", func(t *testing.T) { trial(t, func(ft *faultTrial) { ft.lrUpdateTrial("loginradius-api") }) })
	})
}

// faultTrial is one trial: its generator, its pipeline and what it expects.
type faultTrial struct {
	t     *testing.T
	rng   *rand.Rand
	js    jetstream.JetStream
	p     *harness.Pipeline
	model *faultModel

	target  string // the mapping's target: "" is auth0
	sink    string // auth0-file, jsonl, auth0-api, loginradius-bulk or loginradius-api
	out     string // the auth0-file directory or the jsonl file
	asim    *auth0sim.Sim
	lsim    *lrsim.Sim
	lr      *lrWrites // every profile the LoginRadius simulator stored
	upsert  bool      // the auth0-api sink's upsert option
	loadCfg string    // the loader's -config, if not the pipeline's GM_CONFIG

	// The running processes, replaced when restarted.
	ex     *quickstart.Proc
	trs    []*quickstart.Proc
	ld     *quickstart.Proc
	exArgs [][]string // the extractor's runs, in order
	exRun  int        // index into exArgs of the run in progress
	killed int        // crashes and restarts done
}

func (ft *faultTrial) intn(lo, hi int) int { return lo + ft.rng.IntN(hi-lo+1) }

func (ft *faultTrial) duration(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(ft.rng.Int64N(int64(hi-lo)+1))
}

// ---- the expected outcome, computed without the pipeline ----

// faultVersion is one version of one account (UID and lastUpdatedTimestamp) and
// what the mapping makes of it.
type faultVersion struct {
	uid, stamp string
	outcome    string         // loaded, refused (transform dead letter) or filtered
	user       map[string]any // the mapped user, normalized through JSON, when loaded
}

type faultModel struct {
	ev        *mapping.Evaluator
	check     validate.Validator // the target's import rules, when the transformer checks them apart
	versions  []faultVersion
	extractDL int  // unusable input lines
	api       bool // accounts.search: lite accounts are not extracted at all
	// refused are the users the target refuses whatever their version,
	// with the dead-letter code the loader must give them.
	refused map[string]string
}

func newFaultModel(t *testing.T, api bool) *faultModel {
	m, err := mapping.Parse("auth0.yaml", configs.Auth0Mapping)
	if err != nil {
		t.Fatal(err)
	}
	return &faultModel{ev: m.NewEvaluator(), api: api}
}

// add maps one raw account as the pipeline will see it.
func (m *faultModel) add(t *testing.T, raw []byte) {
	key, err := gigya.Identify(raw)
	if err != nil {
		t.Fatalf("generated account: %v", err)
	}
	out, skip, err := m.ev.ApplyJSON(raw)
	if err == nil && skip == "" && m.check != nil {
		if res := m.check.Validate(out); !res.OK() {
			err = fmt.Errorf("%v", res)
		}
	}
	v := faultVersion{uid: key.UID, stamp: key.LastUpdated}
	switch {
	case skip == "lite_account" && m.api:
		return // a full-account search does not return it
	case skip != "":
		v.outcome = "filtered"
	case err != nil:
		v.outcome = "refused"
	default:
		v.outcome = "loaded"
		v.user = viaJSON(t, out)
	}
	m.versions = append(m.versions, v)
}

func (m *faultModel) count(outcome string) int {
	n := 0
	for _, v := range m.versions {
		if v.outcome == outcome {
			n++
		}
	}
	return n
}

// latest is the newest loaded version of every user that has one.
func (m *faultModel) latest() map[string]faultVersion {
	out := map[string]faultVersion{}
	for _, v := range m.versions {
		if v.outcome != "loaded" || m.refused[v.uid] != "" {
			continue
		}
		if cur, ok := out[v.uid]; !ok || stampBefore(cur.stamp, v.stamp) {
			out[v.uid] = v
		}
	}
	return out
}

func stampBefore(a, b string) bool {
	x, _ := strconv.ParseInt(a, 10, 64)
	y, _ := strconv.ParseInt(b, 10, 64)
	return x < y
}

// loadedUIDs are the users whose first version was loaded, in order.
func (m *faultModel) loadedUIDs() []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range m.versions {
		if v.outcome == "loaded" && !seen[v.uid] && m.refused[v.uid] == "" {
			seen[v.uid] = true
			out = append(out, v.uid)
		}
	}
	return out
}

func viaJSON(t *testing.T, v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeAccounts writes accounts as gzipped JSON lines, with unusable lines
// (broken JSON, no UID) at random places when broken is set, and adds them
// to the model.
func (ft *faultTrial) writeAccounts(path string, accounts [][]byte, broken bool) {
	t := ft.t
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	at := map[int]bool{}
	if broken {
		for range 2 {
			at[ft.rng.IntN(len(accounts))] = true
		}
	}
	for i, a := range accounts {
		zw.Write(a)
		zw.Write([]byte("\n"))
		ft.model.add(t, a)
		if at[i] {
			zw.Write([]byte("{\"UID\": broken json\n"))
			zw.Write([]byte("{\"profile\":{\"email\":\"no-uid@example.com\"}}\n"))
			ft.model.extractDL += 2
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newerAccount is a newer version of raw: other names, lastUpdated later.
func newerAccount(t *testing.T, raw []byte, n int, later time.Duration) []byte {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	harness.RenameAccount(m, n)
	ts, err := m["lastUpdatedTimestamp"].(json.Number).Int64()
	if err != nil {
		t.Fatalf("account without lastUpdatedTimestamp: %v", err)
	}
	ts += later.Milliseconds()
	m["lastUpdatedTimestamp"] = ts
	m["lastUpdated"] = time.UnixMilli(ts).UTC().Format("2006-01-02T15:04:05.000Z")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---- the pipeline ----

// knobs are the random settings of a file-source pipeline: small batches,
// checkpoints and windows so that a run has many steps to break between,
// and throttles so that a kill lands in the middle of it.
func (ft *faultTrial) knobs() []string {
	return []string{
		"GM_EXTRACTOR_MAX_PENDING=" + strconv.Itoa(ft.intn(1, 16)),
		"GM_EXTRACTOR_CHECKPOINT_EVERY=" + strconv.Itoa(ft.intn(20, 400)),
		"GM_TRANSFORMER_WORKERS=" + strconv.Itoa(ft.intn(1, 2)),
		"GM_TRANSFORMER_CONSUMER_MAX_ACK_PENDING=" + strconv.Itoa(ft.intn(16, 256)),
		"GM_LOADER_BATCH_MAX_RECORDS=" + strconv.Itoa(ft.intn(20, 300)),
		"GM_LOADER_BATCH_MAX_WAIT=50ms",
		"GM_LOADER_RATE=" + strconv.Itoa(ft.intn(1500, 3000)),
		"GM_LOADER_CONSUMER_ACK_WAIT=3s",
		"GM_NATS_RECONNECT_WAIT=500ms",
	}
}

// sinkConfig writes the loader config of a file sink and returns the extra
// environment selecting it.
func (ft *faultTrial) sinkConfig(dir string) []string {
	var body string
	switch ft.sink {
	case "jsonl":
		ft.out = filepath.Join(dir, "users.jsonl")
		body = fmt.Sprintf("loader:\n  sink:\n    type: jsonl\n    options: {path: %q}\n", ft.out)
	case "auth0-file":
		ft.out = filepath.Join(dir, "out")
		body = fmt.Sprintf("loader:\n  sink:\n    type: auth0-file\n    options: {dir: %q}\n", ft.out)
	default:
		ft.t.Fatalf("no file sink %q", ft.sink)
	}
	cfg := filepath.Join(dir, "sink.yaml")
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		ft.t.Fatal(err)
	}
	return []string{"GM_CONFIG=" + cfg}
}

func (ft *faultTrial) loaderDurable() string { return "loader-" + ft.sink }

// tgt is the mapping's target, which names the transformer's consumer and
// the subjects.
func (ft *faultTrial) tgt() string {
	if ft.target == "" {
		return "auth0"
	}
	return ft.target
}

func (ft *faultTrial) transformerDurable() string { return "transformer-" + ft.tgt() }

func (ft *faultTrial) startLoader() {
	if ft.loadCfg != "" {
		ft.ld = ft.p.Start("loader", "-config", ft.loadCfg)
	} else {
		ft.ld = ft.p.Start("loader")
	}
}

func (ft *faultTrial) startExtractor() {
	ft.ex = ft.p.Start("extractor", ft.exArgs[ft.exRun]...)
}

// extracting reports whether extractor runs remain; it starts the next run
// when the current one ended by itself, and fails on an exit code that is
// neither 0 nor 3 (dead letters).
func (ft *faultTrial) extracting() bool {
	if ft.exRun >= len(ft.exArgs) {
		return false
	}
	select {
	case <-ft.ex.Done():
	default:
		return true
	}
	code, _ := ft.ex.Wait(0)
	if code != 0 && code != 3 {
		ft.t.Fatalf("extractor %v exited with %d, want 0 or 3:\n%s", ft.exArgs[ft.exRun], code, ft.ex.Output())
	}
	ft.exRun++
	if ft.exRun < len(ft.exArgs) {
		ft.startExtractor()
		return true
	}
	return false
}

// alive fails the trial if the transformer or the loader has exited.
func (ft *faultTrial) alive() {
	for _, p := range append(slices.Clone(ft.trs), ft.ld) {
		select {
		case <-p.Done():
			code, _ := p.Wait(0)
			ft.t.Fatalf("%s exited by itself with %d in the middle of the run", p.Name, code)
		default:
		}
	}
}

// finishExtraction waits for the remaining extractor runs.
func (ft *faultTrial) finishExtraction() {
	deadline := time.Now().Add(3 * time.Minute)
	for ft.extracting() {
		ft.alive()
		if time.Now().After(deadline) {
			ft.t.Fatalf("the extractor did not finish run %d of %d within 3 minutes", ft.exRun+1, len(ft.exArgs))
		}
		select {
		case <-ft.ex.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// drainAndStop waits until transformer and loader have nothing pending, then
// stops them with SIGTERM: each must exit 0.
func (ft *faultTrial) drainAndStop() {
	ft.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- quickstart.WaitDrained(ctx, ft.js,
			quickstart.ConsumerRef{Stream: "GIGYA_ACCOUNTS", Durable: ft.transformerDurable()},
			quickstart.ConsumerRef{Stream: "USERS_MAPPED", Durable: ft.loaderDurable()})
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				ft.t.Fatalf("the pipeline did not drain within 3 minutes: %v (raw %s; mapped %s)", err,
					ft.consumerState("GIGYA_ACCOUNTS", ft.transformerDurable()), ft.consumerState("USERS_MAPPED", ft.loaderDurable()))
			}
			procs := append(slices.Clone(ft.trs), ft.ld)
			for _, p := range procs {
				ft.waitReady(p)
			}
			harness.StopGracefully(ft.t, procs...)
			return
		case <-tick.C:
			ft.alive()
		}
	}
}

// waitReady waits until a process just started has written its heartbeat:
// it then handles SIGTERM (a signal before the handler is installed would
// kill it, which tells nothing about the binary).
func (ft *faultTrial) waitReady(p *quickstart.Proc) {
	self := heartbeat.InstanceID()
	key := heartbeat.Key(p.Name, strings.TrimSuffix(self, strconv.Itoa(os.Getpid()))+strconv.Itoa(p.Pid()))
	natstest.Eventually(ft.t, time.Minute, func() error {
		ft.alive()
		kv, err := ft.js.KeyValue(context.Background(), "etl_state")
		if err != nil {
			return err // not created yet
		}
		_, err = kv.Get(context.Background(), key)
		return err
	})
}

func (ft *faultTrial) consumerDrained(durable string) bool {
	c, err := ft.js.Consumer(context.Background(), "USERS_MAPPED", durable)
	if err != nil {
		return false
	}
	i := c.CachedInfo()
	return i.NumPending == 0 && i.NumAckPending == 0
}

func (ft *faultTrial) consumerState(stream, durable string) string {
	c, err := ft.js.Consumer(context.Background(), stream, durable)
	if err != nil {
		return err.Error()
	}
	i := c.CachedInfo()
	return fmt.Sprintf("pending %d, ack-pending %d, redelivered %d, ack floor %d", i.NumPending, i.NumAckPending, i.NumRedelivered, i.AckFloor.Stream)
}

// streamMsgs is the number of messages in a stream (0 when unknown).
func (ft *faultTrial) streamMsgs(name string) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := ft.js.Stream(ctx, name)
	if err != nil {
		return 0
	}
	return s.CachedInfo().State.Msgs
}

// ackFloor is the stream sequence up to which a consumer has acked all.
func (ft *faultTrial) ackFloor(stream, durable string) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := ft.js.Consumer(ctx, stream, durable)
	if err != nil {
		return 0
	}
	return c.CachedInfo().AckFloor.Stream
}

// progress measures how far the stage named has come, 0 to 1.
func (ft *faultTrial) progress(stage string) float64 {
	raw := float64(len(ft.model.versions))
	mapped := float64(ft.model.count("loaded"))
	switch stage {
	case "extractor":
		return float64(ft.streamMsgs("GIGYA_ACCOUNTS")) / raw
	case "transformer":
		return float64(ft.ackFloor("GIGYA_ACCOUNTS", ft.transformerDurable())) / raw
	default:
		return float64(ft.ackFloor("USERS_MAPPED", ft.loaderDurable())) / mapped
	}
}

// fractions are 1 to 3 random points of progress, in order.
func (ft *faultTrial) fractions(lo, hi float64) []float64 {
	fs := make([]float64, ft.intn(1, 3))
	for i := range fs {
		fs[i] = lo + ft.rng.Float64()*(hi-lo)
	}
	sort.Float64s(fs)
	return fs
}

// atProgress polls until stage has reached f (keeping the extractor runs
// going), then waits a random moment more. It returns false when the stage
// finished before (only the extractor does).
func (ft *faultTrial) atProgress(stage string, f float64) bool {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		running := ft.extracting()
		if stage == "extractor" && !running {
			return false
		}
		ft.alive()
		if ft.progress(stage) >= f {
			break
		}
		if time.Now().After(deadline) {
			ft.t.Fatalf("%s did not reach %.0f%% within 2 minutes (at %.1f%%)", stage, 100*f, 100*ft.progress(stage))
		}
		time.Sleep(5 * time.Millisecond) // the polling period
	}
	time.Sleep(ft.duration(0, 40*time.Millisecond)) // a random moment past the mark
	return true
}

// kill sends SIGKILL to p and waits for it to die.
func (ft *faultTrial) kill(p *quickstart.Proc, at float64) {
	if err := p.Signal(syscall.SIGKILL); err != nil {
		ft.t.Fatal(err)
	}
	code, err := p.Wait(time.Minute)
	if err != nil {
		ft.t.Fatal(err)
	}
	ft.killed++
	ft.t.Logf("SIGKILL %s (pid %d, exit %d) at %.1f%% of its work", p.Name, p.Pid(), code, 100*at)
}

// ---- the trials ----

// filePipeline sets up a file-source trial: a server (unless url is given),
// generated accounts in a first export (with unusable lines), a random file
// sink, and a second export (-update) with newer versions of some accounts.
func (ft *faultTrial) filePipeline(url string) {
	t := ft.t
	if url == "" {
		srv := natstest.Start(t)
		url = srv.ClientURL()
	}
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if ft.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ft.model = newFaultModel(t, false)
	n := ft.intn(1200, 2200)
	g := sample.New(ft.rng.Int64N(1<<40), sample.Options{PBKDF2Rounds: 10, BcryptCost: 4})
	var accounts, changes [][]byte
	for range n {
		accounts = append(accounts, g.Next().JSON)
	}
	first, second := filepath.Join(dir, "export-1.jsonl.gz"), filepath.Join(dir, "export-2.jsonl.gz")
	ft.writeAccounts(first, accounts, true)
	ft.exArgs = [][]string{{"-site", "e2e", first}}
	ft.sink = []string{"auth0-file", "jsonl"}[ft.rng.IntN(2)]
	// A second export during the cut-over: newer versions of some accounts,
	// with new names, extracted as updates.
	for i, k := range ft.rng.Perm(n)[:ft.intn(20, 80)] {
		changes = append(changes, newerAccount(t, accounts[k], i, ft.duration(time.Second, time.Hour)))
	}
	ft.writeAccounts(second, changes, false)
	ft.exArgs = append(ft.exArgs, []string{"-site", "e2e", "-update", second})
	knobs := ft.knobs()
	ft.p = harness.NewPipeline(t, url, filepath.Join(dir, "unused"), append(knobs, ft.sinkConfig(dir)...)...)
	t.Logf("%d accounts (%d loaded, %d refused, %d filtered, %d unusable lines), %d versions in all, sink %s, %s",
		n, ft.model.count("loaded"), ft.model.count("refused"), ft.model.count("filtered"), ft.model.extractDL,
		len(ft.model.versions), ft.sink, strings.Join(knobs, " "))
}

// startAll starts the loader, 1 or 2 transformers and the first extractor run.
func (ft *faultTrial) startAll(transformers int) {
	ft.startLoader()
	for range transformers {
		ft.trs = append(ft.trs, ft.p.Start("transformer"))
	}
	ft.startExtractor()
}

// killTrial kills one binary 1-3 times at random points of its progress and
// restarts it each time.
func (ft *faultTrial) killTrial(bin string) {
	ft.filePipeline("")
	ft.startAll(ft.intn(1, 2))
	for _, f := range ft.fractions(0.05, 0.9) {
		if !ft.atProgress(bin, f) {
			ft.t.Logf("the extractor finished before %.0f%%", 100*f)
			break
		}
		switch bin {
		case "extractor":
			ft.kill(ft.ex, ft.progress(bin))
			time.Sleep(ft.duration(0, 200*time.Millisecond))
			ft.startExtractor()
		case "transformer":
			i := ft.rng.IntN(len(ft.trs))
			ft.kill(ft.trs[i], ft.progress(bin))
			time.Sleep(ft.duration(0, 200*time.Millisecond))
			ft.trs[i] = ft.p.Start("transformer")
		case "loader":
			ft.kill(ft.ld, ft.progress(bin))
			time.Sleep(ft.duration(0, 200*time.Millisecond))
			ft.startLoader()
		}
	}
	if ft.killed == 0 {
		ft.t.Fatalf("the %s finished before the first kill: the trial exercised no crash", bin)
	}
	ft.finishExtraction()
	ft.drainAndStop()
	ft.verify()
}

// restartableServer is `go tool nats-server` as a separate process on a fixed port
// and store directory, so that it can be stopped and started again under
// the binaries' feet. quickstart.StartServer cannot do that: it asks for a
// random port (-p -1) at each start.
type restartableServer struct {
	t         *testing.T
	bin, port string
	store     string
	log       *os.File
	cmd       *exec.Cmd
}

var natsServerPath = sync.OnceValues(func() (string, error) {
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		return "", err
	}
	return quickstart.ServerBinary(context.Background(), root)
})

func startRestartableServer(t *testing.T) *restartableServer {
	bin, err := natsServerPath()
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(harness.FreePorts(t, 1)[0])
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "nats-server.log"))
	if err != nil {
		t.Fatal(err)
	}
	s := &restartableServer{t: t, bin: bin, port: port, store: filepath.Join(dir, "store"), log: log}
	t.Cleanup(func() {
		if s.cmd != nil {
			s.stop()
		}
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("nats-server log:\n%s", harness.LastBytes(b, 3000))
		}
		log.Close()
	})
	s.start()
	return s
}

func (s *restartableServer) url() string { return "nats://127.0.0.1:" + s.port }

// start runs the server and waits until it accepts connections.
func (s *restartableServer) start() {
	s.cmd = exec.Command(s.bin, "-a", "127.0.0.1", "-p", s.port, "-js", "-sd", s.store)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		nc, err := nats.Connect(s.url(), nats.Timeout(time.Second))
		if err == nil {
			nc.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server on port %s not ready within 30s: %v", s.port, err)
		}
		time.Sleep(20 * time.Millisecond) // polling period
	}
}

// stop ends the server with SIGTERM (a clean shutdown) and waits for it.
func (s *restartableServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
		s.t.Errorf("nats-server did not stop within 30s of SIGTERM; killed")
	}
	s.cmd = nil
}

// serverRestartTrial stops the JetStream server 1-3 times at random points
// of a random stage's progress and starts it again on the same port and
// store after a random pause. Every binary must ride it out.
func (ft *faultTrial) serverRestartTrial() {
	srv := startRestartableServer(ft.t)
	ft.filePipeline(srv.url())
	// A restart may come while transformers and loader are starting: they
	// wait for JetStream within nats.connect_retry.
	ft.startAll(ft.intn(1, 2))
	stages := []string{"extractor", "transformer", "loader"}
	for _, f := range ft.fractions(0.05, 0.85) {
		stage := stages[ft.rng.IntN(len(stages))]
		if !ft.atProgress(stage, f) {
			stage = "loader" // the extraction is over: restart now, under the others
		}
		down := ft.duration(0, 1500*time.Millisecond)
		at := ft.progress(stage)
		srv.stop()
		time.Sleep(down) // the outage
		srv.start()
		ft.killed++
		ft.t.Logf("nats-server restarted at %.1f%% of the %s's work, %v down", 100*at, stage, down.Round(time.Millisecond))
	}
	if ft.killed == 0 {
		ft.t.Fatal("the run finished before the first restart")
	}
	ft.finishExtraction()
	ft.drainAndStop()
	ft.verify()
}

// gigyaSite serves a simulated site and writes the extractor config.
func (ft *faultTrial) gigyaSite(accounts int, extra string) (*gigyasim.Sim, string) {
	t := ft.t
	sim, base := harness.StartGigyaSim(t, gigyasim.Options{Accounts: accounts, Seed: ft.rng.Int64N(1 << 40), APIKey: "3_faults", Secret: "faults-secret"})
	cfg := filepath.Join(t.TempDir(), "extractor.yaml")
	body := fmt.Sprintf(`extractor:
  source: {type: gigya-api}
  gigya:
%s    sites:
      - {name: faults, api_key: 3_faults, secret: "${SIM_SECRET}", base_url: %q, allow_http: true}
`, extra, base)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return sim, cfg
}

// modelSite adds the site's accounts as they are now.
func (ft *faultTrial) modelSite(sim *gigyasim.Sim, uids []string) {
	for _, uid := range uids {
		raw, ok := sim.Account(uid)
		if !ok {
			ft.t.Fatalf("no account %s", uid)
		}
		ft.model.add(ft.t, raw)
	}
}

// updateSite gives some of the site's full accounts new names (a newer
// version) and returns their UIDs.
func (ft *faultTrial) updateSite(sim *gigyasim.Sim) []string {
	full := map[string]bool{}
	for _, v := range ft.model.versions {
		full[v.uid] = true
	}
	uids := sim.UIDs()
	var changed []string
	want := ft.intn(20, 60)
	for i, k := range ft.rng.Perm(len(uids)) {
		if len(changed) == want {
			break
		}
		if !full[uids[k]] || ft.model.refused[uids[k]] != "" {
			continue // a user the target refuses keeps one version: one dead letter
		}
		if err := sim.Update(uids[k], func(a map[string]any) { harness.RenameAccount(a, i) }); err != nil {
			ft.t.Fatal(err)
		}
		changed = append(changed, uids[k])
	}
	return changed
}

func (ft *faultTrial) connect(url string) {
	nc, err := nats.Connect(url)
	if err != nil {
		ft.t.Fatal(err)
	}
	ft.t.Cleanup(nc.Close)
	if ft.js, err = jetstream.New(nc); err != nil {
		ft.t.Fatal(err)
	}
}

// gigyaTrial extracts a simulated site through accounts.search while it
// fails in every way it can, into a jsonl sink; some accounts change
// between the full run and an incremental one (with more faults). The full
// run is also killed once at a random page in half the trials.
func (ft *faultTrial) gigyaTrial() {
	t := ft.t
	srv := natstest.Start(t)
	ft.connect(srv.ClientURL())
	pageSize := ft.intn(80, 200)
	sim, cfg := ft.gigyaSite(ft.intn(1500, 2500), fmt.Sprintf("    rate: 100\n    timeout: 2s\n    page_size: %d\n", pageSize))
	ft.model = newFaultModel(t, true)
	ft.modelSite(sim, sim.UIDs())
	dir := t.TempDir()
	ft.sink = "jsonl"
	env := append(ft.knobs(), ft.sinkConfig(dir)...)
	ft.p = harness.NewPipeline(t, srv.ClientURL(), filepath.Join(dir, "unused"), append(env, "SIM_SECRET=faults-secret")...)
	ft.exArgs = [][]string{{"-config", cfg}}
	pages := len(ft.model.versions)/pageSize + 1

	injected := ft.injectGigya(sim, pages)
	ft.startAll(ft.intn(1, 2))
	if ft.rng.IntN(2) == 0 {
		at := ft.intn(1, pages-1)
		deadline := time.Now().Add(2 * time.Minute)
		for sim.Stats().PagesServed < at && ft.extracting() {
			ft.alive()
			if time.Now().After(deadline) {
				t.Fatalf("the extractor did not get %d pages within 2 minutes", at)
			}
			time.Sleep(5 * time.Millisecond) // polling period
		}
		if ft.exRun == 0 {
			time.Sleep(ft.duration(0, 100*time.Millisecond))
			ft.kill(ft.ex, float64(sim.Stats().PagesServed)/float64(pages))
			ft.startExtractor()
		}
	}
	ft.finishExtraction()
	// Accounts change while transformer and loader may still be at work;
	// more faults; the incremental run.
	changed := ft.updateSite(sim)
	ft.modelSite(sim, changed)
	injected = append(injected, ft.injectGigya(sim, len(changed)/pageSize+2)...)
	ft.exArgs = append(ft.exArgs, []string{"-config", cfg, "-incremental"})
	ft.startExtractor()
	ft.finishExtraction()
	ft.drainAndStop()
	st := sim.Stats()
	t.Logf("faults injected %v; fired %v; %d pages, %d searches, %d accounts changed between the runs",
		injected, st.Faults, st.PagesServed, st.Requests["accounts.search"], len(changed))
	ft.verify()
}

// injectGigya arms 2-4 random faults over the next pages. (Each failure in
// a row doubles the client's backoff, up to 10 s: more would only make the
// trial longer.)
func (ft *faultTrial) injectGigya(sim *gigyasim.Sim, pages int) []string {
	kinds := []gigyasim.Fault{gigyasim.HTTP500, gigyasim.GigyaGeneral500001, gigyasim.Timeout504001,
		gigyasim.RateLimited, gigyasim.ExpireCursor, gigyasim.Slow, gigyasim.Truncated, gigyasim.SpuriousCursor}
	var out []string
	for range ft.intn(2, 4) {
		f := kinds[ft.rng.IntN(len(kinds))]
		times := ft.intn(1, 2)
		after := ft.rng.IntN(max(pages, 1))
		opts := []gigyasim.FaultOption{gigyasim.OnSearch(), gigyasim.AfterMatches(after)}
		desc := fmt.Sprintf("%v×%d@%d", f, times, after)
		if f == gigyasim.Slow {
			d := ft.duration(100*time.Millisecond, 3*time.Second) // beyond 2s: the client's timeout
			opts = append(opts, gigyasim.WithDelay(d))
			desc += "(" + d.Round(time.Millisecond).String() + ")"
		}
		if f == gigyasim.SpuriousCursor {
			opts = nil
		}
		sim.Inject(f, times, opts...)
		out = append(out, desc)
	}
	return out
}

// auth0Trial loads a simulated site into a simulated Auth0 tenant through
// the Management API while it answers 429s and 5xx, fails whole jobs and
// runs slow ones; half the trials also kill the loader once. Some accounts
// change between a full and an incremental extraction. With faults false it
// is the plain update case with the sink's default options (no upsert).
func (ft *faultTrial) auth0Trial(faults bool) {
	t := ft.t
	srv := natstest.Start(t)
	ft.connect(srv.ClientURL())
	accounts := 500 // the plain case: enough for several jobs
	if faults {
		accounts = ft.intn(1200, 2000)
	}
	sim, cfg := ft.gigyaSite(accounts, "    rate: 1000\n")
	ft.model = newFaultModel(t, true)
	ft.modelSite(sim, sim.UIDs())
	ft.asim = auth0sim.New(auth0sim.Options{JobDuration: ft.duration(50*time.Millisecond, 200*time.Millisecond), RehashCost: 4})
	abase, stopA, err := ft.asim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopA)
	upsert := ""
	if faults {
		upsert, ft.upsert = "upsert: true, ", true
	}
	dir := t.TempDir()
	ft.sink = "auth0-api"
	ft.loadCfg = filepath.Join(dir, "loader.yaml")
	os.WriteFile(ft.loadCfg, fmt.Appendf(nil, `loader:
  sink:
    type: auth0-api
    options: {base_url: %q, allow_http: true, client_id: sim-client-id, client_secret: sim-client-secret,
              connection: Username-Password-Authentication, %spoll_interval: 50ms}
  consumer: {max_ack_pending: 4000, ack_wait: 5s}
`, abase, upsert), 0o600)
	env := []string{"SIM_SECRET=faults-secret", "GM_LOADER_BATCH_MAX_RECORDS=" + strconv.Itoa(ft.intn(100, 400)), "GM_LOADER_BATCH_MAX_WAIT=100ms"}
	ft.p = harness.NewPipeline(t, srv.ClientURL(), filepath.Join(dir, "unused"), env...)
	ft.exArgs = [][]string{{"-config", cfg}}

	// Faults within what the product documents it rides out: at most 8
	// failed HTTP answers in a row (the client retries a call 8 times; 9 in
	// a row fail the call, and at start-up the loader), and at most 3 failed
	// jobs (job_retries). Inject arms the HTTP faults for the next requests,
	// whichever they are, the token included. Failures in a row cost a
	// backoff that doubles from 0.5 s (6 in a row: 20 s), so a trial has at
	// most 4.
	var injected []string
	httpLeft, jobsLeft := 4, 3
	inject := func() {
		if !faults {
			return
		}
		for _, f := range []struct {
			name  string
			fault auth0sim.Fault
			max   int
			left  *int
		}{{"429", auth0sim.FaultRateLimit, 2, &httpLeft}, {"500", auth0sim.Fault500, 1, &httpLeft}, {"503", auth0sim.Fault503, 1, &httpLeft},
			{"job-failed", auth0sim.FaultJobFailed, 1, &jobsLeft}, {"slow-job", auth0sim.FaultSlowJob, 1, nil}} {
			n := ft.rng.IntN(f.max + 1)
			if f.left != nil {
				n = min(n, *f.left)
				*f.left -= n
			}
			if n > 0 {
				ft.asim.Inject(f.fault, n)
				injected = append(injected, fmt.Sprintf("%s×%d", f.name, n))
			}
		}
	}
	inject()
	began := time.Now()
	ft.startAll(1)
	killAt := -1
	if faults && ft.rng.IntN(2) == 0 {
		killAt = ft.intn(1, 3)
	}
	// The full run, killing the loader once while a slow job runs after
	// killAt completed ones, and injecting more faults after the first job.
	// The job outlives the loader, as it does at Auth0: the restarted loader
	// must let it land before its own jobs, or its users' older versions
	// would overwrite the newer ones the restart writes meanwhile.
	deadline := time.Now().Add(3 * time.Minute)
	more := false
	slowAfter := -1 // jobs created when the slow job was armed
	var killAfter time.Time
	for ft.extracting() || killAt > 0 {
		ft.alive()
		st := ft.asim.Stats()
		if killAt > 0 && slowAfter < 0 && st.JobsCompleted >= killAt {
			ft.asim.Inject(auth0sim.FaultSlowJob, 1)
			slowAfter = st.JobsCreated
			injected = append(injected, "slow-job-at-kill×1")
		}
		if killAt > 0 && slowAfter >= 0 && st.JobsCreated > slowAfter && killAfter.IsZero() {
			killAfter = time.Now().Add(ft.duration(0, 100*time.Millisecond))
		}
		// Not in the instant between a job's creation and its record in
		// etl_state, which the README names as the one gap.
		if killAt > 0 && !killAfter.IsZero() && time.Now().After(killAfter) && harness.JobsRecorded(ft.js, ft.asim, ft.sink) {
			ft.kill(ft.ld, float64(st.JobsCompleted)/float64(st.JobsCreated))
			ft.startLoader()
			killAt = 0
		}
		if !more && st.JobsCompleted >= 1 {
			inject()
			more = true
		}
		if killAt > 0 && ft.exRun > 0 && ft.consumerDrained(ft.loaderDurable()) {
			t.Logf("no job was running after %d completed ones: no kill", killAt)
			killAt = 0
		}
		if time.Now().After(deadline) {
			t.Fatalf("the full run did not end within 3 minutes: %+v", ft.asim.Stats())
		}
		time.Sleep(5 * time.Millisecond) // polling period
	}
	t.Logf("full run extracted at %v: %+v", time.Since(began).Round(time.Millisecond), ft.asim.Stats())
	if !faults {
		// The plain case: the first version is in the tenant before the
		// second one exists.
		ft.drainAndStop()
		ft.trs = []*quickstart.Proc{ft.p.Start("transformer")}
		ft.startLoader()
	}
	// Accounts change (the loader may still be at work on the full run);
	// the incremental run brings the new versions.
	changed := ft.updateSite(sim)
	ft.modelSite(sim, changed)
	inject()
	ft.exArgs = append(ft.exArgs, []string{"-config", cfg, "-incremental"})
	ft.startExtractor()
	ft.finishExtraction()
	t.Logf("incremental run extracted at %v: %+v", time.Since(began).Round(time.Millisecond), ft.asim.Stats())
	ft.drainAndStop()
	t.Logf("drained at %v", time.Since(began).Round(time.Millisecond))
	st := ft.asim.Stats()
	raw, _ := json.Marshal(st)
	t.Logf("upsert %v; faults injected %v; %d accounts changed between the runs; simulator %s", faults, injected, len(changed), raw)
	ft.verify()
}

// fileUpdateTrial: the plain update case into auth0-file, without faults:
// accounts exported twice, the second time with newer versions of some.
func (ft *faultTrial) fileUpdateTrial() {
	t := ft.t
	srv := natstest.Start(t)
	ft.connect(srv.ClientURL())
	dir := t.TempDir()
	ft.model = newFaultModel(t, false)
	g := sample.New(ft.rng.Int64N(1<<40), sample.Options{PBKDF2Rounds: 10, BcryptCost: 4})
	var accounts, changes [][]byte
	for range 500 {
		accounts = append(accounts, g.Next().JSON)
	}
	for i, k := range ft.rng.Perm(len(accounts))[:20] {
		changes = append(changes, newerAccount(t, accounts[k], i, time.Hour))
	}
	first, second := filepath.Join(dir, "export-1.jsonl.gz"), filepath.Join(dir, "export-2.jsonl.gz")
	ft.writeAccounts(first, accounts, false)
	ft.writeAccounts(second, changes, false)
	ft.sink = "auth0-file"
	ft.p = harness.NewPipeline(t, srv.ClientURL(), filepath.Join(dir, "unused"), append(ft.sinkConfig(dir), "GM_LOADER_BATCH_MAX_WAIT=50ms")...)
	ft.exArgs = [][]string{{"-site", "e2e", first}, {"-site", "e2e", "-update", second}} // a second export: its accounts may be loaded already
	ft.startAll(1)
	ft.finishExtraction()
	ft.drainAndStop()
	ft.verify()
}

// ---- the checks ----

// heldUser is one user as the target holds it.
type heldUser struct {
	where string // file and position, for messages
	user  map[string]any
}

// uid is the Gigya UID: Auth0's user_id without its prefix, LoginRadius'
// Uid.
func (tu heldUser) uid() string {
	if id, ok := tu.user["Uid"].(string); ok {
		return id
	}
	id, _ := tu.user["user_id"].(string)
	return strings.TrimPrefix(id, "auth0|")
}

// stamp is the version's lastUpdated as the mapping wrote it: Auth0's
// app_metadata.gigya_last_updated, LoginRadius' UpdatedTime.
func (tu heldUser) stamp() string {
	if s, ok := tu.user["UpdatedTime"].(string); ok {
		return s
	}
	md, _ := tu.user["app_metadata"].(map[string]any)
	s, _ := md["gigya_last_updated"].(string)
	return s
}

// name is the given name, which differs between the versions of a trial.
func (tu heldUser) name() any {
	if n, ok := tu.user["FirstName"]; ok {
		return n
	}
	return tu.user["given_name"]
}

// readJSONLSink reads a jsonl sink, in order.
func readJSONLSink(t *testing.T, path string) []heldUser {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []heldUser
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var u map[string]any
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatalf("%s line %d is not JSON (%v): %.200q", path, i+1, err, line)
		}
		out = append(out, heldUser{where: fmt.Sprintf("%s:%d", filepath.Base(path), i+1), user: u})
	}
	return out
}

// readAuth0ImportFiles reads the import files of an auth0-file sink: first
// imports and updates (upsert files), each in file name order.
func readAuth0ImportFiles(t *testing.T, dir string) (first, upserts []heldUser) {
	harness.ReadImportFiles(t, dir, func(f string, users []map[string]any) {
		for i, u := range users {
			tu := heldUser{where: fmt.Sprintf("%s[%d]", filepath.Base(f), i), user: u}
			if strings.Contains(filepath.Base(f), "-upsert-") {
				upserts = append(upserts, tu)
			} else {
				first = append(first, tu)
			}
		}
	})
	return first, upserts
}

// lastUpdatedMillis turns a mapped user's gigya_last_updated back into the version's
// lastUpdatedTimestamp, the key of the model.
func lastUpdatedMillis(t *testing.T, iso string) string {
	ts, err := time.Parse(time.RFC3339Nano, iso)
	if err != nil {
		return "?" + iso
	}
	return strconv.FormatInt(ts.UnixMilli(), 10)
}

// verify checks the target and the streams against the model: every
// version extracted once, mapped or dead-lettered or filtered as the
// mapping says, every user at the target exactly once with its newest
// version, and extracted = loaded + dead-lettered + filtered.
func (ft *faultTrial) verify() {
	t := ft.t
	m := ft.model
	loadedVersions := m.count("loaded")
	// Extraction: each version stored once.
	if n := ft.streamMsgs("GIGYA_ACCOUNTS"); n != uint64(len(m.versions)) {
		t.Errorf("GIGYA_ACCOUNTS holds %d messages, want %d versions: an account was extracted twice or lost", n, len(m.versions))
	}
	if n := ft.streamMsgs("USERS_MAPPED"); n != uint64(loadedVersions) {
		t.Errorf("USERS_MAPPED holds %d messages, want %d: a version was mapped twice or lost", n, loadedVersions)
	}
	bySubject, dlUIDs := harness.DeadLetters(t, ft.js)
	dl := 0
	for _, n := range bySubject {
		dl += n
	}
	wantDL := map[string]int{}
	if m.extractDL > 0 {
		wantDL["etl.deadletter.extract.e2e"] = m.extractDL
	}
	if n := m.count("refused"); n > 0 {
		wantDL["etl.deadletter.transform."+ft.tgt()] = n
	}
	loadSubject := "etl.deadletter.load." + ft.tgt()
	if n := len(m.refused); n > 0 {
		// Each refused user has one version (none is updated), so one
		// dead letter, however often its batch was sent.
		wantDL[loadSubject] = n
	}
	if !reflect.DeepEqual(bySubject, wantDL) {
		t.Errorf("dead letters %v, want %v; unexpected ones:\n%s", bySubject, wantDL, ft.unexpectedDeadLetters(wantDL))
	}
	for _, v := range m.versions {
		if v.outcome == "refused" && !dlUIDs[v.uid] {
			t.Errorf("user %s, refused by the mapping, is not in the dead-letter stream", v.uid)
		}
	}

	// Where each version went, to explain a stale one.
	where := map[string][]string{} // uid:stamp -> places at the target
	loadDL := ft.loadDeadLetters()
	codes := ft.loadDeadLetterCodes()
	for uid, code := range m.refused {
		if got := codes[uid]; !slices.Equal(got, []string{code}) {
			t.Errorf("user %s, which the target refuses, has load dead letters with codes %v, want one with %s", uid, got, code)
		}
	}
	why := func(uid, newest string) string {
		var out []string
		if w := where[uid+":"+newest]; len(w) > 0 {
			switch ft.sink {
			case "auth0-file":
				out = append(out, fmt.Sprintf("the newest version is a first import too (%v): importing the files, Auth0 keeps the version imported first and refuses the other as DUPLICATED_USER", w))
			default:
				out = append(out, fmt.Sprintf("the newest version was written at %v, before the older one", w))
			}
		}
		if d := loadDL[uid]; len(d) > 0 {
			out = append(out, "the loader dead-lettered "+strings.Join(d, "; "))
		}
		if len(out) == 0 && ft.sink == "auth0-api" && !ft.upsert {
			out = append(out, "the loader acked the newest version as loaded: without upsert Auth0 refuses it as DUPLICATED_USER, which duplicate_is_loaded counts as loaded")
		}
		if len(out) == 0 && ft.sink == "auth0-api" {
			out = append(out, "the loader acked the newest version as loaded, and an older version was imported (upserted) after it")
		}
		if ft.lr != nil {
			out = append(out, "the tenant stored the versions "+strings.Join(ft.lr.of(uid), ", ")+" in this order")
		}
		return ": " + strings.Join(out, "; ")
	}

	// The target.
	var held []heldUser // what the target holds, one per user, after updates
	written := 0        // versions written to the file sinks
	latest := m.latest()
	switch ft.sink {
	case "jsonl":
		lines := readJSONLSink(t, ft.out)
		written = len(lines)
		perVersion := map[string][]string{}
		last := map[string]heldUser{}
		for _, l := range lines {
			k := l.uid() + ":" + lastUpdatedMillis(t, l.stamp())
			perVersion[k] = append(perVersion[k], l.where)
			where[k] = append(where[k], l.where)
			last[l.uid()] = l
		}
		// A version is written at most once (the sink's journal makes a
		// redelivery idempotent); an older one may not be written at all,
		// when the newer one was written first (superseded).
		for _, v := range m.versions {
			if v.outcome == "loaded" {
				if w := perVersion[v.uid+":"+v.stamp]; len(w) > 1 {
					t.Errorf("version %s:%s is written %d times, want at most once (%v)", v.uid, v.stamp, len(w), w)
				}
			}
		}
		for _, l := range last {
			held = append(held, l)
		}
	case "auth0-file":
		first, upserts := readAuth0ImportFiles(t, ft.out)
		written = len(first) + len(upserts)
		// What Auth0 holds after importing the first-import files (a user
		// that is already there is refused: DUPLICATED_USER), then the
		// upsert files in order.
		byUID := map[string]heldUser{}
		count := map[string][]string{}
		for _, u := range append(slices.Clone(first), upserts...) {
			k := u.uid() + ":" + lastUpdatedMillis(t, u.stamp())
			where[k] = append(where[k], u.where)
		}
		for _, u := range first {
			count[u.uid()] = append(count[u.uid()], u.where)
			if _, ok := byUID[u.uid()]; !ok {
				byUID[u.uid()] = u
			}
		}
		for uid, w := range count {
			if len(w) != 1 {
				t.Errorf("user %s is in the first-import files %d times, want once (Auth0 refuses all but the first as DUPLICATED_USER): %v", uid, len(w), w)
			}
		}
		// A user whose first version was superseded (its update was
		// written first) is only in an upsert file, which creates it.
		for _, u := range upserts {
			byUID[u.uid()] = u
		}
		for _, u := range byUID {
			held = append(held, u)
		}
	case "auth0-api":
		for _, u := range ft.asim.Users() {
			held = append(held, heldUser{where: "tenant", user: viaJSON(t, u)})
		}
	case "loginradius-bulk", "loginradius-api":
		for _, u := range ft.lsim.Users() {
			held = append(held, heldUser{where: "tenant", user: viaJSON(t, u)})
		}
	}
	// Each mapped version was acked by the drained loader: written or
	// superseded by a newer version of the user (both count as loaded: the
	// user is at the target), or dead-lettered at the load stage.
	loaded := int(ft.streamMsgs("USERS_MAPPED")) - bySubject[loadSubject]
	seen := map[string]int{}
	stale := 0
	for _, u := range held {
		uid := u.uid()
		seen[uid]++
		want, ok := latest[uid]
		if !ok {
			t.Errorf("user %s (%s) is at the target but should not be", uid, u.where)
			continue
		}
		if seen[uid] > 1 {
			t.Errorf("user %s exists %d times at the target", uid, seen[uid])
		}
		if diff := heldDiff(ft.sink, want.user, u.user); diff != "" {
			if got := lastUpdatedMillis(t, u.stamp()); got != want.stamp {
				stale++
				if stale <= 5 {
					t.Errorf("STALE VERSION: user %s at the target (%s) is version %s (name %v), want the newest %s (name %v)%s",
						uid, u.where, got, u.name(), want.stamp, heldUser{user: want.user}.name(), why(uid, want.stamp))
				}
				continue
			}
			t.Errorf("user %s at the target (%s) differs from its mapping: %s", uid, u.where, diff)
		}
	}
	if stale > 5 {
		t.Errorf("... %d users in all hold a stale version", stale)
	}
	rewritten := 0 // versions the LoginRadius tenant stored more than once
	if ft.lr != nil {
		rewritten = ft.lr.check(t, m)
	}
	missing := 0
	for _, uid := range m.loadedUIDs() {
		if seen[uid] == 0 {
			missing++
			if missing <= 5 {
				t.Errorf("LOST: user %s is not at the target", uid)
			}
		}
	}
	if missing > 5 {
		t.Errorf("... %d users in all are missing", missing)
	}
	// The invariant, over every item the extractor read.
	extracted := len(m.versions) + m.extractDL
	filtered := m.count("filtered")
	if extracted != loaded+dl+filtered {
		t.Errorf("extracted %d != loaded %d + dead-lettered %d + filtered %d", extracted, loaded, dl, filtered)
	}
	if !t.Failed() {
		files := ""
		switch ft.sink {
		case "auth0-api":
		case "loginradius-bulk", "loginradius-api":
			stored := ft.lr.total() - rewritten // distinct versions the tenant stored
			files = fmt.Sprintf(" (%d versions stored, %d superseded; %d writes at the tenant, %d of them a version stored again; %d refused users dead-lettered with their codes)",
				stored, loaded-stored, ft.lr.total(), rewritten, len(m.refused))
		default:
			files = fmt.Sprintf(" (%d versions written, %d superseded)", written, loaded-written)
		}
		t.Logf("verified: %d versions extracted (+%d unusable lines) = %d loaded%s + %d dead-lettered + %d filtered; %d users at the target, %d with two versions; %d crashes or restarts",
			len(m.versions), m.extractDL, loaded, files, dl, filtered, len(held), len(m.versions)-len(m.loadedUIDs())-m.count("refused")-filtered, ft.killed)
	}
}

// loadDeadLetters lists the load-stage dead letters by UID: the version
// (from the mapped user they hold) and the error.
func (ft *faultTrial) loadDeadLetters() map[string][]string {
	out := map[string][]string{}
	ctx := context.Background()
	s, err := ft.js.Stream(ctx, "ETL_DEADLETTER")
	if err != nil {
		return out
	}
	info, err := s.Info(ctx)
	if err != nil {
		return out
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil || m.Header.Get("Etl-Stage") != "load" {
			continue
		}
		var u map[string]any
		_ = json.Unmarshal(m.Data, &u)
		tu := heldUser{user: u}
		out[tu.uid()] = append(out[tu.uid()], fmt.Sprintf("version %s (%s: %s)", lastUpdatedMillis(ft.t, tu.stamp()),
			m.Header.Get("Etl-Error-Code"), m.Header.Get("Etl-Error")))
	}
	return out
}

// loadDeadLetterCodes lists the codes of the load-stage dead letters by
// UID.
func (ft *faultTrial) loadDeadLetterCodes() map[string][]string {
	out := map[string][]string{}
	ctx := context.Background()
	s, err := ft.js.Stream(ctx, "ETL_DEADLETTER")
	if err != nil {
		return out
	}
	info, err := s.Info(ctx)
	if err != nil {
		return out
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil || m.Header.Get("Etl-Stage") != "load" {
			continue
		}
		uid := m.Header.Get("Gigya-UID")
		out[uid] = append(out[uid], m.Header.Get("Etl-Error-Code"))
	}
	return out
}

// unexpectedDeadLetters describes up to 10 dead letters on subjects not in want.
func (ft *faultTrial) unexpectedDeadLetters(want map[string]int) string {
	ctx := context.Background()
	s, err := ft.js.Stream(ctx, "ETL_DEADLETTER")
	if err != nil {
		return err.Error()
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err.Error()
	}
	var out []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0 && len(out) < 10; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		if _, ok := want[m.Subject]; ok {
			continue
		}
		out = append(out, fmt.Sprintf("  %s uid %s code %s attempts %s: %s", m.Subject, m.Header.Get("Gigya-UID"),
			m.Header.Get("Etl-Error-Code"), m.Header.Get("Etl-Attempts"), m.Header.Get("Etl-Error")))
	}
	return strings.Join(out, "\n")
}

// heldDiff compares what the target holds with the mapped user. A file
// sink holds the mapped user exactly, and so does LoginRadius through the
// bulk API (the simulator gives the request's PasswordEncryption back as
// the profile's); Auth0 holds its own form of it, so only the fields it
// keeps as imported are compared, and the Account API sink sends no hash.
func heldDiff(sink string, want, got map[string]any) string {
	if sink == "loginradius-api" {
		want = maps.Clone(want)
		delete(want, "PasswordHash")
		delete(want, "PasswordEncryption")
	}
	if sink == "auth0-api" {
		w, g := map[string]any{}, map[string]any{}
		for _, f := range []string{"email", "given_name", "family_name", "name", "app_metadata", "user_metadata"} {
			w[f], g[f] = want[f], got[f]
		}
		want, got = w, g
	}
	var diffs []string
	jsonValueDiff("", want, got, &diffs)
	return strings.Join(diffs, "; ")
}

// jsonValueDiff lists the paths where two decoded JSON values differ.
func jsonValueDiff(path string, want, got any, diffs *[]string) {
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if wok && gok {
		union := maps.Clone(wm)
		maps.Copy(union, gm)
		for _, k := range slices.Sorted(maps.Keys(union)) {
			jsonValueDiff(strings.TrimPrefix(path+"."+k, "."), wm[k], gm[k], diffs)
		}
		return
	}
	if !reflect.DeepEqual(want, got) {
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		*diffs = append(*diffs, fmt.Sprintf("%s: got %.150s, want %.150s", path, g, w))
	}
}
