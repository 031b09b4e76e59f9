package consume_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/consume"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// namedConsumer is a consumer known only by its names: PullChunks makes
// its own requests to it.
type namedConsumer struct{ jetstream.Consumer }

func (namedConsumer) CachedInfo() *jetstream.ConsumerInfo {
	return &jetstream.ConsumerInfo{Stream: "S", Name: "C"}
}

// answerStatus ends a pull request as a server does: a status message,
// headers only, to its reply subject.
func answerStatus(nc *nats.Conn, req *nats.Msg, code, description string) {
	m := nats.NewMsg(req.Reply)
	m.Header.Set("Status", code)
	m.Header.Set("Description", description)
	_ = nc.PublishMsg(m)
}

// TestPullChunksEndsRequestsTheServerEnds plays the server's side of the
// pull protocol on a plain NATS server: the first request gets two of the
// five messages it asked for and is never answered again (a server that
// restarted), the second ends at once with a 409 (a consumer deleted), the
// ones after stay unanswered. The two messages are handed out, the 409 is logged, the silent requests are given up a second
// after their expiry and their part of the window returned, and a stop
// returns with the window empty and no subscription left.
func TestPullChunksEndsRequestsTheServerEnds(t *testing.T) {
	nc := natstest.StartWith(t, func(o *server.Options) { o.JetStream = false }).Connect()
	var mu sync.Mutex
	var requests []string
	if _, err := nc.Subscribe("$JS.API.CONSUMER.MSG.NEXT.S.C", func(req *nats.Msg) {
		mu.Lock()
		requests = append(requests, string(req.Data))
		n := len(requests)
		mu.Unlock()
		switch n {
		case 1:
			for seq := 1; seq <= 2; seq++ {
				m := nats.NewMsg(req.Reply)
				// A server refuses a client's $JS.ACK reply subjects: the
				// metadata of these is not tested here.
				m.Reply = fmt.Sprintf("ack.%d", seq)
				m.Data = fmt.Appendf(nil, `{"n":%d}`, seq)
				_ = nc.PublishMsg(m)
			}
		case 2:
			answerStatus(nc, req, "409", "Consumer Deleted")
		}
	}); err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	const window, batch = 10, 5
	w := consume.NewWindow(window)
	out := make(chan []jetstream.Msg, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- consume.PullChunks(ctx, namedConsumer{}, consume.ChunkOptions{Conn: nc, Batch: batch, Chunk: 4, Window: w}, out, nil, log)
	}()

	var got []jetstream.Msg
	natstest.Eventually(t, 5*time.Second, func() error {
		for len(out) > 0 {
			got = append(got, <-out...)
		}
		if len(got) != 2 {
			return fmt.Errorf("%d messages handed out, want 2", len(got))
		}
		return nil
	})
	for i, m := range got {
		if want := fmt.Sprintf(`{"n":%d}`, i+1); string(m.Data()) != want {
			t.Fatalf("message %d: %s, want %s", i, m.Data(), want)
		}
	}
	if held := w.Held(); held > window {
		t.Fatalf("%d held, window %d", held, window)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		l := logs.String()
		if !strings.Contains(l, "409 Consumer Deleted") || !strings.Contains(l, "was not answered") {
			return fmt.Errorf("log so far:\n%s", l)
		}
		return nil
	})
	mu.Lock()
	first := requests[0]
	mu.Unlock()
	if want := fmt.Sprintf(`{"batch":%d,"expires":%d}`, batch, (2 * time.Second).Nanoseconds()); first != want {
		t.Fatalf("request %s, want %s", first, want)
	}
	w.Release(len(got)) // settled
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("PullChunks did not return within 10s of the stop")
	}
	for range out {
	}
	if held := w.Held(); held != 0 {
		t.Fatalf("%d held after the stop, want 0", held)
	}
	if n := nc.NumSubscriptions(); n != 1 {
		t.Fatalf("%d subscriptions left, want only the test's own", n)
	}
}
