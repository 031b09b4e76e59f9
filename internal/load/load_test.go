package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/telemetry"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/versions"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// fakeSink records what it stored; write decides each call's outcome.
type fakeSink struct {
	mu     sync.Mutex
	stored map[string]int
	calls  int
	write  func(call int, recs []sink.Record) error
}

func (s *fakeSink) Write(_ context.Context, recs []sink.Record) error {
	s.mu.Lock()
	s.calls++
	call := s.calls
	s.mu.Unlock()
	err := s.write(call, recs)
	var rej *sink.RejectedError
	if err != nil && !errors.As(err, &rej) {
		return err
	}
	refused := map[int]bool{}
	if rej != nil {
		for _, r := range rej.Rejections {
			refused[r.Index] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range recs {
		if !refused[i] {
			s.stored[r.UID]++
		}
	}
	return err
}

func (s *fakeSink) Close(context.Context) error { return nil }

func (s *fakeSink) count() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.stored {
		out[k] = v
	}
	return out
}

type fixture struct {
	js   jetstream.JetStream
	top  *topology.Topology
	cons jetstream.Consumer
	l    *loader
	sink *fakeSink
}

func setup(t *testing.T, maxAckPending int, write func(int, []sink.Record) error) *fixture {
	t.Helper()
	ctx := context.Background()
	js := natstest.Start(t).JetStream()
	top, err := topology.Ensure(ctx, js, topology.Default())
	if err != nil {
		t.Fatal(err)
	}
	cc := Default().Loader.Consumer
	// Short: a delivery lost when the pull subscription is re-established
	// (missed heartbeats on a loaded machine) comes back within the test.
	cc.AckWait = 2 * time.Second
	cc.MaxAckPending = maxAckPending
	cc.Backoff = []time.Duration{50 * time.Millisecond}
	cc.MaxDeliver = 3
	cons, err := cc.Durable(ctx, top.Mapped, "loader-test", "users.mapped.auth0")
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeSink{stored: map[string]int{}, write: write}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg, err := versions.Open(ctx, top.Versions, js, "test", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	l := &loader{nc: js.Conn(), sink: fs, pub: js, target: "auth0", consumer: cc, maxRecords: 10, maxBytes: 1 << 20, maxWait: 20 * time.Millisecond,
		log: log, metrics: newMetrics(telemetry.NewRegistry()), versions: reg}
	return &fixture{js: js, top: top, cons: cons, l: l, sink: fs}
}

// publishVersion publishes version updated of user uid, as
// users.mapped.auth0 messages carry it (message id auth0:<uid>:<updated>),
// with hdr's headers (key, value pairs) set over those.
func (f *fixture) publishVersion(t *testing.T, uid, updated string, hdr ...string) {
	t.Helper()
	m := nats.NewMsg("users.mapped.auth0")
	m.Data = fmt.Appendf(nil, `{"user_id":%q,"updated":%s}`, uid, updated)
	m.Header.Set(message.HdrUID, uid)
	m.Header.Set(message.HdrMsgID, "auth0:"+uid+":"+updated)
	m.Header.Set(message.HdrLastUpdated, updated)
	for i := 0; i+1 < len(hdr); i += 2 {
		m.Header.Set(hdr[i], hdr[i+1])
	}
	if _, err := f.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) publish(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		m := nats.NewMsg("users.mapped.auth0")
		uid := fmt.Sprintf("u%03d", i)
		m.Data = fmt.Appendf(nil, `{"user_id":%q}`, uid)
		m.Header.Set(message.HdrUID, uid)
		m.Header.Set(message.HdrMsgID, "auth0:"+uid)
		if _, err := f.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) start(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.l.run(ctx, f.cons) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) settled(want int64) func() error {
	return func() error {
		if got := f.l.consumed.Load(); got != want {
			info, _ := f.cons.Info(context.Background())
			var state string
			if info != nil {
				state = fmt.Sprintf("pending %d, ack pending %d, waiting %d", info.NumPending, info.NumAckPending, info.NumWaiting)
			}
			return fmt.Errorf("settled %d of %d: %+v; consumer %s", got, want, f.l.totals(), state)
		}
		return nil
	}
}

func TestTransientFailureIsRetriedThenLoadedOnce(t *testing.T) {
	f := setup(t, 100, func(call int, _ []sink.Record) error {
		if call == 1 {
			return fault.Transient("target_unavailable", errors.New("503"))
		}
		return nil
	})
	f.publish(t, 25)
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, f.settled(25))
	stop()
	got := f.sink.count()
	if len(got) != 25 {
		t.Fatalf("stored %d users", len(got))
	}
	for uid, n := range got {
		if n != 1 {
			t.Fatalf("%s stored %d times", uid, n)
		}
	}
	if tot := f.l.totals(); tot.Retried == 0 || tot.Loaded != 25 {
		t.Fatalf("totals %+v", tot)
	}
}

func TestRejectedUsersAreDeadLetteredOthersAcked(t *testing.T) {
	f := setup(t, 100, func(_ int, recs []sink.Record) error {
		for i, r := range recs {
			if r.UID == "u003" {
				return &sink.RejectedError{Rejections: []sink.Rejection{{Index: i, Code: "DUPLICATED_USER", Reason: "already exists"}}}
			}
		}
		return nil
	})
	f.publish(t, 8)
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, f.settled(8))
	stop()
	if got := f.sink.count(); len(got) != 7 || got["u003"] != 0 {
		t.Fatalf("stored %v", got)
	}
	m, err := f.top.DeadLetter.GetLastMsgForSubject(context.Background(), "etl.deadletter.load.auth0")
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(message.HdrUID) != "u003" || m.Header.Get(message.HdrErrorCode) != "DUPLICATED_USER" || string(m.Data) != `{"user_id":"u003"}` {
		t.Fatalf("dead letter %v %s", m.Header, m.Data)
	}
	info, _ := f.cons.Info(context.Background())
	if info.NumAckPending != 0 {
		t.Fatalf("%d unacked", info.NumAckPending)
	}
}

