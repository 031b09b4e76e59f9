package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// account with a site login identity and two social ones; the facebook
// identity has values the site identity lacks.
func identitiesAccount() map[string]any {
	return map[string]any{
		"UID": "u1",
		"identities": []any{
			map[string]any{"provider": "facebook", "providerUID": "fb1", "country": "FR", "photoURL": "https://fb/p.jpg", "email": "fb@example.com"},
			map[string]any{"provider": "site", "providerUID": "u1", "isLoginIdentity": true, "country": "", "email": "site@example.com"},
			map[string]any{"provider": "facebook", "providerUID": "fb2", "country": "DE"},
			map[string]any{"provider": "google", "providerUID": "g1", "country": "IT", "email": "g@example.com"},
		},
	}
}

func TestIdentityViews(t *testing.T) {
	m := mustParse(t, `
version: 1
target: t
fields:
  fb: identity.facebook.providerUID
  google: identity.google.email
  apple: identity.apple.providerUID
  country: identities.country
  email: identities.email
  photo: identities["photoURL"]
  first_raw: identities[0].provider
  count: len(identities ?? [])
`)
	out, _, err := m.NewEvaluator().Apply(identitiesAccount())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"fb":        "fb1",              // first facebook identity
		"google":    "g@example.com",    // by provider
		"country":   "FR",               // login identity's "" is empty: first non-empty after it
		"email":     "site@example.com", // login identity first
		"photo":     "https://fb/p.jpg",
		"first_raw": "facebook", // indexing still reads the raw array
		"count":     4,
	}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("out = %#v\nwant  %#v", out, want)
	}
	keys, all := m.Paths()
	if all || !reflect.DeepEqual(keys, []string{"identities"}) {
		t.Fatalf("Paths() = %v, %v; the views read identities", keys, all)
	}
	// No identities at all: every view is nil, nothing fails.
	out, _, err = m.NewEvaluator().Apply(map[string]any{"UID": "u2"})
	if err != nil || !reflect.DeepEqual(out, map[string]any{"count": 0}) {
		t.Fatalf("out = %#v, err %v", out, err)
	}
}

func TestExplode(t *testing.T) {
	m := mustParse(t, `
version: 1
target: t
explode: identities
fields:
  user_id: UID
  provider: each.provider
  key: each.provider + "|" + each.providerUID
filters:
  - name: skip_me
    when: UID == "skip"
`)
	if m.Explode() != "identities" {
		t.Fatal("Explode()")
	}
	r, err := m.NewEvaluator().Map(identitiesAccount())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Outputs) != 4 || r.Outputs[1]["key"] != "site|u1" || r.Outputs[3]["provider"] != "google" || r.Outputs[0]["user_id"] != "u1" {
		t.Fatalf("outputs %v", r.Outputs)
	}
	r, err = m.NewEvaluator().Map(map[string]any{"UID": "u9"})
	if err != nil || r.Skip != SkipExplodeEmpty || r.Outputs != nil {
		t.Fatalf("no identities must be a counted skip: %+v %v", r, err)
	}
	r, _ = m.NewEvaluator().Map(map[string]any{"UID": "skip", "identities": []any{map[string]any{}}})
	if r.Skip != "skip_me" {
		t.Fatalf("filters run before exploding: %+v", r)
	}
	if _, _, err := m.NewEvaluator().Apply(identitiesAccount()); err != nil {
		t.Fatal(err) // Apply returns the first output
	}
}

func TestOmitEmptyIsDeepAndDoesNotTouchTheAccount(t *testing.T) {
	m := mustParse(t, `
version: 1
target: t
fields:
  data: data
  list: '[{Type: "Primary", Value: profile.email}, {Type: "Secondary", Value: nil}]'
  blank: '"  "'
  empty: '""'
  zero: "0"
  no: "false"
`)
	data := map[string]any{"keep": "x", "drop": "", "nested": map[string]any{"gone": nil, "arr": []any{}}, "arr": []any{"a", "", nil}}
	acct := map[string]any{"data": data, "profile": map[string]any{"email": "a@b.c"}}
	out, _, err := m.NewEvaluator().Apply(acct)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"data":  map[string]any{"keep": "x", "arr": []any{"a"}},
		"list":  []any{map[string]any{"Type": "Primary", "Value": "a@b.c"}, map[string]any{"Type": "Secondary"}},
		"blank": "  ", // whitespace is a value; trimming is the mapping's choice
		"zero":  0,
		"no":    false,
	}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("out = %#v\nwant  %#v", out, want)
	}
	if _, ok := data["drop"]; !ok || len(data["arr"].([]any)) != 3 || data["nested"] == nil {
		t.Fatalf("the account was modified: %#v", data)
	}
}

