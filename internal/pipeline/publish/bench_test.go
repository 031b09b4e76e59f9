package publish

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// asyncPublisher is what the stages publish with: this package, or the
// client's own.
type asyncPublisher interface {
	PublishMsgAsync(msg *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error)
}

// BenchmarkPublishAsync publishes 1 KB messages with a stage's headers to a
// memory stream, 512 acks outstanding, with this package and with the
// client's jetstream.PublishMsgAsync (the server runs in the test process,
// so its work is in both figures).
func BenchmarkPublishAsync(b *testing.B) {
	srv := natstest.Start(b)
	nc := srv.Connect()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(512), jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage, MaxMsgs: 100_000}); err != nil {
		b.Fatal(err)
	}
	pub, err := New(nc, js, Options{MaxPending: 512, Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	data := make([]byte, 1024)
	for _, c := range []struct {
		name string
		pub  asyncPublisher
	}{{"publish", pub}, {"client", js}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			futs := make(chan jetstream.PubAckFuture, 512)
			done := make(chan error, 1)
			recycle, _ := c.pub.(interface{ Done(jetstream.PubAckFuture) })
			go func() {
				var err error
				for f := range futs {
					select {
					case <-f.Ok():
					case e := <-f.Err():
						err = e
					}
					if recycle != nil {
						recycle.Done(f) // as the transformer does
					}
				}
				done <- err
			}()
			for i := 0; b.Loop(); i++ {
				m := &nats.Msg{Subject: "s.x", Data: data, Header: nats.Header{}}
				m.Header.Set("Nats-Msg-Id", fmt.Sprint(i))
				m.Header.Set("Gigya-UID", "0123456789abcdef0123456789abcdef")
				m.Header.Set("Mapping-Version", "v1")
				for {
					f, err := c.pub.PublishMsgAsync(m)
					if err == nil {
						futs <- f
						break
					}
					if err != jetstream.ErrTooManyStalledMsgs {
						b.Fatal(err)
					}
				}
			}
			close(futs)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