func TestPermanentFailureAndExhaustedRetriesAreDeadLettered(t *testing.T) {
	f := setup(t, 100, func(_ int, recs []sink.Record) error {
		if recs[0].UID == "u000" {
			return fault.Permanent("schema_violation", errors.New("bad user"))
		}
		return fault.Transient("target_unavailable", errors.New("down"))
	})
	f.l.maxRecords = 1
	f.publish(t, 2)
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, f.settled(2))
	stop()
	for subj, code := range map[string]string{"u000": "schema_violation", "u001": "max_deliver_exceeded"} {
		found := false
		for seq := uint64(1); seq <= 2; seq++ {
			m, err := f.top.DeadLetter.GetMsg(context.Background(), seq)
			if err == nil && m.Header.Get(message.HdrUID) == subj && m.Header.Get(message.HdrErrorCode) == code {
				found = true
			}
		}
		if !found {
			t.Fatalf("no dead letter %s for %s", code, subj)
		}
	}
}

// A target that does not answer holds at most MaxAckPending users in
// flight: the consumer stops delivering instead of the loader buffering.
func TestSlowTargetBoundsInFlight(t *testing.T) {
	release := make(chan struct{})
	f := setup(t, 10, func(int, []sink.Record) error {
		<-release
		return nil
	})
	f.publish(t, 200)
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, func() error {
		info, err := f.cons.Info(context.Background())
		if err != nil {
			return err
		}
		if info.NumAckPending != 10 || info.NumPending != 190 {
			return fmt.Errorf("ack pending %d, pending %d", info.NumAckPending, info.NumPending)
		}
		return nil
	})
	close(release)
	natstest.Eventually(t, 20*time.Second, f.settled(200))
	stop()
	if len(f.sink.count()) != 200 {
		t.Fatal("not all stored")
	}
}

// concurrentSink allows two writes at once and records the most it saw.
type concurrentSink struct {
	*fakeSink
	mu            sync.Mutex
	inFlight, max int
	release       chan struct{}
}

func (c *concurrentSink) MaxConcurrentWrites() int { return 2 }

