// Package publish is the stages' asynchronous JetStream publisher: a
// message goes out with a reply subject, and the stream's PubAck comes back
// on one wildcard subscription, as with nats.go's jetstream.PublishMsgAsync,
// whose contract it keeps (the same futures, limits and errors, so the
// stages' retry and classification are unchanged). It exists for speed: the
// client's version decodes every PubAck with encoding/json and arms a timer
// per message, which cost the loader an eighth of its time (its claims are
// two publishes per user) and the transformer a twentieth. Here a PubAck is
// read by hand (anything unusual goes to the JSON decoder), and five sweeps
// per timeout fail the acks that are overdue.
//
// What it keeps from the client:
//   - a PubAck with an error is that *jetstream.APIError (a duplicate with
//     a different payload, a wrong last sequence, ...);
//   - "no responders" (the stream has no leader yet, or the server has just
//     restarted) is resent after 250 ms, twice, then fails with
//     jetstream.ErrNoStreamResponse;
//   - an ack that has not come after the timeout fails with
//     jetstream.ErrAsyncPublishTimeout;
//   - when the connection drops, every pending publish fails with
//     nats.ErrDisconnected (its ack may never come);
//   - with MaxPending acks outstanding, a publish waits up to 200 ms for
//     one, then fails with jetstream.ErrTooManyStalledMsgs.
package publish

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// The client's defaults for an asynchronous publish.
const (
	defaultMaxPending = 4000
	stallWait         = 200 * time.Millisecond
	retryWait         = 250 * time.Millisecond
	retryAttempts     = 2
	// sweeps per timeout: an ack times out between timeout and
	// timeout*(1+1/sweeps) after its publish.
	sweeps = 5
)

// Options configure a Publisher.
type Options struct {
	// MaxPending bounds the acks outstanding (0: 4000, the client's).
	MaxPending int
	// Timeout fails a publish whose ack has not come (0: never).
	Timeout time.Duration
}

// syncPublisher is what a synchronous publish is delegated to.
type syncPublisher interface {
	PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

// Publisher publishes to JetStream streams. It is safe for concurrent use.
type Publisher struct {
	nc     *nats.Conn
	js     syncPublisher
	opts   Options
	prefix string // the reply subjects': an inbox and a dot
	sub    *nats.Subscription
	status chan nats.Status
	done   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	pending map[uint64]*future
	next    uint64
	tick    uint64        // sweeps so far: the clock of the timeouts
	stalled chan struct{} // closed when a slot frees, for publishes waiting
	closed  bool
	free    []*future // handed back (Done), for the next publishes
	stream  string    // the last stream name acked, reused for the next acks
}

// New subscribes to the replies of the Publisher's publishes on nc;
// synchronous publishes go through js. Close it before the connection.
func New(nc *nats.Conn, js syncPublisher, opts Options) (*Publisher, error) {
	if opts.MaxPending <= 0 {
		opts.MaxPending = defaultMaxPending
	}
	p := &Publisher{nc: nc, js: js, opts: opts, prefix: nc.NewInbox() + ".", pending: map[uint64]*future{}, done: make(chan struct{})}
	sub, err := nc.Subscribe(p.prefix+"*", p.reply)
	if err != nil {
		return nil, err
	}
	// PubAcks come as fast as messages go: the client's default limits on
	// a subscription's backlog would drop some under a burst.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	p.sub = sub
	p.status = nc.StatusChanged(nats.RECONNECTING, nats.CLOSED)
	p.wg.Add(1)
	go p.watch()
	return p, nil
}

// future is a jetstream.PubAckFuture.
type future struct {
	msg     *nats.Msg
	out     nats.Msg // what goes out: msg with the reply subject
	reply   []byte   // out.Reply's bytes, reused with the future
	ok      chan *jetstream.PubAck
	err     chan error
	ack     jetstream.PubAck
	born    uint64 // Publisher.tick at the publish
	retries int
}

func (f *future) Ok() <-chan *jetstream.PubAck { return f.ok }
func (f *future) Err() <-chan error            { return f.err }
func (f *future) Msg() *nats.Msg               { return f.msg }

// PublishMsg publishes msg and waits for its ack.
func (p *Publisher) PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	return p.js.PublishMsg(ctx, msg, opts...)
}

// errOptions: the stages set their expectations as headers.
var errOptions = errors.New("publish: publish options are not supported; set the headers on the message")

// PublishMsgAsync publishes msg; its future says how the stream took it.
// msg must not change until then.
func (p *Publisher) PublishMsgAsync(msg *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	if len(opts) > 0 {
		return nil, errOptions
	}
	if msg.Reply != "" {
		return nil, jetstream.ErrAsyncPublishReplySubjectSet
	}
	f, id, err := p.register(msg)
	if err != nil {
		return nil, err
	}
	if err := p.nc.PublishMsg(&f.out); err != nil {
		p.mu.Lock()
		delete(p.pending, id)
		p.unstall()
		p.mu.Unlock()
		return nil, err
	}
	return f, nil
}