// TestFieldSpecs: required, default, and on_error omit with a flag (int()
// of a non-number fails at runtime, as a hash converter would).
func TestFieldSpecs(t *testing.T) {
	m := mustParse(t, `
version: 1
target: t
fields:
  id: UID
  email:
    expr: profile.email
    required: true
  country:
    expr: profile.country
    default: '"ZZ"'
  hash:
    expr: 'int(password.hash)'
    on_error: omit
    flag: app_metadata.password_reset_required
`)
	ev := m.NewEvaluator()
	r, err := ev.Map(map[string]any{"UID": "u1", "profile": map[string]any{"email": "a@b.c"}, "password": map[string]any{"hash": "not-a-number"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "u1", "email": "a@b.c", "country": "ZZ", "app_metadata": map[string]any{"password_reset_required": true}}
	if !reflect.DeepEqual(r.Outputs[0], want) {
		t.Fatalf("out = %#v", r.Outputs[0])
	}
	if len(r.Notes) != 1 || r.Notes[0].Field != "hash" || r.Notes[0].Flag != "app_metadata.password_reset_required" || r.Notes[0].Err == nil {
		t.Fatalf("notes %+v", r.Notes)
	}
	r, err = ev.Map(map[string]any{"UID": "u1", "profile": map[string]any{"email": "a@b.c", "country": "DE"}, "password": map[string]any{"hash": "42"}})
	if err != nil || r.Outputs[0]["hash"] != 42 || r.Outputs[0]["country"] != "DE" || r.Outputs[0]["app_metadata"] != nil || len(r.Notes) != 0 {
		t.Fatalf("out %#v notes %v err %v", r.Outputs, r.Notes, err)
	}
	_, err = ev.Map(map[string]any{"UID": "u1"})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "email" || !errors.Is(err, ErrRequired) {
		t.Fatalf("field-level required: %v", err)
	}
}

// flag_value sets a value other than true at the flag: LoginRadius'
// CustomFields hold text, and a boolean flag there would break the rule
// that every custom field is a string.
func TestFlagValue(t *testing.T) {
	m := mustParse(t, `
version: 1
target: t
fields:
  CustomFields: custom
  hash:
    expr: 'int(password.hash)'
    on_error: omit
    flag: CustomFields.password_reset_required
    flag_value: "true"
`)
	r, err := m.NewEvaluator().Map(map[string]any{"custom": map[string]any{"terms": "true"}, "password": map[string]any{"hash": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"CustomFields": map[string]any{"terms": "true", "password_reset_required": "true"}}
	if !reflect.DeepEqual(r.Outputs[0], want) {
		t.Fatalf("out = %#v", r.Outputs[0])
	}
	withTrue := mustParse(t, "version: 1\ntarget: t\nfields:\n  a:\n    expr: x\n    on_error: omit\n    flag: f\n")
	withValue := mustParse(t, "version: 1\ntarget: t\nfields:\n  a:\n    expr: x\n    on_error: omit\n    flag: f\n    flag_value: 1\n")
	withText := mustParse(t, "version: 1\ntarget: t\nfields:\n  a:\n    expr: x\n    on_error: omit\n    flag: f\n    flag_value: '1'\n")
	if withTrue.Version() == withValue.Version() || withValue.Version() == withText.Version() {
		t.Error("flag_value must change the mapping's version, and its type too")
	}
}

func TestSpecParseErrors(t *testing.T) {
	head := "version: 1\ntarget: t\n"
	for name, tt := range map[string]struct{ doc, want string }{
		"flag without omit":       {head + "fields:\n  a:\n    expr: x\n    flag: f\n", "flag needs on_error: omit"},
		"flag is a field":         {head + "fields:\n  f: y\n  a:\n    expr: x\n    on_error: omit\n    flag: f\n", `flag "f" is also a field`},
		"flag_value without flag": {head + "fields:\n  a:\n    expr: x\n    on_error: omit\n    flag_value: x\n", "flag_value needs a flag"},
		"flag_value not scalar":   {head + "fields:\n  a:\n    expr: x\n    on_error: omit\n    flag: f\n    flag_value: [1]\n", "flag_value must be"},
		"bad on_error":            {head + "fields:\n  a:\n    expr: x\n    on_error: ignore\n", "on_error must be fail or omit"},
		"missing expr":            {head + "fields:\n  a:\n    required: true\n", "expr is missing"},
		"unknown repair":          {head + "repair: [fix_everything]\nfields:\n  a: x\n", "unknown repair"},
		"bad explode":             {head + "explode: 'a.b'\nfields:\n  a: x\n", "top-level array"},
		"bad omit_empty":          {head + "omit_empty: maybe\nfields:\n  a: x\n", "must be true or false"},
		"default compile error":   {head + "fields:\n  a:\n    expr: x\n    default: 'lower('\n", `field "a default"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestVersionCoversOptions(t *testing.T) {
	base := "version: 1\ntarget: t\nfields:\n  a: x\n"
	v0 := mustParse(t, base).Version()
	for _, doc := range []string{
		base + "omit_empty: false\n",
		base + "explode: identities\n",
		base + "validate: none\n",
		base + "repair: [sanitize_metadata_keys]\n",
		"version: 1\ntarget: t\nfields:\n  a:\n    expr: x\n    default: y\n",
		"version: 1\ntarget: t\nfields:\n  a:\n    expr: x\n    on_error: omit\n",
	} {
		if mustParse(t, doc).Version() == v0 {
			t.Errorf("version unchanged by:\n%s", doc)
		}
	}
	// The long form with nothing but expr is the short form.
	if mustParse(t, "version: 1\ntarget: t\nfields:\n  a:\n    expr: x\n").Version() != v0 {
		t.Error("{expr: x} and x must have the same version")
	}
}

func TestExplain(t *testing.T) {
	m := mustParse(t, `
version: 1
target: t
fields:
  id: UID
  email:
    expr: profile.email
    required: true
  country:
    expr: profile.country
    default: '"ZZ"'
  gone: nope
  hash:
    expr: int("x")
    on_error: omit
`)
	steps, skip, err := m.NewEvaluator().Explain(map[string]any{"UID": "u1"})
	if skip != "" || !errors.Is(err, ErrRequired) || len(steps) != 1 {
		t.Fatalf("steps %v skip %q err %v", steps, skip, err)
	}
	got := map[string]string{}
	for _, s := range steps[0] {
		got[s.Field] = s.Outcome
	}
	want := map[string]string{"id": "set", "email": "omitted", "country": "default", "gone": "omitted", "hash": "dropped"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
}
