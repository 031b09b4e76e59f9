package mapping

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"
)

// auth0Config is the example mapping users copy, relative to this package.
const auth0Config = "../../configs/auth0.yaml"

// socialOnlyAccount logged in with Facebook only and shared no email.
const socialOnlyAccount = `{
  "UID": "_gid_social123",
  "created": "2022-05-01T12:00:00.000Z",
  "lastLogin": "2023-01-01T08:00:00.000Z",
  "isActive": true, "isRegistered": true, "isVerified": false,
  "loginProvider": "facebook", "socialProviders": "facebook",
  "loginIDs": { "emails": [], "unverifiedEmails": [] },
  "profile": { "firstName": "Sam", "lastName": "Smith", "nickname": "sam" },
  "identities": [ { "provider": "facebook", "providerUID": "99", "isLoginIdentity": true } ]
}`

// liteAccount is a lite registration (email only, for subscriptions).
const liteAccount = `{
  "UID": "lite-1",
  "hasLiteAccount": true, "hasFullAccount": false,
  "profile": { "email": "news@example.com" },
  "subscriptions": { "newsletter": { "email": { "isSubscribed": true } } }
}`

// auth0UserFields is the top level of Auth0's bulk-import user schema
// (docs/apis/auth0.md, "User fields"). The schema has additionalProperties:
// false, so any other name would make the whole import file invalid.
var auth0UserFields = map[string]bool{
	"email": true, "email_verified": true, "phone_number": true, "phone_verified": true,
	"user_id": true, "username": true, "given_name": true, "family_name": true, "name": true,
	"nickname": true, "picture": true, "blocked": true, "password_hash": true,
	"custom_password_hash": true, "app_metadata": true, "user_metadata": true, "mfa_factors": true,
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// canonicalJSON re-encodes a JSON document with sorted keys and no layout.
func canonicalJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("bad JSON: %v", err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestAuth0MappingFullAccount(t *testing.T) {
	m, err := Load(auth0Config)
	if err != nil {
		t.Fatal(err)
	}
	if m.Target() != "auth0" {
		t.Errorf("Target() = %q", m.Target())
	}
	out, skip, err := m.NewEvaluator().ApplyJSON(readFile(t, "testdata/gigya_account.json"))
	if err != nil || skip != "" {
		t.Fatalf("ApplyJSON: skip %q, err %v", skip, err)
	}
	got, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	want := canonicalJSON(t, readFile(t, "testdata/auth0_user.json"))
	if string(got) != want {
		t.Errorf("Auth0 user\n got %s\nwant %s", got, want)
	}
	for k := range out {
		if !auth0UserFields[k] {
			t.Errorf("top-level %q is not in Auth0's user schema", k)
		}
	}
	for _, f := range m.Fields() {
		if top, _, _ := strings.Cut(f.Path, "."); !auth0UserFields[top] {
			t.Errorf("field %q is outside Auth0's user schema", f.Path)
		}
	}
}

func TestAuth0MappingSocialOnlyWithoutEmail(t *testing.T) {
	m, err := Load(auth0Config)
	if err != nil {
		t.Fatal(err)
	}
	out, skip, err := m.NewEvaluator().ApplyJSON([]byte(socialOnlyAccount))
	var fe *FieldError
	if !errors.As(err, &fe) || !errors.Is(err, ErrRequired) || fe.Field != "email" || out != nil || skip != "" {
		t.Fatalf("ApplyJSON = %v, %q, %v; want a required error for email", out, skip, err)
	}
}

func TestAuth0MappingLiteAccountSkipped(t *testing.T) {
	m, err := Load(auth0Config)
	if err != nil {
		t.Fatal(err)
	}
	e := m.NewEvaluator()
	out, skip, err := e.ApplyJSON([]byte(liteAccount))
	if skip != "lite_account" || out != nil || err != nil {
		t.Fatalf("ApplyJSON = %v, %q, %v; want skip lite_account", out, skip, err)
	}
	// A lite account that was later upgraded to a full one is migrated.
	out, skip, err = e.ApplyJSON([]byte(`{"UID":"u","hasLiteAccount":true,"hasFullAccount":true,"profile":{"email":"a@b.c"}}`))
	if skip != "" || err != nil || out["email"] != "a@b.c" {
		t.Fatalf("upgraded account: %v, %q, %v", out, skip, err)
	}
}

func TestAuth0MappingPaths(t *testing.T) {
	m, err := Load(auth0Config)
	if err != nil {
		t.Fatal(err)
	}
	keys, all := m.Paths()
	want := []string{"UID", "created", "createdTimestamp", "data", "emails", "hasFullAccount", "hasLiteAccount",
		"identities", "isActive", "isRegistered", "isVerified", "lastLogin", "lastLoginTimestamp", "lastUpdated",
		"lastUpdatedTimestamp", "loginIDs", "loginProvider", "password", "phoneNumber", "preferences", "profile", "subscriptions"}
	if all || len(keys) != len(want) {
		t.Fatalf("Paths() = %v, %v; want %v", keys, all, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("Paths() = %v, want %v", keys, want)
		}
	}
}

// BenchmarkApplyJSON is the per-record cost of the mapping step: decode
// testdata/gigya_account.json (2 KB, the shape of docs/apis/gigya.md,
// "Example account") and evaluate the Auth0 mapping.
func BenchmarkApplyJSON(b *testing.B) {
	m, err := Load(auth0Config)
	if err != nil {
		b.Fatal(err)
	}
	data := readFile(b, "testdata/gigya_account.json")
	e := m.NewEvaluator()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.ApplyJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply isolates the expressions from JSON decoding.
func BenchmarkApply(b *testing.B) {
	m, err := Load(auth0Config)
	if err != nil {
		b.Fatal(err)
	}
	var account map[string]any
	if _, err := json.Parse(readFile(b, "testdata/gigya_account.json"), &account, json.UseInt64); err != nil {
		b.Fatal(err)
	}
	e := m.NewEvaluator()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Apply(account); err != nil {
			b.Fatal(err)
		}
	}
}
