package consume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ChunkOptions size a [PullChunks].
type ChunkOptions struct {
	// Conn is the connection the pull requests go out on and the messages
	// come back on: the stage's own.
	Conn *nats.Conn
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

// requestGrace is how long past its expiry a pull request is waited for
// before it counts as lost (a server that restarted never answers it).
const requestGrace = time.Second

// PullChunks is [PullGated] for stages that work on several messages at a
// time: it hands out the messages of cons in chunks of up to opts.Chunk
// (a chunk is handed out as soon as nothing more is waiting, never held
// back to fill up), keeps a second pull request open while the first is
// handed out, so the workers do not wait for a round trip between batches,
// and asks only for what fits in opts.Window.
//
// It makes the pull requests itself rather than through the client's
// Fetch, which for every message arms a timer, passes the message through
// a goroutine of its own and parses its reply subject (the stage's reads
// of the metadata parse it again). Each request has a subscription of its
// own (a delivery's subject is the stream message's, so only the
// subscription tells the request), and all of them feed one channel, read
// in the order the server answered: a request the stream cannot fill (it
// waits for its expiry) never holds back another one's messages.
//
// A request ends when all it asked for has come, or with the server's
// status (408 at its expiry; a 409 for a consumer deleted or a leader
// lost, which is logged and followed by a pause), or, unanswered, a second
// after its expiry. While gate is closed no new request is made (those
// open are still handed out). When ctx is done it hands out what the open
// requests still bring, then closes out.
func PullChunks(ctx context.Context, cons jetstream.Consumer, opts ChunkOptions, out chan<- []jetstream.Msg, gate Gate, log *slog.Logger) error {
	defer close(out)
	if opts.Conn == nil {
		return errors.New("consume: PullChunks needs the stage's connection (ChunkOptions.Conn)")
	}
	// A second request keeps the workers fed while the first is handed out.
	p := newPuller(opts.Conn, cons, opts.Window, 2, max(opts.Chunk, 1), func(c []jetstream.Msg) { out <- c }, gate)
	p.run(ctx, min(max(opts.Batch, 1), int(opts.Window.limit)), log) // a batch larger than the window would never fit
	return nil
}

// newPuller returns the puller of cons: at most maxOpen requests open,
// their messages handed to emit in chunks of up to chunk.
func newPuller(nc *nats.Conn, cons jetstream.Consumer, win *Window, maxOpen, chunk int, emit func([]jetstream.Msg), gate Gate) *puller {
	info := cons.CachedInfo()
	return &puller{
		nc:      nc,
		next:    "$JS.API.CONSUMER.MSG.NEXT." + info.Stream + "." + info.Name,
		win:     win,
		maxOpen: maxOpen,
		chunk:   chunk,
		emit:    emit,
		gate:    gate,
		// Every message of an open request fits: they are bounded by the
		// window. A full channel would drop what comes next (the client's
		// slow-consumer rule), to be redelivered only after ack_wait.
		in:    make(chan *nats.Msg, 2*win.limit+16),
		ended: make(chan error, maxOpen),
	}
}

// run makes requests for batch messages until ctx is done, then waits
// until the open ones have ended and their messages are handed out.
func (p *puller) run(ctx context.Context, batch int, log *slog.Logger) {
	stop, read := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(read)
		p.read(stop)
	}()
	defer func() {
		close(stop)
		<-read
	}()

	open := 0
	ended := func(err error) {
		open--
		if err != nil && ctx.Err() == nil {
			// A consumer without a leader (an election after a node loss)
			// fails the request at once: without a pause every instance
			// would spin, starving the servers that are electing.
			log.Warn("pulling messages", "err", err)
			pause(ctx)
		}
	}
	defer func() {
		for open > 0 { // what the open requests bring is still handed out
			ended(<-p.ended)
		}
	}()
	for ctx.Err() == nil {
		if err := p.win.acquire(ctx, batch); err != nil {
			break
		}
		for open >= p.maxOpen && ctx.Err() == nil {
			select {
			case err := <-p.ended:
				ended(err)
			case <-ctx.Done():
			}
		}
		// The gate last: handing out what was open may have closed it.
		if p.gate != nil && ctx.Err() == nil {
			_ = p.gate.Wait(ctx)
		}
		if ctx.Err() != nil {
			p.win.Release(batch)
			break
		}
		if err := p.request(batch); err != nil {
			p.win.Release(batch)
			// The connection is closed, draining or at its limit of
			// subscriptions.
			log.Warn("pulling messages", "err", err)
			pause(ctx)
			continue
		}
		open++
	}
}

// pullRequest is one open request.
type pullRequest struct {
	sub      *nats.Subscription // its replies'
	asked    int
	got      int
	deadline time.Time
}

