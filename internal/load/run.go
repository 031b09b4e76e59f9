package load

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/ops"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/claims"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/versions"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

const usage = `loader writes mapped users from USERS_MAPPED to a target through a sink.
It runs until stopped (SIGINT/SIGTERM: writes and acks the batch in flight, then exits).

Usage:
  loader [flags]
`

// Summary is what an instance prints on stdout when it stops, as one JSON line.
type Summary struct {
	Stage   string `json:"stage"`
	Name    string `json:"name"`
	Sink    string `json:"sink"`
	Target  string `json:"target"`
	Elapsed string `json:"elapsed"`
	Totals
}

// Run is the loader's main: it runs with the sinks of registry, so a custom
// build plugs in its own (see package pkg/loader).
func Run(ctx context.Context, env stage.Env, registry sink.Registry) error {
	if handled, err := ops.Dispatch(ctx, env); handled {
		return err
	}
	fs, cfgPath := stage.Flags("loader", usage+ops.Help("loader")+"\n"+sinkHelp(registry)+"\nFlags:\n", env)
	sinkType := fs.String("sink", "", "sink type (overrides loader.sink.type)")
	target := fs.String("target", "", "mapping target to load (overrides loader.target)")
	if err := stage.ParseFlags(fs, env.Args, false); err != nil {
		return err
	}
	cfg := Default()
	origins, err := stage.LoadConfig(*cfgPath, &cfg, &cfg.Common, env.Getenv, func(o *config.Origins) error {
		if *sinkType != "" {
			cfg.Loader.Sink.Type = *sinkType
			o.Set("loader.sink.type", "-sink")
		}
		if *target != "" {
			cfg.Loader.Target = *target
			o.Set("loader.target", "-target")
		}
		return cfg.Validate(registry)
	})
	if err != nil {
		return err
	}
	ls := cfg.Loader
	name := loaderName(ls)
	log := cfg.Telemetry.Logger(env.Stderr).With("stage", "loader", "loader", name, "sink", ls.Sink.Type)

	// The sink is built before connecting, so that its configuration errors
	// come first; its metrics join the registry once the runtime exists.
	var sinkMetrics deferredRegistry
	snk, err := registry[ls.Sink.Type].New(ctx, sink.Params{
		Name: name, Target: ls.Target, Log: log, Metrics: &sinkMetrics,
		Decode: func(v any) error { return config.DecodeNodeFrom(*cfgPath, "loader.sink.options", &ls.Sink.Options, v) },
	})
	if err != nil {
		if fault.IsTransient(err) {
			return fmt.Errorf("sink %s: %w", ls.Sink.Type, err) // the target is down or busy, not misconfigured: exit 1, start again later
		}
		// Problems with loader.sink.options.<key> point at their line.
		return stage.Usage(fmt.Errorf("sink %s: %w", ls.Sink.Type, origins.Locate(err)))
	}
	l, runErr := serve(ctx, cfg, snk, sinkMetrics, log)
	if l == nil {
		return runErr
	}
	tot := l.totals()
	log.Info("loader stopped", "consumed", tot.Consumed, "loaded", tot.Loaded, "dead_lettered", tot.DeadLettered,
		"conflicts", tot.Conflicts, "superseded", tot.Superseded, "retried", tot.Retried, "batches", tot.Batches)
	stage.PrintSummary(env.Stdout, Summary{Stage: "loader", Name: name, Sink: ls.Sink.Type, Target: ls.Target,
		Elapsed: time.Since(l.started).Round(time.Millisecond).String(), Totals: tot})
	return runErr
}

