package extract

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/ops"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/segmentio/encoding/json"
)

const usage = `extractor reads Gigya accounts and publishes them to JetStream.

Usage:
  extractor [flags] [FILE|DIR ...]      extract export files (JSON array, JSON lines,
                                        saved accounts.search responses; gzip ok)
  extractor -config FILE [flags]        with extractor.source.type gigya-api: read
                                        accounts.search for every configured site
  extractor sample [flags]              write generated sample accounts (see -h)
  extractor login-service [flags]       serve login-time migration: Auth0 custom
                                        database scripts, LoginRadius JIT (see -h)
`

// Summary is what a run prints on stdout when it ends, as one JSON line.
type Summary struct {
	Stage   string `json:"stage"`
	Run     string `json:"run"`
	Site    string `json:"site"`
	Status  string `json:"status"` // completed, interrupted or failed
	Elapsed string `json:"elapsed"`
	Totals
}

// Run is the extractor's main.
func Run(ctx context.Context, env stage.Env) error {
	return run(ctx, env, Sources())
}

func run(ctx context.Context, env stage.Env, registry Registry) error {
	if len(env.Args) > 0 && env.Args[0] == "sample" {
		return runSample(env)
	}
	if len(env.Args) > 0 && env.Args[0] == "login-service" {
		sub := env
		sub.Args = env.Args[1:]
		return runLoginService(ctx, sub)
	}
	if handled, err := ops.Dispatch(ctx, env); handled {
		return err
	}
	fs, cfgPath := stage.Flags("extractor", usage+ops.Help("extractor")+"\nFlags:\n", env)
	site := fs.String("site", "", "Gigya site name (overrides extractor.site)")
	restart := fs.Bool("restart", false, "ignore the checkpoint of an interrupted run of the same input and start from the first record")
	runID := fs.String("run", "", "run id recorded in the Etl-Run header and the run record (default: generated)")
	since := fs.String("since", "", "gigya-api: extract accounts updated since this time (RFC 3339 or epoch ms)")
	incremental := fs.Bool("incremental", false, "gigya-api: extract what changed since the last completed run's checkpoint (minus extractor.gigya.overlap)")
	update := fs.Bool("update", false, "the accounts may already be loaded (a second export during the cut-over): loaders apply them as updates (upsert); implied by -since, -incremental and -follow")
	follow := fs.Bool("follow", false, "gigya-api: after catching up, keep polling for changes every extractor.gigya.follow_every until stopped")
	if err := stage.ParseFlags(fs, env.Args, true); err != nil {
		return err
	}
	cfg := Default()
	_, err := stage.LoadConfig(*cfgPath, &cfg, &cfg.Common, env.Getenv, func(o *config.Origins) error {
		if *site != "" {
			cfg.Extractor.Site = *site
			o.Set("extractor.site", "-site")
		}
		if fs.NArg() > 0 {
			cfg.Extractor.Source.Paths = fs.Args()
			o.Set("extractor.source.paths", "the command line")
		}
		return cfg.Validate(registry)
	})
	if err != nil {
		return err
	}
	log := cfg.Telemetry.Logger(env.Stderr).With("stage", "extractor")
	mode, err := parseMode(*since, *incremental, *follow, cfg.Extractor.Source.Type)
	if err != nil {
		return stage.Usage(err)
	}
	gm := newGigyaMetrics()
	sources, err := registry[cfg.Extractor.Source.Type](cfg.Extractor, SourceOptions{Mode: mode, Log: log, ObserveGigya: gm.observe})
	if err != nil {
		return stage.Usage(err) // the factories name the key or the input
	}
	if *runID == "" {
		*runID = newRunID()
	}

	rt, err := stage.Start(ctx, "extractor", cfg.Common, log)
	if err != nil {
		return err
	}
	defer rt.Close()
	pub, err := rt.Publisher(cfg.Extractor.MaxPending)
	if err != nil {
		return err
	}

	// Sites are extracted concurrently, each with its own checkpoint, run
	// record and summary line.
	m := newMetrics(rt.Metrics)
	rt.Metrics.MustRegister(gm.calls, gm.seconds)
	results := make(chan siteResult, len(sources))
	xs := make([]*extraction, len(sources))
	for i, ss := range sources {
		xs[i] = &extraction{
			pub: pub, kv: rt.Topology.State, log: log.With("site", ss.Site),
			site: ss.Site, run: *runID,
			maxPending: cfg.Extractor.MaxPending, checkpointEvery: cfg.Extractor.CheckpointEvery,
			metrics: m, maxPayload: rt.NC.MaxPayload(),
			update: *update || *since != "" || *incremental || *follow,
		}
	}
	hb := rt.Heartbeat(ctx, "extractor", "run "+*runID, func() map[string]int64 {
		var t Totals
		for _, x := range xs {
			t = t.add(x.totals())
		}
		return t.counts()
	})
	for i, ss := range sources {
		x := xs[i]
		x.gate = rt.Gate(ctx, rt.Topology.Raw, []string{message.RawSubject(ss.Site)}, hb)
		go func() { results <- x.runSite(ctx, ss.Source, *restart) }()
	}
	var errs []error
	var deadLettered int64
	for range sources {
		r := <-results
		stage.PrintSummary(env.Stdout, r.summary)
		deadLettered += r.summary.DeadLettered
		if r.err != nil {
			errs = append(errs, fmt.Errorf("site %s: %w", r.summary.Site, r.err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if deadLettered > 0 {
		return fmt.Errorf("%w: %d (see the %s stream, subjects etl.deadletter.extract.<site>)", stage.ErrDeadLetters,
			deadLettered, cfg.Streams.DeadLetter.Name)
	}
	return nil
}

type siteResult struct {
	summary Summary
	err     error
}

// runSite extracts one site and records the run.
func (x *extraction) runSite(ctx context.Context, src Source, restart bool) siteResult {
	started := time.Now()
	x.log.Info("extraction started", "run", x.run, "input", src.Identity())
	totals, runErr := x.execute(ctx, src, restart)
	sum := Summary{Stage: "extractor", Run: x.run, Site: x.site, Status: "completed",
		Elapsed: time.Since(started).Round(time.Millisecond).String(), Totals: totals}
	switch {
	case runErr != nil && ctx.Err() != nil:
		sum.Status = "interrupted"
		runErr = nil // a signal is a clean stop: everything read so far is stored
	case runErr != nil:
		sum.Status = "failed"
	}
	x.recordRun(sum, started)
	x.log.Info("extraction "+sum.Status, "read", totals.Read, "published", totals.Published, "duplicates", totals.Duplicates,
		"dead_lettered", totals.DeadLettered, "resumed", totals.Resumed, "elapsed", sum.Elapsed)
	return siteResult{summary: sum, err: runErr}
}

// parseMode reads the sync flags, which only the gigya-api source has.
func parseMode(since string, incremental, follow bool, sourceType string) (syncMode, error) {
	var m syncMode
	if (since != "" || incremental || follow) && sourceType != "gigya-api" {
		return m, errors.New("-since, -incremental and -follow need extractor.source.type gigya-api")
	}
	if since != "" {
		if ms, err := strconv.ParseInt(since, 10, 64); err == nil {
			m.since = time.UnixMilli(ms)
		} else if t, err := time.Parse(time.RFC3339, since); err == nil {
			m.since = t
		} else {
			return m, fmt.Errorf("-since %q: want an RFC 3339 time (2024-02-01T10:00:00Z) or epoch milliseconds", since)
		}
	}
	if since != "" && incremental {
		return m, errors.New("-since and -incremental both say where to start: pick one")
	}
	m.incremental, m.follow = incremental, follow
	return m, nil
}

// recordRun stores the run's summary under run.<id>.<site> in the state bucket, so
// operators (and the quickstart) can see what each run did.
func (x *extraction) recordRun(sum Summary, started time.Time) {
	rec := struct {
		Summary
		Started  time.Time `json:"started"`
		Finished time.Time `json:"finished"`
	}{sum, started.UTC(), time.Now().UTC()}
	b, _ := json.Marshal(rec)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := x.kv.Put(ctx, "run."+sum.Run+"."+sum.Site, b); err != nil {
		x.log.Warn("run record not saved", "err", err)
	}
}

func newRunID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}