func (c *concurrentSink) Write(ctx context.Context, recs []sink.Record) error {
	c.mu.Lock()
	c.inFlight++
	c.max = max(c.max, c.inFlight)
	c.mu.Unlock()
	<-c.release
	c.mu.Lock()
	c.inFlight--
	c.mu.Unlock()
	return c.fakeSink.Write(ctx, recs)
}

func (c *concurrentSink) peak() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max
}

// A sink that takes two writes at once gets exactly two batches in flight:
// never more, and the second does not wait for the first.
func TestConcurrentWritesAreBounded(t *testing.T) {
	f := setup(t, 100, func(int, []sink.Record) error { return nil })
	cs := &concurrentSink{fakeSink: f.sink, release: make(chan struct{})}
	f.l.sink, f.l.writers = cs, 2
	f.publish(t, 60)
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, func() error {
		if p := cs.peak(); p != 2 {
			return fmt.Errorf("peak %d writes in flight, want 2", p)
		}
		return nil
	})
	close(cs.release)
	natstest.Eventually(t, 30*time.Second, f.settled(60))
	stop()
	if cs.peak() != 2 || len(f.sink.count()) != 60 {
		t.Fatalf("peak %d, stored %d", cs.peak(), len(f.sink.count()))
	}
}

// TestNewestVersionPerBatchAndUpdates: two versions of one user in a batch
// reach the sink as the newer one only (the older is acked as superseded);
// exploded outputs of one user are all kept; users from an incremental
// extraction (Etl-Update) or a replay (Etl-Replay) are marked as updates.
func TestNewestVersionPerBatchAndUpdates(t *testing.T) {
	var mu sync.Mutex
	var got []sink.Record
	f := setup(t, 100, func(_ int, recs []sink.Record) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range recs {
			got = append(got, sink.Record{UID: r.UID, MsgID: r.MsgID, Data: append([]byte(nil), r.Data...), Update: r.Update})
		}
		return nil
	})
	f.l.maxWait = time.Second // one batch
	pub := func(uid, id, updated string, hdr ...string) {
		t.Helper()
		m := nats.NewMsg("users.mapped.auth0")
		m.Data = fmt.Appendf(nil, `{"user_id":%q,"v":%q}`, uid, id)
		m.Header.Set(message.HdrUID, uid)
		m.Header.Set(message.HdrMsgID, id)
		m.Header.Set(message.HdrLastUpdated, updated)
		for i := 0; i+1 < len(hdr); i += 2 {
			m.Header.Set(hdr[i], hdr[i+1])
		}
		if _, err := f.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	pub("u1", "auth0:u1:200:v1", "200", message.HdrUpdate, "1") // the newer version first...
	pub("u1", "auth0:u1:100:v1", "100")                         // ...a redelivered older one after it
	pub("u2", "auth0:u2:100:v1", "100")
	pub("u2", "auth0:u2:100:v2", "100", message.HdrReplay, "r1") // same version, the replay's mapping
	pub("u3", "auth0:u3:100:v1#0", "100")                        // exploded: both kept
	pub("u3", "auth0:u3:100:v1#1", "100")
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, f.settled(6))
	stop()
	mu.Lock()
	defer mu.Unlock()
	byID := map[string]sink.Record{}
	for _, r := range got {
		byID[r.MsgID] = r
	}
	if len(got) != 4 || byID["auth0:u1:200:v1"].UID == "" || byID["auth0:u2:100:v2"].UID == "" ||
		byID["auth0:u3:100:v1#0"].UID == "" || byID["auth0:u3:100:v1#1"].UID == "" {
		t.Fatalf("sink got %v", got)
	}
	if !byID["auth0:u1:200:v1"].Update || !byID["auth0:u2:100:v2"].Update || byID["auth0:u3:100:v1#0"].Update {
		t.Fatalf("update flags wrong: %+v", got)
	}
	if tot := f.l.totals(); tot.Superseded != 2 || tot.Loaded != 4 || tot.Consumed != 6 {
		t.Fatalf("totals %+v", tot)
	}
}

