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
// the consumer's MaxAckPending. nc is the stage's connection: the requests
// go out on it and the messages come back on it.
//
// Pull makes one pull request at a time (as [PullChunks] makes them) and
// asks for the next once everything the last one brought is handed out. A
// continuous iterator (the client's Messages) would prefetch more
// smoothly, but stopping it races with the server, which may still be
// sending into the pull request after the client unsubscribed: those
// messages reach nobody and sit ack-pending until ack_wait (seen in
// tests). A request ends with the server's own end-of-request status, so a
// stop or a pause never strands a message.
func Pull(ctx context.Context, nc *nats.Conn, cons jetstream.Consumer, buffer int, out chan<- jetstream.Msg, log *slog.Logger) error {
	return PullGated(ctx, nc, cons, buffer, out, nil, log)
}

// PullGated is [Pull] that stops pulling while gate is closed: the request
// in progress is handed out (so at most one buffer more goes downstream),
// then no pull request is outstanding until the gate opens.
func PullGated(ctx context.Context, nc *nats.Conn, cons jetstream.Consumer, buffer int, out chan<- jetstream.Msg, gate Gate, log *slog.Logger) error {
	defer close(out)
	if nc == nil {
		return errors.New("consume: Pull needs the stage's connection")
	}
	buffer = max(buffer, 1)
	// The window holds a request's messages until they are handed out, so
	// the next request waits for the last one's to be taken.
	win := NewWindow(buffer)
	emit := func(c []jetstream.Msg) {
		for _, m := range c {
			out <- m
		}
		win.Release(len(c))
	}
	newPuller(nc, cons, win, 1, min(buffer, pullChunk), emit, gate).run(ctx, buffer, log)
	return nil
}

// pullChunk is how many messages Pull's reader gathers before it hands them
// out (it hands out fewer as soon as nothing more is waiting).
const pullChunk = 64

// pause waits a moment before the next pull request after a failed one.
func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(100 * time.Millisecond):
	}
}
