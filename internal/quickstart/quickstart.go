package quickstart

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options configure a quickstart run.
type Options struct {
	Root    string   // module root (binaries are built from it)
	BinDir  string   // where to build the binaries (empty: a temporary directory)
	NATSURL string   // an existing server; empty starts one
	Inputs  []string // Gigya export files; none: extract through accounts.search from a simulated site
	// Accounts is the size of the simulated Gigya site (default 1000) when
	// there are no Inputs.
	Accounts int
	OutDir   string // where the loader writes Auth0 import files
	// Auth0API loads through the Management API's import jobs into a
	// simulated Auth0 tenant instead of writing import files.
	Auth0API bool
	// Auth0Sim receives the simulated tenant when Auth0API is set, so a
	// caller can inspect it (users, logins) after the run.
	Auth0Sim func(*auth0sim.Sim)
	// Target is the mapping target: auth0 (default), or loginradius, which
	// maps with configs/loginradius.yaml and loads into a simulated
	// LoginRadius tenant through the loginradius-bulk sink.
	Target string
	// LoginRadiusSim receives the simulated tenant of a loginradius run, so
	// a caller can inspect it (users, logins) after the run.
	LoginRadiusSim func(*lrsim.Sim)
	// StoreDir is where the JetStream server started for the run keeps its
	// store (default OutDir/nats). It is emptied when a run starts and kept
	// when it ends, so that its dead letters can be read afterwards
	// ([Inspect]).
	StoreDir string
	Stdout   io.Writer
	Stderr   io.Writer // the output of an [Inspect] command's errors (default os.Stderr)
}

func (o Options) storeDir() string {
	if o.StoreDir != "" {
		return o.StoreDir
	}
	return filepath.Join(o.OutDir, "nats")
}

// Report is what a run did, from the processes' own summaries.
type Report struct {
	Read, Published, Mapped, Filtered, Loaded int64
	Flagged                                   int64            // fields dropped and flagged, e.g. password resets
	DeadLettered                              map[string]int64 // by stage
	FilteredBy                                map[string]int64 // by filter name
	// Superseded counts the older versions of users the loader acked
	// unwritten (a newer one came in the same run); Conflicts, among the
	// load dead letters, the accounts whose email another account holds.
	Superseded, Conflicts int64
	// Files are the import files this run wrote (not those earlier runs
	// left in the directory), with their size and users.
	Files    []ImportFile
	Auth0API bool // loaded through the Management API, not files
	// LoginRadius is set when the run loaded into a simulated LoginRadius
	// tenant: its bulk requests and the largest one, in bytes.
	LoginRadius           bool
	LRRequests, LRMaxBody int
	Elapsed               time.Duration
	// Failed is why the run did not finish, when a stage failed after the
	// pipeline ran (an input cut short): the extractor's exit code and its
	// error. The counts are those of what did go through.
	Failed string
	// Store is the JetStream store the run kept (empty with an existing
	// server, NATSURL, which keeps the streams itself).
	Store   string
	NATSURL string // the existing server used instead, if any
	// Inspect is the command that lists the dead letters afterwards.
	Inspect string
}

type extractorSummary struct {
	Read, Published, Duplicates int64
	DeadLettered                int64 `json:"dead_lettered"`
}

type transformerSummary struct {
	Mapped, Filtered, Flagged int64
	DeadLettered              int64            `json:"dead_lettered"`
	FilteredBy                map[string]int64 `json:"filtered_by"`
}

type loaderSummary struct {
	Loaded, Superseded, Conflicts int64
	DeadLettered                  int64 `json:"dead_lettered"`
}

// ImportFile is one Auth0 import file a run wrote.
type ImportFile struct {
	Name  string
	Bytes int64
	Users int
}

// Extracted is what the extractor accounted for: published, or
// dead-lettered because it could not be read.
func (r *Report) Extracted() int64 { return r.Published + r.DeadLettered["extract"] }

// Unaccounted is what the balance misses: extracted accounts that are
// neither loaded, dead-lettered, filtered nor superseded. It is 0 for a
// run that went through.
func (r *Report) Unaccounted() int64 {
	return r.Extracted() - r.Loaded - r.DeadLettered["extract"] - r.DeadLettered["transform"] - r.DeadLettered["load"] - r.Filtered - r.Superseded
}

