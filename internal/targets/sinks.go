// Package sinks lists the loader's built-in sinks.
package targets

import (
	"github.com/gigya-migrate/gigya-migrate/internal/targets/auth0api"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/auth0file"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/jsonl"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// Builtin returns a new registry of the built-in sinks; a custom loader
// build adds its own to it and passes it to load.Run.
func Builtin() sink.Registry {
	return sink.Registry{
		"jsonl":      jsonl.New,
		"auth0-file": auth0file.New,
		"auth0-api":  auth0api.New,
	}
}