// puller makes the pull requests of [Pull] and [PullChunks]: its run
// loop opens requests, its reader hands out what they bring and ends them.
type puller struct {
	nc      *nats.Conn
	next    string // the consumer's next-messages API subject
	win     *Window
	maxOpen int
	chunk   int
	emit    func([]jetstream.Msg)
	gate    Gate
	in      chan *nats.Msg
	ended   chan error // one value per ended request: nil, or why it failed

	mu   sync.Mutex
	open []*pullRequest
}

// request opens a pull request for batch messages.
func (p *puller) request(batch int) error {
	inbox := p.nc.NewInbox()
	sub, err := p.nc.ChanSubscribe(inbox, p.in)
	if err != nil {
		return err
	}
	r := &pullRequest{sub: sub, asked: batch, deadline: time.Now().Add(pullExpiry + requestGrace)}
	p.mu.Lock()
	p.open = append(p.open, r)
	p.mu.Unlock()
	body := fmt.Appendf(nil, `{"batch":%d,"expires":%d}`, batch, pullExpiry.Nanoseconds())
	if err := p.nc.PublishRequest(p.next, inbox, body); err != nil {
		p.mu.Lock()
		p.remove(r)
		p.mu.Unlock()
		return err
	}
	return nil
}

// read hands out the requests' messages until stop is closed, which run
// does once no request is open.
func (p *puller) read(stop <-chan struct{}) {
	tick := time.NewTicker(pullExpiry / 4)
	defer tick.Stop()
	var chunk []jetstream.Msg
	for {
		var m *nats.Msg
		if len(chunk) == 0 {
			select {
			case m = <-p.in:
			case now := <-tick.C:
				p.expire(now)
				continue
			case <-stop:
				return
			}
		} else {
			select {
			case m = <-p.in:
			default:
				p.emit(chunk) // nothing more waiting: do not hold these back
				chunk = nil
				continue
			}
		}
		if !p.receive(m) {
			continue
		}
		if chunk == nil {
			chunk = make([]jetstream.Msg, 0, p.chunk)
		}
		chunk = append(chunk, newPulled(p.nc, m))
		if p.gate != nil {
			p.gate.Admit()
		}
		if len(chunk) == p.chunk {
			p.emit(chunk)
			chunk = nil
		}
	}
}

// receive counts m against its request and reports whether it is a
// message to hand out (not a status).
func (p *puller) receive(m *nats.Msg) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	var r *pullRequest
	for _, o := range p.open {
		if o.sub == m.Sub {
			r = o
		}
	}
	if code := statusOf(m); code != "" {
		if r != nil && code != "100" { // 100: an idle heartbeat
			p.end(r, statusErr(code, m.Header.Get("Description")))
		}
		return false
	}
	if r == nil {
		// Its request was given up for lost (past its expiry), and the
		// message was on its way: it is handed out all the same, and held.
		p.win.hold(1)
		return true
	}
	if r.got++; r.got == r.asked {
		p.end(r, nil)
	}
	return true
}

// expire ends the requests left unanswered past their expiry.
func (p *puller) expire(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range append([]*pullRequest(nil), p.open...) {
		if now.After(r.deadline) {
			p.end(r, fmt.Errorf("a pull request was not answered within %s of its expiry (a server restarted?)", requestGrace))
		}
	}
}

// end closes r, returns the part of the window it did not use and tells
// the requester. Called with p.mu held.
func (p *puller) end(r *pullRequest, err error) {
	p.remove(r)
	if r.got < r.asked {
		p.win.Release(r.asked - r.got)
	}
	p.ended <- err // never blocks: it holds a value per open request
}

// remove forgets r: the server sends it nothing more.
func (p *puller) remove(r *pullRequest) {
	_ = r.sub.Unsubscribe()
	for i, o := range p.open {
		if o == r {
			p.open = append(p.open[:i], p.open[i+1:]...)
			return
		}
	}
}

// statusOf returns the status code of a JetStream status message, "" for
// a message from the stream.
func statusOf(m *nats.Msg) string {
	if len(m.Data) > 0 || len(m.Header) == 0 {
		return ""
	}
	return m.Header.Get("Status")
}

// statusErr says why a request ended: nil for its normal ends (expired,
// nothing to deliver, its batch or byte limit reached).
func statusErr(code, description string) error {
	switch code {
	case "408", "404":
		return nil
	case "409":
		d := strings.ToLower(description)
		if strings.Contains(d, "batch completed") || strings.Contains(d, "message size exceeds maxbytes") {
			return nil
		}
	}
	return fmt.Errorf("pull request ended by the server: %s %s", code, description)
}
