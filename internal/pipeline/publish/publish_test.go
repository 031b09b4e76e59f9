package publish

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

type fixture struct {
	srv *natstest.Server
	nc  *nats.Conn
	js  jetstream.JetStream
	pub *Publisher
}

func setup(t *testing.T, opts Options) *fixture {
	t.Helper()
	srv := natstest.Start(t)
	nc := srv.Connect()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}
	pub, err := New(nc, js, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	return &fixture{srv: srv, nc: nc, js: js, pub: pub}
}

// outcome waits for fut.
func outcome(t *testing.T, fut jetstream.PubAckFuture) (*jetstream.PubAck, error) {
	t.Helper()
	select {
	case ack := <-fut.Ok():
		return ack, nil
	case err := <-fut.Err():
		return nil, err
	case <-time.After(30 * time.Second):
		t.Fatal("no outcome after 30s")
		return nil, nil
	}
}

func msg(subject, id, data string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = []byte(data)
	if id != "" {
		m.Header.Set(jetstream.MsgIDHeader, id)
	}
	return m
}

// Acks come back in the stream's order with its sequences, a repeated
// message id as a duplicate, and the message itself is left as it was.
func TestPublishesAreAckedWithTheirSequences(t *testing.T) {
	f := setup(t, Options{Timeout: 5 * time.Second})
	var futs []jetstream.PubAckFuture
	for i := range 300 {
		m := msg(fmt.Sprintf("s.%d", i%3), fmt.Sprint("id", i), fmt.Sprint(i))
		fut, err := f.pub.PublishMsgAsync(m)
		if err != nil {
			t.Fatal(err)
		}
		if m.Reply != "" || fut.Msg() != m {
			t.Fatalf("the message changed: reply %q", m.Reply)
		}
		futs = append(futs, fut)
	}
	for i, fut := range futs {
		ack, err := outcome(t, fut)
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if ack.Stream != "S" || ack.Sequence != uint64(i+1) || ack.Duplicate {
			t.Fatalf("publish %d: ack %+v", i, ack)
		}
	}
	fut, err := f.pub.PublishMsgAsync(msg("s.0", "id7", "again"))
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := outcome(t, fut); err != nil || !ack.Duplicate || ack.Sequence != 8 {
		t.Fatalf("a repeated id: ack %+v, err %v; want the duplicate of sequence 8", ack, err)
	}
	if n := f.pub.pendingCount(); n != 0 {
		t.Fatalf("%d still pending", n)
	}
}

