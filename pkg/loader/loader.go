// Package loader builds a loader binary: the stage that reads mapped users
// from USERS_MAPPED and writes them to a target through a [sink.Sink].
//
// The loader owns everything but the target: its configuration file and
// flags, the durable consumer, batching, acks, retries, dead letters, the
// register that keeps an older version from overwriting a newer one, metrics,
// health endpoints and graceful shutdown. A binary chooses only which sinks
// it carries. The stock loader is
//
//	func main() { loader.Main(loader.Builtin()) }
//
// and a loader for a target of your own adds its sink to the same registry
// (see the package example).
package loader

import (
	"context"

	"github.com/gigya-migrate/gigya-migrate/internal/load"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/targets"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// Main runs the loader with the sinks of registry, the way the loader
// binary runs: flags and the configuration file from the command line and
// the environment, logs on stderr, a JSON summary line on stdout when it
// stops. The first SIGINT or SIGTERM stops it after the batches in flight
// are written and acked; a second one exits at once. Main never returns: it
// exits 0 when stopped, 2 on a flag or configuration error, 3 when records
// were dead-lettered, and 1 on any other failure.
func Main(registry sink.Registry) {
	stage.Main("loader", func(ctx context.Context, env stage.Env) error {
		return load.Run(ctx, env, registry)
	})
}

// Builtin returns a new registry holding the built-in sinks (jsonl,
// auth0-file, auth0-api, loginradius-bulk, loginradius-api), to which a
// custom build may add its own.
func Builtin() sink.Registry { return targets.Builtin() }