func TestOlderVersionAfterANewerOneWasWrittenIsSuperseded(t *testing.T) {
	var mu sync.Mutex
	var got []string
	f := setup(t, 100, func(_ int, recs []sink.Record) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range recs {
			got = append(got, r.MsgID)
		}
		return nil
	})
	pub := func(uid, updated string, hdr ...string) {
		t.Helper()
		f.publishVersion(t, uid, updated, hdr...)
	}
	loaded := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}

	// An update is written and recorded; a bulk user is written, not recorded.
	pub("u1", "200", message.HdrUpdate, "1")
	pub("u2", "100")
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, f.settled(2))
	// In later batches: the bulk version of u1 that a crash or a parallel
	// transformer delivers late, the update again (a redelivery: the same
	// version is written again), an older update, and an older u2, which is
	// written since first imports are not recorded.
	pub("u1", "100")
	natstest.Eventually(t, 10*time.Second, f.settled(3))
	pub("u1", "200", message.HdrUpdate, "1", message.HdrReplay, "r1", message.HdrMsgID, "auth0:u1:200:r1")
	natstest.Eventually(t, 10*time.Second, f.settled(4))
	pub("u1", "150", message.HdrUpdate, "1")
	pub("u2", "50")
	natstest.Eventually(t, 10*time.Second, f.settled(6))
	stop()
	want := []string{"auth0:u1:200", "auth0:u2:100", "auth0:u1:200:r1", "auth0:u2:50"}
	if g := loaded(); !slices.Equal(g, want) {
		t.Fatalf("written %v, want %v", g, want)
	}
	if tot := f.l.totals(); tot.Superseded != 2 || tot.Loaded != 4 {
		t.Fatalf("totals %+v, want 2 superseded, 4 loaded", tot)
	}
	if n := f.l.versions.Len(); n != 1 {
		t.Fatalf("register holds %d users, want 1 (only u1 came as an update)", n)
	}

	// A restarted loader (a new register on the same bucket) knows u1's
	// version without having written it.
	reg, err := versions.Open(context.Background(), f.top.Versions, f.js, "test", f.l.log)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if !reg.Stale("u1", 199) || reg.Stale("u1", 200) || reg.Stale("u2", 1) {
		t.Fatalf("restarted register: u1@199 stale %v (want true), u1@200 %v, u2@1 %v (want false)", reg.Stale("u1", 199), reg.Stale("u1", 200), reg.Stale("u2", 1))
	}
}

