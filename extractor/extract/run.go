package extract

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/gigya-migrate/gigya-migrate/pkg/stage"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

const usage = `extractor reads Gigya accounts and publishes them to JetStream.

Usage:
  extractor [flags] [FILE|DIR ...]      extract export files (JSON array, JSON lines,
                                        saved accounts.search responses; gzip ok)
  extractor sample [flags]              write generated sample accounts (see -h)

Flags:
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

func run(ctx context.Context, env stage.Env, sources Registry) error {
	if len(env.Args) > 0 && env.Args[0] == "sample" {
		return runSample(env)
	}
	fs, cfgPath := stage.Flags("extractor", usage, env)
	site := fs.String("site", "", "Gigya site name (overrides extractor.site)")
	restart := fs.Bool("restart", false, "ignore the checkpoint of an interrupted run of the same input and start from the first record")
	runID := fs.String("run", "", "run id recorded in the Etl-Run header and the run record (default: generated)")
	if err := stage.ParseFlags(fs, env.Args, true); err != nil {
		return err
	}
	cfg := Default()
	err := stage.LoadConfig(*cfgPath, &cfg, &cfg.Common, env.Getenv, func() error {
		if *site != "" {
			cfg.Extractor.Site = *site
		}
		if fs.NArg() > 0 {
			cfg.Extractor.Source.Paths = fs.Args()
		}
		return cfg.Validate(sources)
	})
	if err != nil {
		return err
	}
	log := cfg.Telemetry.Logger(env.Stderr).With("stage", "extractor")
	src, err := sources[cfg.Extractor.Source.Type](cfg.Extractor)
	if err != nil {
		return stage.Usage(fmt.Errorf("extractor.source: %w", err))
	}
	if *runID == "" {
		*runID = newRunID()
	}

	rt, err := stage.Start(ctx, "extractor", cfg.Common, log, jetstream.WithPublishAsyncMaxPending(cfg.Extractor.MaxPending))
	if err != nil {
		return err
	}
	defer rt.Close()

	x := &extraction{
		pub: rt.JS, kv: rt.Topology.State, log: log,
		site: cfg.Extractor.Site, run: *runID,
		maxPending: cfg.Extractor.MaxPending, checkpointEvery: cfg.Extractor.CheckpointEvery,
		metrics: newMetrics(rt.Metrics),
	}
	started := time.Now()
	log.Info("extraction started", "run", *runID, "site", x.site, "input", src.Identity())
	totals, runErr := x.execute(ctx, src, *restart)

	sum := Summary{Stage: "extractor", Run: *runID, Site: x.site, Status: "completed",
		Elapsed: time.Since(started).Round(time.Millisecond).String(), Totals: totals}
	switch {
	case runErr != nil && ctx.Err() != nil:
		sum.Status = "interrupted"
		runErr = nil // a signal is a clean stop: everything read so far is stored
	case runErr != nil:
		sum.Status = "failed"
	}
	x.recordRun(sum, started)
	log.Info("extraction "+sum.Status, "read", totals.Read, "published", totals.Published, "duplicates", totals.Duplicates,
		"dead_lettered", totals.DeadLettered, "resumed", totals.Resumed, "elapsed", sum.Elapsed)
	line, _ := json.Marshal(sum)
	fmt.Fprintln(env.Stdout, string(line))
	if runErr != nil {
		return runErr
	}
	if totals.DeadLettered > 0 {
		return fmt.Errorf("%w: %d (see the %s stream, subject etl.deadletter.extract.%s)", stage.ErrDeadLetters,
			totals.DeadLettered, cfg.Streams.DeadLetter.Name, x.site)
	}
	return nil
}

// recordRun stores the run's summary under run.<id> in the state bucket, so
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
	if _, err := x.kv.Put(ctx, "run."+sum.Run, b); err != nil {
		x.log.Warn("run record not saved", "err", err)
	}
}

func newRunID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}
