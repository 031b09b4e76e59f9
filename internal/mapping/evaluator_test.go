package mapping

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/segmentio/encoding/json"
)

func TestOutputShape(t *testing.T) {
	m := mustParse(t, `
version: 1
target: t
omit_empty: false
fields:
  id: UID
  missing: nope
  obj.present: UID
  obj.missing: nope.x
  obj.deep.er: 1
  gone.a: nope
  gone.b.c: nope.x
  empty_string: '""'
  no: "false"
  zero: "0"
  list: "[]"
  copy: data
`)
	out, skip, err := m.NewEvaluator().Apply(map[string]any{
		"UID":  "u1",
		"data": map[string]any{"k": "v"},
	})
	if err != nil || skip != "" {
		t.Fatalf("Apply: skip %q, err %v", skip, err)
	}
	want := map[string]any{
		"id":           "u1",
		"obj":          map[string]any{"present": "u1", "deep": map[string]any{"er": 1}},
		"empty_string": "", // kept: this mapping turns omit_empty off
		"no":           false,
		"zero":         0,
		"list":         []any{},
		"copy":         map[string]any{"k": "v"},
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("out = %#v\nwant  %#v", out, want)
	}
	// nil fields are omitted, and so are objects all of whose fields are nil
	for _, k := range []string{"missing", "gone"} {
		if _, ok := out[k]; ok {
			t.Errorf("key %q present, want omitted", k)
		}
	}
}

func TestApplyNilAccount(t *testing.T) {
	m := mustParse(t, "version: 1\ntarget: t\nfields:\n  a: UID\n  b: '\"x\"'\n")
	out, _, err := m.NewEvaluator().Apply(nil)
	if err != nil || !reflect.DeepEqual(out, map[string]any{"b": "x"}) {
		t.Errorf("Apply(nil) = %v, %v", out, err)
	}
}

func TestRequired(t *testing.T) {
	m := mustParse(t, `
version: 1
target: t
fields:
  email: v.email
  app_metadata.a: v.a
  app_metadata.b: v.b
  flag: v.flag
required: [email, app_metadata, flag]
`)
	e := m.NewEvaluator()
	full := map[string]any{"email": "x@y.z", "a": 1, "flag": false}
	tests := []struct {
		name    string
		v       map[string]any
		missing string // "" = no error
		expr    string
	}{
		{"all present (false and 0 count as values)", full, "", ""},
		{"nil email", map[string]any{"a": 1, "flag": true}, "email", "v.email"},
		{"empty email", map[string]any{"email": "", "a": 1, "flag": true}, "email", "v.email"},
		{"blank email", map[string]any{"email": " \t", "a": 1, "flag": true}, "email", "v.email"},
		{"empty array", map[string]any{"email": []any{}, "a": 1, "flag": true}, "email", "v.email"},
		{"empty object", map[string]any{"email": map[string]any{}, "a": 1, "flag": true}, "email", "v.email"},
		{"parent with no children", map[string]any{"email": "x@y.z", "flag": true}, "app_metadata", ""},
		{"parent with one child", map[string]any{"email": "x@y.z", "b": 0, "flag": 0}, "", ""},
		{"missing bool", map[string]any{"email": "x@y.z", "a": 1}, "flag", "v.flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := e.Apply(map[string]any{"v": tt.v})
			if tt.missing == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrRequired) {
				t.Fatalf("err = %v, want *FieldError wrapping ErrRequired", err)
			}
			if fe.Field != tt.missing || fe.Expr != tt.expr || fe.Filter || out != nil {
				t.Errorf("FieldError = %+v (out %v), want field %q expr %q", fe, out, tt.missing, tt.expr)
			}
			if !strings.Contains(err.Error(), `field "`+tt.missing+`"`) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	m := mustParse(t, `
version: 1
target: t
fields:
  # fails at runtime: proves fields are not evaluated for a skipped record
  a: lower(nope)
filters:
  - name: never
    when: kind == "never"
  - name: first
    when: kind == "both" || kind == "first"
  - name: second
    when: kind == "both" || kind == "second"
  - name: missing_is_false
    when: flags.test
`)
	e := m.NewEvaluator()
	for kind, want := range map[string]string{"both": "first", "first": "first", "second": "second"} {
		out, skip, err := e.Apply(map[string]any{"kind": kind})
		if skip != want || out != nil || err != nil {
			t.Errorf("kind %q: Apply = %v, %q, %v; want skip %q", kind, out, skip, err, want)
		}
	}
	// nil `when` is false: the record reaches the fields (and fails there).
	_, skip, err := e.Apply(map[string]any{"kind": "none"})
	var fe *FieldError
	if skip != "" || !errors.As(err, &fe) || fe.Field != "a" || fe.Filter {
		t.Errorf("unfiltered record: skip %q, err %v; want the field a error", skip, err)
	}
	_, skip, _ = e.Apply(map[string]any{"flags": map[string]any{"test": true}})
	if skip != "missing_is_false" {
		t.Errorf("skip = %q, want missing_is_false", skip)
	}

	// A filter that is not boolean at runtime fails the record, naming it.
	_, _, err = e.Apply(map[string]any{"flags": map[string]any{"test": "yes"}})
	if !errors.As(err, &fe) || !fe.Filter || fe.Field != "missing_is_false" || fe.Expr != "flags.test" {
		t.Fatalf("err = %v, want a filter *FieldError", err)
	}
	if !strings.HasPrefix(err.Error(), `filter "missing_is_false" ("flags.test"): `) {
		t.Errorf("message = %q", err)
	}
}

func TestRuntimeErrorNamesField(t *testing.T) {
	m := mustParse(t, "version: 1\ntarget: t\nfields:\n  ok: UID\n  app_metadata.bad: upper(profile.age)\n")
	out, skip, err := m.NewEvaluator().Apply(map[string]any{"UID": "u", "profile": map[string]any{"age": 3}})
	var fe *FieldError
	if !errors.As(err, &fe) || out != nil || skip != "" {
		t.Fatalf("Apply = %v, %q, %v; want *FieldError", out, skip, err)
	}
	if fe.Field != "app_metadata.bad" || fe.Expr != "upper(profile.age)" || fe.Filter || fe.Err == nil {
		t.Errorf("FieldError = %+v", fe)
	}
	want := `field "app_metadata.bad" ("upper(profile.age)"): interface conversion`
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message = %q, want prefix %q", err, want)
	}
}

