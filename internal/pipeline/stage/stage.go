// Package stage is the scaffolding the three binaries share: the thin-main
// entry point with signal handling and meaningful exit codes, the config
// sections every binary has, and the start-up sequence (logger, NATS,
// JetStream topology, metrics endpoint).
package stage

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/backpressure"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/heartbeat"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/natsconn"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/publish"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/telemetry"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Exit codes of every binary.
const (
	ExitOK          = 0 // finished, or stopped by a signal after draining
	ExitFailure     = 1 // could not do its work (NATS down, target refused, ...)
	ExitUsage       = 2 // bad flags or configuration: fix them and rerun
	ExitDeadLetters = 3 // finished, but some records were rejected (dead-lettered, or refused by a check)
)

// Env is what main hands to a binary's Run: its arguments and process
// environment, injectable so tests run binaries in-process.
type Env struct {
	Args   []string // without the program name
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
}

// UsageError marks an error the user fixes by changing flags or config.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usage wraps err as a [UsageError]; nil stays nil.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Err: err}
}

// ErrDeadLetters is returned by a run that finished but dead-lettered records.
var ErrDeadLetters = errors.New("some records were rejected")

// Main runs run under a context that the first SIGINT or SIGTERM cancels
// (run then drains and returns); a second signal exits at once with 130.
// It never returns.
func Main(name string, run func(context.Context, Env) error) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		<-sigs
		fmt.Fprintf(os.Stderr, "%s: second signal, exiting without draining\n", name)
		os.Exit(130)
	}()
	err := run(ctx, Env{Args: os.Args[1:], Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr})
	cancel()
	os.Exit(ExitCode(name, err, os.Stderr))
}

// ExitCode maps run's error to an exit code, printing it to stderr.
func ExitCode(name string, err error, stderr io.Writer) int {
	var usage *UsageError
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, ErrHelp):
		return ExitOK
	case errors.Is(err, ErrDeadLetters):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitDeadLetters
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitFailure
	}
}

// Common holds the config sections every binary has.
type Common struct {
	Version      int                 `yaml:"version" doc:"config format version; only 1 exists"`
	NATS         natsconn.Config     `yaml:"nats"`
	Streams      topology.Config     `yaml:"streams"`
	Backpressure backpressure.Config `yaml:"backpressure"`
	Telemetry    telemetry.Config    `yaml:"telemetry"`
}

// DefaultCommon returns the defaults of the shared sections.
func DefaultCommon() Common {
	return Common{Version: 1, NATS: natsconn.Default(), Streams: topology.Default(), Backpressure: backpressure.Default(), Telemetry: telemetry.Default()}
}

// Validate reports every problem with its full key path.
func (c Common) Validate() error {
	var p config.Problems
	p.Check(c.Version == 1, "version", "must be 1")
	p.Merge("nats", c.NATS.Validate())
	p.Merge("streams", c.Streams.Validate())
	p.Merge("backpressure", c.Backpressure.Validate())
	p.Merge("telemetry", c.Telemetry.Validate())
	return p.Err()
}

// LoadConfig fills cfg (holding its defaults, with a Common section) from
// the file at path, the environment and NATS_URL, then calls validate,
// which applies the flags that override a key and validates. validate
// records each flag it applies with [config.Origins.Set] (extractor.site
// from -site), so that a problem with a key names where its value came
// from: the file and line, the environment variable, or the flag. Every
// failure is a [UsageError] listing every problem. The origins returned
// locate the problems found later in the same way (a sink's options).
func LoadConfig(path string, cfg any, common *Common, getenv func(string) string, validate func(*config.Origins) error) (*config.Origins, error) {
	o, err := config.Read(path, cfg, getenv)
	if err != nil {
		return o, Usage(&invalidConfig{err})
	}
	if getenv("NATS_URL") != "" {
		common.NATS.ApplyNATSURL(getenv)
		o.Set("nats.urls", "NATS_URL")
	}
	if err := validate(o); err != nil {
		return o, Usage(&invalidConfig{o.Locate(err)})
	}
	return o, nil
}

// invalidConfig lists the problems of a configuration, one per line.
type invalidConfig struct{ err error }

func (e *invalidConfig) Error() string {
	lines := strings.Split(e.err.Error(), "\n")
	if len(lines) == 1 {
		return "invalid configuration: " + lines[0]
	}
	return "invalid configuration:\n  " + strings.Join(lines, "\n  ")
}

