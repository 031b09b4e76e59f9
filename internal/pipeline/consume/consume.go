// Package consume turns a durable pull consumer into a channel of messages
// for a stage's workers, with the graceful stop every stage needs: when the
// context ends, no new messages are pulled, the ones already buffered are
// still handed out, and then the channel closes. Acking stays with the
// stage, which acks only once its output is durable.
package consume

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// pullExpiry is how long one pull request waits at the server for messages;
// it also bounds how long a stop or a pause waits for the request to end.
const pullExpiry = 2 * time.Second

// Gate is what pauses consumption: back-pressure from further downstream
// (see package backpressure). Each message handed out is admitted; once
// Admit says the gate closed, pulling stops until Wait returns.
type Gate interface {
	Admit() bool
	Wait(ctx context.Context) error
}

// Pull hands the messages of cons to out until ctx is done, then closes
// out. buffer is how many messages one pull request asks for; keep it near
// what the workers hold in flight, since delivered messages count against
// the consumer's MaxAckPending.
//
// Pull issues one Fetch at a time and hands out everything it brings. A
// continuous iterator (Messages) would prefetch more smoothly, but stopping
// it races with the server, which may still be sending into the pull
// request after the client unsubscribed: those messages reach nobody and sit
// ack-pending until ack_wait (seen in tests). A fetch ends with the server's
// own end-of-request status, so a stop or a pause never strands a message.
// Its callback-free loop also keeps a slow worker from stalling the client.
func Pull(ctx context.Context, cons jetstream.Consumer, buffer int, out chan<- jetstream.Msg, log *slog.Logger) error {
	return PullGated(ctx, cons, buffer, out, nil, log)
}

// PullGated is [Pull] that stops pulling while gate is closed: the fetch in
// progress is handed out (so at most one buffer more goes downstream), then
// no pull request is outstanding until the gate opens.
func PullGated(ctx context.Context, cons jetstream.Consumer, buffer int, out chan<- jetstream.Msg, gate Gate, log *slog.Logger) error {
	defer close(out)
	for ctx.Err() == nil {
		if gate != nil {
			if err := gate.Wait(ctx); err != nil {
				return nil // stopped while paused: nothing is in flight
			}
		}
		batch, err := cons.Fetch(buffer, jetstream.FetchMaxWait(pullExpiry))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// The server restarted or a leader election is under way; the
			// next fetch usually works.
			log.Warn("pulling messages", "err", err)
			pause(ctx)
			continue
		}
		for msg := range batch.Messages() {
			out <- msg
			if gate != nil {
				gate.Admit()
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil {
			// A consumer without a leader (an election after a node loss)
			// fails the request at once: without a pause every instance
			// would spin, starving the servers that are electing.
			log.Warn("pulling messages", "err", err)
			pause(ctx)
		}
	}
	return nil
}

// pause waits a moment before the next pull request after a failed one.
func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(100 * time.Millisecond):
	}
}
