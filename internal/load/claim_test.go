package load

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/claims"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func (f *fixture) publishUser(t *testing.T, uid, email string) {
	t.Helper()
	m := nats.NewMsg("users.mapped.auth0")
	m.Data = fmt.Appendf(nil, `{"user_id":%q,"email":%q}`, uid, email)
	m.Header.Set(message.HdrUID, uid)
	m.Header.Set(message.HdrMsgID, "auth0:"+uid)
	if _, err := f.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// Two Gigya accounts with one email (allowed in Gigya, not at the target):
// the first is loaded, the second dead-lettered as email_conflict naming
// both UIDs, and the books say so; in a later batch too, and across
// loaders of the same target.
func TestTwoAccountsWithOneEmail(t *testing.T) {
	f := setup(t, 100, func(_ int, recs []sink.Record) error {
		for i, r := range recs {
			if r.UID == "u-refused" {
				return &sink.RejectedError{Rejections: []sink.Rejection{{Index: i, Code: "invalid_user", Reason: "no"}}}
			}
		}
		return nil
	})
	f.l.claims, f.l.unique = claims.New(f.top.Claims, f.js, "auth0"), uniqueFields([]string{"email"})
	f.publishUser(t, "u1", "Ada@Example.com")
	f.publishUser(t, "u2", "ada@example.com")
	f.publishUser(t, "u3", "bob@example.com")
	f.publishUser(t, "u-refused", "carol@example.com")
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, f.settled(4))
	// A later batch: u4 takes the email of the refused user, u5 u1's.
	f.publishUser(t, "u4", "carol@example.com")
	f.publishUser(t, "u5", "ADA@example.com")
	natstest.Eventually(t, 10*time.Second, f.settled(6))
	stop()

	got := f.sink.count()
	if len(got) != 3 || got["u1"] != 1 || got["u3"] != 1 || got["u4"] != 1 {
		t.Fatalf("stored %v, want u1, u3, u4", got)
	}
	tot := f.l.totals()
	if tot.Loaded != 3 || tot.DeadLettered != 3 || tot.Conflicts != 2 {
		t.Fatalf("totals %+v, want 3 loaded, 3 dead-lettered of which 2 conflicts", tot)
	}
	conflicts := map[string]string{}
	err := consumeDeadLetters(f, func(m jetstream.Msg) {
		if m.Headers().Get(message.HdrErrorCode) == "email_conflict" {
			conflicts[m.Headers().Get(message.HdrUID)] = m.Headers().Get(message.HdrConflictUID)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(conflicts) != 2 || conflicts["u2"] != "u1" || conflicts["u5"] != "u1" {
		t.Fatalf("email_conflict dead letters (uid → holder) %v, want u2 and u5 → u1", conflicts)
	}
}

func consumeDeadLetters(f *fixture, fn func(jetstream.Msg)) error {
	ctx := context.Background()
	cons, err := f.top.DeadLetter.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	info, err := f.top.DeadLetter.Info(ctx)
	if err != nil {
		return err
	}
	for range info.State.Msgs {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			return err
		}
		fn(m)
	}
	return nil
}

// TestFieldValueMatchesADecode: the scanning fieldValue finds what decoding
// the user finds, on users of every shape the loader can meet.
func TestFieldValueMatchesADecode(t *testing.T) {
	users := []string{
		`{"email":"a@b.c"}`, ` { "email" : "a@b.c" } `, `{"x":{"email":"no"},"email":"a@b.c"}`,
		`{"email":"first@b.c","email":"last@b.c"}`, `{"email":"  "}`, `{"email":null}`, `{"email":5}`,
		`{"email":"esc\u0061ped@b.c"}`, `{"em\u0061il":"x@y.z"}`, `{"a":[1,{"email":"n"}],"b":"}\"{","email":"q@r.s"}`,
		`{}`, `[]`, `"x"`, `{"app_metadata":{"login":"L","x":1},"email":"a@b.c"}`, `{"app_metadata":{"login":7}}`,
		`{"app_metadata":"s"}`, `{"app_metadata":{"login":"L","login":"M"}}`, `{"email":"a@b.c"`, `{"email" "a"}`,
		`{"email":["x@y.z","w@y.z"]}`, `{"email":[]}`, `{"app_metadata":[{"login":"A"},{"login":"B"}]}`, `{"app_metadata":[]}`,
	}
	// Strings read eight bytes at a time: an escape or a quote at every
	// position around the words' edges.
	for k := range 20 {
		pad := strings.Repeat("x", k)
		for _, esc := range []string{`\"`, `\\`, `\n`, `\u0041`, `\/`, "é"} {
			users = append(users,
				`{"name":"`+pad+esc+pad+`","email":"`+pad+`@b.c"}`,
				`{"email":"`+pad+esc+`@b.c","app_metadata":{"login":"`+esc+pad+`"}}`,
				`{"email":"`+esc+`"}`)
		}
	}
	for _, u := range users {
		for _, path := range [][]string{{"email"}, {"app_metadata", "login"}} {
			got, gotOK := fieldValue([]byte(u), path)
			want, wantOK := fieldValueDecoded([]byte(u), path)
			if got != want || gotOK != wantOK {
				t.Errorf("%s %v: got %q %v, want %q %v", u, path, got, gotOK, want, wantOK)
			}
		}
	}
}

// A user migrated at login holds its email at the target: another account
// with that email, loaded later, is a conflict rather than a second user.
func TestUserMigratedAtLoginHoldsItsEmail(t *testing.T) {
	f := setup(t, 100, func(int, []sink.Record) error { return nil })
	f.l.claims, f.l.unique = claims.New(f.top.Claims, f.js, "auth0"), uniqueFields([]string{"email"})
	m := nats.NewMsg("users.mapped.auth0")
	m.Data = []byte(`{"user_id":"u1","email":"Ada@Example.com"}`)
	m.Header.Set(message.HdrUID, "u1")
	m.Header.Set(message.HdrMsgID, "auth0:u1:login")
	m.Header.Set(message.HdrLoginMigrated, "auth0")
	if _, err := f.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	stop := f.start(t)
	natstest.Eventually(t, 10*time.Second, f.settled(1))
	f.publishUser(t, "u2", "ada@example.com")
	natstest.Eventually(t, 10*time.Second, f.settled(2))
	stop()
	if got := f.sink.count(); len(got) != 0 {
		t.Fatalf("stored %v, want nothing", got)
	}
	if tot := f.l.totals(); tot.MigratedAtLogin != 1 || tot.Conflicts != 1 {
		t.Fatalf("totals %+v, want 1 migrated at login, 1 conflict", tot)
	}
}

// A unique field's path may cross arrays: LoginRadius' login email is the
// first item of Email, so loader.unique says Email.Value.
func TestFieldValueReadsFirstArrayElement(t *testing.T) {
	lr := []byte(`{"Uid":"u1","Email":[{"Type":"Primary","Value":"Jane@example.com"},{"Type":"Secondary","Value":"x@example.com"}],"PhoneId":"+4915112345678","Tags":["a","b"]}`)
	for _, c := range []struct {
		path string
		want string
		ok   bool
	}{
		{"Email.Value", "Jane@example.com", true},
		{"Email.Type", "Primary", true},
		{"PhoneId", "+4915112345678", true},
		{"Tags", "a", true},
		{"Email", "", false},
		{"Email.Missing", "", false},
		{"Uid.x", "", false},
		{"Nope.Value", "", false},
	} {
		got, ok := fieldValue(lr, strings.Split(c.path, "."))
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %q %v, want %q %v", c.path, got, ok, c.want, c.ok)
		}
	}
	if _, ok := fieldValue([]byte(`{"Email":[]}`), []string{"Email", "Value"}); ok {
		t.Error("an empty array has no value")
	}
	if got, ok := fieldValue([]byte(`{"email":"a@b.co"}`), []string{"email"}); !ok || got != "a@b.co" {
		t.Errorf("plain field: %q %v", got, ok)
	}
}

func TestConflictCodes(t *testing.T) {
	for path, want := range map[string]string{"email": "email_conflict", "Email.Value": "email_conflict",
		"PhoneId": "phoneid_conflict", "app_metadata.login": "app_metadata_login_conflict"} {
		if got := conflictCode(path); got != want {
			t.Errorf("conflictCode(%q) = %q, want %q", path, got, want)
		}
	}
}

// stringEnd skips eight bytes at a time: it ends every string where a byte
// by byte reading does, whatever sits at a word's edge.
func TestStringEndMatchesAByteByByteReading(t *testing.T) {
	slow := func(b []byte, i int) int {
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	}
	for n := range 24 {
		for at := range n {
			for _, c := range []byte{'"', '\\', '\n', 0x01, 'x', 0xc3} {
				b := []byte(`"` + strings.Repeat("a", n) + `"tail"`)
				b[1+at] = c
				for _, s := range [][]byte{b, b[:len(b)-6]} {
					if got, want := stringEnd(s, 0), slow(s, 0); got != want {
						t.Fatalf("%q: stringEnd %d, want %d", s, got, want)
					}
				}
			}
		}
	}
}