func (e *invalidConfig) Unwrap() error { return e.err }

// OpsConfig is the configuration file as an operator command (status,
// deadletter) reads it: the shared sections, with the stages' own checked
// (unknown keys, wrong types) and otherwise ignored, so that one file
// serves every binary and command.
type OpsConfig struct {
	Common      `yaml:",inline"`
	Extractor   UnreadExtractor   `yaml:"extractor"`
	Transformer UnreadTransformer `yaml:"transformer"`
	Loader      UnreadLoader      `yaml:"loader"`
	Login       UnreadLogin       `yaml:"login"`
}

// LoadOpsConfig loads an operator command's configuration (see [LoadConfig]).
func LoadOpsConfig(path string, getenv func(string) string) (OpsConfig, error) {
	cfg := OpsConfig{Common: DefaultCommon()}
	_, err := LoadConfig(path, &cfg, &cfg.Common, getenv, func(*config.Origins) error { return cfg.Common.Validate() })
	return cfg, err
}

// Connect connects to NATS and checks JetStream without touching the
// topology: what operator commands use, which look at the pipeline but must
// never create its streams. Close the connection when done.
func Connect(ctx context.Context, name string, c Common, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	return connect(ctx, name, c, log)
}

func connect(ctx context.Context, name string, c Common, log *slog.Logger, jsOpts ...jetstream.JetStreamOpt) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := natsconn.Connect(ctx, c.NATS, name, log)
	if err != nil {
		return nil, nil, err
	}
	js, err := natsconn.JetStream(ctx, nc, jsOpts...)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// PubAckTimeout bounds the wait for the PubAck of an asynchronous publish.
// Without it, a message whose stream leader died before acknowledging it (a
// node lost in a cluster) would wait forever; with it, the publisher gets
// jetstream.ErrAsyncPublishTimeout, a transient error, and publishes again
// under the same Nats-Msg-Id, which the new leader deduplicates. It is the
// client's default JetStream request timeout: an ack slower than that is
// resent, harmlessly. The publisher sweeps for overdue acks five times per
// timeout, so an ack fails between 5 and 6 s. Consumers' ack_wait must
// exceed that (the default 30s does), or inputs are redelivered while their
// output waits.
const PubAckTimeout = 5 * time.Second

// Runtime is a started binary's connection to the pipeline.
type Runtime struct {
	Log      *slog.Logger
	NC       *nats.Conn
	JS       jetstream.JetStream
	Topology *topology.Topology
	Metrics  *prometheus.Registry

	common    Common
	stops     []func() // run by Close before the connection drains
	pubOnce   sync.Once
	pub       *publish.Publisher
	pubErr    error
	gateOnce  sync.Once
	gateStats *backpressure.Metrics
}

