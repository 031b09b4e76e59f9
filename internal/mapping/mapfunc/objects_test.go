package mapfunc

import (
	"reflect"
	"strings"
	"testing"
)

func TestOmitEmpty(t *testing.T) {
	runCases(t, []tc{
		{src: `omit_empty(data)`, want: map[string]any{"loyalty.id": "L-000123", "optIn": "yes", "score": 1.5}},
		{src: `omit_empty({"a": "", "b": {"c": nil}, "d": [1, " "], "e": false, "f": 0})`, want: map[string]any{"d": []any{1}, "e": false, "f": 0}},
		{src: `omit_empty({"a": [[], {}, [nil]], "b": {"c": {"d": ""}}})`, want: nil},
		{src: `omit_empty([nil, "x", "", [nil]])`, want: []any{"x"}},
		{src: `omit_empty({"keep": " x "})`, want: map[string]any{"keep": " x "}}, // not trimmed
		{src: `omit_empty(loginIDs)`, want: map[string]any{"emails": []any{"Jane.Doe@Example.com"}}},
		{src: `omit_empty("x")`, want: "x"},
		{src: `omit_empty(0)`, want: 0},
		{src: `omit_empty(" ")`, want: nil},
		{src: `omit_empty({})`, want: nil},
		{src: `omit_empty([])`, want: nil},
		{src: `omit_empty(nil)`, want: nil},
		{src: `omit_empty(split("a,,b", ","))`, want: []any{"a", "b"}}, // a []string from a builtin
	})
}

// omit_empty must not touch the account it reads: the engine may have put
// parts of it into the output of other fields.
func TestOmitEmptyDoesNotModify(t *testing.T) {
	env := decode(t, sampleAccount)
	before := decode(t, sampleAccount)
	if _, err := run(t, `[omit_empty(data), omit_empty(loginIDs), sanitize_keys(data), pick(profile, "email"), rename_keys(data, {"score": "s"})]`, env); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(env, before) {
		t.Fatal("the account was modified")
	}
}

func TestOmitEmptyGoTypes(t *testing.T) {
	var nilMap map[string]any
	var nilPtr *int
	in := map[string]any{
		"strs":   []string{"", "a"},
		"ints":   map[string]int{"x": 0},
		"arr":    [2]any{nil, "b"},
		"nilmap": nilMap,
		"nilptr": nilPtr,
		"intkey": map[int]string{},
		"struct": struct{}{},
	}
	got, err := omitEmpty(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"strs":   []any{"a"},
		"ints":   map[string]any{"x": 0},
		"arr":    []any{"b"},
		"struct": struct{}{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
}

func TestDepthLimit(t *testing.T) {
	var deep any = "x"
	for range maxDepth + 5 {
		deep = []any{deep}
	}
	if _, err := omitEmpty(deep); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("omit_empty: %v", err)
	}
	if _, err := sanitizeKeys(deep); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("sanitize_keys: %v", err)
	}
}

func TestPick(t *testing.T) {
	runCases(t, []tc{
		{src: `pick(profile, "firstName", "lastName")`, want: map[string]any{"firstName": "Jane", "lastName": "Doe"}},
		{src: `pick(data, "optIn", "nope", data.missing)`, want: map[string]any{"optIn": "yes"}},
		{src: `pick({"a": nil, "b": 1}, "a", "b")`, want: map[string]any{"b": 1}},
		{src: `pick(data, "nope")`, want: nil},
		{src: `pick(data)`, want: nil},
		{src: `pick(nil, "a")`, want: nil},
		{src: `pick(profile.nothing, "a")`, want: nil},
		{src: `pick("x", "a")`, wantErr: "pick: want an object, got a string"},
		{src: `pick(loginIDs.emails, "a")`, wantErr: "got an array"},
		{src: `pick(data, "optIn", data.score)`, wantErr: "pick: key 2 is a number, not a string"},
	})
	// An object that is not map[string]any.
	got, err := pick(map[string]string{"a": "1", "b": "2"}, "b")
	if err != nil || !reflect.DeepEqual(got, map[string]any{"b": "2"}) {
		t.Errorf("map[string]string: %v, %v", got, err)
	}
}

func TestRenameKeys(t *testing.T) {
	runCases(t, []tc{
		{src: `rename_keys(data, {"loyalty.id": "loyalty_id", "score": "points", "absent": "x"})`,
			want: map[string]any{"loyalty_id": "L-000123", "points": 1.5, "optIn": "yes", "newsletterSource": ""}},
		{src: `rename_keys({"a": 1, "b": 2}, {"a": "b", "b": "a"})`, want: map[string]any{"a": 2, "b": 1}}, // a swap is fine
		{src: `rename_keys({"a": 1}, {})`, want: map[string]any{"a": 1}},
		{src: `rename_keys({"a": 1}, data.missing)`, want: map[string]any{"a": 1}},
		{src: `rename_keys({}, {"a": "b"})`, want: map[string]any{}},
		{src: `rename_keys(nil, {"a": "b"})`, want: nil},
		{src: `rename_keys(data.missing, {"a": "b"})`, want: nil},
		{src: `rename_keys({"a": 1, "b": 2}, {"a": "b"})`, wantErr: `rename_keys: keys "a" and "b" would both become "b"`},
		{src: `rename_keys({"a": 1, "b": 2, "c": 3}, {"a": "x", "c": "x"})`, wantErr: `keys "a" and "c" would both become "x"`},
		{src: `rename_keys({"a": 1}, {"a": ""})`, wantErr: `the new name for "a" must be a non-empty string, got a string`},
		{src: `rename_keys({"a": 1}, {"z": 1})`, wantErr: `the new name for "z" must be a non-empty string, got a number`},
		{src: `rename_keys(nil, {"z": nil})`, wantErr: `the new name for "z" must be a non-empty string, got null`},
		{src: `rename_keys([], {"a": "b"})`, wantErr: "rename_keys: want an object, got an array"},
		{src: `rename_keys({}, data.score)`, wantErr: "rename_keys: renames: want an object, got a number"},
	})
}

func TestSanitizeKeys(t *testing.T) {
	runCases(t, []tc{
		{src: `sanitize_keys(data)`, want: map[string]any{"loyalty_id": "L-000123", "newsletterSource": "", "optIn": "yes", "score": 1.5}},
		{src: `sanitize_keys({"a.b": {"$c": 1, "d$.e": [{"f.g": nil}]}})`, want: map[string]any{"a_b": map[string]any{"_c": 1, "d__e": []any{map[string]any{"f_g": nil}}}}},
		{src: `sanitize_keys([{"a.b": 1}, "x.y"])`, want: []any{map[string]any{"a_b": 1}, "x.y"}}, // values untouched
		{src: `sanitize_keys("a.b")`, want: "a.b"},
		{src: `sanitize_keys({})`, want: map[string]any{}},
		{src: `sanitize_keys(nil)`, want: nil},
		{src: `sanitize_keys({"a.b": 1, "a_b": 2})`, wantErr: `sanitize_keys: keys "a.b" and "a_b" would both become "a_b"`},
		{src: `sanitize_keys({"x": {"a$": 1, "a.": 2}})`, wantErr: `keys "a$" and "a." would both become "a_"`},
	})
	got, err := sanitizeKeys(map[string]any{"l": []string{"a.b"}, "m": map[string]int{"$x": 1}})
	want := map[string]any{"l": []any{"a.b"}, "m": map[string]any{"_x": 1}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Go types: %#v, %v", got, err)
	}
	if _, err := sanitizeKeys(map[int]any{1: "a"}); err == nil {
		t.Error("int keys: want an error")
	}
}
