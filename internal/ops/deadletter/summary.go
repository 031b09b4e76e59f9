package deadletter

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/nats-io/nats.go/jetstream"
)

// maxSampleUIDs bounds the UIDs a group keeps: enough to look a few up.
const maxSampleUIDs = 5

// Group counts the dead letters of one stage, target and error code.
type Group struct {
	Stage  string `json:"stage"`
	Target string `json:"target"` // the target; for the extract stage, the site
	Code   string `json:"code"`
	Count  int    `json:"count"`
	// Redriven counts the dead letters of the group that were redriven at
	// least once and failed again; MaxRedriven is the highest Etl-Redriven.
	Redriven    int       `json:"redriven"`
	MaxRedriven int       `json:"max_redriven"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	FirstSeq    uint64    `json:"first_seq"`
	LastSeq     uint64    `json:"last_seq"`
	SampleUIDs  []string  `json:"sample_uids,omitempty"`
	SampleError string    `json:"sample_error,omitempty"` // the Etl-Error of the first dead letter
}

// Summarize groups the dead letters of stream by stage, target and error
// code, largest group first (ties by stage, target, code). It reads headers
// only, so payloads never leave the server, and it looks the stream up
// without creating it.
func Summarize(ctx context.Context, js jetstream.JetStream, stream string) ([]Group, error) {
	return summarize(ctx, js, stream, "", "")
}

// summarize is Summarize restricted on the server to a stage and/or target.
func summarize(ctx context.Context, js jetstream.JetStream, stream, stage, target string) ([]Group, error) {
	st, err := openStream(ctx, js, stream)
	if err != nil {
		return nil, err
	}
	type key struct{ stage, target, code string }
	groups := map[key]*Group{}
	err = scan(ctx, js, st, filterSubject(stage, target), 0, 0, func(e entry) bool {
		k := key{e.stage(), e.target(), e.Header.Get(message.HdrErrorCode)}
		g := groups[k]
		if g == nil {
			g = &Group{Stage: k.stage, Target: k.target, Code: k.code, First: e.Time, FirstSeq: e.Seq,
				SampleError: e.Header.Get(message.HdrError)}
			groups[k] = g
		}
		g.Count++
		g.Last, g.LastSeq = e.Time, e.Seq
		if n := e.redriven(); n > 0 {
			g.Redriven++
			g.MaxRedriven = max(g.MaxRedriven, n)
		}
		if uid := e.Header.Get(message.HdrUID); uid != "" && len(g.SampleUIDs) < maxSampleUIDs {
			g.SampleUIDs = append(g.SampleUIDs, uid)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]Group, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b Group) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Stage, b.Stage),
			cmp.Compare(a.Target, b.Target), cmp.Compare(a.Code, b.Code))
	})
	return out, nil
}
