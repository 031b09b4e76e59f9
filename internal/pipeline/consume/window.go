package consume

import (
	"context"
	"sync/atomic"
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

// hold holds n messages that came without room reserved for them (a late
// delivery to a request given up).
func (w *Window) hold(n int) { w.held.Add(int64(n)) }

// Held returns how many messages the window holds.
func (w *Window) Held() int { return int(w.held.Load()) }

// acquire waits until n more messages fit, then holds them. Only the
// puller's request loop waits here, so the check and the add need no lock;
// a late message the reader holds meanwhile (hold) at most overshoots the
// window by itself.
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