func TestApplyJSONDecode(t *testing.T) {
	m := mustParse(t, "version: 1\ntarget: t\nfields:\n  id: UID\n  ts: createdTimestamp\n  big: n\n  f: x\n")
	e := m.NewEvaluator()
	for _, bad := range []string{``, `null`, `[]`, `"x"`, `{"UID":`, `{"UID":"a"} {"UID":"b"}`, `{"UID":"a"}x`} {
		out, skip, err := e.ApplyJSON([]byte(bad))
		if !errors.Is(err, ErrDecode) || out != nil || skip != "" {
			t.Errorf("ApplyJSON(%q) = %v, %q, %v; want ErrDecode", bad, out, skip, err)
		}
		var fe *FieldError
		if errors.As(err, &fe) {
			t.Errorf("ApplyJSON(%q): a decode error must not be a FieldError", bad)
		}
	}
	// Integers stay exact int64 (ids beyond 2^53, ms timestamps).
	out, _, err := e.ApplyJSON([]byte(` {"UID":"a","createdTimestamp":1552555613589,"n":9007199254740993,"x":1.5} `))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "a", "ts": int64(1552555613589), "big": int64(9007199254740993), "f": 1.5}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("out = %#v, want %#v", out, want)
	}
}

// One Mapping, many goroutines, one Evaluator each: run with -race.
func TestConcurrentEvaluators(t *testing.T) {
	m, err := Load(auth0Config)
	if err != nil {
		t.Fatal(err)
	}
	inputs := [][]byte{
		readFile(t, "testdata/gigya_account.json"),
		[]byte(socialOnlyAccount),
		[]byte(liteAccount),
		[]byte(`{"UID":"x1","profile":{"email":" X@Example.COM ","firstName":"Ann"},"isActive":false}`),
	}
	type result struct {
		json string
		skip string
		err  string
	}
	run := func(e *Evaluator, in []byte) result {
		out, skip, err := e.ApplyJSON(in)
		var r result
		r.skip = skip
		if err != nil {
			r.err = err.Error()
		}
		if out != nil {
			b, err := json.Marshal(out)
			if err != nil {
				t.Error(err)
			}
			r.json = string(b)
		}
		return r
	}
	want := make([]result, len(inputs))
	serial := m.NewEvaluator()
	for i, in := range inputs {
		want[i] = run(serial, in)
	}

	const goroutines, rounds = 8, 200
	var wg sync.WaitGroup
	errs := make(chan string, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := m.NewEvaluator()
			for r := range rounds {
				i := (g + r) % len(inputs)
				if got := run(e, inputs[i]); got != want[i] {
					errs <- "goroutine result differs from the serial one: " + got.json + got.err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestApplyJSONAcceptsTrailingWhitespace(t *testing.T) {
	m, err := Parse("t.yaml", []byte("version: 1\ntarget: t\nfields:\n  id: UID\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := m.NewEvaluator().ApplyJSON([]byte("{\"UID\":\"u\"}\r\n "))
	if err != nil || out["id"] != "u" {
		t.Fatalf("got %v, %v", out, err)
	}
	if _, _, err := m.NewEvaluator().ApplyJSON([]byte(`{"UID":"u"} {}`)); err == nil {
		t.Fatal("a second value after the object must be an error")
	}
}
