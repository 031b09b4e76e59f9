package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// openStream looks the dead-letter stream up without creating it: these
// commands inspect a pipeline, they never set one up.
func openStream(ctx context.Context, js jetstream.JetStream, name string) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("dead-letter stream %s not found: check streams.deadletter.name in the config, or start a pipeline binary once so that it creates the stream: %w", name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("dead-letter stream %s: %w", name, err)
	}
	return st, nil
}

// entry is a dead letter without its payload.
type entry struct {
	Seq     uint64
	Subject string
	Time    time.Time
	Header  nats.Header
}

// stage is the Etl-Stage header, or the subject's stage token when a
// foreign publisher left the header out.
func (e entry) stage() string {
	if s := e.Header.Get(message.HdrStage); s != "" {
		return s
	}
	s, _ := splitSubject(e.Subject)
	return s
}

func (e entry) target() string {
	_, t := splitSubject(e.Subject)
	return t
}

// redriven is the Etl-Redriven count; absent or unreadable counts as 0.
func (e entry) redriven() int { return redrivenCount(e.Header) }

func redrivenCount(h nats.Header) int {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(message.HdrRedriven)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// splitSubject reads etl.deadletter.<stage>.<target>.
func splitSubject(subject string) (stage, target string) {
	rest, ok := strings.CutPrefix(subject, "etl.deadletter.")
	if !ok {
		return "", ""
	}
	stage, target, _ = strings.Cut(rest, ".")
	return stage, target
}

// filterSubject narrows a scan to one stage and/or target on the server, so
// that only the matching headers travel.
func filterSubject(stage, target string) string {
	if stage == "" && target == "" {
		return topology.DeadLetterSubjects
	}
	if stage == "" {
		stage = "*"
	}
	if target == "" {
		target = "*"
	}
	return message.DeadLetterSubject(stage, target)
}

// scanPull is how many headers one pull request asks for: headers are small,
// so a large batch keeps the round trips few on 100k dead letters.
const scanPull = 2000

// scan calls fn for every dead letter matching filter with a sequence in
// [from, to] (to 0: up to the last one), in sequence order, transferring
// headers only, until fn returns false. Dead letters stored after the scan started are not visited,
// so a scan ends even while stages keep dead-lettering.
func scan(ctx context.Context, js jetstream.JetStream, st jetstream.Stream, filter string, from, to uint64, fn func(entry) bool) error {
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("dead-letter stream info: %w", err)
	}
	name := info.Config.Name
	last := info.State.LastSeq
	if to == 0 || to > last {
		to = last
	}
	if info.State.Msgs == 0 || from > to {
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{filter},
		HeadersOnly:       true,
		MaxResetAttempts:  5,
		InactiveThreshold: time.Minute,
	}
	if from > 1 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = from
	}
	cons, err := js.OrderedConsumer(ctx, name, cfg)
	if err != nil {
		return fmt.Errorf("scan dead letters of %s: %w", name, err)
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
		return fmt.Errorf("scan dead letters of %s: %w", name, err)
	}
	defer it.Stop()
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return fmt.Errorf("scan dead letters of %s: %w", name, err)
		}
		meta, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("scan dead letters of %s: %w", name, err)
		}
		seq := meta.Sequence.Stream
		if seq > to {
			return nil
		}
		more := fn(entry{Seq: seq, Subject: m.Subject(), Time: meta.Timestamp, Header: m.Headers()})
		if !more || seq >= to || meta.NumPending == 0 {
			return nil
		}
	}
}
