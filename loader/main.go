// Command loader writes mapped users to a target (Auth0 import files, JSON
// lines, ...) through a pluggable sink.
package main

import (
	"context"

	"github.com/gigya-migrate/gigya-migrate/loader/load"
	"github.com/gigya-migrate/gigya-migrate/loader/sinks"
	"github.com/gigya-migrate/gigya-migrate/pkg/stage"
)

func main() {
	stage.Main("loader", func(ctx context.Context, env stage.Env) error {
		return load.Run(ctx, env, sinks.Builtin())
	})
}
