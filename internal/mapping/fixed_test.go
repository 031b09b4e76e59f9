package mapping

import (
	"reflect"
	"testing"
)

// TestFixedLiteralsWhereTheyApply checks which fields build fixedObjs: a
// map() with an object literal as a field's whole expression, and nothing
// else (the differential tests check what they write).
func TestFixedLiteralsWhereTheyApply(t *testing.T) {
	m, err := Load("../../configs/auth0.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fixed := map[string]bool{}
	for _, fp := range m.plan.fields {
		fixed[fp.f.Path] = fp.fixed
	}
	if !fixed["app_metadata.gigya_identities"] {
		t.Error("app_metadata.gigya_identities does not build fixed objects")
	}
	for path, f := range fixed {
		if f && path != "app_metadata.gigya_identities" {
			t.Errorf("%s builds fixed objects, but is no map() of an object literal", path)
		}
	}

	src := `
version: 1
target: t
validate: none
fields:
  a: 'map(identities ?? [], ({p: #.provider}))'
  b: 'len(map(identities ?? [], ({p: #.provider})))'
  c: 'map(identities ?? [], ({p: #.provider, p: #.providerUID}))'
  d: 'map(identities ?? [], #.provider)'
`
	m, err = Parse("t", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"a": true, "b": false, "c": false, "d": false}
	for _, fp := range m.plan.fields {
		if fp.fixed != want[fp.f.Path] {
			t.Errorf("field %s: fixed %v, want %v", fp.f.Path, fp.fixed, want[fp.f.Path])
		}
	}
}

// TestMaterializeBuildsTheLiteralsMaps checks what the validators see of a
// fixed field's value: the maps the literal builds.
func TestMaterializeBuildsTheLiteralsMaps(t *testing.T) {
	var b fixedBlocks
	keys := &fixedKeys{keys: []string{"z", "a"}}
	var vals []any
	for i := range 40 { // more than a block
		o := b.next(2)
		o.keys = keys
		o.vals[0], o.vals[1] = i, "x"
		vals = append(vals, o)
	}
	got := materialize(vals).([]any)
	for i, v := range got {
		if want := map[string]any{"z": i, "a": "x"}; !reflect.DeepEqual(v, want) {
			t.Fatalf("element %d = %#v, want %#v", i, v, want)
		}
	}
}
