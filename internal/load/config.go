package load

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// Config is the loader's configuration file, shared with the other
// binaries: their sections are checked (unknown keys, wrong types) and
// otherwise ignored here.
type Config struct {
	stage.Common `yaml:",inline"`
	Extractor    stage.UnreadExtractor   `yaml:"extractor"`
	Transformer  stage.UnreadTransformer `yaml:"transformer"`
	Loader       Settings                `yaml:"loader"`
	Login        stage.UnreadLogin       `yaml:"login"`
}

// Settings is the loader section.
type Settings = stage.LoaderSettings

// Default returns the loader's defaults.
func Default() Config {
	c := Config{Common: stage.DefaultCommon()}
	l := &c.Loader
	l.Target = "auth0"
	l.Sink.Type = "auth0-file"
	l.Batch.MaxRecords = 1000
	l.Batch.MaxBytes = 4 << 20
	l.Batch.MaxWait = time.Second
	l.Batch.Quiet = 100 * time.Millisecond
	l.Unique = []string{"email"}
	l.Consumer = topology.ConsumerConfig{
		AckWait:       time.Minute,
		MaxDeliver:    20,
		MaxAckPending: 2000,
		Backoff:       []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 5 * time.Minute},
	}
	return c
}

// loaderName is the loader's name: loader.name, or else the sink type.
func loaderName(s Settings) string {
	if s.Name != "" {
		return s.Name
	}
	return s.Sink.Type
}

// Validate reports every problem with its full key path.
func (c *Config) Validate(sinks sink.Registry) error {
	var p config.Problems
	p.Merge("", c.Common.Validate())
	l := c.Loader
	p.Check(config.SubjectToken(l.Target), "loader.target", "must be a name without '.', '*', '>' or spaces")
	p.Check(config.SubjectToken(loaderName(l)), "loader.name", "must be a name without '.', '*', '>' or spaces")
	if _, ok := sinks[l.Sink.Type]; !ok {
		p.Addf("loader.sink.type", "unknown sink %q (known: %s)", l.Sink.Type, config.Names(sinks))
	}
	p.Check(l.Batch.MaxRecords >= 1, "loader.batch.max_records", "must be at least 1")
	p.Check(l.Batch.MaxBytes >= 1024, "loader.batch.max_bytes", "must be at least 1024")
	p.Check(l.Batch.MaxWait > 0, "loader.batch.max_wait", "must be positive")
	p.Check(l.Batch.Quiet >= 0, "loader.batch.quiet", "must not be negative (0: a partial batch waits for max_wait)")
	p.Check(l.Rate >= 0, "loader.rate", "must not be negative (0: unlimited)")
	for i, f := range l.Unique {
		p.Check(f != "" && !slices.Contains(strings.Split(f, "."), ""), fmt.Sprintf("loader.unique[%d]", i), "must be a field path such as email or app_metadata.login")
	}
	p.Merge("loader.consumer", l.Consumer.Validate())
	p.Check(l.Consumer.MaxAckPending >= l.Batch.MaxRecords, "loader.consumer.max_ack_pending",
		"must be at least loader.batch.max_records, or batches can never fill")
	return p.Err()
}

// SinkOptions describes the options (loader.sink.options) of one sink type
// from its [sink.Spec.Options]: key, default and meaning. Nil for a sink
// that takes none.
func SinkOptions(spec sink.Spec) []config.Key {
	if spec.Options == nil {
		return nil
	}
	return config.Describe(spec.Options())
}

// sinkHelp lists the sinks of registry with their options, for loader -h.
func sinkHelp(registry sink.Registry) string {
	var b strings.Builder
	b.WriteString("Sinks (loader.sink.type) and their options (loader.sink.options):\n")
	for _, name := range slices.Sorted(maps.Keys(registry)) {
		fmt.Fprintf(&b, "  %s\n", name)
		keys := SinkOptions(registry[name])
		if len(keys) == 0 {
			b.WriteString("      (no options)\n")
		}
		for _, k := range keys {
			fmt.Fprintf(&b, "      %s (default %s)\n          %s\n", k.Path, k.Default, k.Doc)
		}
	}
	return b.String()
}
