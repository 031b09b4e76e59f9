package extract

import (
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
)

// Config is the extractor's configuration file. The file is shared with the
// other binaries, so their sections are accepted and ignored here.
type Config struct {
	stage.Common `yaml:",inline"`
	Extractor    Settings `yaml:"extractor"`
	Transformer  any      `yaml:"transformer"`
	Loader       any      `yaml:"loader"`
}

// Settings is the extractor section.
type Settings struct {
	Site   string `yaml:"site" doc:"Gigya site name: the last token of gigya.accounts.<site>"`
	Source struct {
		Type  string   `yaml:"type" doc:"source kind: file (export files) or gigya-api (accounts.search)"`
		Paths []string `yaml:"paths" doc:"export files or directories (JSON array, JSON lines, saved accounts.search responses; gzip ok); command-line arguments replace them"`
	} `yaml:"source"`
	MaxPending int `yaml:"max_pending" doc:"published messages awaiting their PubAck; bounds memory and in-flight data"`
	// CheckpointEvery is how many records pass between checkpoint writes.
	CheckpointEvery int `yaml:"checkpoint_every" doc:"records between two checkpoint writes (a restart re-reads at most this many)"`
	// Gigya configures the gigya-api source.
	Gigya GigyaSettings `yaml:"gigya"`
}

// Default returns the extractor's defaults.
func Default() Config {
	c := Config{Common: stage.DefaultCommon()}
	c.Extractor.Site = "default"
	c.Extractor.Source.Type = "file"
	c.Extractor.MaxPending = 512
	c.Extractor.CheckpointEvery = 1000
	c.Extractor.Gigya = defaultGigya()
	return c
}

// Validate reports every problem with its full key path.
func (c *Config) Validate(sources Registry) error {
	var p config.Problems
	p.Merge("", c.Common.Validate())
	s := c.Extractor
	if s.Source.Type != "gigya-api" { // API sites name themselves
		p.Check(config.SubjectToken(s.Site), "extractor.site", "must be a non-empty name without '.', '*', '>' or spaces")
	}
	if _, ok := sources[s.Source.Type]; !ok {
		p.Addf("extractor.source.type", "unknown source %q (known: %s)", s.Source.Type, config.Names(sources))
	}
	p.Check(s.MaxPending >= 1, "extractor.max_pending", "must be at least 1")
	p.Check(s.CheckpointEvery >= 1, "extractor.checkpoint_every", "must be at least 1")
	if s.Source.Type == "gigya-api" {
		s.Gigya.validate(&p)
	}
	return p.Err()
}
