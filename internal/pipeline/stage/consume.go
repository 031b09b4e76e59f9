package stage

import (
	"context"
	"fmt"
	"io"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/consume"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// Input is the durable consumer a consuming stage (transformer, loader)
// reads.
type Input struct {
	// Stage and Target label the dead letters of deliveries that exhaust
	// max_deliver (message.StageTransform or message.StageLoad).
	Stage, Target string
	Stream        jetstream.Stream
	Durable       string
	Filters       []string
	Consumer      topology.ConsumerConfig
}

// Consume binds the durable consumer of in, creating or updating it and
// waiting out a restarting server as [Start] does. Until Close it also
// dead-letters the deliveries that exhaust the consumer's max_deliver (the
// server drops them silently otherwise) and exports the consumer's lag as
// metrics.
func (r *Runtime) Consume(ctx context.Context, in Input) (jetstream.Consumer, error) {
	var cons jetstream.Consumer
	err := r.Retry(ctx, "consumer "+in.Durable, func(ctx context.Context) (err error) {
		cons, err = in.Consumer.Durable(ctx, in.Stream, in.Durable, in.Filters...)
		return err
	})
	if err != nil {
		return nil, err
	}
	watch, err := consume.DeadLetterExhausted(r.NC, r.JS, in.Stream, in.Durable, in.Stage, in.Target, r.Log)
	if err != nil {
		return nil, err
	}
	r.stops = append(r.stops, func() { _ = watch.Unsubscribe() })
	r.Go(ctx, func(ctx context.Context) { consume.WatchLag(ctx, cons, r.Metrics, in.Durable) })
	return cons, nil
}

// Go runs fn (a progress log, a watch) until ctx is done or Close, which
// waits for it to return.
func (r *Runtime) Go(ctx context.Context, fn func(context.Context)) { r.background(ctx, fn) }

// PrintSummary writes what a binary prints on stdout when it stops: its
// summary as one JSON line, for scripts (and the quickstart) to read.
func PrintSummary(w io.Writer, summary any) {
	line, err := json.Marshal(summary)
	if err != nil {
		line = fmt.Appendf(nil, `{"error":%q}`, err.Error())
	}
	fmt.Fprintln(w, string(line))
}
