package deadletter_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const dlStream = "ETL_DEADLETTER"

type pipeline struct {
	srv *natstest.Server
	js  jetstream.JetStream
	top *topology.Topology

	filled int // dead letters stored by fill so far
}

// newPipeline starts a JetStream server with the default topology.
func newPipeline(t testing.TB) *pipeline {
	t.Helper()
	srv := natstest.Start(t)
	js := srv.JetStream()
	top, err := topology.Ensure(context.Background(), js, topology.Default())
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline{srv: srv, js: js, top: top}
}

// account is a Gigya record with a password hash, as RAW carries it.
func account(uid string) []byte {
	return fmt.Appendf(nil, `{"UID":%q,"lastUpdatedTimestamp":1700000000123,"profile":{"email":"%s@example.com"},`+
		`"password":{"hash":"HASH-%s","hashSettings":{"algorithm":"pbkdf2","rounds":1000,"salt":"SALT-%s"}}}`, uid, uid, uid, uid)
}

// transformDL is what the transformer stores when it cannot map a record
// read from gigya.accounts.<site> at rawSeq.
func transformDL(uid, site, code string, rawSeq uint64, extra nats.Header) *nats.Msg {
	if extra == nil {
		extra = nats.Header{}
	}
	extra.Set(message.HdrMappingVersion, "mv1")
	return message.DeadLetter{
		Stage: message.StageTransform, Target: "auth0", Code: code, Err: "mapping failed: " + code, UID: uid,
		SourceSubject: message.RawSubject(site), SourceSeq: rawSeq, Attempts: 1, Data: account(uid), Extra: extra,
	}.Msg()
}

// loadDL is what the loader stores when the target refuses a user.
func loadDL(uid, code string, mappedSeq uint64) *nats.Msg {
	extra := nats.Header{}
	extra.Set(message.HdrMappingVersion, "mv1")
	return message.DeadLetter{
		Stage: message.StageLoad, Target: "auth0", Code: code, Err: "target refused: " + code, UID: uid,
		SourceSubject: message.MappedSubject("auth0"), SourceSeq: mappedSeq, Attempts: 1,
		Data: fmt.Appendf(nil, `{"user_id":%q,"password_hash":"$2b$10$secret%s"}`, uid, uid), Extra: extra,
	}.Msg()
}

// extractDL is what the extractor stores for an unreadable input line.
func extractDL(site string, line int) *nats.Msg {
	extra := nats.Header{}
	extra.Set(message.HdrSourceFile, "export.jsonl")
	extra.Set(message.HdrSourceLine, fmt.Sprint(line))
	return message.DeadLetter{
		Stage: message.StageExtract, Target: site, Code: "bad_json", Err: fmt.Sprintf("export.jsonl:%d: invalid JSON", line),
		Data: []byte(`{"UID":"broken","password":{"hash":"LEAK`), Extra: extra,
		ID: fmt.Sprintf("dl:extract:%s:export.jsonl@%d", site, line),
	}.Msg()
}

// publish stores msgs and returns their stream sequences.
func (p *pipeline) publish(t testing.TB, msgs ...*nats.Msg) []uint64 {
	t.Helper()
	seqs := make([]uint64, len(msgs))
	for i, m := range msgs {
		ack, err := p.js.PublishMsg(context.Background(), m)
		if err != nil {
			t.Fatalf("publish to %s: %v", m.Subject, err)
		}
		if ack.Duplicate {
			t.Fatalf("publish to %s: unexpected duplicate", m.Subject)
		}
		seqs[i] = ack.Sequence
	}
	return seqs
}

// dlExists reports whether the dead letter at seq is still stored.
func (p *pipeline) dlExists(t testing.TB, seq uint64) bool {
	t.Helper()
	_, err := p.top.DeadLetter.GetMsg(context.Background(), seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// count returns how many messages stream holds on subject.
func count(t testing.TB, st jetstream.Stream, subject string) uint64 {
	t.Helper()
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

// last returns the last message stored on subject.
func last(t testing.TB, st jetstream.Stream, subject string) *jetstream.RawStreamMsg {
	t.Helper()
	m, err := st.GetLastMsgForSubject(context.Background(), subject)
	if err != nil {
		t.Fatalf("last message on %s: %v", subject, err)
	}
	return m
}
