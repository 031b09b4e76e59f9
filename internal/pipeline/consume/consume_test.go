package consume_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/consume"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func setup(t *testing.T) (*natstest.Server, *nats.Conn, jetstream.JetStream, *topology.Topology) {
	t.Helper()
	s := natstest.Start(t)
	nc := s.Connect()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	top, err := topology.Ensure(context.Background(), js, topology.Default())
	if err != nil {
		t.Fatal(err)
	}
	return s, nc, js, top
}

// TestPullDrainsBufferedMessagesOnStop: a stop hands out what the client
// buffered, and closes the channel. Messages the server was still sending
// when the subscription went away reach nobody (JetStream delivers a pull
// request asynchronously to the client's unsubscribe), so they stay
// ack-pending until ack_wait and then go to the next pull: nothing is lost.
func TestPullDrainsBufferedMessagesOnStop(t *testing.T) {
	_, _, js, top := setup(t)
	ctx := context.Background()
	const total = 20
	for i := range total {
		if _, err := js.Publish(ctx, "gigya.accounts.s", fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := topology.ConsumerConfig{AckWait: time.Second, MaxDeliver: 3, MaxAckPending: 100, Backoff: []time.Duration{time.Second}}
	cons, err := cfg.Durable(ctx, top.Raw, "t", "gigya.accounts.>")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	runCtx, cancel := context.WithCancel(ctx)
	out := make(chan jetstream.Msg)
	done := make(chan error, 1)
	go func() { done <- consume.Pull(runCtx, js.Conn(), cons, 50, out, discard) }()
	first := <-out
	_ = first.DoubleAck(ctx)
	seen[string(first.Data())] = true
	cancel() // stop: what the client already buffered still comes out
	for m := range out {
		_ = m.DoubleAck(ctx)
		seen[string(m.Data())] = true
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d handed out by the stopped pull", len(seen), total)

	// A restarted stage gets the rest.
	runCtx, cancel = context.WithCancel(ctx)
	defer cancel()
	out = make(chan jetstream.Msg)
	go func() { done <- consume.Pull(runCtx, js.Conn(), cons, 50, out, discard) }()
	timeout := time.After(30 * time.Second)
	for len(seen) < total {
		select {
		case m := <-out:
			_ = m.DoubleAck(ctx)
			seen[string(m.Data())] = true
		case <-timeout:
			t.Fatalf("only %d of %d messages ever handed out", len(seen), total)
		}
	}
	cancel()
	for range out {
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDeadLetterExhausted(t *testing.T) {
	_, nc, js, top := setup(t)
	ctx := context.Background()
	msg := nats.NewMsg("gigya.accounts.s")
	msg.Data = []byte(`{"UID":"u1"}`)
	msg.Header.Set(message.HdrUID, "u1")
	msg.Header.Set(message.HdrRedriven, "2")
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	cfg := topology.ConsumerConfig{AckWait: time.Minute, MaxDeliver: 2, MaxAckPending: 10, Backoff: []time.Duration{time.Second}}
	cons, err := cfg.Durable(ctx, top.Raw, "transformer-auth0", "gigya.accounts.>")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := consume.DeadLetterExhausted(nc, js, top.Raw, "transformer-auth0", message.StageTransform, "auth0", discard)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	// A stage that never settles the message: every delivery is refused.
	for range 2 {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		_ = m.Nak()
	}
	// The server checks deliveries when it next tries to deliver, as it does
	// for a running stage, which always has a pull outstanding.
	if _, err := cons.Next(jetstream.FetchMaxWait(500 * time.Millisecond)); err == nil {
		t.Fatal("an exhausted message was delivered a third time")
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		m, err := top.DeadLetter.GetLastMsgForSubject(ctx, "etl.deadletter.transform.auth0")
		if err != nil {
			return err
		}
		if string(m.Data) != `{"UID":"u1"}` || m.Header.Get(message.HdrErrorCode) != "max_deliver_exceeded" ||
			m.Header.Get(message.HdrUID) != "u1" || m.Header.Get(message.HdrAttempts) != "2" || m.Header.Get(message.HdrRedriven) != "2" {
			return fmt.Errorf("dead letter %q %v", m.Data, m.Header)
		}
		return nil
	})
}

// fakeGate closes at the first message admitted and stays closed until
// released.
type fakeGate struct {
	mu       sync.Mutex
	admitted int
	open     chan struct{}
	closed   bool
}

func (g *fakeGate) Admit() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.admitted++
	if g.open == nil {
		g.closed = true
		g.open = make(chan struct{})
	}
	return !g.closed
}

func (g *fakeGate) Wait(ctx context.Context) error {
	g.mu.Lock()
	open, closed := g.open, g.closed
	g.mu.Unlock()
	if !closed {
		return nil
	}
	select {
	case <-open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *fakeGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = false
	close(g.open)
}

// TestPullGatedStopsPullingWhilePaused: a gate that closes lets out at most
// the fetch in progress, leaves no pull request outstanding and nothing
// delivered but not handed out, and consumption resumes when it opens.
func TestPullGatedStopsPullingWhilePaused(t *testing.T) {
	_, _, js, top := setup(t)
	ctx := context.Background()
	const total, buffer = 200, 10
	for i := range total {
		if _, err := js.Publish(ctx, "gigya.accounts.s", fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := topology.ConsumerConfig{AckWait: time.Minute, MaxDeliver: 3, MaxAckPending: 1000, Backoff: []time.Duration{time.Second}}
	cons, err := cfg.Durable(ctx, top.Raw, "t", "gigya.accounts.>")
	if err != nil {
		t.Fatal(err)
	}
	gate := &fakeGate{}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan jetstream.Msg, total)
	done := make(chan error, 1)
	go func() { done <- consume.PullGated(runCtx, js.Conn(), cons, buffer, out, gate, discard) }()

	// The first message closes the gate; the fetch it came with is handed out.
	natstest.Eventually(t, 10*time.Second, func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if len(out) == 0 || info.NumWaiting != 0 || info.NumAckPending != len(out) {
			return fmt.Errorf("handed out %d, consumer ack-pending %d, waiting pulls %d", len(out), info.NumAckPending, info.NumWaiting)
		}
		return nil
	})
	if n := len(out); n > buffer {
		t.Fatalf("paused stage received %d messages, more than one buffer (%d)", n, buffer)
	}
	gate.release()
	natstest.Eventually(t, 10*time.Second, func() error {
		if len(out) != total {
			return fmt.Errorf("received %d of %d after the gate opened", len(out), total)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPullPausesAfterAFailedRequest: while the consumer has no leader, Pull
// retries at a modest pace instead of spinning (which starved the servers
// electing one on a small machine). A plain NATS server plays the
// consumer, ending every request at once as a leaderless one does.
func TestPullPausesAfterAFailedRequest(t *testing.T) {
	nc := natstest.StartWith(t, func(o *server.Options) { o.JetStream = false }).Connect()
	var mu sync.Mutex
	requests := 0
	if _, err := nc.Subscribe("$JS.API.CONSUMER.MSG.NEXT.S.C", func(req *nats.Msg) {
		mu.Lock()
		requests++
		mu.Unlock()
		answerStatus(nc, req, "409", "Leadership Change")
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	out := make(chan jetstream.Msg)
	go func() {
		for range out {
		}
	}()
	if err := consume.Pull(ctx, nc, namedConsumer{}, 10, out, discard); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests < 2 || requests > 10 {
		t.Fatalf("%d pull requests in 500ms, want a few (one per 100ms pause)", requests)
	}
}
