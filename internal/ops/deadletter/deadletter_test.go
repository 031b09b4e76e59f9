package deadletter_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/ops/deadletter"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestSummarizeGroupsAndCounts(t *testing.T) {
	p := newPipeline(t)
	again := nats.Header{}
	again.Set(message.HdrRedriven, "2")
	seqs := p.publish(t,
		transformDL("u1", "site1", "invalid_email", 1, nil),
		loadDL("u2", "user_exists", 1),
		transformDL("u3", "site1", "invalid_email", 2, nil),
		extractDL("site1", 7),
		transformDL("u4", "site2", "invalid_email", 3, again),
		loadDL("u5", "user_exists", 2),
		transformDL("u6", "site1", "missing_field", 4, nil),
	)
	groups, err := deadletter.Summarize(context.Background(), p.js, dlStream)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		stage, target, code string
		count, redriven     int
		first, last         uint64
		uids                []string
	}
	var got []row
	for _, g := range groups {
		got = append(got, row{g.Stage, g.Target, g.Code, g.Count, g.Redriven, g.FirstSeq, g.LastSeq, g.SampleUIDs})
		if g.First.IsZero() || g.Last.Before(g.First) {
			t.Errorf("%s/%s/%s: times %v..%v", g.Stage, g.Target, g.Code, g.First, g.Last)
		}
	}
	want := []row{
		{"transform", "auth0", "invalid_email", 3, 1, seqs[0], seqs[4], []string{"u1", "u3", "u4"}},
		{"load", "auth0", "user_exists", 2, 0, seqs[1], seqs[5], []string{"u2", "u5"}},
		{"extract", "site1", "bad_json", 1, 0, seqs[3], seqs[3], nil},
		{"transform", "auth0", "missing_field", 1, 0, seqs[6], seqs[6], []string{"u6"}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d groups %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.stage != w.stage || g.target != w.target || g.code != w.code || g.count != w.count ||
			g.redriven != w.redriven || g.first != w.first || g.last != w.last || !slices.Equal(g.uids, w.uids) {
			t.Errorf("group %d = %+v, want %+v", i, g, w)
		}
	}
	if groups[0].MaxRedriven != 2 || groups[0].SampleError != "mapping failed: invalid_email" {
		t.Errorf("first group: max redriven %d, sample error %q", groups[0].MaxRedriven, groups[0].SampleError)
	}
}

func TestSummarizeEmptyAndMissingStream(t *testing.T) {
	p := newPipeline(t)
	groups, err := deadletter.Summarize(context.Background(), p.js, dlStream)
	if err != nil || len(groups) != 0 {
		t.Fatalf("empty stream: %v, %v", groups, err)
	}
	_, err = deadletter.Summarize(context.Background(), p.js, "NO_SUCH_STREAM")
	if !errors.Is(err, jetstream.ErrStreamNotFound) || !strings.Contains(err.Error(), "streams.deadletter.name") {
		t.Fatalf("missing stream: %v, want ErrStreamNotFound with a hint", err)
	}
	if _, err := p.js.Stream(context.Background(), "NO_SUCH_STREAM"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("Summarize created the stream it was asked about: %v", err)
	}
}

func TestShowRedactsSecretsAndKeepsTheRest(t *testing.T) {
	p := newPipeline(t)
	seqs := p.publish(t, transformDL("u1", "site1", "invalid_email", 5, nil))
	l, err := deadletter.Show(context.Background(), p.js, dlStream, seqs[0])
	if err != nil {
		t.Fatal(err)
	}
	if l.Seq != seqs[0] || l.Stage != "transform" || l.Target != "auth0" || l.Code != "invalid_email" || l.UID != "u1" {
		t.Errorf("letter = %+v", l)
	}
	if got := l.Headers[message.HdrSourceSubject]; len(got) != 1 || got[0] != "gigya.accounts.site1" {
		t.Errorf("headers = %v, want every header, Etl-Source-Subject included", l.Headers)
	}
	payload := string(l.Payload)
	for _, secret := range []string{"HASH-u1", "SALT-u1"} {
		if strings.Contains(payload, secret) {
			t.Errorf("secret %q shown:\n%s", secret, payload)
		}
	}
	for _, kept := range []string{`"UID": "u1"`, "u1@example.com", "pbkdf2", "1000", `"hash": "[redacted]"`, `"salt": "[redacted]"`} {
		if !strings.Contains(payload, kept) {
			t.Errorf("%q missing:\n%s", kept, payload)
		}
	}
	if !strings.Contains(payload, "\n  ") || l.RedactedValues != 2 || l.Size != len(account("u1")) {
		t.Errorf("payload not pretty-printed or counts wrong (%d redacted, size %d):\n%s", l.RedactedValues, l.Size, payload)
	}
}

