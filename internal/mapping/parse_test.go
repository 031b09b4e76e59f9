package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/expr-lang/expr/file"
)

// mustParse compiles an inline mapping or fails the test.
func mustParse(t testing.TB, doc string) *Mapping {
	t.Helper()
	m, err := Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

func TestParseKeepsOrderAndShape(t *testing.T) {
	m := mustParse(t, `
version: 1
target: auth0
fields:
  zeta: UID
  alpha: profile.email
  app_metadata.gigya_uid: UID
  middle: 1
  app_metadata.deep.er: "true"
filters:
  - name: second
    when: 1 == 2
  - name: first
    when: 'true'
required: [alpha, app_metadata]
`)
	var got []string
	for _, f := range m.Fields() {
		got = append(got, f.Path)
	}
	want := []string{"zeta", "alpha", "app_metadata.gigya_uid", "middle", "app_metadata.deep.er"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("field order = %v, want %v", got, want)
	}
	if f := m.Fields()[1]; f.Expr != "profile.email" || f.Line != 6 {
		t.Errorf("field 1 = %+v, want expr profile.email on line 6", f)
	}
	if m.Target() != "auth0" || m.Name() != "test.yaml" {
		t.Errorf("Target, Name = %q, %q", m.Target(), m.Name())
	}
	if fs := m.Filters(); len(fs) != 2 || fs[0].Name != "second" || fs[1].Name != "first" || fs[1].When != "true" {
		t.Errorf("Filters() = %+v", fs)
	}
	if r := m.Required(); !reflect.DeepEqual(r, []string{"alpha", "app_metadata"}) {
		t.Errorf("Required() = %v", r)
	}
	// Accessors hand out copies: the Mapping stays immutable.
	m.Fields()[0].Path = "changed"
	if m.Fields()[0].Path != "zeta" {
		t.Error("Fields() exposes internal state")
	}
}

func TestParseErrors(t *testing.T) {
	const head = "version: 1\ntarget: t\n"
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error, in order of appearance
	}{
		{"unknown top-level key", head + "fields:\n  a: UID\nfeilds: x\n",
			[]string{`mapping test.yaml: line 5: unknown key "feilds"`}},
		{"duplicate field", head + "fields:\n  email: a\n  email: b\n",
			[]string{`field "email" (line 5): duplicate field (first on line 4)`}},
		{"duplicate top-level key", head + "fields:\n  a: UID\ntarget: u\n",
			[]string{`target (line 5): duplicate key (first on line 2)`}},
		{"empty path", head + "fields:\n  \"\": UID\n",
			[]string{`field "" (line 4): empty output path`}},
		{"empty segment", head + "fields:\n  a..b: UID\n",
			[]string{`field "a..b" (line 4): empty path segment`}},
		{"leading dot", head + "fields:\n  .a: UID\n", []string{`field ".a" (line 4): empty path segment`}},
		{"trailing dot", head + "fields:\n  a.: UID\n", []string{`field "a." (line 4): empty path segment`}},
		{"space in path", head + "fields:\n  \"a b\": UID\n", []string{`field "a b" (line 4): path segment "a b" contains whitespace`}},
		{"leaf then parent", head + "fields:\n  a: x\n  a.b: y\n",
			[]string{`field "a.b" (line 5): conflicts with field "a" (line 4)`}},
		{"parent then leaf", head + "fields:\n  a.b.c: x\n  a.b: y\n",
			[]string{`field "a.b" (line 5): conflicts with the field on line 4`}},
		{"bad version", "version: 2\ntarget: t\nfields:\n  a: UID\n",
			[]string{`version (line 1): unsupported mapping format version "2", want 1`}},
		{"version as string", "version: \"1\"\ntarget: t\nfields:\n  a: UID\n",
			[]string{`version (line 1): unsupported mapping format version "1"`}},
		{"missing version", "target: t\nfields:\n  a: UID\n", []string{`version: missing`}},
		{"uppercase target", "version: 1\ntarget: Auth0\nfields:\n  a: UID\n",
			[]string{`target (line 2): target "Auth0" must match [a-z0-9_-]`}},
		{"target with dot", "version: 1\ntarget: auth0.eu\nfields:\n  a: UID\n", []string{`target "auth0.eu" must match`}},
		{"target wildcard", "version: 1\ntarget: \">\"\nfields:\n  a: UID\n", []string{`target ">" must match`}},
		{"target too long", "version: 1\ntarget: " + strings.Repeat("a", 65) + "\nfields:\n  a: UID\n", []string{`must match`}},
		{"missing target", "version: 1\nfields:\n  a: UID\n", []string{`target: missing`}},
		{"missing fields", head, []string{`fields: missing`}},
		{"empty fields", head + "fields: {}\n", []string{`fields (line 3): no fields`}},
		{"fields not a mapping", head + "fields: [a, b]\n", []string{`fields (line 3): must be a mapping`}},
		{"null expression", head + "fields:\n  a:\n", []string{`field "a" (line 4): the expression is empty`}},
		{"blank expression", head + "fields:\n  a: \"  \"\n", []string{`field "a" (line 4): the expression is empty`}},
		{"mapping expression", head + "fields:\n  a: {b: c}\n", []string{`field "a" (line 4): unknown key "b" (want expr, required, default, on_error, flag, flag_value)`}},
		{"timestamp expression", head + "fields:\n  a: 2019-01-01\n", []string{`field "a" (line 4): the expression has YAML type !!timestamp; quote it`}},
		{"expression too long", head + "fields:\n  a: " + strings.Repeat("x", MaxExprLen+1) + "\n",
			[]string{`field "a" (line 4): the expression is 4097 bytes, the limit is 4096`}},
		{"too many nodes", head + "fields:\n  a: " + strings.TrimSuffix(strings.Repeat("1+", MaxExprNodes), "+") + "\n",
			[]string{`field "a" (line 4): compile "1+1+1+`, `exceeds maximum allowed nodes`}},
		{"compile error", head + "fields:\n  user_id: UID\n  email: lower(trim(profile.emal ??\n",
			[]string{`mapping test.yaml: field "email" (line 5): compile "lower(trim(profile.emal ??": unexpected token EOF (1:26)`}},
		{"unknown function", head + "fields:\n  a: lowercase(UID)\n",
			[]string{`field "a" (line 4): compile "lowercase(UID)": unknown function lowercase (1:1)`}},
		{"filter not boolean", head + "fields:\n  a: UID\nfilters:\n  - name: f\n    when: '\"yes\"'\n",
			[]string{`filter "f" (line 6): compile "\"yes\"": expected bool, but got string`}},
		{"filter unknown key", head + "fields:\n  a: UID\nfilters:\n  - name: f\n    when: true\n    if: x\n",
			[]string{`filter "f" (line 8): unknown key "if"`}},
		{"filter missing name", head + "fields:\n  a: UID\nfilters:\n  - when: true\n", []string{`filter "#1" (line 6): name is missing`}},
		{"filter missing when", head + "fields:\n  a: UID\nfilters:\n  - name: f\n", []string{`filter "f" (line 6): when is missing`}},
		{"filter bad name", head + "fields:\n  a: UID\nfilters:\n  - name: Lite Account\n    when: true\n",
			[]string{`filter "#1" (line 6): name "Lite Account" must match`}},
		{"duplicate filter name", head + "fields:\n  a: UID\nfilters:\n  - name: f\n    when: true\n  - name: f\n    when: false\n",
			[]string{`filter "f" (line 8): duplicate filter name (first on line 6)`}},
		{"filters not a list", head + "fields:\n  a: UID\nfilters: {name: f}\n", []string{`filters (line 5): must be a list`}},
		{"required unknown path", head + "fields:\n  a.b: UID\nrequired: [a.c]\n",
			[]string{`required "a.c" (line 5): not produced by any field`}},
		{"required twice", head + "fields:\n  a: UID\nrequired: [a, a]\n", []string{`required "a" (line 5): listed twice`}},
		{"yaml syntax", head + "fields:\n  a: [\n", []string{`mapping test.yaml: yaml: line`}},
		{"empty document", "", []string{`mapping test.yaml: document is empty`}},
		{"not a mapping", "- a\n- b\n", []string{`line 1: the document must be a mapping`}},
		{"two documents", head + "fields:\n  a: UID\n---\nb: 1\n", []string{`exactly one YAML document`}},
		{"all problems at once", head + "fields:\n  a: lower(\n  b..c: x\nbogus: 1\nrequired: [z]\n",
			[]string{`field "a" (line 4): compile`, `field "b..c" (line 5)`, `line 6: unknown key "bogus"`, `required "z" (line 7)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("test.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse succeeded (target %q), want an error", m.Target())
			}
			if !errors.Is(err, ErrInvalidMapping) {
				t.Errorf("errors.Is(err, ErrInvalidMapping) = false for %v", err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Name != "test.yaml" {
				t.Errorf("errors.As(*ConfigError) failed or wrong name: %#v", ce)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q\n does not contain %q (in order)", msg, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// The compile error keeps expr's *file.Error reachable and its position, and
// the message stays on one line per problem.
func TestCompileErrorDetails(t *testing.T) {
	_, err := Parse("auth0.yaml", []byte("version: 1\ntarget: auth0\nfields:\n  user_id: UID\n  email: |\n    lower(\n      trim(profile.email ??\n"))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ConfigError", err)
	}
	if ce.Section != "field" || ce.Key != "email" || ce.Line != 5 || !strings.HasPrefix(ce.Expr, "lower(") {
		t.Errorf("ConfigError = %+v", ce)
	}
	var fe *file.Error
	if !errors.As(err, &fe) || fe.Line != 2 {
		t.Errorf("want the expr *file.Error at expression line 2, got %#v", fe)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans lines: %q", err.Error())
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load("testdata/does-not-exist.yaml"); err == nil || errors.Is(err, ErrInvalidMapping) {
		t.Errorf("Load(missing) = %v, want an I/O error that is not ErrInvalidMapping", err)
	}
	m, err := Load(auth0Config)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name() != "auth0.yaml" {
		t.Errorf("Name() = %q, want the base name", m.Name())
	}
}