// serve connects the loader to the pipeline and runs it with snk until ctx
// is done or the run fails, then closes snk. It returns the loader once it
// started consuming (nil before).
func serve(ctx context.Context, cfg Config, snk sink.Sink, sinkMetrics deferredRegistry, log *slog.Logger) (_ *loader, err error) {
	ls := cfg.Loader
	name := loaderName(ls)
	var rt *stage.Runtime
	defer func() {
		// The one place the sink is closed, whatever happened after it was
		// built, and before the connection: a sink's Close may still use
		// the state the loader lends it (see sink.Recoverer).
		if cerr := snk.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = fmt.Errorf("close sink: %w", cerr)
		}
		if rt != nil {
			rt.Close()
		}
	}()
	rt, err = stage.Start(ctx, "loader", cfg.Common, log)
	if err != nil {
		return nil, err
	}
	rt.Metrics.MustRegister(sinkMetrics...)
	durable := "loader-" + name
	cons, err := rt.Consume(ctx, stage.Input{
		Stage: message.StageLoad, Target: ls.Target, Stream: rt.Topology.Mapped, Durable: durable,
		Filters: []string{message.MappedSubject(ls.Target)}, Consumer: ls.Consumer,
	})
	if err != nil {
		return nil, err
	}
	rt.Go(ctx, func(ctx context.Context) {
		watchOtherTargets(ctx, rt.Topology.Mapped, ls.Target, otherTargetsEvery, log)
	})
	pub, err := rt.Publisher(0)
	if err != nil {
		return nil, err
	}
	reg, err := versions.Open(ctx, rt.Topology.Versions, pub, name, log)
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	l := &loader{
		nc: rt.NC, sink: snk, pub: rt.JS, target: ls.Target, consumer: ls.Consumer, versions: reg,
		maxRecords: ls.Batch.MaxRecords, maxBytes: ls.Batch.MaxBytes, maxWait: ls.Batch.MaxWait, quiet: ls.Batch.Quiet,
		log: log, metrics: newMetrics(rt.Metrics), maxPayload: rt.NC.MaxPayload(),
	}
	if len(ls.Unique) > 0 {
		l.claims, l.unique = claims.New(rt.Topology.Claims, pub, ls.Target), uniqueFields(ls.Unique)
	}
	if lim, ok := snk.(sink.BatchLimiter); ok {
		n, b := lim.BatchLimits()
		if n > 0 && n < l.maxRecords {
			l.maxRecords = n
		}
		if b > 0 && b < l.maxBytes {
			l.maxBytes = b
		}
	}
	if ls.Rate > 0 {
		l.limiter = rate.NewLimiter(rate.Limit(ls.Rate), max(l.maxRecords, int(ls.Rate)))
	}
	l.writers = 1
	if cw, ok := snk.(sink.ConcurrentWriter); ok && cw.MaxConcurrentWrites() > 1 {
		l.writers = cw.MaxConcurrentWrites()
	}
	if need := l.maxRecords * l.writers; ls.Consumer.MaxAckPending < need {
		log.Warn("loader.consumer.max_ack_pending is below a batch times the concurrent writes: the later writes cannot fill their batches; raise it",
			"max_ack_pending", ls.Consumer.MaxAckPending, "batch_records", l.maxRecords, "concurrent_writes", l.writers, "needed", need)
	}
	hb := rt.Heartbeat(ctx, "loader", "consumer "+durable+", sink "+ls.Sink.Type, func() map[string]int64 { return l.totals().counts() })
	hb.CountRuns(ls.Target, l.tally.Runs)
	rt.Go(ctx, l.progress)
	if rec, ok := snk.(sink.Recoverer); ok {
		// Before the first write: what a crashed instance left running at
		// the target must land first, not after a newer version.
		if err := rec.Recover(ctx, newSinkState(rt.Topology.State, name)); err != nil {
			if ctx.Err() != nil {
				log.Info("loader stopped while waiting for the writes an earlier loader left in flight; the next start waits again")
				return nil, nil
			}
			return nil, fmt.Errorf("sink %s: settling the writes an earlier loader left in flight: %w", ls.Sink.Type, err)
		}
	}
	log.Info("loader started", "consumer", durable, "subject", message.MappedSubject(ls.Target),
		"batch_records", l.maxRecords, "batch_bytes", l.maxBytes, "concurrent_writes", l.writers)
	l.started = time.Now()
	return l, l.run(ctx, cons)
}

// deferredRegistry holds a sink's collectors until the loader's registry
// exists.
type deferredRegistry []prometheus.Collector

func (d *deferredRegistry) Register(c prometheus.Collector) error {
	*d = append(*d, c)
	return nil
}

func (d *deferredRegistry) MustRegister(cs ...prometheus.Collector) { *d = append(*d, cs...) }

func (d *deferredRegistry) Unregister(prometheus.Collector) bool { return false }

// otherTargetsEvery is how often a loader that has nothing to load looks
// for users mapped for another target.
const otherTargetsEvery = 10 * time.Second

// watchOtherTargets warns, once, when USERS_MAPPED holds users for other
// targets and none for this loader's: a loader left at the default target
// while the transformers map for another would otherwise wait without a
// word. It looks at start and then every interval, as the transformers may
// start mapping after the loader started, until this target has users.
func watchOtherTargets(ctx context.Context, mapped jetstream.Stream, target string, every time.Duration, log *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		info, err := mapped.Info(ctx, jetstream.WithSubjectFilter(topology.MappedSubjects))
		if err == nil {
			if info.State.Subjects[message.MappedSubject(target)] > 0 {
				return
			}
			var others []string
			for subject, n := range info.State.Subjects {
				if n > 0 {
					others = append(others, strings.TrimPrefix(subject, message.MappedSubject("")))
				}
			}
			if len(others) > 0 {
				slices.Sort(others)
				log.Warn("USERS_MAPPED holds users for other targets and none for this loader's: check loader.target (or -target)",
					"target", target, "other_targets", others)
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