// A write whose answer is lost may have stored the batch: an older version
// of one of its users, retried after it, must not be written over it. The
// sequence the LoginRadius fault trials found: the bulk version fails (not
// stored), the update's write stores it but fails on the way back, then the
// bulk version's retry comes before the update's.
func TestAnOlderVersionIsNotWrittenAfterAWriteThatMayHaveStoredANewer(t *testing.T) {
	started1, release1, release2 := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var stored []string
	f := setup(t, 100, func(call int, recs []sink.Record) error {
		switch call {
		case 1: // u1@100, the bulk version: refused before storing
			close(started1)
			<-release1
			return fault.Transient("server_error", errors.New("500"))
		case 2: // u1@200, the update: stored, then the answer is lost
			<-release2
			mu.Lock()
			stored = append(stored, recs[0].MsgID)
			mu.Unlock()
			return fault.Transient("unavailable", errors.New("EOF"))
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range recs {
			stored = append(stored, r.MsgID)
		}
		return nil
	})
	pub := func(updated string, hdr ...string) {
		t.Helper()
		f.publishVersion(t, "u1", updated, hdr...)
	}
	consumer := func(ok func(*jetstream.ConsumerInfo) bool, what string) func() error {
		return func() error {
			info, err := f.cons.Info(context.Background())
			if err != nil {
				return err
			}
			if !ok(info) {
				return fmt.Errorf("%s: %d ack pending, %d redelivered", what, info.NumAckPending, info.NumRedelivered)
			}
			return nil
		}
	}
	pub("100")
	stop := f.start(t)
	select {
	case <-started1:
	case <-time.After(10 * time.Second):
		t.Fatal("the bulk version is not written")
	}
	pub("200", message.HdrUpdate, "1")
	// The update reaches the loader while the bulk version's write runs.
	natstest.Eventually(t, 10*time.Second, consumer(func(i *jetstream.ConsumerInfo) bool { return i.NumAckPending == 2 }, "both versions delivered"))
	close(release1)
	// The bulk version comes back while the update's write runs.
	natstest.Eventually(t, 10*time.Second, consumer(func(i *jetstream.ConsumerInfo) bool { return i.NumRedelivered >= 1 }, "the bulk version redelivered"))
	close(release2)
	natstest.Eventually(t, 10*time.Second, f.settled(2))
	stop()
	mu.Lock()
	got := slices.Clone(stored)
	mu.Unlock()
	if want := []string{"auth0:u1:200", "auth0:u1:200"}; !slices.Equal(got, want) {
		t.Fatalf("the target stored %v, want %v (the update, then its retry; never the older version after it)", got, want)
	}
	if tot := f.l.totals(); tot.Superseded != 1 || tot.Loaded != 1 {
		t.Fatalf("totals %+v, want 1 superseded, 1 loaded", tot)
	}
}

// orderSink lets two writes run at once; the first blocks until released,
// and the users are recorded in the order the writes finish.
type orderSink struct {
	mu      sync.Mutex
	calls   int
	done    []string // "uid@version" in the order of the finished writes
	release chan struct{}
}

func (o *orderSink) MaxConcurrentWrites() int    { return 2 }
func (o *orderSink) Close(context.Context) error { return nil }

func (o *orderSink) Write(_ context.Context, recs []sink.Record) error {
	o.mu.Lock()
	o.calls++
	first := o.calls == 1
	o.mu.Unlock()
	if first {
		<-o.release
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range recs {
		var u struct{ Updated int64 }
		_ = json.Unmarshal(r.Data, &u)
		o.done = append(o.done, fmt.Sprintf("%s@%d", r.UID, u.Updated))
	}
	return nil
}

func (o *orderSink) finished() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.done)
}

