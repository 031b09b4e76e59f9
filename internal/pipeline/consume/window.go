package consume

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Window bounds the messages a stage holds: delivered to it and not yet
// settled (acked, nacked). [PullChunks] asks the server for a batch only
// when the window has room for all of it, and the stage releases each
// message when it settles it.
//
// Why: a pull request the server cannot fill because the consumer reached
// its MaxAckPending stays open, and the server then delivers one message
// per ack it receives, each in a write of its own, and the stage reads and
// handles them one by one. Kept below MaxAckPending, every request is
// answered at once in one burst: the server's per-message work (reads,
// writes, wake-ups) is shared by a whole batch.
type Window struct {
	limit int64
	held  atomic.Int64
	freed chan struct{} // signalled by Release: room may have appeared
}

// NewWindow returns a window of n messages (at least 1).
func NewWindow(n int) *Window {
	return &Window{limit: int64(max(n, 1)), freed: make(chan struct{}, 1)}
}

// Release returns n settled messages to the window.
func (w *Window) Release(n int) {
	w.held.Add(-int64(n))
	select {
	case w.freed <- struct{}{}:
	default:
	}
}

// Held returns how many messages the window holds.
func (w *Window) Held() int { return int(w.held.Load()) }

// acquire waits until n more messages fit, then holds them. Only the
// puller acquires, so the check and the add need no lock.
func (w *Window) acquire(ctx context.Context, n int) error {
	for w.held.Load()+int64(n) > w.limit {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.freed:
		}
	}
	w.held.Add(int64(n))
	return nil
}

// ChunkOptions size a [PullChunks].
type ChunkOptions struct {
	// Batch is how many messages one pull request asks for.
	Batch int
	// Chunk is the most messages handed out together: a worker maps a
	// chunk, then publishes its outputs back to back, so that they leave
	// in few writes.
	Chunk int
	// Window bounds the messages held (see [Window]); the stage releases
	// each message it settles.
	Window *Window
}

// PullChunks is [PullGated] for stages that work on several messages at a
// time: it hands out the messages of cons in chunks of up to opts.Chunk
// (a chunk is handed out as soon as nothing more is waiting, never held
// back to fill up), keeps a second pull request in flight while the first
// is handed out, so the workers do not wait for a round trip between
// batches, and asks only for what fits in opts.Window. The server spreads
// what it has over the requests waiting, so each request is handed out as
// its messages arrive, by a goroutine of its own: a request the stream
// cannot fill (it waits for its expiry) never holds back another one's
// messages, which would then wait past their ack deadline.
//
// While gate is closed no new request is made (those in flight are still
// handed out). When ctx is done it hands out what the requests in flight
// still bring, then closes out.
func PullChunks(ctx context.Context, cons jetstream.Consumer, opts ChunkOptions, out chan<- []jetstream.Msg, gate Gate, log *slog.Logger) error {
	batch := min(max(opts.Batch, 1), int(opts.Window.limit)) // a batch larger than the window would never fit
	chunk := max(opts.Chunk, 1)
	var handing sync.WaitGroup
	defer func() {
		handing.Wait()
		close(out)
	}()
	inFlight := make(chan struct{}, 2) // requests being handed out
	for ctx.Err() == nil {
		if gate != nil {
			if err := gate.Wait(ctx); err != nil {
				break
			}
		}
		if err := opts.Window.acquire(ctx, batch); err != nil {
			break
		}
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
			opts.Window.Release(batch)
			return nil
		}
		b, err := cons.Fetch(batch, jetstream.FetchMaxWait(pullExpiry))
		if err != nil {
			<-inFlight
			opts.Window.Release(batch)
			if ctx.Err() != nil {
				break
			}
			// The server restarted or a leader election is under way; the
			// next fetch usually works.
			log.Warn("pulling messages", "err", err)
			pause(ctx)
			continue
		}
		handing.Add(1)
		go func() {
			defer handing.Done()
			handOut(ctx, b, batch, chunk, opts.Window, out, gate, log)
			<-inFlight
		}()
	}
	return nil
}

// handOut passes on the messages of one request in chunks and returns the
// part of the window the request did not use.
func handOut(ctx context.Context, b jetstream.MessageBatch, asked, size int, w *Window, out chan<- []jetstream.Msg, gate Gate, log *slog.Logger) {
	msgs := b.Messages()
	got := 0
	var chunk []jetstream.Msg
	for {
		var m jetstream.Msg
		var ok bool
		if len(chunk) == 0 {
			m, ok = <-msgs
		} else {
			select {
			case m, ok = <-msgs:
			default:
				out <- chunk // nothing more waiting: do not hold these back
				chunk = nil
				continue
			}
		}
		if !ok {
			break
		}
		got++
		if chunk == nil {
			chunk = make([]jetstream.Msg, 0, size)
		}
		chunk = append(chunk, m)
		if gate != nil {
			gate.Admit()
		}
		if len(chunk) == size {
			out <- chunk
			chunk = nil
		}
	}
	if len(chunk) > 0 {
		out <- chunk
	}
	if got < asked {
		w.Release(asked - got)
	}
	if err := b.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil {
		// A consumer without a leader (an election after a node loss)
		// fails the request at once: without a pause every instance
		// would spin, starving the servers that are electing.
		log.Warn("pulling messages", "err", err)
		pause(ctx)
	}
}
