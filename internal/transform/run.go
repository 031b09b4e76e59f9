package transform

import (
	"context"
	"time"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/internal/ops"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/telemetry"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
)

const usage = `transformer maps Gigya accounts from GIGYA_ACCOUNTS to target users in
USERS_MAPPED. Run as many instances as you like: they share one durable consumer.
It runs until stopped (SIGINT/SIGTERM: finishes and acks in-flight work, then exits).

Usage:
  transformer [flags]                     run: consume GIGYA_ACCOUNTS, publish USERS_MAPPED
  transformer check [flags] FILE|DIR ...  map export files offline to test a mapping (see check -h)
  transformer replay [flags]              map a selection again after a mapping fix (see replay -h)

`

// Summary is what an instance prints on stdout when it stops, as one JSON line.
type Summary struct {
	Stage          string `json:"stage"`
	Target         string `json:"target"`
	MappingVersion string `json:"mapping_version"`
	Elapsed        string `json:"elapsed"`
	Totals
}

// Run is the transformer's main.
func Run(ctx context.Context, env stage.Env) error {
	if handled, err := ops.Dispatch(ctx, env); handled {
		return err
	}
	if len(env.Args) > 0 {
		sub := env
		sub.Args = env.Args[1:]
		switch env.Args[0] {
		case "check":
			return runCheck(ctx, env)
		case "replay":
			return runReplay(ctx, sub)
		}
	}
	fs, cfgPath := stage.Flags("transformer", usage+ops.Help("transformer")+"\nFlags:\n", env)
	mappingPath := fs.String("mapping", "", "mapping YAML file (overrides transformer.mapping)")
	if err := stage.ParseFlags(fs, env.Args, false); err != nil {
		return err
	}
	cfg, m, validator, err := loadSetup(*cfgPath, *mappingPath, env)
	if err != nil {
		return err
	}
	log := cfg.Telemetry.Logger(env.Stderr).With("stage", "transformer", "target", m.Target())

	rt, err := stage.Start(ctx, "transformer", cfg.Common, log)
	if err != nil {
		return err
	}
	defer rt.Close()
	pub, err := rt.Publisher(cfg.Transformer.MaxPending)
	if err != nil {
		return err
	}
	durable := "transformer-" + m.Target()
	cons, err := rt.Consume(ctx, stage.Input{
		Stage: message.StageTransform, Target: m.Target(), Stream: rt.Topology.Raw, Durable: durable,
		Filters: rawFilters(cfg.Transformer.Sites), Consumer: cfg.Transformer.Consumer,
	})
	if err != nil {
		return err
	}
	t := &transformer{
		nc: rt.NC, pub: pub, mapping: m, consumer: cfg.Transformer.Consumer, workers: workers(cfg.Transformer),
		log: log, metrics: newMetrics(rt.Metrics), validator: validator, maxPayload: rt.NC.MaxPayload(),
	}
	hb := rt.Heartbeat(ctx, "transformer", "consumer "+durable, func() map[string]int64 { return t.totals().counts(0) })
	hb.CountRuns(m.Target(), t.tally.Runs)
	t.gate = rt.Gate(ctx, rt.Topology.Mapped, []string{message.MappedSubject(m.Target())}, hb)
	rt.Go(ctx, t.progress)
	rt.Go(ctx, func(ctx context.Context) { t.dl.every(ctx, log, telemetry.ProgressEvery) })
	started := time.Now()
	log.Info("transformer started", "consumer", durable, "mapping_version", m.Version(), "workers", t.workers)
	runErr := t.run(ctx, cons, cfg.Transformer.MaxPending)
	t.dl.flush(log)

	tot := t.totals()
	log.Info("transformer stopped", "consumed", tot.Consumed, "mapped", tot.Mapped, "duplicates", tot.Duplicates,
		"filtered", tot.Filtered, "dead_lettered", tot.DeadLettered, "retried", tot.Retried)
	stage.PrintSummary(env.Stdout, Summary{Stage: "transformer", Target: m.Target(), MappingVersion: m.Version(),
		Elapsed: time.Since(started).Round(time.Millisecond).String(), Totals: tot})
	return runErr
}

// loadSetup loads the configuration (with -mapping overriding
// transformer.mapping), compiles the mapping and prepares its target's
// validator; every failure is a usage error.
func loadSetup(cfgPath, mappingPath string, env stage.Env) (Config, *mapping.Mapping, validate.Validator, error) {
	cfg := Default()
	_, err := stage.LoadConfig(cfgPath, &cfg, &cfg.Common, env.Getenv, func(o *config.Origins) error {
		if mappingPath != "" {
			cfg.Transformer.Mapping = mappingPath
			o.Set("transformer.mapping", "-mapping")
		}
		return cfg.Validate()
	})
	if err != nil {
		return cfg, nil, nil, err
	}
	m, err := loadMapping(cfg.Transformer.Mapping)
	if err != nil {
		return cfg, nil, nil, stage.Usage(err)
	}
	validator, err := validatorFor(m)
	if err != nil {
		return cfg, nil, nil, stage.Usage(err)
	}
	return cfg, m, validator, nil
}

func loadMapping(path string) (*mapping.Mapping, error) {
	if path == "" {
		return mapping.Parse("configs/auth0.yaml (embedded)", configs.Auth0Mapping)
	}
	return mapping.Load(path)
}

func rawFilters(sites []string) []string {
	if len(sites) == 0 {
		return []string{topology.RawSubjects}
	}
	out := make([]string, len(sites))
	for i, s := range sites {
		out[i] = message.RawSubject(s)
	}
	return out
}