// Two versions of a user in two batches written at once: the later batch
// waits for the earlier, so the target does not end with whichever write
// finished last.
func TestConcurrentBatchesKeepTheOrderOfAUsersVersions(t *testing.T) {
	f := setup(t, 100, nil)
	os := &orderSink{release: make(chan struct{})}
	f.l.sink, f.l.writers, f.l.users = os, 2, newUserLocks()
	pub := func(uid string, updated int, update bool) {
		t.Helper()
		m := nats.NewMsg("users.mapped.auth0")
		m.Data = fmt.Appendf(nil, `{"user_id":%q,"updated":%d}`, uid, updated)
		m.Header.Set(message.HdrUID, uid)
		m.Header.Set(message.HdrMsgID, fmt.Sprintf("auth0:%s:%d", uid, updated))
		m.Header.Set(message.HdrLastUpdated, strconv.Itoa(updated))
		if update {
			m.Header.Set(message.HdrUpdate, "1")
		}
		if _, err := f.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	// Batches of 10 (maxRecords): u1's bulk version in the first, its
	// update in the second.
	pub("u1", 100, false)
	for i := range 9 {
		pub(fmt.Sprintf("a%d", i), 1, false)
	}
	pub("u1", 200, true)
	for i := range 9 {
		pub(fmt.Sprintf("b%d", i), 1, false)
	}
	stop := f.start(t)
	// The first write is held: the second batch either waits for it (the
	// fix) or is written meanwhile (the bug).
	natstest.Eventually(t, 10*time.Second, func() error {
		if f.l.users.waiters() > 0 || len(os.finished()) > 0 {
			return nil
		}
		return errors.New("the second batch neither waits nor is written")
	})
	close(os.release)
	natstest.Eventually(t, 10*time.Second, f.settled(20))
	stop()
	var u1 []string
	for _, d := range os.finished() {
		if strings.HasPrefix(d, "u1@") {
			u1 = append(u1, d)
		}
	}
	if !slices.Equal(u1, []string{"u1@100", "u1@200"}) {
		t.Fatalf("u1 written in the order %v, want [u1@100 u1@200]: the target keeps the last", u1)
	}
}

// TestUsersMigratedAtLoginAreNeverWritten: the login service's message of a
// user is acked unwritten and marks the user; every other version of that
// user, before it in the same batch or later, older or newer, a first
// import or an update, is acked unwritten too; the mark outlives a restart.
func TestUsersMigratedAtLoginAreNeverWritten(t *testing.T) {
	var mu sync.Mutex
	var got []string
	f := setup(t, 100, func(_ int, recs []sink.Record) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range recs {
			got = append(got, r.MsgID)
		}
		return nil
	})
	pub := func(uid, updated string, hdr ...string) {
		t.Helper()
		m := nats.NewMsg("users.mapped.auth0")
		m.Data = fmt.Appendf(nil, `{"user_id":%q,"email":"%s@example.com"}`, uid, uid)
		m.Header.Set(message.HdrUID, uid)
		m.Header.Set(message.HdrMsgID, "auth0:"+uid+":"+updated+strings.Join(hdr, ""))
		m.Header.Set(message.HdrLastUpdated, updated)
		m.Header.Set(message.HdrRun, "r1")
		for i := 0; i+1 < len(hdr); i += 2 {
			m.Header.Set(hdr[i], hdr[i+1])
		}
		if _, err := f.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	// One batch: a bulk version of u1, then u1's login, and a bulk u2.
	pub("u1", "100")
	pub("u1", "300", message.HdrLoginMigrated, "auth0")
	pub("u2", "100")
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, f.settled(3))
	// Later: an older and a newer bulk version of u1, an update, a replay.
	pub("u1", "200")
	pub("u1", "400")
	pub("u1", "500", message.HdrUpdate, "1")
	pub("u1", "300", message.HdrReplay, "rp", message.HdrLoginMigrated, "auth0")
	natstest.Eventually(t, 10*time.Second, f.settled(7))
	stop()
	mu.Lock()
	written := slices.Clone(got)
	mu.Unlock()
	if !slices.Equal(written, []string{"auth0:u2:100"}) {
		t.Fatalf("written %v, want only u2", written)
	}
	if tot := f.l.totals(); tot.MigratedAtLogin != 6 || tot.Loaded != 1 || tot.Superseded != 0 {
		t.Fatalf("totals %+v, want 6 migrated at login, 1 loaded", tot)
	}
	runs := f.l.tally.Runs()
	if c := runs["r1"]; c["migrated_at_login"] != 5 || c["replay_migrated_at_login"] != 1 || c["loaded"] != 1 {
		t.Fatalf("tally %v", runs)
	}
	reg, err := versions.Open(context.Background(), f.top.Versions, f.js, "test", f.l.log)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if !reg.AtLogin("u1") || reg.AtLogin("u2") {
		t.Fatalf("restarted register: u1 %t, u2 %t", reg.AtLogin("u1"), reg.AtLogin("u2"))
	}
}

// A loader started before the transformers, with a target they do not map
// for, says so once users for the other target arrive; a loader whose
// target has users stays quiet.
func TestALoaderWaitingForAnotherTargetsUsersSaysSo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	js := natstest.Start(t).JetStream()
	top, err := topology.Ensure(ctx, js, topology.Default())
	if err != nil {
		t.Fatal(err)
	}
	watch := func(target string) (*syncbuf.Buffer, chan struct{}) {
		var logs syncbuf.Buffer
		done := make(chan struct{})
		go func() {
			defer close(done)
			watchOtherTargets(ctx, top.Mapped, target, 20*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
		}()
		return &logs, done
	}
	// The users arrive only after the watcher looked twice and found none.
	looks := make(chan struct{}, 64)
	sub, err := js.Conn().Subscribe("$JS.API.STREAM.INFO.USERS_MAPPED", func(*nats.Msg) { looks <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	wrong, wrongDone := watch("auth0")
	for range 2 {
		select {
		case <-looks:
		case <-time.After(10 * time.Second):
			t.Fatal("the watcher does not look at USERS_MAPPED")
		}
	}
	if got := wrong.String(); got != "" {
		t.Fatalf("warned before any user was mapped: %q", got)
	}
	if _, err := js.Publish(ctx, message.MappedSubject("loginradius"), []byte(`{"Uid":"u1"}`)); err != nil {
		t.Fatal(err)
	}
	stopped := func(done <-chan struct{}) {
		t.Helper()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the watcher did not stop")
		}
	}
	stopped(wrongDone)
	if got := wrong.String(); !strings.Contains(got, "check loader.target") || !strings.Contains(got, "other_targets=[loginradius]") {
		t.Fatalf("log %q, want the warning naming loginradius", got)
	}
	right, rightDone := watch("loginradius")
	stopped(rightDone)
	if got := right.String(); got != "" {
		t.Fatalf("a loader with users for its target logged %q", got)
	}
}

// The last users of a run wait neither for a full batch nor for max_wait:
// once the consumer has caught up and nothing more comes for loader.batch.quiet,
// the partial batch is written.
func TestACaughtUpLoaderWritesItsPartialBatchOnceQuiet(t *testing.T) {
	f := setup(t, 100, func(int, []sink.Record) error { return nil })
	f.l.maxRecords, f.l.maxWait, f.l.quiet = 100, time.Hour, 20*time.Millisecond
	f.publish(t, 5)
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, f.settled(5))
	stop()
	if got := f.sink.count(); len(got) != 5 {
		t.Fatalf("stored %v, want 5 users", got)
	}
}