func TestShowNonJSONPayloads(t *testing.T) {
	p := newPipeline(t)
	binary := extractDL("site1", 1)
	binary.Data = []byte{0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x1b, '[', '2', 'J'} // gzip magic, an ANSI escape
	seqs := p.publish(t, extractDL("site1", 2), binary)

	text, err := deadletter.Show(context.Background(), p.js, dlStream, seqs[0])
	if err != nil {
		t.Fatal(err)
	}
	if text.Payload != nil || text.PreviewHex || strings.Contains(text.Preview, "LEAK") ||
		!strings.HasPrefix(text.Preview, `"{\"UID\":\"broken\"`) {
		t.Errorf("broken JSON shown as %q (hex %v)", text.Preview, text.PreviewHex)
	}
	bin, err := deadletter.Show(context.Background(), p.js, dlStream, seqs[1])
	if err != nil {
		t.Fatal(err)
	}
	if !bin.PreviewHex || bin.Preview != "1f8b0800fffe1b5b324a" || bin.Size != 10 {
		t.Errorf("binary shown as %q (hex %v, size %d)", bin.Preview, bin.PreviewHex, bin.Size)
	}
	if _, err := deadletter.Show(context.Background(), p.js, dlStream, 999); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Errorf("missing sequence: %v", err)
	}
}

