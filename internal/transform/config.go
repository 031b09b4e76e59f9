package transform

import (
	"runtime"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
)

// Config is the transformer's configuration file, shared with the other
// binaries: their sections are checked (unknown keys, wrong types) and
// otherwise ignored here.
type Config struct {
	stage.Common `yaml:",inline"`
	Extractor    stage.UnreadExtractor `yaml:"extractor"`
	Transformer  Settings              `yaml:"transformer"`
	Loader       stage.UnreadLoader    `yaml:"loader"`
	Login        stage.UnreadLogin     `yaml:"login"`
}

// Settings is the transformer section.
type Settings = stage.TransformerSettings

// Default returns the transformer's defaults.
func Default() Config {
	c := Config{Common: stage.DefaultCommon()}
	c.Transformer.MaxPending = 512
	c.Transformer.Consumer = topology.ConsumerConfig{
		AckWait:       30 * time.Second,
		MaxDeliver:    5,
		MaxAckPending: 1024,
		Backoff:       []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute},
	}
	return c
}

// workers is the number of mapping goroutines transformer.workers asks for.
func workers(s Settings) int {
	if s.Workers > 0 {
		return s.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Validate reports every problem with its full key path.
func (c *Config) Validate() error {
	var p config.Problems
	p.Merge("", c.Common.Validate())
	s := c.Transformer
	for _, site := range s.Sites {
		p.Check(config.SubjectToken(site), "transformer.sites", "each site must be a name without '.', '*', '>' or spaces")
	}
	p.Check(s.Workers >= 0, "transformer.workers", "must not be negative")
	p.Check(s.MaxPending >= 1, "transformer.max_pending", "must be at least 1")
	p.Merge("transformer.consumer", s.Consumer.Validate())
	return p.Err()
}
