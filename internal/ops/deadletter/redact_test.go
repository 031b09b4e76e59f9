package deadletter_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/ops/deadletter"
)

// gigyaRecord is shaped like an accounts.search result with a password.
const gigyaRecord = `{
  "UID": "uid-1",
  "lastUpdatedTimestamp": 1700000000000,
  "profile": {"email": "ann@example.com", "firstName": "Ann"},
  "password": {
    "hash": "c2VjcmV0LWhhc2g=",
    "hashSettings": {"algorithm": "pbkdf2_sha256", "rounds": 10000, "salt": "c2FsdHk="}
  },
  "identities": [{"provider": "facebook", "oauthToken": "EAAB-token", "providerUID": "fb-9"}],
  "data": {"apiSecret": "s3cr3t", "terms": true, "nested": {"deeper": {"Session_Token": "tok", "note": "keep me"}}},
  "pwd": "plain",
  "passwordHistory": ["old1", "old2"],
  "isVerified": true
}`

// auth0User is an Auth0 import user with both hash styles.
const auth0User = `{
  "email": "ann@example.com",
  "user_id": "uid-1",
  "custom_password_hash": {
    "algorithm": "bcrypt",
    "hash": {"value": "$2b$10$abcdefghijklmnopqrstuv", "encoding": "utf8"},
    "salt": {"value": "pepper", "position": "prefix"}
  },
  "password_hash": "$2b$10$zyxwvutsrqponmlkjihgfe",
  "app_metadata": {"gigya_uid": "uid-1"}
}`

func TestRedactHidesSecretsAtAnyDepthAndKeepsTheRest(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		secrets  []string // must be gone
		kept     []string // must stay
		redacted int
	}{
		{
			name:     "gigya record",
			in:       gigyaRecord,
			secrets:  []string{"c2VjcmV0LWhhc2g=", "c2FsdHk=", "EAAB-token", "s3cr3t", `"tok"`, "plain", "old1", "old2"},
			kept:     []string{"uid-1", "ann@example.com", "pbkdf2_sha256", "10000", "keep me", "fb-9", "1700000000000", `"terms": true`, `"isVerified": true`},
			redacted: 8,
		},
		{
			name:     "auth0 user",
			in:       auth0User,
			secrets:  []string{"abcdefghijklmnopqrstuv", "pepper", "zyxwvutsrqponmlkjihgfe"},
			kept:     []string{"bcrypt", "utf8", "prefix", "ann@example.com", `"gigya_uid": "uid-1"`},
			redacted: 3,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, n := deadletter.Redact([]byte(tc.in))
			if !json.Valid(out) {
				t.Fatalf("redacted JSON is invalid:\n%s", out)
			}
			for _, s := range tc.secrets {
				if strings.Contains(string(out), s) {
					t.Errorf("secret %q survived:\n%s", s, out)
				}
			}
			for _, s := range tc.kept {
				if !strings.Contains(string(out), s) {
					t.Errorf("%q was lost:\n%s", s, out)
				}
			}
			if n != tc.redacted {
				t.Errorf("redacted %d values, want %d:\n%s", n, tc.redacted, out)
			}
		})
	}
}

func TestRedactKeepsKeyOrderAndFormatting(t *testing.T) {
	in := `{"z":1,"salt":"x","a":[1,2]}`
	out, n := deadletter.Redact([]byte(in))
	if want := `{"z":1,"salt":"[redacted]","a":[1,2]}`; string(out) != want || n != 1 {
		t.Fatalf("got %s (%d), want %s", out, n, want)
	}
}

func TestRedactBrokenJSON(t *testing.T) {
	// A truncated export line: not JSON, but its hash must still not show.
	in := `{"UID":"uid-7","password":{"hash":"SECRETHASH","hashSettings":{"algorithm":"sha1","salt":"SALTY`
	out, n := deadletter.Redact([]byte(in))
	for _, s := range []string{"SECRETHASH", "SALTY"} {
		if strings.Contains(string(out), s) {
			t.Errorf("secret %q survived: %s", s, out)
		}
	}
	if !strings.Contains(string(out), "uid-7") || !strings.Contains(string(out), "sha1") || n != 2 {
		t.Errorf("got %s (%d redacted), want the UID and algorithm kept and 2 values redacted", out, n)
	}
}
