package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/term"
)

const usage = `status shows the whole pipeline: streams, the progress of every consumer
(pending, ack-pending, redelivered, rate, ETA), running instances and
back-pressure pauses, dead letters by code, extractor checkpoints and runs.
It only reads: it never creates a stream, a consumer or a bucket.

Usage:
  status [flags]

Output:
  on a terminal   a live view with one progress bar per consumer, refreshed
                  every -interval until Ctrl-C (-once: one frame, after two
                  samples -interval apart so that rates show)
  otherwise       text tables
  -json           one JSON document (the snapshot, with rate_per_sec and
                  eta_seconds per consumer)

Rates and ETAs compare two samples: the text and JSON outputs take them
-interval apart (-interval 0: one sample, no rates).

Flags:
`

// DeadLetterSummary summarizes the dead-letter stream of a connected
// pipeline by stage, target and error code. The binary that wires the
// command supplies it (from internal/ops/deadletter); status does not decode dead
// letters itself.
type DeadLetterSummary func(ctx context.Context, js jetstream.JetStream, streams topology.Config) ([]DeadLetterGroup, error)

// Command is the status command. The zero value works; without
// DeadLetters the dead letters show only as the stream's message count.
type Command struct {
	DeadLetters DeadLetterSummary
}

// Run runs the status command without a dead-letter summary; see
// [Command.Run].
func Run(ctx context.Context, env stage.Env, args []string) error {
	return Command{}.Run(ctx, env, args)
}

// Run parses args (the command's own flags, without the program or
// sub-command name: -config, -json, -once, -interval), loads the YAML
// config the binaries share, connects to NATS and prints the status on
// env.Stdout: a live view when it is a terminal, text tables otherwise,
// JSON with -json. The live view ends when ctx is done (Ctrl-C), which is
// not an error. Bad flags or config are [stage.UsageError]s.
func (c Command) Run(ctx context.Context, env stage.Env, args []string) error {
	fs, cfgPath := stage.Flags("status", usage, env)
	asJSON := fs.Bool("json", false, "print one JSON document")
	once := fs.Bool("once", false, "terminal: draw one frame and exit instead of refreshing")
	interval := fs.Duration("interval", time.Second, "time between samples: the live view's refresh, and the window over which rates are measured")
	if err := stage.ParseFlags(fs, args, false); err != nil {
		return err
	}
	live := !*asJSON && isTerminal(env.Stdout)
	switch {
	case *interval < 0:
		return stage.Usage(errors.New("-interval must not be negative"))
	case *interval == 0 && live && !*once:
		return stage.Usage(errors.New("the live view needs a positive -interval (or -once)"))
	}
	cfg, err := stage.LoadOpsConfig(*cfgPath, env.Getenv)
	if err != nil {
		return err
	}
	// Info lines ("connected to NATS") would be noise on a one-shot command
	// and would tear the live view: only warnings and errors are logged,
	// unless the config asks for debug.
	tel := cfg.Telemetry
	if tel.LogLevel != "debug" && tel.LogLevel != "error" {
		tel.LogLevel = "warn"
	}
	log := tel.Logger(env.Stderr).With("command", "status")

	nc, js, err := stage.Connect(ctx, "gigya-migrate-status", cfg.Common, log)
	if err != nil {
		return err
	}
	defer nc.Close()
	collect := c.collector(js, cfg.Streams, max(*interval, 10*time.Second))

	if live {
		return runLive(ctx, env.Stdout, collect, liveOptions{interval: *interval, once: *once, height: terminalHeight(env.Stdout)})
	}
	s, err := sample(ctx, collect, *interval)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, s)
	}
	return WriteText(env.Stdout, s)
}

// collector binds Collect to a connection; each sample gets timeout so
// that a server that stops answering cannot freeze the live view.
func (c Command) collector(js jetstream.JetStream, streams topology.Config, timeout time.Duration) collector {
	opts := Options{Streams: streams}
	if c.DeadLetters != nil {
		opts.DeadLetters = func(ctx context.Context) ([]DeadLetterGroup, error) {
			return c.DeadLetters(ctx, js, streams)
		}
	}
	return func(ctx context.Context) (Snapshot, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return Collect(ctx, js, opts)
	}
}

// sample takes two snapshots interval apart and returns the second with
// rates; interval 0 takes one, without rates.
func sample(ctx context.Context, collect collector, interval time.Duration) (Snapshot, error) {
	first, err := collect(ctx)
	if err != nil || interval <= 0 {
		return first, err
	}
	t := time.NewTimer(interval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return Snapshot{}, ctx.Err()
	case <-t.C:
	}
	second, err := collect(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	return WithRates(first, second), nil
}

func writeJSON(w io.Writer, s Snapshot) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

// isTerminal reports whether w is a terminal: only then is a live view
// drawn (a buffer, a pipe or a file gets text).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalHeight returns the height of the terminal w, read at each frame
// so that a resize is followed.
func terminalHeight(w io.Writer) func() int {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	return func() int {
		_, h, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return h
	}
}
