package consume

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestParseAckSubject reads both forms of reply subject a server sends,
// and refuses what is neither.
func TestParseAckSubject(t *testing.T) {
	want := jetstream.MsgMetadata{
		Sequence: jetstream.SequencePair{Stream: 42, Consumer: 7}, NumDelivered: 3, NumPending: 99,
		Timestamp: time.Unix(0, 1796650510220562156), Stream: "GIGYA_ACCOUNTS", Consumer: "transformer-auth0",
	}
	withDomain := want
	withDomain.Domain = "hub"
	for _, tc := range []struct {
		reply string
		want  jetstream.MsgMetadata
	}{
		{"$JS.ACK.GIGYA_ACCOUNTS.transformer-auth0.3.42.7.1796650510220562156.99", want},
		{"$JS.ACK._.ACCHASH.GIGYA_ACCOUNTS.transformer-auth0.3.42.7.1796650510220562156.99.r4nd", want},
		{"$JS.ACK.hub.ACCHASH.GIGYA_ACCOUNTS.transformer-auth0.3.42.7.1796650510220562156.99", withDomain},
		{"$JS.ACK.hub.ACCHASH.GIGYA_ACCOUNTS.transformer-auth0.3.42.7.1796650510220562156.99.r4nd.more", withDomain},
	} {
		var got jetstream.MsgMetadata
		if err := parseAckSubject(tc.reply, &got); err != nil {
			t.Fatalf("%s: %v", tc.reply, err)
		}
		if !got.Timestamp.Equal(tc.want.Timestamp) {
			t.Fatalf("%s: timestamp %v, want %v", tc.reply, got.Timestamp, tc.want.Timestamp)
		}
		got.Timestamp = tc.want.Timestamp
		if got != tc.want {
			t.Fatalf("%s:\n got %+v\nwant %+v", tc.reply, got, tc.want)
		}
	}
	for _, bad := range []string{
		"",
		"_INBOX.abc",
		"$JS.ACK.S.C.1.2.3.4",             // a token short
		"$JS.ACK.d.h.S.C.1.2.3.4",         // between the forms
		"$JS.ACK.S.C.1.2.x.4.5",           // not a number
		"$JS.ACK.S.C.1.2.3.4.-5",          // negative
		"$JS.ACKS.C.1.2.3.4.5.6.7.8.9.10", // another prefix
	} {
		var got jetstream.MsgMetadata
		if err := parseAckSubject(bad, &got); !errors.Is(err, errAckSubject) {
			t.Fatalf("%q: err %v, want errAckSubject", bad, err)
		}
		m := newPulled(nil, &nats.Msg{Reply: bad})
		if _, err := m.Metadata(); !errors.Is(err, errAckSubject) {
			t.Fatalf("%q: Metadata err %v, want errAckSubject", bad, err)
		}
	}
}

// TestPulledAcksAsTheClientDoes: each acknowledgement sends the protocol's
// body to the reply subject, a final one only once, as the client's own
// messages do.
func TestPulledAcksAsTheClientDoes(t *testing.T) {
	nc := natstest.StartWith(t, func(o *server.Options) { o.JetStream = false }).Connect()
	acks, err := nc.SubscribeSync("$JS.ACK.>")
	if err != nil {
		t.Fatal(err)
	}
	// DoubleAck waits for the server's answer to its ack.
	if _, err := nc.Subscribe("$JS.ACK.S.C.1.9.9.0.0", func(m *nats.Msg) { _ = m.Respond(nil) }); err != nil {
		t.Fatal(err)
	}
	next := func() string {
		t.Helper()
		m, err := acks.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return string(m.Data)
	}
	msg := func(seq string) jetstream.Msg {
		return newPulled(nc, &nats.Msg{Subject: "gigya.accounts.s", Reply: "$JS.ACK.S.C.1." + seq + "." + seq + ".0.0", Data: []byte("{}")})
	}
	for _, tc := range []struct {
		name  string
		act   func(jetstream.Msg) error
		body  string
		final bool
	}{
		{"ack", jetstream.Msg.Ack, "+ACK", true},
		{"nak", jetstream.Msg.Nak, "-NAK", true},
		{"nak with delay", func(m jetstream.Msg) error { return m.NakWithDelay(2 * time.Second) }, `-NAK {"delay": 2000000000}`, true},
		{"in progress", jetstream.Msg.InProgress, "+WPI", false},
		{"term", jetstream.Msg.Term, "+TERM", true},
		{"term with reason", func(m jetstream.Msg) error { return m.TermWithReason("bad record") }, "+TERM bad record", true},
	} {
		m := msg("1")
		if err := tc.act(m); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := next(); got != tc.body {
			t.Fatalf("%s sent %q, want %q", tc.name, got, tc.body)
		}
		err := tc.act(m)
		switch {
		case tc.final && !errors.Is(err, jetstream.ErrMsgAlreadyAckd):
			t.Fatalf("%s a second time: err %v, want ErrMsgAlreadyAckd", tc.name, err)
		case !tc.final && err != nil:
			t.Fatalf("%s a second time: %v", tc.name, err)
		case !tc.final && next() != tc.body:
			t.Fatalf("%s a second time sent something else", tc.name)
		}
	}
	m := msg("9")
	if err := m.DoubleAck(context.Background()); err != nil {
		t.Fatalf("double ack: %v", err)
	}
	if got := next(); got != "+ACK" {
		t.Fatalf("double ack sent %q", got)
	}
	if err := m.Ack(); !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		t.Fatalf("ack after a double ack: err %v, want ErrMsgAlreadyAckd", err)
	}
	if err := newPulled(nc, &nats.Msg{Subject: "s"}).Ack(); !errors.Is(err, jetstream.ErrMsgNoReply) {
		t.Fatalf("ack without a reply subject: err %v, want ErrMsgNoReply", err)
	}
}
