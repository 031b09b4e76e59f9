// Package targets lists the loader's built-in sinks, one package each
// beside this one.
package targets

import (
	"github.com/gigya-migrate/gigya-migrate/internal/targets/auth0api"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/auth0file"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/jsonl"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/loginradiusapi"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/loginradiusbulk"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// Builtin returns a new registry of the built-in sinks; a custom loader
// build adds its own to it (see package pkg/loader).
func Builtin() sink.Registry {
	return sink.Registry{
		"jsonl":      {New: jsonl.New, Options: options(jsonl.DefaultOptions)},
		"auth0-file": {New: auth0file.New, Options: options(auth0file.DefaultOptions)},
		"auth0-api":  {New: auth0api.New, Options: options(auth0api.DefaultOptions)},
		// LoginRadius: the bulk migration API (with password hashes), and
		// the Account API for users without one.
		"loginradius-bulk": {New: loginradiusbulk.New, Options: options(loginradiusbulk.DefaultOptions)},
		"loginradius-api":  {New: loginradiusapi.New, Options: options(loginradiusapi.DefaultOptions)},
	}
}

// options adapts a sink's DefaultOptions to [sink.Spec.Options].
func options[T any](defaults func() T) func() any {
	return func() any { o := defaults(); return &o }
}