// register makes the future of msg (or reuses one handed back), with an id
// among the pending and its reply subject, waiting for a slot if there is
// none.
func (p *Publisher) register(msg *nats.Msg) (*future, uint64, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, 0, jetstream.ErrJetStreamPublisherClosed
		}
		if len(p.pending) < p.opts.MaxPending {
			var f *future
			if n := len(p.free); n > 0 {
				f, p.free = p.free[n-1], p.free[:n-1]
			} else {
				f = &future{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
			}
			p.next++
			id := p.next
			f.msg, f.born, f.retries = msg, p.tick, 0
			// The reply subject is written into the future's own buffer
			// and viewed as a string: the client copies it as it sends,
			// and the buffer is rewritten only once the future is done.
			// Set under the lock: a resend reads it on another goroutine.
			f.reply = strconv.AppendUint(append(f.reply[:0], p.prefix...), id, 36)
			f.out = nats.Msg{Subject: msg.Subject, Reply: unsafe.String(unsafe.SliceData(f.reply), len(f.reply)), Header: msg.Header, Data: msg.Data}
			p.pending[id] = f
			p.mu.Unlock()
			return f, id, nil
		}
		if p.stalled == nil {
			p.stalled = make(chan struct{})
		}
		stalled := p.stalled
		p.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(stallWait)
		}
		select {
		case <-stalled:
		case <-timer.C:
			return nil, 0, jetstream.ErrTooManyStalledMsgs
		}
	}
}

// Done hands back fut, a future of this Publisher whose outcome the caller
// has received, for a later publish to reuse (with its channels and its
// reply subject): for a caller that publishes a message per record, these
// were a third of its allocations. Neither fut nor its message may be used
// after.
func (p *Publisher) Done(fut jetstream.PubAckFuture) {
	f, ok := fut.(*future)
	if !ok {
		return
	}
	f.msg, f.out = nil, nats.Msg{}
	p.mu.Lock()
	if len(p.free) < p.opts.MaxPending {
		p.free = append(p.free, f)
	}
	p.mu.Unlock()
}

// unstall wakes the publishes waiting for a slot when there is one. p.mu
// is held.
func (p *Publisher) unstall() {
	if p.stalled != nil && len(p.pending) < p.opts.MaxPending {
		close(p.stalled)
		p.stalled = nil
	}
}

// reply settles the future a PubAck (or a no-responders status) is for.
// The subscription calls it on one goroutine, which alone touches p.stream.
func (p *Publisher) reply(m *nats.Msg) {
	if len(m.Subject) <= len(p.prefix) {
		return
	}
	id, err := strconv.ParseUint(m.Subject[len(p.prefix):], 36, 64)
	if err != nil {
		return
	}
	if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
		p.mu.Lock()
		f := p.pending[id]
		switch {
		case f == nil:
			p.mu.Unlock()
		case f.retries < retryAttempts:
			f.retries++
			p.mu.Unlock()
			time.AfterFunc(retryWait, func() { p.resend(id, f) })
		default:
			p.settle(id, f, nil, jetstream.ErrNoStreamResponse)
		}
		return
	}
	var ack jetstream.PubAck
	if !p.parse(m.Data, &ack) {
		err = decode(m.Data, &ack)
	}
	p.mu.Lock()
	f := p.pending[id]
	if f == nil {
		p.mu.Unlock()
		return // timed out, or failed at a disconnect
	}
	f.ack = ack
	p.settle(id, f, &f.ack, err)
}

// settle removes f and hands it its outcome. p.mu is held, and released.
func (p *Publisher) settle(id uint64, f *future, ack *jetstream.PubAck, err error) {
	delete(p.pending, id)
	p.unstall()
	p.mu.Unlock()
	if err != nil {
		f.err <- err
		return
	}
	f.ok <- ack
}

// resend publishes f again after no responders, if it is still pending.
// It holds the lock while it sends, a rare wait: otherwise f could be
// settled and reused (Done) while its message goes out.
func (p *Publisher) resend(id uint64, f *future) {
	p.mu.Lock()
	if p.pending[id] != f {
		p.mu.Unlock()
		return
	}
	f.born = p.tick // a new wait for the ack
	if err := p.nc.PublishMsg(&f.out); err != nil {
		p.settle(id, f, nil, err)
		return
	}
	p.mu.Unlock()
}

