package transform

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/telemetry"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const testMapping = `
version: 1
target: t1
fields:
  user_id: UID
  email: lower(profile.email ?? "")
  app_metadata.site: "'x'"
filters:
  - name: lite_account
    when: hasLiteAccount == true
required: [email]
`

type fixture struct {
	js   jetstream.JetStream
	top  *topology.Topology
	cons jetstream.Consumer
	t    *transformer
}

func setup(t *testing.T, ackWait time.Duration) *fixture {
	t.Helper()
	return setupWith(t, ackWait, topology.Default())
}

// setupWith is setup on streams configured as streams says.
func setupWith(t *testing.T, ackWait time.Duration, streams topology.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	js := natstest.Start(t).JetStream()
	top, err := topology.Ensure(ctx, js, streams)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Parse("test.yaml", []byte(testMapping))
	if err != nil {
		t.Fatal(err)
	}
	cc := Default().Transformer.Consumer
	cc.AckWait = ackWait
	cons, err := cc.Durable(ctx, top.Raw, "transformer-t1", topology.RawSubjects)
	if err != nil {
		t.Fatal(err)
	}
	tr := &transformer{nc: js.Conn(), pub: js, mapping: m, consumer: cc, workers: 2,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: newMetrics(telemetry.NewRegistry())}
	return &fixture{js: js, top: top, cons: cons, t: tr}
}

func (f *fixture) publishRaw(t *testing.T, uid, body string) {
	t.Helper()
	m := nats.NewMsg("gigya.accounts.s1")
	m.Data = []byte(body)
	m.Header.Set(message.HdrUID, uid)
	m.Header.Set(message.HdrLastUpdated, "1000")
	m.Header.Set(message.HdrSite, "s1")
	m.Header.Set(message.HdrRun, "r1")
	m.Header.Set(message.HdrMsgID, "s1:"+uid+":1000")
	if _, err := f.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// runUntil runs the transformer until cond holds, then stops it gracefully.
func (f *fixture) runUntil(t *testing.T, cond func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.t.run(ctx, f.cons, 16) }()
	natstest.Eventually(t, 15*time.Second, cond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// allAcked waits until the consumer has nothing pending: acks are sent
// without waiting for the server, which counts them a moment later.
func (f *fixture) allAcked(t *testing.T) {
	t.Helper()
	natstest.Eventually(t, 5*time.Second, func() error {
		info, err := f.cons.Info(context.Background())
		if err != nil {
			return err
		}
		if info.NumAckPending != 0 || info.NumPending != 0 {
			return fmt.Errorf("inputs not all acked: %d ack pending, %d pending", info.NumAckPending, info.NumPending)
		}
		return nil
	})
}

func msgs(t *testing.T, s jetstream.Stream) uint64 {
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// An input whose output was stored but whose ack never reached the server
// (a crash between PubAck and ack) is redelivered: it must not produce a
// second mapped message.
func TestRedeliveredInputProducesOneMappedMessage(t *testing.T) {
	f := setup(t, time.Second)
	f.publishRaw(t, "u1", `{"UID":"u1","profile":{"email":"A@Example.com"}}`)

	first, err := f.cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	o := f.t.handle(f.t.newRecordMapper(), first)
	f.t.publish(&o)
	select {
	case <-o.futs[0].Ok():
	case err := <-o.futs[0].Err():
		t.Fatal(err)
	}
	// ...and no ack: the process "dies" here.

	f.runUntil(t, func() error {
		if f.t.duplicates.Load() != 1 {
			return fmt.Errorf("redelivery not handled yet: %+v", f.t.totals())
		}
		return nil
	})
	if n := msgs(t, f.top.Mapped); n != 1 {
		t.Fatalf("USERS_MAPPED holds %d messages, want 1", n)
	}
	m, err := f.top.Mapped.GetLastMsgForSubject(context.Background(), "users.mapped.t1")
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != `{"app_metadata":{"site":"x"},"email":"a@example.com","user_id":"u1"}` {
		t.Fatalf("mapped %s", m.Data)
	}
	want := map[string]string{
		message.HdrMsgID: "t1:u1:1000:" + f.t.mapping.Version(), message.HdrUID: "u1",
		message.HdrMappingVersion: f.t.mapping.Version(), message.HdrSourceSeq: "1",
		message.HdrSite: "s1", message.HdrRun: "r1", message.HdrLastUpdated: "1000",
	}
	for k, v := range want {
		if got := m.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	f.allAcked(t)
}

func TestFailedMappingIsDeadLetteredAndFilteredIsCounted(t *testing.T) {
	f := setup(t, 30*time.Second)
	f.publishRaw(t, "ok", `{"UID":"ok","profile":{"email":"ok@example.com"}}`)
	f.publishRaw(t, "noemail", `{"UID":"noemail"}`)
	f.publishRaw(t, "lite", `{"UID":"lite","hasLiteAccount":true}`)
	f.publishRaw(t, "broken", `{"UID":"broken",`)
	f.runUntil(t, func() error {
		if f.t.consumed.Load() != 4 {
			return fmt.Errorf("%+v", f.t.totals())
		}
		return nil
	})
	tot := f.t.totals()
	if tot.Mapped != 1 || tot.DeadLettered != 2 || tot.Filtered != 1 || tot.FilteredBy["lite_account"] != 1 {
		t.Fatalf("totals %+v", tot)
	}
	// Two workers: the dead letters may be stored in either order.
	byUID := map[string]nats.Header{}
	for seq := uint64(1); seq <= 2; seq++ {
		m, err := f.top.DeadLetter.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != "etl.deadletter.transform.t1" {
			t.Fatalf("dead letter on %s", m.Subject)
		}
		byUID[m.Header.Get(message.HdrUID)] = m.Header
	}
	for uid, want := range map[string]struct{ code, field, seq string }{
		"noemail": {"required_missing", "email", "2"},
		"broken":  {"invalid_json", "", "4"},
	} {
		h := byUID[uid]
		if h.Get(message.HdrErrorCode) != want.code || h.Get(message.HdrField) != want.field ||
			h.Get(message.HdrSourceSubject) != "gigya.accounts.s1" || h.Get(message.HdrSourceSeqDL) != want.seq {
			t.Fatalf("dead letter of %s: %v", uid, h)
		}
	}
	f.allAcked(t)
}

// An instance holds a filtered and a failing input past ack_wait; the
// server sends them to another instance, which handles them first; then the
// slow one finishes its copies. Each input counts once in the totals the
// balance adds up (filtered, dead-lettered); the repeats are duplicates.
func TestAnInputHandledTwiceCountsOnce(t *testing.T) {
	f := setup(t, time.Second)
	f.publishRaw(t, "lite", `{"UID":"lite","hasLiteAccount":true}`)
	f.publishRaw(t, "broken", `{"UID":"broken",`)
	batch, err := f.cons.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var slow []jetstream.Msg
	for m := range batch.Messages() {
		slow = append(slow, m)
	}
	if len(slow) != 2 {
		t.Fatalf("fetched %d inputs, want 2", len(slow))
	}
	f.runUntil(t, func() error { // the redeliveries, past the 1s ack_wait
		if f.t.consumed.Load() != 2 {
			return fmt.Errorf("redeliveries not handled yet: %+v", f.t.totals())
		}
		return nil
	})
	mapper := f.t.newRecordMapper()
	for _, m := range slow {
		o := f.t.handle(mapper, m)
		f.t.publish(&o)
		f.t.await(&o)
		f.t.settle(&o)
	}
	tot := f.t.totals()
	if tot.Filtered != 1 || tot.DeadLettered != 1 || tot.Duplicates != 2 || tot.Consumed != 4 {
		t.Fatalf("totals %+v, want filtered 1, dead-lettered 1, duplicates 2 of 4 handled", tot)
	}
	if n := msgs(t, f.top.DeadLetter); n != 1 {
		t.Fatalf("the dead-letter stream holds %d messages, want 1", n)
	}
}

func TestExplodedRecordPublishesOneMessagePerElement(t *testing.T) {
	f := setup(t, 30*time.Second)
	m, err := mapping.Parse("x.yaml", []byte(`
version: 1
target: t1
explode: identities
fields:
  user_id: UID
  provider: each.provider
  hash:
    expr: int(each.providerUID)
    on_error: omit
    flag: needs_reset
`))
	if err != nil {
		t.Fatal(err)
	}
	f.t.mapping = m
	f.publishRaw(t, "u1", `{"UID":"u1","identities":[{"provider":"site","providerUID":"7"},{"provider":"google","providerUID":"g"}]}`)
	f.runUntil(t, func() error {
		if f.t.consumed.Load() != 1 {
			return fmt.Errorf("%+v", f.t.totals())
		}
		return nil
	})
	if tot := f.t.totals(); tot.Mapped != 2 || tot.Flagged != 1 {
		t.Fatalf("totals %+v", tot)
	}
	for i, want := range []string{`{"hash":7,"provider":"site","user_id":"u1"}`, `{"needs_reset":true,"provider":"google","user_id":"u1"}`} {
		msg, err := f.top.Mapped.GetMsg(context.Background(), uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if string(msg.Data) != want || msg.Header.Get(message.HdrMsgID) != fmt.Sprintf("t1:u1:1000:%s#%d", m.Version(), i) {
			t.Fatalf("message %d: %s %s", i, msg.Data, msg.Header.Get(message.HdrMsgID))
		}
	}
}

// TestUpdateMarkTravels: an account marked Etl-Update by the extractor (an
// incremental run) keeps the mark on its mapped user, for the loader.
func TestUpdateMarkTravels(t *testing.T) {
	f := setup(t, 30*time.Second)
	m := nats.NewMsg("gigya.accounts.s1")
	m.Data = []byte(`{"UID":"u9","profile":{"email":"u9@example.com"}}`)
	m.Header.Set(message.HdrUID, "u9")
	m.Header.Set(message.HdrLastUpdated, "1000")
	m.Header.Set(message.HdrUpdate, "1")
	if _, err := f.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	f.runUntil(t, func() error {
		if f.t.mapped.Load() != 1 {
			return fmt.Errorf("not mapped yet: %+v", f.t.totals())
		}
		return nil
	})
	out, err := f.top.Mapped.GetLastMsgForSubject(context.Background(), "users.mapped.t1")
	if err != nil {
		t.Fatal(err)
	}
	if out.Header.Get(message.HdrUpdate) != "1" {
		t.Fatalf("mapped user headers %v: the update mark was lost", out.Header)
	}
}

// TestLoginMarkTravels: an account the login service published keeps its
// mark on the mapped user, under a message id of its own, so that the
// same version mapped from a bulk extraction (without the mark) does not
// make the duplicate window drop it.
func TestLoginMarkTravels(t *testing.T) {
	f := setup(t, 30*time.Second)
	for i, login := range []bool{false, true} {
		m := nats.NewMsg("gigya.accounts.s1")
		m.Data = []byte(`{"UID":"u9","profile":{"email":"u9@example.com"}}`)
		m.Header.Set(message.HdrUID, "u9")
		m.Header.Set(message.HdrLastUpdated, "1000")
		m.Header.Set(message.HdrMsgID, fmt.Sprintf("raw-%d", i))
		if login {
			m.Header.Set(message.HdrLoginMigrated, "t1")
		}
		if _, err := f.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	f.runUntil(t, func() error {
		if f.t.mapped.Load() != 2 {
			return fmt.Errorf("not mapped yet: %+v", f.t.totals())
		}
		return nil
	})
	// The workers may publish the two in either order: each is found by
	// the sequence of its raw message (Source-Seq).
	for seq := uint64(1); seq <= 2; seq++ {
		out, err := f.top.Mapped.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		marked := out.Header.Get(message.HdrLoginMigrated) == "t1" && strings.HasSuffix(out.Header.Get(message.HdrMsgID), ":login")
		if login := out.Header.Get(message.HdrSourceSeq) == "2"; marked != login {
			t.Fatalf("mapped user headers %v: the login mark is lost or where it does not belong", out.Header)
		}
	}
}

// TestDroppedFieldsAreLoggedAtDebugOnly: a field dropped by its on_error
// policy is a debug line (with the user and the field), nothing at info.
func TestDroppedFieldsAreLoggedAtDebugOnly(t *testing.T) {
	m, err := mapping.Parse("omit.yaml", []byte(`
version: 1
target: t1
fields:
  user_id: UID
  when:
    expr: gigya_time(profile.t)
    on_error: omit
    flag: app_metadata.when_failed
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		f := setup(t, 30*time.Second)
		var buf syncbuf.Buffer
		f.t.mapping = m
		f.t.log = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))
		f.publishRaw(t, "u1", `{"UID":"u1","profile":{"t":"not a time"}}`)
		f.runUntil(t, func() error {
			if tot := f.t.totals(); tot.Mapped != 1 {
				return fmt.Errorf("%+v", tot)
			}
			return nil
		})
		logged := strings.Contains(buf.String(), `msg="field dropped by its on_error policy" uid=u1 field=when`)
		if logged != (level == slog.LevelDebug) {
			t.Fatalf("at %v, the drop logged: %v\n%s", level, logged, buf.String())
		}
	}
}

