package consume

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ScanOptions narrow a [Scan].
type ScanOptions struct {
	// Filter is the subject filter (empty: the whole stream).
	Filter string
	// HeadersOnly transfers headers without payloads: fast on many
	// messages, and no password hash leaves the server.
	HeadersOnly bool
	// From and To bound the stream sequences visited, inclusive (From 0:
	// the first; To 0: the last when the scan starts).
	From, To uint64
}

// scanPull is how many messages one pull request asks for: a large batch
// keeps the round trips few on a long stream.
const scanPull = 2000

// Scan calls fn with every message of stream that matches opts, in sequence
// order, until fn returns false. Messages stored after the scan started are
// not visited, so a scan ends even while stages keep publishing. It reads
// through an ordered consumer of its own, deleted at the end: the stages'
// consumers are not disturbed.
func Scan(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, opts ScanOptions, fn func(m jetstream.Msg, seq uint64) bool) error {
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	name := info.Config.Name
	to := opts.To
	if last := info.State.LastSeq; to == 0 || to > last {
		to = last
	}
	if info.State.Msgs == 0 || opts.From > to {
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{
		HeadersOnly:       opts.HeadersOnly,
		MaxResetAttempts:  5,
		InactiveThreshold: time.Minute,
	}
	if opts.Filter != "" {
		cfg.FilterSubjects = []string{opts.Filter}
	}
	if opts.From > 1 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = opts.From
	}
	cons, err := js.OrderedConsumer(ctx, name, cfg)
	if err != nil {
		return fmt.Errorf("scan %s: %w", name, err)
	}
	defer func() {
		// The server would drop the ephemeral consumer after InactiveThreshold
		// anyway; deleting it keeps consumer listings clean.
		if ci := cons.CachedInfo(); ci != nil {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = js.DeleteConsumer(dctx, name, ci.Name)
			cancel()
		}
	}()
	if ci := cons.CachedInfo(); ci != nil && ci.NumPending == 0 {
		return nil // nothing matches: the iterator would wait forever
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(scanPull))
	if err != nil {
		return fmt.Errorf("scan %s: %w", name, err)
	}
	defer it.Stop()
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return fmt.Errorf("scan %s: %w", name, err)
		}
		meta, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("scan %s: %w", name, err)
		}
		seq := meta.Sequence.Stream
		if seq > to {
			return nil
		}
		if !fn(m, seq) || seq >= to || meta.NumPending == 0 {
			return nil
		}
	}
}
