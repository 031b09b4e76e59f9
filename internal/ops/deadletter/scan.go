package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/consume"
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

// scan calls fn for every dead letter matching filter with a sequence in
// [from, to] (to 0: up to the last one), in sequence order, transferring
// headers only, until fn returns false (see [consume.Scan]).
func scan(ctx context.Context, js jetstream.JetStream, st jetstream.Stream, filter string, from, to uint64, fn func(entry) bool) error {
	err := consume.Scan(ctx, js, st, consume.ScanOptions{Filter: filter, HeadersOnly: true, From: from, To: to},
		func(m jetstream.Msg, seq uint64) bool {
			meta, _ := m.Metadata() // Scan read it already
			return fn(entry{Seq: seq, Subject: m.Subject(), Time: meta.Timestamp, Header: m.Headers()})
		})
	if err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	return nil
}