// Users still queued in the stream are on their way: a pause does not cut
// their batch short. Here the consumer's ack-pending limit holds back the
// last three users, so the first batch, still with users pending behind
// it, waits for max_wait; the last one, caught up, goes after the quiet
// period.
func TestAPartialBatchWithUsersPendingWaitsForMaxWait(t *testing.T) {
	var mu sync.Mutex
	var writes []time.Time
	f := setup(t, 5, func(int, []sink.Record) error {
		mu.Lock()
		defer mu.Unlock()
		writes = append(writes, time.Now())
		return nil
	})
	const maxWait = 300 * time.Millisecond
	f.l.maxRecords, f.l.maxWait, f.l.quiet = 100, maxWait, 20*time.Millisecond
	f.publish(t, 8)
	// The pending count each delivery carries is the consumer's own tally,
	// which follows the stream asynchronously: wait until it has all eight.
	natstest.Eventually(t, 10*time.Second, func() error {
		info, err := f.cons.Info(context.Background())
		if err != nil {
			return err
		}
		if info.NumPending != 8 {
			return fmt.Errorf("consumer counts %d pending, want 8", info.NumPending)
		}
		return nil
	})
	start := time.Now()
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, f.settled(8))
	stop()
	mu.Lock()
	defer mu.Unlock()
	if len(writes) == 0 || writes[0].Sub(start) < maxWait {
		t.Fatalf("first write %v after the start, want max_wait (%v) or later: users were pending", writes[0].Sub(start), maxWait)
	}
	if got := f.sink.count(); len(got) != 8 {
		t.Fatalf("stored %v, want 8 users", got)
	}
}

// The updates of a batch are in the register's bucket before the sink
// writes them: a loader killed during or right after the write leaves a
// register from which a restarted loader supersedes an older version
// redelivered to it, instead of writing it over the newer one (the
// LoginRadius fault trials found that window when the record came after the
// write).
func TestUpdatesAreRecordedBeforeTheWrite(t *testing.T) {
	var f *fixture
	checked := make(chan error, 1)
	report := func(err error) { // the first write's finding; a retry's is not waited for
		select {
		case checked <- err:
		default:
		}
	}
	f = setup(t, 100, func(_ int, recs []sink.Record) error {
		// A restarted loader of the same name reads the bucket so.
		reg, err := versions.Open(context.Background(), f.top.Versions, f.js, "test", f.l.log)
		if err != nil {
			report(err)
			return nil
		}
		defer reg.Close()
		if !reg.Stale("u1", 199) {
			report(fmt.Errorf("while %s is written, a restarted loader does not know it", recs[0].MsgID))
			return nil
		}
		report(nil)
		return nil
	})
	f.publishVersion(t, "u1", "200", message.HdrUpdate, "1")
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, f.settled(1))
	stop()
	if err := <-checked; err != nil {
		t.Fatal(err)
	}
}
