package consume

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// maxDeliveriesAdvisory is the server's schema io.nats.jetstream.advisory.v1.max_deliver.
type maxDeliveriesAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// DeadLetterExhausted copies into the dead-letter stream every message the
// server stops redelivering to durable because it reached MaxDeliver. That
// happens when a stage never settles a message — its process crashed on it
// each time, or each attempt timed out — and the server then only publishes
// an advisory: without this, such a message would be stuck silently.
//
// All instances of a stage call it; a queue group makes one of them handle
// each advisory, and the dead letter's deterministic id drops repeats.
// Stop the returned subscription when done.
func DeadLetterExhausted(nc *nats.Conn, js jetstream.Publisher, stream jetstream.Stream, durable, stage, target string, log *slog.Logger) (*nats.Subscription, error) {
	streamName := stream.CachedInfo().Config.Name
	subject := fmt.Sprintf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.%s.%s", streamName, durable)
	return nc.QueueSubscribe(subject, durable+"-maxdeliver", func(m *nats.Msg) {
		var adv maxDeliveriesAdvisory
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			log.Error("unreadable max-deliveries advisory", "err", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		orig, err := stream.GetMsg(ctx, adv.StreamSeq)
		if err != nil {
			log.Error("message exhausted its deliveries but cannot be read to dead-letter it", "stream", streamName, "stream_seq", adv.StreamSeq, "err", err)
			return
		}
		dl := message.DeadLetter{
			Stage: stage, Target: target, Code: "max_deliver_exceeded",
			Err:           fmt.Sprintf("not processed after %d deliveries (consumer %s); the stage failed or crashed on it each time", adv.Deliveries, durable),
			UID:           orig.Header.Get(message.HdrUID),
			SourceSubject: orig.Subject, SourceSeq: orig.Sequence, Attempts: int(adv.Deliveries),
			Data: orig.Data, Extra: nats.Header{},
		}
		// Keep what a redrive or a replay loop needs to stay visible.
		for _, h := range []string{message.HdrRedriven, message.HdrMappingVersion, message.HdrReplay} {
			if v := orig.Header.Get(h); v != "" {
				dl.Extra.Set(h, v)
			}
		}
		if _, err := js.PublishMsg(ctx, dl.MsgWithin(nc.MaxPayload())); err != nil {
			log.Error("dead letter of an exhausted message not stored", "stream_seq", adv.StreamSeq, "err", err)
			return
		}
		log.Warn("message exhausted its deliveries; dead-lettered", "uid", dl.UID, "stream_seq", adv.StreamSeq, "deliveries", adv.Deliveries)
	})
}