// Run runs the pipeline over opts.Inputs to the end. Cancelling ctx (Ctrl-C)
// stops every process gracefully and the server, then returns ctx's error.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Target == "" {
		o.Target = "auth0"
	}
	if o.Target != "auth0" && o.Target != "loginradius" {
		return nil, fmt.Errorf("target %q: want auth0 or loginradius", o.Target)
	}
	if o.Target == "loginradius" && o.Auth0API {
		return nil, errors.New("the Auth0 Management API loads the auth0 target, not loginradius")
	}
	tmp, err := os.MkdirTemp("", "gigya-migrate-quickstart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	// With the BinDir asked for: a temporary one is gone after the run.
	inspect, transformer := InspectCommand(o), filepath.Join(cmp.Or(o.BinDir, "bin"), "transformer")
	if o.BinDir == "" {
		o.BinDir = filepath.Join(tmp, "bin")
	}
	logDir := filepath.Join(o.OutDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Stdout, "building extractor, transformer, loader into %s\n", o.BinDir)
	if err := Build(ctx, o.Root, o.BinDir); err != nil {
		return nil, err
	}
	url := o.NATSURL
	if url == "" {
		// The store outlives the run, so that what its summary points to
		// (the dead letters) can still be read; a run starts from an empty
		// one, so that it migrates everything again instead of resuming.
		if err := os.RemoveAll(o.storeDir()); err != nil {
			return nil, err
		}
		// So do the import files: with the earlier run's journal the sink
		// would skip the users it wrote then, and this run would write no
		// file of its own.
		if err := clearImportFiles(o.OutDir); err != nil {
			return nil, err
		}
		srv, stop, err := startServer(ctx, o.Root, o.storeDir(), logDir)
		if err != nil {
			return nil, err
		}
		defer stop()
		url = srv.URL
		fmt.Fprintf(o.Stdout, "started nats-server with JetStream at %s (store in %s/, kept after the run)\n", url, o.storeDir())
	} else {
		fmt.Fprintf(o.Stdout, "using the NATS server at %s\n", url)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}

	env := []string{"NATS_URL=" + url}
	var procs []*Proc
	// Where each process's log starts: the logs of earlier runs come before,
	// and a failure's cause is read from this run's part only.
	logStart := map[string]int64{}
	stopAll := func() {
		for _, p := range procs {
			_ = p.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			_, _ = p.Wait(time.Minute)
		}
	}
	start := func(name string, args ...string) (*Proc, error) {
		logf, err := os.OpenFile(filepath.Join(logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		if fi, err := logf.Stat(); err == nil {
			logStart[name] = fi.Size()
		}
		p, err := Start(filepath.Join(o.BinDir, name), args, env, logf)
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
		return p, nil
	}
	began := time.Now()
	loaderEnv := fmt.Sprintf("GM_LOADER_TARGET=%s", o.Target)
	env = append(env, loaderEnv)
	if o.Target == "loginradius" {
		env = append(env, "GM_TRANSFORMER_MAPPING="+filepath.Join(o.Root, "configs", "loginradius.yaml"))
	}
	tr, err := start("transformer")
	if err != nil {
		return nil, err
	}
	before := existing(o.OutDir) // an earlier run's files are not this one's
	loaderName := "auth0-file"
	var ld *Proc
	var lsim *lrsim.Sim
	if o.Target == "loginradius" {
		loaderName = "loginradius-bulk"
		lsim = lrsim.New(lrsim.Options{})
		base, stopLR, err := lsim.Start()
		if err != nil {
			stopAll()
			return nil, err
		}
		defer stopLR()
		if o.LoginRadiusSim != nil {
			o.LoginRadiusSim(lsim)
		}
		fmt.Fprintf(o.Stdout, "started a simulated LoginRadius tenant at %s (bulk migration API)\n", base)
		env = append(env, "LR_SIM_SECRET="+lsim.APISecret()) // the simulator's default credentials
		ld, err = startLRLoader(start, tmp, base)
	} else if o.Auth0API {
		loaderName = "auth0-api"
		sim := auth0sim.New(auth0sim.Options{})
		base, stopA0, err := sim.Start()
		if err != nil {
			stopAll()
			return nil, err
		}
		defer stopA0()
		if o.Auth0Sim != nil {
			o.Auth0Sim(sim)
		}
		fmt.Fprintf(o.Stdout, "started a simulated Auth0 tenant at %s (Management API import jobs)\n", base)
		env = append(env, "AUTH0_SIM_SECRET=sim-client-secret") // the simulator's default credentials
		ld, err = startAPILoader(start, tmp, base)
	} else {
		ld, err = startLoader(start, tmp, o.OutDir)
	}
	if err != nil {
		stopAll()
		return nil, err
	}
	top := topology.Default()
	refs := []ConsumerRef{{top.Raw.Name, "transformer-" + o.Target}, {top.Mapped.Name, "loader-" + loaderName}}
	cause := func(p *Proc) string {
		return LastError(filepath.Join(logDir, p.Name+".log"), p.Name, logStart[p.Name])
	}
	if err := waitConsumers(ctx, js, refs, cause, tr, ld); err != nil {
		stopAll()
		return nil, err
	}
	exArgs := append([]string{"-site", "sample"}, o.Inputs...)
	if len(o.Inputs) == 0 {
		cfg, secretEnv, stopSim, err := startSimulator(o, tmp)
		if err != nil {
			stopAll()
			return nil, err
		}
		defer stopSim()
		env = append(env, secretEnv)
		exArgs = []string{"-config", cfg}
	}
	ex, err := start("extractor", exArgs...)
	if err != nil {
		stopAll()
		return nil, err
	}
	select {
	case <-ex.Done():
	case <-ctx.Done():
		stopAll()
		return nil, ctx.Err()
	}
	rep := &Report{DeadLettered: map[string]int64{}, Auth0API: o.Auth0API, LoginRadius: lsim != nil}
	var es extractorSummary
	if code, _ := ex.Wait(0); code != 0 && code != 3 {
		failure := fmt.Sprintf("extractor exited with %d: %s", code, cause(ex))
		if ex.Summary(&es) != nil {
			// It stopped before reading anything (a missing input, a bad
			// configuration): nothing went through.
			stopAll()
			return nil, errors.New(failure)
		}
		// It read and published part of its input before it failed (an
		// input cut short): that part goes through, and the summary says
		// the run failed.
		rep.Failed = failure
	}
	if err := waitDrained(ctx, js, refs, cause, tr, ld); err != nil {
		stopAll()
		return nil, err
	}
	stopAll()

	rep.Elapsed = time.Since(began)
	var ts transformerSummary
	var ls loaderSummary
	if err := errors.Join(ex.Summary(&es), tr.Summary(&ts), ld.Summary(&ls)); err != nil {
		return nil, err
	}
	if o.NATSURL == "" {
		rep.Store = o.storeDir()
		rep.Inspect = inspect
	} else {
		rep.NATSURL = o.NATSURL
		rep.Inspect = "NATS_URL=" + o.NATSURL + " " + transformer + " deadletter list"
	}
	rep.Read, rep.Published, rep.Mapped, rep.Filtered, rep.Loaded = es.Read, es.Published, ts.Mapped, ts.Filtered, ls.Loaded
	rep.Superseded, rep.Conflicts = ls.Superseded, ls.Conflicts
	rep.Flagged, rep.FilteredBy = ts.Flagged, ts.FilteredBy
	rep.DeadLettered["extract"], rep.DeadLettered["transform"], rep.DeadLettered["load"] = es.DeadLettered, ts.DeadLettered, ls.DeadLettered
	rep.Files = importFiles(o.OutDir, before)
	if lsim != nil {
		st := lsim.Stats()
		rep.LRRequests, rep.LRMaxBody = st.BulkRequests, st.MaxBulkBytes
	}
	return rep, nil
}

// importFiles lists the import files in dir that are not in before (the
// files earlier runs left there), with their size and users.
func importFiles(dir string, before map[string]bool) []ImportFile {
	names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var out []ImportFile
	for _, name := range names {
		if before[name] {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		var users []json.RawMessage
		_ = json.Unmarshal(data, &users)
		out = append(out, ImportFile{Name: name, Bytes: int64(len(data)), Users: len(users)})
	}
	return out
}

// clearImportFiles removes the auth0-file sink's files and journal that an
// earlier quickstart left in dir.
func clearImportFiles(dir string) error {
	names, _ := filepath.Glob(filepath.Join(dir, "users-*.json"))
	for _, n := range append(names, filepath.Join(dir, "users.journal")) {
		if err := os.Remove(n); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the previous run's import file: %w", err)
		}
	}
	return nil
}

// existing lists the files already in dir.
func existing(dir string) map[string]bool {
	names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out
}

// startSimulator serves a simulated Gigya site in this process and writes
// the extractor config that reads it through accounts.search. The secret
// reaches the extractor through its environment (secretEnv), as a real one
// should, never through the file.
func startSimulator(o Options, tmp string) (cfgPath, secretEnv string, stop func(), err error) {
	n := o.Accounts
	if n == 0 {
		n = 1000
	}
	sim, err := gigyasim.New(gigyasim.Options{Accounts: n, Seed: 1})
	if err != nil {
		return "", "", nil, err
	}
	base, stop, err := sim.Start()
	if err != nil {
		return "", "", nil, err
	}
	fmt.Fprintf(o.Stdout, "started a simulated Gigya site with %d accounts at %s (accounts.search)\n", n, base)
	cfgPath = filepath.Join(tmp, "extractor.yaml")
	body := fmt.Sprintf(`extractor:
  source: {type: gigya-api}
  gigya:
    sites:
      - name: sample
        api_key: %q
        secret: ${GIGYA_SIM_SECRET}
        base_url: %q
        allow_http: true
`, sim.APIKey(), base)
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		stop()
		return "", "", nil, err
	}
	return cfgPath, "GIGYA_SIM_SECRET=" + sim.Secret(), stop, nil
}

// startAPILoader runs the loader with the auth0-api sink against a
// simulated tenant; its secret travels in the environment
// (AUTH0_SIM_SECRET, set by the caller).
func startAPILoader(start func(string, ...string) (*Proc, error), tmp, base string) (*Proc, error) {
	cfg := filepath.Join(tmp, "loader.yaml")
	body := fmt.Sprintf(`loader:
  sink:
    type: auth0-api
    options:
      base_url: %q
      allow_http: true
      client_id: sim-client-id
      client_secret: ${AUTH0_SIM_SECRET}
      connection: Username-Password-Authentication
  consumer:
    max_ack_pending: 4000
`, base)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return nil, err
	}
	return start("loader", "-config", cfg)
}

