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
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// pullExpiry is how long one pull request waits at the server.
const pullExpiry = 5 * time.Second

// Gate is what pauses consumption: back-pressure from further downstream
// (see package backpressure). Paused is checked before each message.
type Gate interface {
	Paused() bool
	Wait(ctx context.Context) error
}

// Pull hands the messages of cons to out until ctx is done, then drains
// and closes out. buffer is how many messages the client prefetches; keep it
// near what the workers hold in flight, since prefetched messages count
// against the consumer's MaxAckPending.
//
// Pull runs the consumer loop itself (Messages, not Consume, because
// Consume's callback runs serially and would make a slow worker stall
// heartbeats); hand out's messages to as many workers as needed.
func Pull(ctx context.Context, cons jetstream.Consumer, buffer int, out chan<- jetstream.Msg, log *slog.Logger) error {
	return PullGated(ctx, cons, buffer, out, nil, log)
}

// PullGated is [Pull] that stops pulling while gate is paused: the messages
// already prefetched are still handed out (so at most one buffer more goes
// downstream), then no pull request is outstanding until the gate opens, so
// nothing waits in the client while its ack_wait runs out.
func PullGated(ctx context.Context, cons jetstream.Consumer, buffer int, out chan<- jetstream.Msg, gate Gate, log *slog.Logger) error {
	defer close(out)
	for {
		paused, err := pull(ctx, cons, buffer, out, gate, log)
		if err != nil || !paused {
			return err
		}
		if err := gate.Wait(ctx); err != nil {
			return nil // stopped while paused: nothing is in flight
		}
	}
}

// pull runs one message iterator until ctx is done (paused false) or the
// gate closes (paused true); either way the iterator is drained first.
func pull(ctx context.Context, cons jetstream.Consumer, buffer int, out chan<- jetstream.Msg, gate Gate, log *slog.Logger) (paused bool, err error) {
	// A short expiry bounds how long a pull request that went astray (seen
	// under heavy load: messages pending, none requested) leaves the stage
	// idle; the default is 30 s.
	it, err := cons.Messages(jetstream.PullMaxMessages(buffer), jetstream.PullExpiry(pullExpiry))
	if err != nil {
		return false, err
	}
	stopped := make(chan struct{})
	defer close(stopped)
	pause := make(chan struct{})
	var pauseOnce sync.Once
	go func() {
		select {
		case <-ctx.Done():
			it.Drain()
		case <-pause:
			it.Drain()
		case <-stopped:
			it.Stop()
		}
	}()
	for {
		msg, err := it.Next()
		switch {
		case err == nil:
			out <- msg
			if gate != nil && gate.Paused() && ctx.Err() == nil {
				paused = true
				pauseOnce.Do(func() { close(pause) })
			}
		case errors.Is(err, jetstream.ErrMsgIteratorClosed):
			return paused && ctx.Err() == nil, nil
		default:
			// The iterator recovers from server restarts and leader changes
			// by itself; say so and keep going.
			log.Warn("pulling messages", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}
