// Command loader writes mapped users to a target (Auth0 import files, JSON
// lines, ...) through a pluggable sink.
package main

import (
	"context"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/targets"
	"github.com/gigya-migrate/gigya-migrate/pkg/loader"
)

func main() {
	stage.Main("loader", func(ctx context.Context, env stage.Env) error {
		return loader.Run(ctx, env, targets.Builtin())
	})
}
