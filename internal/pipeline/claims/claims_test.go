package claims

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go/jetstream"
)

func newRegister(t *testing.T) (*Register, jetstream.KeyValue, jetstream.JetStream) {
	t.Helper()
	js := natstest.Start(t).JetStream()
	kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: "claims"})
	if err != nil {
		t.Fatal(err)
	}
	return New(kv, js, "auth0"), kv, js
}

func take(t *testing.T, r *Register, cs ...Claim) []string {
	t.Helper()
	holders, err := r.Take(context.Background(), cs)
	if err != nil {
		t.Fatal(err)
	}
	return holders
}

func TestTheFirstAccountHoldsAnEmail(t *testing.T) {
	r, kv, _ := newRegister(t)
	got := take(t, r,
		Claim{Field: "email", Value: "Ada@Example.com", UID: "U1"},
		Claim{Field: "email", Value: "bob@example.com", UID: "U2"})
	if fmt.Sprint(got) != "[ ]" {
		t.Fatalf("first claims: holders %q", got)
	}
	// Another account with the same email, in another case and with spaces;
	// and U1 again (a redelivery), which still holds its own.
	got = take(t, r,
		Claim{Field: "email", Value: " ada@EXAMPLE.com", UID: "U3"},
		Claim{Field: "email", Value: "ada@example.com", UID: "U1"})
	if got[0] != "U1" || got[1] != "" {
		t.Fatalf("second claims: holders %q, want [U1 \"\"]", got)
	}
	// Nothing of the email is stored, only hashes and UIDs.
	keys, err := kv.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		e, _ := kv.Get(context.Background(), k)
		for _, s := range []string{k, string(e.Value())} {
			if s == "" || strings.Contains(s, "ada") || strings.Contains(s, "example") {
				t.Errorf("the bucket holds the email: %s = %s", k, e.Value())
			}
		}
	}
}

func TestAReleasedEmailGoesToTheNextAccount(t *testing.T) {
	r, _, _ := newRegister(t)
	ada := Claim{Field: "email", Value: "ada@example.com", UID: "U1"}
	take(t, r, ada)
	// The target refused U1: its email is free again.
	if err := r.Release(context.Background(), []Claim{ada}); err != nil {
		t.Fatal(err)
	}
	if got := take(t, r, Claim{Field: "email", Value: "ada@example.com", UID: "U2"}); got[0] != "" {
		t.Fatalf("after the release U2 gets %q", got)
	}
	// A release by someone who does not hold it changes nothing.
	if err := r.Release(context.Background(), []Claim{ada}); err != nil {
		t.Fatal(err)
	}
	if got := take(t, r, Claim{Field: "email", Value: "ada@example.com", UID: "U3"}); got[0] != "U2" {
		t.Fatalf("U1's release freed U2's claim: U3 gets %q", got)
	}
}

func TestAnUpdateThatChangesTheEmailFreesTheOldOne(t *testing.T) {
	r, _, _ := newRegister(t)
	take(t, r, Claim{Field: "email", Value: "old@example.com", UID: "U1"})
	// During the cut-over U1 changes its email.
	if got := take(t, r, Claim{Field: "email", Value: "new@example.com", UID: "U1", Update: true}); got[0] != "" {
		t.Fatalf("U1's new email: %q", got)
	}
	if got := take(t, r, Claim{Field: "email", Value: "old@example.com", UID: "U2"}); got[0] != "" {
		t.Fatalf("U1's old email is still held by %q", got)
	}
	if got := take(t, r, Claim{Field: "email", Value: "new@example.com", UID: "U3"}); got[0] != "U1" {
		t.Fatalf("U1's new email: U3 gets %q", got)
	}
}

// Two loaders claiming one email at once: exactly one holds it, and the
// other learns who.
func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	r1, kv, js := newRegister(t)
	r2 := New(kv, js, "auth0")
	for round := range 20 {
		email := fmt.Sprintf("u%d@example.com", round)
		var wg sync.WaitGroup
		var h1, h2 []string
		var e1, e2 error
		wg.Add(2)
		go func() {
			defer wg.Done()
			h1, e1 = r1.Take(context.Background(), []Claim{{Field: "email", Value: email, UID: "A"}})
		}()
		go func() {
			defer wg.Done()
			h2, e2 = r2.Take(context.Background(), []Claim{{Field: "email", Value: email, UID: "B"}})
		}()
		wg.Wait()
		if e1 != nil || e2 != nil {
			t.Fatal(e1, e2)
		}
		if !(h1[0] == "" && h2[0] == "A") && !(h1[0] == "B" && h2[0] == "") {
			t.Fatalf("round %d: A sees %q, B sees %q", round, h1[0], h2[0])
		}
	}
}

// Targets are apart: the same email at another target is another claim.
func TestTargetsAreApart(t *testing.T) {
	r, kv, js := newRegister(t)
	take(t, r, Claim{Field: "email", Value: "ada@example.com", UID: "U1"})
	other := New(kv, js, "loginradius")
	if got := take(t, other, Claim{Field: "email", Value: "ada@example.com", UID: "U2"}); got[0] != "" {
		t.Fatalf("another target: %q", got)
	}
}
