package message

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestIDsAndSubjects(t *testing.T) {
	tests := []struct{ got, want string }{
		{RawSubject("site1"), "gigya.accounts.site1"},
		{MappedSubject("auth0"), "users.mapped.auth0"},
		{DeadLetterSubject(StageTransform, "auth0"), "etl.deadletter.transform.auth0"},
		{RawMsgID("site1", "U1", "1706781600000"), "site1:U1:1706781600000"},
		{MappedMsgID("auth0", "U1", "1706781600000", "abc123"), "auth0:U1:1706781600000:abc123"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestDeadLetterMsg(t *testing.T) {
	d := DeadLetter{
		Stage: StageTransform, Target: "auth0", Code: "mapping_failed",
		Err: "field \"email\":\nmissing", UID: "U1",
		SourceSubject: "gigya.accounts.s", SourceSeq: 42, Attempts: 3,
		Data:  []byte(`{"UID":"U1"}`),
		Extra: nats.Header{HdrField: []string{"email"}},
	}
	m := d.Msg()
	want := map[string]string{
		HdrStage: "transform", HdrErrorCode: "mapping_failed", HdrError: `field "email": missing`,
		HdrUID: "U1", HdrSourceSubject: "gigya.accounts.s", HdrSourceSeqDL: "42", HdrAttempts: "3",
		HdrField: "email", HdrMsgID: "dl:transform:auth0:gigya.accounts.s:42",
	}
	for k, v := range want {
		if got := m.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if m.Subject != "etl.deadletter.transform.auth0" || string(m.Data) != `{"UID":"U1"}` {
		t.Fatalf("subject %q data %q", m.Subject, m.Data)
	}
}

func TestHeaderValueIsBounded(t *testing.T) {
	v := HeaderValue(strings.Repeat("x", 5000))
	if len(v) != maxHeaderValue || !strings.HasSuffix(v, "...") {
		t.Fatalf("len %d", len(v))
	}
}

// TestMsgWithinCutsWhatCannotTravel: a dead letter that fits goes whole; one
// over the server's max payload keeps its first 64 KiB and says how big the
// input was, and then fits.
func TestMsgWithinCutsWhatCannotTravel(t *testing.T) {
	small := DeadLetter{Stage: StageTransform, Target: "auth0", Code: "x", Err: "e", Data: []byte(`{"UID":"u"}`)}
	if m := small.MsgWithin(1 << 20); string(m.Data) != `{"UID":"u"}` || m.Header.Get(HdrTruncated) != "" {
		t.Fatalf("a small dead letter was changed: %q %v", m.Data, m.Header)
	}
	big := small
	big.Data = make([]byte, 2<<20)
	m := big.MsgWithin(1 << 20)
	if len(m.Data) != 64<<10 || m.Header.Get(HdrTruncated) != "2097152" {
		t.Fatalf("cut to %d bytes, %s=%q", len(m.Data), HdrTruncated, m.Header.Get(HdrTruncated))
	}
	if !Fits(m.Data, m.Header, 1<<20) {
		t.Fatal("the cut dead letter still does not fit")
	}
	if m := big.MsgWithin(0); len(m.Data) != 2<<20 {
		t.Fatal("no limit must mean no cut")
	}
	// Just under the limit as an input, over it with the dead-letter headers.
	near := small
	near.Data = make([]byte, 1<<20-20)
	if m := near.MsgWithin(1 << 20); m.Header.Get(HdrTruncated) == "" || !Fits(m.Data, m.Header, 1<<20) {
		t.Fatalf("a near-limit input: %d bytes, truncated %q", len(m.Data), m.Header.Get(HdrTruncated))
	}
}