// watch fails the pending publishes when the connection drops, and the
// overdue ones at each sweep.
func (p *Publisher) watch() {
	defer p.wg.Done()
	var sweep <-chan time.Time
	if p.opts.Timeout > 0 {
		t := time.NewTicker(p.opts.Timeout / sweeps)
		defer t.Stop()
		sweep = t.C
	}
	for {
		select {
		case <-p.done:
			return
		case s, ok := <-p.status:
			if !ok || s == nats.CLOSED {
				p.failAll(jetstream.ErrJetStreamPublisherClosed)
				return
			}
			p.failAll(nats.ErrDisconnected)
		case <-sweep:
			p.expire()
		}
	}
}

// expire fails the publishes whose ack is overdue.
func (p *Publisher) expire() {
	var overdue []*future
	p.mu.Lock()
	p.tick++
	for id, f := range p.pending {
		if p.tick-f.born > sweeps {
			overdue = append(overdue, f)
			delete(p.pending, id)
		}
	}
	p.unstall()
	p.mu.Unlock()
	for _, f := range overdue {
		f.err <- jetstream.ErrAsyncPublishTimeout
	}
}

// failAll fails every pending publish with err.
func (p *Publisher) failAll(err error) {
	p.mu.Lock()
	all := make([]*future, 0, len(p.pending))
	for id, f := range p.pending {
		all = append(all, f)
		delete(p.pending, id)
	}
	p.unstall()
	p.mu.Unlock()
	for _, f := range all {
		f.err <- err
	}
}

// pendingCount is the number of acks outstanding.
func (p *Publisher) pendingCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// Close fails the publishes still pending and stops the subscription;
// further publishes fail with jetstream.ErrJetStreamPublisherClosed.
func (p *Publisher) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	close(p.done)
	p.wg.Wait()
	p.failAll(jetstream.ErrJetStreamPublisherClosed)
	p.nc.RemoveStatusListener(p.status)
	_ = p.sub.Unsubscribe()
}

// parse reads the PubAck the server writes, {"stream":"S","seq":N} with
// "duplicate":true or "domain":"D" at times, into ack. It is false for
// anything else (an error above all), which decode reads. The stream name
// of the last ack is reused.
func (p *Publisher) parse(data []byte, ack *jetstream.PubAck) bool {
	*ack = jetstream.PubAck{}
	i := 0
	if i = expect(data, i, '{'); i < 0 {
		return false
	}
	for first := true; ; first = false {
		if i < len(data) && data[i] == '}' && first {
			break
		}
		key, j := plainString(data, i)
		if j < 0 || (j >= len(data) || data[j] != ':') {
			return false
		}
		i = j + 1
		switch string(key) {
		case "stream", "domain":
			v, j := plainString(data, i)
			if j < 0 {
				return false
			}
			if key[0] == 'd' {
				ack.Domain = string(v)
			} else {
				if string(v) != p.stream {
					p.stream = string(v)
				}
				ack.Stream = p.stream
			}
			i = j
		case "seq":
			j := i
			for j < len(data) && data[j] >= '0' && data[j] <= '9' {
				j++
			}
			n, err := strconv.ParseUint(string(data[i:j]), 10, 64)
			if err != nil {
				return false
			}
			ack.Sequence, i = n, j
		case "duplicate":
			switch {
			case bytes.HasPrefix(data[i:], []byte("true")):
				ack.Duplicate, i = true, i+4
			case bytes.HasPrefix(data[i:], []byte("false")):
				i += 5
			default:
				return false
			}
		default:
			return false
		}
		if i < len(data) && data[i] == ',' {
			i++
			continue
		}
		break
	}
	if i != len(data)-1 || data[i] != '}' || ack.Stream == "" {
		return false
	}
	return true
}

// expect returns the index after c at data[i], or -1.
func expect(data []byte, i int, c byte) int {
	if i < len(data) && data[i] == c {
		return i + 1
	}
	return -1
}

// plainString reads a string without escapes at data[i]: its content and
// the index after it, or -1.
func plainString(data []byte, i int) ([]byte, int) {
	if i >= len(data) || data[i] != '"' {
		return nil, -1
	}
	end := bytes.IndexByte(data[i+1:], '"')
	if end < 0 {
		return nil, -1
	}
	s := data[i+1 : i+1+end]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, -1
	}
	return s, i + end + 2
}

// decode reads any PubAck: an error in it is the *jetstream.APIError.
func decode(data []byte, ack *jetstream.PubAck) error {
	var r struct {
		Error *jetstream.APIError `json:"error"`
		jetstream.PubAck
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return jetstream.ErrInvalidJSAck
	}
	if r.Error != nil {
		return r.Error
	}
	if r.Stream == "" {
		return jetstream.ErrInvalidJSAck
	}
	*ack = r.PubAck
	return nil
}