// Start connects to NATS, checks JetStream, ensures the topology and starts
// the telemetry endpoint. Close the Runtime when done.
func Start(ctx context.Context, name string, c Common, log *slog.Logger, jsOpts ...jetstream.JetStreamOpt) (*Runtime, error) {
	// First, so that a caller's own timeout wins.
	jsOpts = append([]jetstream.JetStreamOpt{jetstream.WithPublishAsyncTimeout(PubAckTimeout)}, jsOpts...)
	nc, err := natsconn.Connect(ctx, c.NATS, name, log)
	if err != nil {
		return nil, err
	}
	rt := &Runtime{Log: log, NC: nc, Metrics: telemetry.NewRegistry(), common: c}
	// A server that is restarting, or a cluster electing its leaders,
	// accepts the connection before it can answer JetStream: that is a wait,
	// not a reason to exit.
	err = rt.Retry(ctx, "JetStream and the streams", func(ctx context.Context) error {
		js, err := natsconn.JetStream(ctx, nc, jsOpts...)
		if err != nil {
			return err
		}
		top, err := topology.Ensure(ctx, js, c.Streams)
		if err != nil {
			return err
		}
		rt.JS, rt.Topology = js, top
		return nil
	})
	if err != nil {
		nc.Close()
		return nil, err
	}
	js := rt.JS
	if c.Telemetry.Listen != "" {
		ready := func() error {
			if !nc.IsConnected() {
				return errors.New("not connected to NATS")
			}
			// The streams exist unless someone deleted them after start-up
			// (a purge after the migration, say): then nothing can flow.
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			for _, name := range []string{c.Streams.Raw.Name, c.Streams.Mapped.Name, c.Streams.DeadLetter.Name} {
				if _, err := js.Stream(rctx, name); err != nil {
					return fmt.Errorf("stream %s: %w", name, err)
				}
			}
			return nil
		}
		if _, err := telemetry.Serve(ctx, c.Telemetry.Listen, rt.Metrics, ready, log); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return rt, nil
}

// Publisher is the binary's asynchronous publisher (package publish),
// made at the first call with at most maxPending acks outstanding (0: the
// client's 4000) and PubAckTimeout; later calls return the same one. Close
// closes it.
func (r *Runtime) Publisher(maxPending int) (*publish.Publisher, error) {
	r.pubOnce.Do(func() {
		r.pub, r.pubErr = publish.New(r.NC, r.JS, publish.Options{MaxPending: maxPending, Timeout: PubAckTimeout})
		if r.pubErr == nil {
			r.stops = append(r.stops, r.pub.Close)
		}
	})
	return r.pub, r.pubErr
}

// Retry runs fn until it succeeds, fails with an error that is not
// transient, or nats.connect_retry has passed since the first attempt: the
// start-up steps (streams, consumers) wait out a restarting server or a
// cluster electing its leaders, as the first connection does.
func (r *Runtime) Retry(ctx context.Context, what string, fn func(context.Context) error) error {
	deadline := time.Now().Add(r.common.NATS.ConnectRetry)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := fn(actx)
		cancel()
		if err == nil || ctx.Err() != nil || !fault.IsTransient(err) || time.Now().After(deadline) {
			return err
		}
		wait := min(100*time.Millisecond<<min(attempt, 5), 2*time.Second)
		r.Log.Warn(what+" not available yet, retrying", "attempt", attempt, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Gate starts the back-pressure gate of a producer that publishes to
// subjects of stream; it runs until ctx is done. Pauses are logged, counted
// in gm_backpressure_* metrics, and shown in the instance's heartbeat hb
// (nil: none).
func (r *Runtime) Gate(ctx context.Context, stream jetstream.Stream, subjects []string, hb *heartbeat.Writer) *backpressure.Gate {
	r.gateOnce.Do(func() { r.gateStats = backpressure.NewMetrics(r.Metrics) })
	var onChange func(bool, string)
	if hb != nil {
		onChange = hb.SetPaused
	}
	g := backpressure.New(r.common.Backpressure, stream, subjects, r.gateStats, r.Log, onChange)
	r.background(ctx, g.Run)
	return g
}

// Heartbeat starts the instance record of this process in the state bucket
// (see package heartbeat) until ctx is done; counts supplies its totals.
func (r *Runtime) Heartbeat(ctx context.Context, stageName, detail string, counts func() map[string]int64) *heartbeat.Writer {
	hb := heartbeat.New(r.Topology.State, stageName, detail, counts, r.Log)
	// Close stops it, and a clean stop removes the record, so status does
	// not show a dead instance.
	r.background(ctx, hb.Run)
	return hb
}

// background runs fn until ctx is done or Close, which waits for it.
func (r *Runtime) background(ctx context.Context, fn func(context.Context)) {
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); fn(bctx) }()
	r.stops = append(r.stops, func() { cancel(); <-done })
}

// Close drains the connection so that buffered publishes and acks reach the
// server before it closes, waiting at most 30 s (the client's drain timeout).
func (r *Runtime) Close() {
	for _, stop := range r.stops {
		stop()
	}
	if err := r.NC.Drain(); err != nil {
		r.NC.Close()
		return
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(35 * time.Second)
	for !r.NC.IsClosed() {
		select {
		case <-tick.C:
		case <-deadline:
			r.NC.Close()
			return
		}
	}
}

// Flags starts a binary's flag set: usage text, output to env.Stderr, and
// the -config flag every binary has.
func Flags(name, usage string, env Env) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	cfg := fs.String("config", env.Getenv("GM_CONFIG"), "YAML config file (env GM_CONFIG); defaults apply without one")
	return fs, cfg
}

// ErrHelp is returned by [ParseFlags] when the user asked for -h: the usage
// is printed and the binary exits 0.
var ErrHelp = flag.ErrHelp

// ParseFlags parses args; a bad flag is a [UsageError], and unexpected
// positional arguments are refused unless positional is true.
func ParseFlags(fs *flag.FlagSet, args []string, positional bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ErrHelp
		}
		return Usage(err)
	}
	if !positional && fs.NArg() > 0 {
		return Usage(fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	return nil
}
