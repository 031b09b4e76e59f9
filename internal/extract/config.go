package extract

import (
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
)

// Config is the extractor's configuration file. The file is shared with the
// other binaries: their sections are checked (unknown keys, wrong types) and
// otherwise ignored here.
type Config struct {
	stage.Common `yaml:",inline"`
	Extractor    Settings                `yaml:"extractor"`
	Transformer  stage.UnreadTransformer `yaml:"transformer"`
	Loader       stage.UnreadLoader      `yaml:"loader"`
	// Login is read by the login-service subcommand only (internal/login).
	Login stage.UnreadLogin `yaml:"login"`
}

// Settings is the extractor section.
type Settings = stage.ExtractorSettings

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
		validateGigya(s.Gigya, &p)
	}
	return p.Err()
}