// A future handed back (Done) serves a later publish, with its own reply
// subject: the acks still reach the right publishes.
func TestFuturesHandedBackAreReused(t *testing.T) {
	f := setup(t, Options{Timeout: 5 * time.Second})
	var first jetstream.PubAckFuture
	for i := range 50 {
		a, err := f.pub.PublishMsgAsync(msg("s.a", "", fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.pub.PublishMsgAsync(msg("s.b", "", fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = a
		} else if a != first && b != first {
			t.Fatalf("publish %d: the future handed back was not reused", i)
		}
		for j, fut := range []jetstream.PubAckFuture{a, b} {
			ack, err := outcome(t, fut)
			if err != nil || ack.Sequence != uint64(2*i+j+1) {
				t.Fatalf("publish %d.%d: ack %+v, err %v; want sequence %d", i, j, ack, err, 2*i+j+1)
			}
		}
		f.pub.Done(b)
		f.pub.Done(a)
	}
}

// A PubAck with an error is the server's APIError, which the stages read
// (a claim taken already: the wrong last sequence).
func TestAnAckWithAnErrorIsTheAPIError(t *testing.T) {
	f := setup(t, Options{})
	m := msg("s.k", "", "v")
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
	fut, err := f.pub.PublishMsgAsync(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outcome(t, fut); err != nil {
		t.Fatal(err)
	}
	m = msg("s.k", "", "w")
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
	if fut, err = f.pub.PublishMsgAsync(m); err != nil {
		t.Fatal(err)
	}
	_, err = outcome(t, fut)
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
		t.Fatalf("err %v, want the wrong-last-sequence APIError", err)
	}
}

// A subject no stream holds gets "no responders", resent twice, then
// jetstream.ErrNoStreamResponse, the error the stages take as transient.
func TestNoStreamIsNoStreamResponse(t *testing.T) {
	f := setup(t, Options{})
	start := time.Now()
	fut, err := f.pub.PublishMsgAsync(msg("nostream.x", "", "v"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outcome(t, fut); !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Fatalf("err %v, want ErrNoStreamResponse", err)
	}
	if d := time.Since(start); d < retryAttempts*retryWait {
		t.Fatalf("failed after %v: the %d resends take %v", d, retryAttempts, retryAttempts*retryWait)
	}
}

// silent takes the messages of subject without answering: their acks never
// come.
func silent(t *testing.T, f *fixture, subject string) {
	t.Helper()
	sub, err := f.nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := f.nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestAnAckThatDoesNotComeTimesOut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	f := setup(t, Options{Timeout: timeout})
	silent(t, f, "quiet.x")
	start := time.Now()
	fut, err := f.pub.PublishMsgAsync(msg("quiet.x", "", "v"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outcome(t, fut); !errors.Is(err, jetstream.ErrAsyncPublishTimeout) {
		t.Fatalf("err %v, want ErrAsyncPublishTimeout", err)
	}
	if d := time.Since(start); d < timeout {
		t.Fatalf("timed out after %v, before the timeout (%v)", d, timeout)
	}
	if n := f.pub.pendingCount(); n != 0 {
		t.Fatalf("%d still pending", n)
	}
}

// With MaxPending acks outstanding, a publish waits for a slot, then gives
// up with ErrTooManyStalledMsgs; an ack that comes frees a slot.
func TestTooManyPendingStalls(t *testing.T) {
	f := setup(t, Options{MaxPending: 2, Timeout: time.Minute})
	silent(t, f, "quiet.x")
	for range 2 {
		if _, err := f.pub.PublishMsgAsync(msg("quiet.x", "", "v")); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if _, err := f.pub.PublishMsgAsync(msg("s.1", "", "v")); !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
		t.Fatalf("err %v, want ErrTooManyStalledMsgs", err)
	}
	if d := time.Since(start); d < stallWait {
		t.Fatalf("gave up after %v, want a wait of %v", d, stallWait)
	}
}

// A dropped connection fails what is pending (its acks may be lost) with
// nats.ErrDisconnected; publishing works again after the reconnect.
func TestADroppedConnectionFailsThePending(t *testing.T) {
	f := setup(t, Options{Timeout: time.Minute})
	silent(t, f, "quiet.x")
	fut, err := f.pub.PublishMsgAsync(msg("quiet.x", "", "v"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.nc.GetClientID()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.DisconnectClientByID(id); err != nil {
		t.Fatal(err)
	}
	if _, err := outcome(t, fut); !errors.Is(err, nats.ErrDisconnected) {
		t.Fatalf("err %v, want ErrDisconnected", err)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		fut, err := f.pub.PublishMsgAsync(msg("s.1", "", "v"))
		if err != nil {
			return err
		}
		_, err = outcome(t, fut)
		return err
	})
}

func TestAClosedPublisherRefuses(t *testing.T) {
	f := setup(t, Options{Timeout: time.Minute})
	silent(t, f, "quiet.x")
	fut, err := f.pub.PublishMsgAsync(msg("quiet.x", "", "v"))
	if err != nil {
		t.Fatal(err)
	}
	f.pub.Close()
	if _, err := outcome(t, fut); !errors.Is(err, jetstream.ErrJetStreamPublisherClosed) {
		t.Fatalf("pending: err %v, want ErrJetStreamPublisherClosed", err)
	}
	if _, err := f.pub.PublishMsgAsync(msg("s.1", "", "v")); !errors.Is(err, jetstream.ErrJetStreamPublisherClosed) {
		t.Fatalf("after Close: err %v, want ErrJetStreamPublisherClosed", err)
	}
	if _, err := f.pub.PublishMsgAsync(msg("s.1", "", "v"), jetstream.WithMsgID("x")); err == nil {
		t.Fatal("an option was accepted")
	}
}

// The hand-read acks read as the JSON decoder reads them; anything else is
// left to the decoder.
func TestParseReadsWhatDecodeReads(t *testing.T) {
	var p Publisher
	for _, data := range []string{
		`{"stream":"USERS_MAPPED","seq":12345}`,
		`{"stream":"S","seq":1,"duplicate":true}`,
		`{"stream":"S","seq":18446744073709551615,"duplicate":false}`,
		`{"stream":"S","domain":"hub","seq":3}`,
		`{"seq":3,"stream":"S"}`,
	} {
		var fast, slow jetstream.PubAck
		if !p.parse([]byte(data), &fast) {
			t.Fatalf("%s: not read by hand", data)
		}
		if err := decode([]byte(data), &slow); err != nil || fast != slow {
			t.Fatalf("%s: by hand %+v, decoded %+v (%v)", data, fast, slow, err)
		}
	}
	for _, data := range []string{
		`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 1"},"stream":"S","seq":0}`,
		`{"stream":"S","seq":1,"val":"x"}`,
		`{"stream":"S\u0041","seq":1}`,
		`{"stream": "S", "seq": 1}`,
		`{"stream":"S","seq":1}x`,
		`{"stream":"S","seq":-1}`,
		`{"stream":"S","seq":1,"duplicate":tru}`,
		`{"seq":1}`,
		`{}`,
		`{"stream":"S"`,
		``,
	} {
		var ack jetstream.PubAck
		if p.parse([]byte(data), &ack) {
			t.Fatalf("%s: read by hand as %+v", data, ack)
		}
	}
	var ack jetstream.PubAck
	var apiErr *jetstream.APIError
	if err := decode([]byte(`{"error":{"code":503,"err_code":10008,"description":"stream offline"}}`), &ack); !errors.As(err, &apiErr) || apiErr.Code != 503 {
		t.Fatalf("decode of an error: %v", err)
	}
	if err := decode([]byte(`{"stream":"S","seq":1,"val":"x"}`), &ack); err != nil || ack.Value != "x" {
		t.Fatalf("decode of a newer ack: %+v, %v", ack, err)
	}
	if err := decode([]byte(`nonsense`), &ack); !errors.Is(err, jetstream.ErrInvalidJSAck) {
		t.Fatalf("decode of nonsense: %v", err)
	}
}