// startLRLoader runs the loader with the loginradius-bulk sink against a
// simulated LoginRadius tenant; its secret travels in the environment
// (LR_SIM_SECRET, set by the caller). The login email and the phone id are
// the values LoginRadius keeps unique.
func startLRLoader(start func(string, ...string) (*Proc, error), tmp, base string) (*Proc, error) {
	cfg := filepath.Join(tmp, "loader.yaml")
	body := fmt.Sprintf(`loader:
  unique: [Email.Value, PhoneId]
  sink:
    type: loginradius-bulk
    options:
      migration_url: %q
      api_url: %q
      allow_http: true
      api_key: sim-api-key
      api_secret: ${LR_SIM_SECRET}
      rate: 0
  consumer:
    max_ack_pending: 4000
`, base, base)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return nil, err
	}
	return start("loader", "-config", cfg)
}

func startLoader(start func(string, ...string) (*Proc, error), tmp, outDir string) (*Proc, error) {
	// The sink's directory is a sink option; a one-key config file sets it.
	cfg := filepath.Join(tmp, "loader.yaml")
	body := fmt.Sprintf("loader:\n  sink:\n    type: auth0-file\n    options:\n      dir: %q\n", outDir)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		return nil, err
	}
	return start("loader", "-config", cfg)
}

