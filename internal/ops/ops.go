// Package ops holds the operator commands every binary offers besides its
// own work: `status` (the whole pipeline at a glance, live on a terminal),
// `deadletter` (list, show and redrive dead letters) and `healthz` (a
// container health check that needs no shell). They are part of
// each binary so that wherever one stage runs, an operator can inspect the
// pipeline with the same config file, without another tool.
package ops

import (
	"context"
	"fmt"

	"github.com/gigya-migrate/gigya-migrate/internal/ops/deadletter"
	"github.com/gigya-migrate/gigya-migrate/internal/ops/status"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/nats-io/nats.go/jetstream"
)

// Help lists the operator commands in the usage text of binary name.
func Help(name string) string {
	return fmt.Sprintf(`
Operator commands (any binary; same config file):
  %[1]s status [-json] [-once] [-interval D]   streams, consumers, progress and ETA, dead letters
  %[1]s deadletter list|show|redrive ...       inspect dead letters; send them back after a fix
  %[1]s healthz [-addr HOST:PORT] [-path P]    exit 0 if a running binary's /healthz (or /readyz) answers 200
`, name)
}

// Dispatch runs the operator command named by env.Args[0], if it is one,
// and reports whether it did.
func Dispatch(ctx context.Context, env stage.Env) (bool, error) {
	if len(env.Args) == 0 {
		return false, nil
	}
	switch env.Args[0] {
	case "status":
		return true, status.Command{DeadLetters: deadLetterSummary}.Run(ctx, env, env.Args[1:])
	case "deadletter", "deadletters":
		return true, deadletter.Run(ctx, env, env.Args[1:])
	case "healthz":
		return true, healthz(ctx, env, env.Args[1:])
	}
	return false, nil
}

// deadLetterSummary adapts the dead-letter groups to the status view.
func deadLetterSummary(ctx context.Context, js jetstream.JetStream, streams topology.Config) ([]status.DeadLetterGroup, error) {
	groups, err := deadletter.Summarize(ctx, js, streams.DeadLetter.Name)
	if err != nil {
		return nil, err
	}
	out := make([]status.DeadLetterGroup, len(groups))
	for i, g := range groups {
		out[i] = status.DeadLetterGroup{Stage: g.Stage, Target: g.Target, Code: g.Code, Count: g.Count, Redriven: g.Redriven}
	}
	return out, nil
}