// TestRecycledMessagesCarryOnlyTheirHeaders: a mapped user's message is
// recycled; its headers are this user's whatever the last one had, with
// the same keys (values replaced in place) or others.
func TestRecycledMessagesCarryOnlyTheirHeaders(t *testing.T) {
	m, err := mapping.Parse("test.yaml", []byte(testMapping))
	if err != nil {
		t.Fatal(err)
	}
	tr := &transformer{mapping: m, outs: make(outPool, 1)}
	in := func(kv ...string) nats.Header {
		h := nats.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	for i, tc := range []struct {
		uid string
		in  nats.Header
	}{
		{"u1", in(message.HdrSite, "s1", message.HdrLoginMigrated, "true")},
		{"u2", in(message.HdrSite, "s2", message.HdrLoginMigrated, "true")}, // same keys
		{"u3", in(message.HdrRun, "r1")},                                    // other keys
		{"u4", in()},
		{"u5", in(message.HdrRun, "r2")},
		{"u6", in(message.HdrSite, "s3")}, // as many keys, another one
	} {
		om := tr.newOutMsg(tc.uid, "2024-01-01T00:00:00.000Z", 0, uint64(100+i), tc.in, []byte(`{}`))
		want := nats.Header{}
		want.Set(message.HdrUID, tc.uid)
		want.Set(message.HdrMappingVersion, m.Version())
		want.Set(message.HdrSourceSeq, strconv.Itoa(100+i))
		id := "t1:" + tc.uid + ":2024-01-01T00:00:00.000Z:" + m.Version()
		if tc.in.Get(message.HdrLoginMigrated) != "" {
			id += ":login"
		}
		want.Set(message.HdrMsgID, id)
		for k, v := range tc.in {
			want[k] = v
		}
		if got := fmt.Sprint(om.msg.Header); got != fmt.Sprint(want) {
			t.Fatalf("user %s: headers\n%s\nwant\n%s", tc.uid, got, fmt.Sprint(want))
		}
		tr.outs.put(om)
	}
}
