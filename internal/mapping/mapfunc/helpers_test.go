package mapfunc

import (
	"reflect"
	"strings"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/segmentio/encoding/json"
)

// sampleAccount is the illustrative account of docs/apis/gigya.md ("Example
// account"), trimmed, plus a few oddities the helpers must cope with.
const sampleAccount = `{
  "UID": "9b1f0c7e5a2d4c3e8f6a1b2c3d4e5f60",
  "created": "2019-03-14T09:26:53.589Z",
  "createdTimestamp": 1552555613589,
  "lastLogin": "2024-02-01T10:00:00.000Z",
  "isVerified": true,
  "loginIDs": { "emails": ["Jane.Doe@Example.com"], "unverifiedEmails": [] },
  "profile": {
    "email": " jane.doe@example.com ", "firstName": "Jane", "lastName": "Doe",
    "gender": "f", "birthDay": 12, "birthMonth": 5, "birthYear": 1988,
    "country": "de", "city": "Berlin", "zip": "10115",
    "phones": [{ "type": "home", "number": "030 1234567" }, { "type": "mobile", "number": "+49 151 12345678" }],
    "locale": "de_DE"
  },
  "data": { "loyalty.id": "L-000123", "newsletterSource": "", "optIn": "yes", "score": 1.5 },
  "identities": [
    { "provider": "site", "oldestDataUpdated": "2019-03-14T09:26:53.589Z" },
    { "provider": "facebook", "lastLoginTime": 1700000000 }
  ]
}`

// decode decodes a JSON object the way the mapping engine does: integers
// that fit are int64, other numbers float64.
func decode(t testing.TB, doc string) map[string]any {
	t.Helper()
	var m map[string]any
	if _, err := json.Parse([]byte(doc), &m, json.UseInt64); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

// compile compiles src with the helpers the way the mapping engine does:
// a map env (so identifiers are account keys) and undefined variables
// allowed (so an absent key is nil).
func compile(t testing.TB, src string) *vm.Program {
	t.Helper()
	prog, err := expr.Compile(src, append(Options(), expr.Env(map[string]any{}), expr.AllowUndefinedVariables())...)
	if err != nil {
		t.Fatalf("compile %s: %v", src, err)
	}
	return prog
}

// run compiles and evaluates src against env.
func run(t testing.TB, src string, env map[string]any) (any, error) {
	t.Helper()
	if env == nil {
		env = map[string]any{}
	}
	return expr.Run(compile(t, src), env)
}

// tc is one table case: an expression, the account it runs against (the
// sample account when nil) and either the wanted value or a substring of
// the wanted error.
type tc struct {
	src     string
	want    any
	wantErr string
}

func runCases(t *testing.T, cases []tc) {
	t.Helper()
	env := decode(t, sampleAccount)
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			got, err := run(t, c.src, env)
			if c.wantErr != "" {
				if err == nil {
					t.Fatalf("got %#v, want an error containing %q", got, c.wantErr)
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %q does not contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %#v (%T), want %#v (%T)", got, got, c.want, c.want)
			}
		})
	}
}

// compileErr returns the compile error of src with the helpers, or nil.
func compileErr(src string) error {
	_, err := expr.Compile(src, append(Options(), expr.Env(map[string]any{}), expr.AllowUndefinedVariables())...)
	return err
}

func TestCompileTimeTypeChecks(t *testing.T) {
	bad := map[string]string{
		`gigya_time()`:                     "not enough arguments",
		`gigya_time(created, 1)`:           "too many arguments",
		`email()`:                          "not enough arguments",
		`phone_e164(profile.phone, 49)`:    "cannot use int",
		`phone_e164(a, "49", "x")`:         "too many arguments",
		`first_phone(profile.phones, 1)`:   "cannot use int",
		`join_name("a")`:                   "not enough arguments",
		`join_nonempty(nil, "a")`:          "cannot use nil",
		`join_nonempty(1, "a")`:            "cannot use int",
		`birthdate(1988, 5)`:               "not enough arguments",
		`pick(data, 1)`:                    "cannot use int",
		`rename_keys(data, "a")`:           "cannot use string",
		`rename_keys(data, nil)`:           "cannot use nil",
		`gender(profile.gender, "auth0")`:  "too many arguments",
		`sanitize_keys(data, data)`:        "too many arguments",
		`locale()`:                         "not enough arguments",
		`omit_empty()`:                     "not enough arguments",
		`to_bool(1, 2)`:                    "too many arguments",
		`gigya_epoch_ms(created, created)`: "too many arguments",
	}
	for src, want := range bad {
		err := compileErr(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: compile error %v, want one containing %q", src, err, want)
		}
	}
	good := []string{
		`phone_e164(profile.phone)`,
		`phone_e164(profile.phone, "49")`,
		`phone_e164(profile.phone, data.cc)`,
		`first_phone(profile.phones)`,
		`coalesce()`,
		`coalesce(profile.email, loginIDs.emails, "x", 1)`,
		`join_nonempty(", ")`,
		`join_nonempty(data.sep, 1, "a", nil)`,
		`pick(data)`,
		`pick(data, "a", data.key)`,
		`rename_keys(data, {"a": "b"})`,
		`rename_keys(data, data.renames)`,
		`to_bool(data.optIn) == true`,
		`gigya_time(created) ?? "never"`,
		`gigya_time(date(created))`,
		`upper(gender_code(profile.gender) ?? "U")`,
	}
	for _, src := range good {
		if err := compileErr(src); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// A filter must be boolean (the engine compiles filters with expr.AsBool):
// to_bool's any result is accepted there.
func TestToBoolInFilter(t *testing.T) {
	prog, err := expr.Compile(`to_bool(data.optIn)`, append(Options(), expr.Env(map[string]any{}), expr.AllowUndefinedVariables(), expr.AsBool())...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := expr.Run(prog, decode(t, sampleAccount))
	if err != nil || got != true {
		t.Fatalf("got %v, %v", got, err)
	}
}