func TestRedrivePublishesTransformStageToItsSiteAndDeletes(t *testing.T) {
	p := newPipeline(t)
	seqs := p.publish(t, transformDL("u1", "site1", "invalid_email", 5, nil), transformDL("u2", "site2", "invalid_email", 6, nil))
	res, err := deadletter.Redrive(context.Background(), p.js, dlStream, deadletter.Selection{Code: "invalid_email"}, deadletter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Selected != 2 || res.Redriven != 2 || res.Failed != 0 || len(res.Skipped) != 0 || res.Duplicates != 0 {
		t.Fatalf("result = %+v", res)
	}
	for i, site := range []string{"site1", "site2"} {
		uid := []string{"u1", "u2"}[i]
		m := last(t, p.top.Raw, message.RawSubject(site))
		if string(m.Data) != string(account(uid)) {
			t.Errorf("%s: payload changed: %s", site, m.Data)
		}
		want := map[string]string{
			message.HdrUID: uid, message.HdrSite: site, message.HdrLastUpdated: "1700000000123",
			message.HdrRedriven: "1", message.HdrMsgID: deadletter.RedriveMsgID(dlStream, seqs[i]),
		}
		for k, v := range want {
			if got := m.Header.Get(k); got != v {
				t.Errorf("%s: header %s = %q, want %q", site, k, got, v)
			}
		}
		if p.dlExists(t, seqs[i]) {
			t.Errorf("dead letter %d still stored after its redrive", seqs[i])
		}
	}
}

func TestRedriveLoadStageCopiesMappingVersion(t *testing.T) {
	p := newPipeline(t)
	seqs := p.publish(t, loadDL("u1", "user_exists", 9))
	res, err := deadletter.Redrive(context.Background(), p.js, dlStream, deadletter.Selection{Stage: "load"}, deadletter.Options{})
	if err != nil || res.Redriven != 1 {
		t.Fatalf("result = %+v, %v", res, err)
	}
	m := last(t, p.top.Mapped, message.MappedSubject("auth0"))
	if m.Header.Get(message.HdrMappingVersion) != "mv1" || m.Header.Get(message.HdrUID) != "u1" ||
		m.Header.Get(message.HdrRedriven) != "1" || m.Header.Get(message.HdrSite) != "" {
		t.Errorf("headers = %v", m.Header)
	}
	if p.dlExists(t, seqs[0]) {
		t.Error("dead letter still stored")
	}
}

func TestRedriveAfterACrashDoesNotDuplicate(t *testing.T) {
	p := newPipeline(t)
	seqs := p.publish(t, transformDL("u1", "site1", "invalid_email", 5, nil))
	// An earlier redrive published, then died before deleting the dead letter.
	dl, err := p.top.DeadLetter.GetMsg(context.Background(), seqs[0])
	if err != nil {
		t.Fatal(err)
	}
	first := nats.NewMsg(message.RawSubject("site1"))
	first.Data = dl.Data
	first.Header.Set(message.HdrMsgID, deadletter.RedriveMsgID(dlStream, seqs[0]))
	p.publish(t, first)

	res, err := deadletter.Redrive(context.Background(), p.js, dlStream, deadletter.Selection{Seqs: []deadletter.SeqRange{{From: seqs[0], To: seqs[0]}}}, deadletter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Redriven != 1 || res.Duplicates != 1 {
		t.Errorf("result = %+v, want 1 redriven, 1 duplicate", res)
	}
	if n := count(t, p.top.Raw, message.RawSubject("site1")); n != 1 {
		t.Errorf("%d copies in RAW, want 1", n)
	}
	if p.dlExists(t, seqs[0]) {
		t.Error("dead letter still stored")
	}
}

func TestRedriveCountsRoundsAndFlagsLoops(t *testing.T) {
	p := newPipeline(t)
	ctx := context.Background()
	p.publish(t, transformDL("u1", "site1", "invalid_email", 5, nil))
	sel := deadletter.Selection{UIDs: map[string]struct{}{"u1": {}}}
	for round := 1; round <= 4; round++ {
		res, err := deadletter.Redrive(ctx, p.js, dlStream, sel, deadletter.Options{})
		if err != nil || res.Redriven != 1 {
			t.Fatalf("round %d: %+v, %v", round, res, err)
		}
		// The RAW message carries the round; the dead letter before it had
		// round-1, so from round 4 on (Etl-Redriven 3) it is a loop.
		raw := last(t, p.top.Raw, message.RawSubject("site1"))
		if got := raw.Header.Get(message.HdrRedriven); got != string(rune('0'+round)) {
			t.Fatalf("round %d: Etl-Redriven = %q", round, got)
		}
		if wantLoop := round >= 4; (res.Looping == 1) != wantLoop || (len(res.Loops) == 1) != wantLoop {
			t.Errorf("round %d: looping %d %+v, want flagged %v", round, res.Looping, res.Loops, wantLoop)
		}
		// The transformer fails on it again and copies Etl-Redriven into
		// the new dead letter.
		extra := nats.Header{}
		extra.Set(message.HdrRedriven, raw.Header.Get(message.HdrRedriven))
		p.publish(t, transformDL("u1", "site1", "invalid_email", raw.Sequence, extra))
	}
}

func TestRedriveRefusesExtractStageAndKeepsIt(t *testing.T) {
	p := newPipeline(t)
	seqs := p.publish(t, extractDL("site1", 3), transformDL("u1", "site1", "invalid_email", 5, nil))
	res, err := deadletter.Redrive(context.Background(), p.js, dlStream, deadletter.Selection{All: true}, deadletter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Selected != 2 || res.Redriven != 1 || res.Skipped[deadletter.SkipExtractStage] != 1 {
		t.Errorf("result = %+v", res)
	}
	if !p.dlExists(t, seqs[0]) || p.dlExists(t, seqs[1]) {
		t.Error("want the extract-stage dead letter kept and the other one gone")
	}
	if hint := deadletter.SkipHint(deadletter.SkipExtractStage); !strings.Contains(hint, "run the extractor") {
		t.Errorf("hint %q does not say to re-run the extractor", hint)
	}
}

func TestRedriveSelection(t *testing.T) {
	for _, tc := range []struct {
		name string
		sel  func(seqs []uint64) deadletter.Selection
		want []int // indexes of the dead letters redriven
	}{
		{"code", func([]uint64) deadletter.Selection { return deadletter.Selection{Code: "missing_field"} }, []int{2}},
		{"uids", func([]uint64) deadletter.Selection {
			return deadletter.Selection{UIDs: map[string]struct{}{"u1": {}, "u4": {}, "nobody": {}}}
		}, []int{0, 3}},
		{"seq list", func(s []uint64) deadletter.Selection {
			return deadletter.Selection{Seqs: []deadletter.SeqRange{{From: s[1], To: s[1]}, {From: s[3], To: s[3]}}}
		}, []int{1, 3}},
		{"seq range", func(s []uint64) deadletter.Selection {
			return deadletter.Selection{Seqs: []deadletter.SeqRange{{From: s[1], To: s[2]}}}
		}, []int{1, 2}},
		{"open range and stage", func(s []uint64) deadletter.Selection {
			return deadletter.Selection{Stage: "transform", Seqs: []deadletter.SeqRange{{From: s[2]}}}
		}, []int{2}},
		{"code and target", func([]uint64) deadletter.Selection {
			return deadletter.Selection{Code: "invalid_email", Target: "auth0"}
		}, []int{0, 1}},
		{"stage matching nothing", func([]uint64) deadletter.Selection {
			return deadletter.Selection{Stage: "nosuch"}
		}, nil},
		{"seq past the end", func([]uint64) deadletter.Selection {
			return deadletter.Selection{Seqs: []deadletter.SeqRange{{From: 1000}}}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipeline(t)
			seqs := p.publish(t,
				transformDL("u1", "site1", "invalid_email", 1, nil),
				transformDL("u2", "site1", "invalid_email", 2, nil),
				transformDL("u3", "site1", "missing_field", 3, nil),
				loadDL("u4", "user_exists", 1),
			)
			res, err := deadletter.Redrive(context.Background(), p.js, dlStream, tc.sel(seqs), deadletter.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Selected != len(tc.want) || res.Redriven != len(tc.want) {
				t.Errorf("result = %+v, want %d redriven", res, len(tc.want))
			}
			for i, seq := range seqs {
				if gone := !p.dlExists(t, seq); gone != slices.Contains(tc.want, i) {
					t.Errorf("dead letter %d (seq %d): redriven = %v", i, seq, gone)
				}
			}
		})
	}
}

func TestRedriveLimitTakesTheOldest(t *testing.T) {
	p := newPipeline(t)
	seqs := p.publish(t,
		transformDL("u1", "site1", "invalid_email", 1, nil),
		transformDL("u2", "site1", "invalid_email", 2, nil),
		transformDL("u3", "site1", "invalid_email", 3, nil),
	)
	res, err := deadletter.Redrive(context.Background(), p.js, dlStream, deadletter.Selection{All: true}, deadletter.Options{Limit: 2})
	if err != nil || res.Selected != 2 || res.Redriven != 2 {
		t.Fatalf("result = %+v, %v", res, err)
	}
	if p.dlExists(t, seqs[0]) || p.dlExists(t, seqs[1]) || !p.dlExists(t, seqs[2]) {
		t.Error("want the two oldest redriven and the third kept")
	}
}

func TestRedriveDryRunChangesNothing(t *testing.T) {
	p := newPipeline(t)
	again := nats.Header{}
	again.Set(message.HdrRedriven, "5")
	seqs := p.publish(t, transformDL("u1", "site1", "invalid_email", 1, again), extractDL("site1", 2), loadDL("u2", "user_exists", 1))
	res, err := deadletter.Redrive(context.Background(), p.js, dlStream, deadletter.Selection{All: true}, deadletter.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Selected != 3 || res.Redriven != 2 || res.Skipped[deadletter.SkipExtractStage] != 1 || res.Looping != 1 {
		t.Errorf("result = %+v", res)
	}
	for _, seq := range seqs {
		if !p.dlExists(t, seq) {
			t.Errorf("dry run deleted dead letter %d", seq)
		}
	}
	if n := count(t, p.top.Raw, "gigya.accounts.>") + count(t, p.top.Mapped, "users.mapped.>"); n != 0 {
		t.Errorf("dry run published %d messages", n)
	}
}

func TestRedriveWithoutSelectorIsAUsageError(t *testing.T) {
	p := newPipeline(t)
	seqs := p.publish(t, transformDL("u1", "site1", "invalid_email", 1, nil))
	_, err := deadletter.Redrive(context.Background(), p.js, dlStream, deadletter.Selection{}, deadletter.Options{})
	var usage *stage.UsageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "--all") {
		t.Fatalf("err = %v, want a usage error that mentions --all", err)
	}
	if !p.dlExists(t, seqs[0]) {
		t.Error("dead letter redriven without a selection")
	}
}