// waitDrained waits until every record has gone through (see
// [WaitDrained]); it fails with the cause if the transformer or the loader
// exits before, instead of waiting for ever.
func waitDrained(ctx context.Context, js jetstream.JetStream, refs []ConsumerRef, cause func(*Proc) string, procs ...*Proc) error {
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, p := range procs {
		go func() {
			select {
			case <-p.Done():
				cancel()
			case <-dctx.Done():
			}
		}()
	}
	err := WaitDrained(dctx, js, refs...)
	if err == nil || ctx.Err() != nil {
		return err
	}
	for _, p := range procs {
		select {
		case <-p.Done():
			code, _ := p.Wait(0)
			return fmt.Errorf("%s exited with %d before every record went through: %s", p.Name, code, cause(p))
		default:
		}
	}
	return err
}

// waitConsumers waits until the transformer and loader have created their
// consumers, so that nothing the extractor publishes is missed by the drain
// check; it fails early, with the cause, if either process died.
func waitConsumers(ctx context.Context, js jetstream.JetStream, refs []ConsumerRef, cause func(*Proc) string, procs ...*Proc) error {
	deadline := time.Now().Add(time.Minute)
	for {
		ok := true
		for _, r := range refs {
			if _, err := js.Consumer(ctx, r.Stream, r.Durable); err != nil {
				ok = false
			}
		}
		if ok {
			return nil
		}
		for _, p := range procs {
			select {
			case <-p.Done():
				code, _ := p.Wait(0)
				return fmt.Errorf("%s exited with %d at start-up: %s", p.Name, code, cause(p))
			default:
			}
		}
		if time.Now().After(deadline) {
			return errors.New("transformer and loader did not create their consumers within a minute")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Print writes the report as the quickstart's closing summary.
func (r *Report) Print(w io.Writer, outDir string) {
	dl := r.DeadLettered["extract"] + r.DeadLettered["transform"] + r.DeadLettered["load"]
	if r.Failed != "" {
		fmt.Fprintf(w, "\ngigya-migrate: FAILED after %d accounts in %v\n", r.Read, r.Elapsed.Round(time.Millisecond))
	} else {
		fmt.Fprintf(w, "\ngigya-migrate: %d accounts in %v\n", r.Read, r.Elapsed.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "  read           %8d\n", r.Read)
	fmt.Fprintf(w, "  mapped         %8d\n", r.Mapped)
	fmt.Fprintf(w, "  loaded         %8d\n", r.Loaded)
	conflicts := ""
	if r.Conflicts > 0 {
		conflicts = fmt.Sprintf(", of which %d email conflicts", r.Conflicts)
	}
	fmt.Fprintf(w, "  dead-lettered  %8d   (extract %d, transform %d, load %d%s; stream ETL_DEADLETTER)\n",
		dl, r.DeadLettered["extract"], r.DeadLettered["transform"], r.DeadLettered["load"], conflicts)
	var by []string
	for name, n := range r.FilteredBy {
		by = append(by, fmt.Sprintf("%s %d", name, n))
	}
	slices.Sort(by)
	if len(by) == 0 {
		by = []string{"none"}
	}
	fmt.Fprintf(w, "  filtered       %8d   (skipped by mapping filters: %s)\n", r.Filtered, strings.Join(by, ", "))
	fmt.Fprintf(w, "  superseded     %8d   (older versions of a user, acked unwritten: a newer one was loaded)\n", r.Superseded)
	flag := "a password Auth0 cannot verify: app_metadata.password_reset_required"
	if r.LoginRadius {
		flag = "a password LoginRadius cannot verify: CustomFields.password_reset_required"
	}
	fmt.Fprintf(w, "  flagged        %8d   (loaded without a field they could not keep, e.g. %s)\n", r.Flagged, flag)
	balance := "balances"
	if n := r.Unaccounted(); n != 0 {
		balance = fmt.Sprintf("DOES NOT BALANCE: %d unaccounted", n)
	}
	fmt.Fprintf(w, "  extracted %d = loaded %d + dead-lettered %d + filtered %d + superseded %d: %s\n",
		r.Extracted(), r.Loaded, dl, r.Filtered, r.Superseded, balance)
	switch {
	case r.LoginRadius:
		fmt.Fprintf(w, "  loaded through the LoginRadius bulk migration API into the simulated tenant: %d requests, the largest %d bytes (%.1f%% of 10 MB)\n",
			r.LRRequests, r.LRMaxBody, 100*float64(r.LRMaxBody)/10_000_000)
	case r.Auth0API:
		fmt.Fprintf(w, "  loaded through the Auth0 Management API (import jobs) into the simulated tenant\n")
	default:
		fmt.Fprintf(w, "  Auth0 import files: %d written by this run in %s/%s\n", len(r.Files), strings.TrimSuffix(outDir, "/"), fill(r.Files))
	}
	fmt.Fprintf(w, "  logs: %s/logs/\n", strings.TrimSuffix(outDir, "/"))
	switch {
	case r.Store != "":
		fmt.Fprintf(w, "  JetStream store kept in %s/ (the next run starts a new one); dead letters: %s\n", strings.TrimSuffix(r.Store, "/"), r.Inspect)
	case r.Inspect != "":
		fmt.Fprintf(w, "  dead letters: %s\n", r.Inspect)
	}
	if r.Failed != "" {
		fmt.Fprintf(w, "  FAILED: %s\n", strings.ReplaceAll(r.Failed, "\n", "\n          "))
	}
}

// fill describes how full the import files are: the users and the share
// of Auth0's 500,000-byte limit of each (of the smallest, the median and
// the largest when there are many).
func fill(files []ImportFile) string {
	if len(files) == 0 {
		return ""
	}
	pct := func(f ImportFile) string {
		return fmt.Sprintf("%d users, %.1f%%", f.Users, 100*float64(f.Bytes)/500_000)
	}
	if len(files) <= 4 {
		parts := make([]string, len(files))
		for i, f := range files {
			parts[i] = pct(f)
		}
		return " (" + strings.Join(parts, "; ") + " of 500,000 bytes)"
	}
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b ImportFile) int { return cmp.Compare(a.Bytes, b.Bytes) })
	return fmt.Sprintf(" (smallest %s, median %s, largest %s of 500,000 bytes; the loader's log has every file)",
		pct(sorted[0]), pct(sorted[len(sorted)/2]), pct(sorted[len(sorted)-1]))
}
