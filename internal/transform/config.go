package transform

import (
	"runtime"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
)

// Config is the transformer's configuration file, shared with the other
// binaries (their sections are accepted and ignored here).
type Config struct {
	stage.Common `yaml:",inline"`
	Extractor    any      `yaml:"extractor"`
	Transformer  Settings `yaml:"transformer"`
	Loader       any      `yaml:"loader"`
}

// Settings is the transformer section.
type Settings struct {
	Mapping    string                  `yaml:"mapping" doc:"mapping YAML file (empty: the embedded configs/auth0.yaml)"`
	Sites      []string                `yaml:"sites" doc:"sites to transform (empty: every site, gigya.accounts.>)"`
	Workers    int                     `yaml:"workers" doc:"mapping goroutines per instance (0: GOMAXPROCS)"`
	MaxPending int                     `yaml:"max_pending" doc:"mapped messages awaiting their PubAck per instance"`
	Consumer   topology.ConsumerConfig `yaml:"consumer"`
}

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

func (s Settings) workers() int {
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
