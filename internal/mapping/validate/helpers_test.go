package validate_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/segmentio/encoding/json"
)

// janeDoe is the Auth0 user the transformer produces for the Gigya example
// account (with a pbkdf2 hash built from Gigya's password object). It must
// be valid.
const janeDoe = `{"user_id":"9b1f0c7e5a2d4c3e8f6a1b2c3d4e5f60","email":"jane.doe@example.com","email_verified":true,"given_name":"Jane","family_name":"Doe","name":"Jane Doe","nickname":"Jane Doe","picture":"https://graph.facebook.com/1234567890/picture?type=large","blocked":false,"app_metadata":{"gigya_uid":"9b1f0c7e5a2d4c3e8f6a1b2c3d4e5f60","gigya_created":"2019-03-14T09:26:53.589Z"},"user_metadata":{"locale":"de_DE","country":"DE","gigya_data":{"loyaltyId":"L-000123","newsletterSource":"checkout"}},"custom_password_hash":{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE","encoding":"utf8"}}}`

// decode parses a JSON object the way the mapping decodes accounts
// (integers as int64).
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if _, err := json.Parse([]byte(s), &m, json.UseInt64); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// jv decodes a JSON value for use inside a test user.
func jv(t testing.TB, s string) any {
	t.Helper()
	var v any
	if _, err := json.Parse([]byte(s), &v, json.UseInt64); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// keys renders findings as sorted "path: rule" strings, which is what the
// tables compare: the exact set, so a case fails both when its rule does
// not fire and when something else fires too.
func keys(vs []validate.Violation) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.Path+": "+v.Rule)
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

func checkFindings(t *testing.T, what string, got []validate.Violation, want []string) {
	t.Helper()
	if g, w := keys(got), sorted(want); !slices.Equal(g, w) {
		t.Errorf("%s:\n got  %q\n want %q\n%s", what, g, w, dump(got))
	}
	for _, v := range got {
		if v.Message == "" {
			t.Errorf("%s: %s: %s has no message", what, v.Path, v.Rule)
		}
	}
}

func dump(vs []validate.Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("    " + v.Path + ": " + v.Rule + ": " + v.Message + "\n")
	}
	return b.String()
}

// marshal encodes v for before/after comparisons.
func marshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}
