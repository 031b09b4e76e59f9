package loader

import (
	"context"
	"fmt"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/ops"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/consume"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/versions"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/encoding/json"
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
// build plugs in its own.
func Run(ctx context.Context, env stage.Env, registry sink.Registry) error {
	if handled, err := ops.Dispatch(ctx, env); handled {
		return err
	}
	fs, cfgPath := stage.Flags("loader", usage+ops.Help("loader")+"\nSinks: "+registry.Names()+"\n\nFlags:\n", env)
	sinkType := fs.String("sink", "", "sink type (overrides loader.sink.type)")
	target := fs.String("target", "", "mapping target to load (overrides loader.target)")
	if err := stage.ParseFlags(fs, env.Args, false); err != nil {
		return err
	}
	cfg := Default()
	err := stage.LoadConfig(*cfgPath, &cfg, &cfg.Common, env.Getenv, func() error {
		if *sinkType != "" {
			cfg.Loader.Sink.Type = *sinkType
		}
		if *target != "" {
			cfg.Loader.Target = *target
		}
		return cfg.Validate(registry)
	})
	if err != nil {
		return err
	}
	ls := cfg.Loader
	name := ls.name()
	log := cfg.Telemetry.Logger(env.Stderr).With("stage", "loader", "loader", name, "sink", ls.Sink.Type)

	// The sink is built before connecting, so that its configuration errors
	// come first; its metrics join the registry once the runtime exists.
	var sinkMetrics deferredRegistry
	snk, err := registry[ls.Sink.Type](ctx, sink.Params{
		Name: name, Target: ls.Target, Log: log, Metrics: &sinkMetrics,
		Decode: func(v any) error { return config.DecodeNode("loader.sink.options", &ls.Sink.Options, v) },
	})
	if err != nil {
		err = fmt.Errorf("sink %s: %w", ls.Sink.Type, err)
		if fault.IsTransient(err) {
			return err // the target is down or busy, not misconfigured: exit 1, start again later
		}
		return stage.Usage(err)
	}
	rt, err := stage.Start(ctx, "loader", cfg.Common, log)
	if err != nil {
		_ = snk.Close(context.WithoutCancel(ctx))
		return err
	}
	defer rt.Close()
	rt.Metrics.MustRegister(sinkMetrics...)
	durable := "loader-" + name
	var cons jetstream.Consumer
	err = rt.Retry(ctx, "consumer "+durable, func(ctx context.Context) (err error) {
		cons, err = ls.Consumer.Durable(ctx, rt.Topology.Mapped, durable, message.MappedSubject(ls.Target))
		return err
	})
	if err != nil {
		_ = snk.Close(context.WithoutCancel(ctx))
		return err
	}
	watch, err := consume.DeadLetterExhausted(rt.NC, rt.JS, rt.Topology.Mapped, durable, message.StageLoad, ls.Target, log)
	if err != nil {
		_ = snk.Close(context.WithoutCancel(ctx))
		return err
	}
	defer func() { _ = watch.Unsubscribe() }()
	reg, err := versions.Open(ctx, rt.Topology.Versions, rt.JS, name, log)
	if err != nil {
		_ = snk.Close(context.WithoutCancel(ctx))
		return err
	}
	defer reg.Close()
	l := &loader{
		sink: snk, pub: rt.JS, target: ls.Target, consumer: ls.Consumer, versions: reg,
		maxRecords: ls.Batch.MaxRecords, maxBytes: ls.Batch.MaxBytes, maxWait: ls.Batch.MaxWait,
		log: log, metrics: newMetrics(rt.Metrics), maxPayload: rt.NC.MaxPayload(),
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
	rt.Heartbeat(ctx, "loader", "consumer "+durable+", sink "+ls.Sink.Type, func() map[string]int64 { return l.totals().counts() })
	go consume.WatchLag(ctx, cons, rt.Metrics, durable)
	progressCtx, stopProgress := context.WithCancel(ctx)
	defer stopProgress()
	go l.progress(progressCtx)
	if rec, ok := snk.(sink.Recoverer); ok {
		// Before the first write: what a crashed instance left running at
		// the target must land first, not after a newer version.
		if err := rec.Recover(ctx, newSinkState(rt.Topology.State, name)); err != nil {
			_ = snk.Close(context.WithoutCancel(ctx))
			if ctx.Err() != nil {
				log.Info("loader stopped while waiting for the writes an earlier loader left in flight; the next start waits again")
				return nil
			}
			return fmt.Errorf("sink %s: settling the writes an earlier loader left in flight: %w", ls.Sink.Type, err)
		}
	}
	started := time.Now()
	log.Info("loader started", "consumer", durable, "subject", message.MappedSubject(ls.Target),
		"batch_records", l.maxRecords, "batch_bytes", l.maxBytes, "concurrent_writes", l.writers)
	runErr := l.run(ctx, cons)
	if err := snk.Close(context.WithoutCancel(ctx)); err != nil && runErr == nil {
		runErr = fmt.Errorf("close sink: %w", err)
	}
	tot := l.totals()
	log.Info("loader stopped", "consumed", tot.Consumed, "loaded", tot.Loaded, "dead_lettered", tot.DeadLettered,
		"retried", tot.Retried, "batches", tot.Batches)
	sum := Summary{Stage: "loader", Name: name, Sink: ls.Sink.Type, Target: ls.Target,
		Elapsed: time.Since(started).Round(time.Millisecond).String(), Totals: tot}
	line, _ := json.Marshal(sum)
	fmt.Fprintln(env.Stdout, string(line))
	return runErr
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
