package mapping

import (
	"reflect"
	"strconv"
	"testing"
)

func TestPaths(t *testing.T) {
	tests := []struct {
		exprs []string
		want  []string // nil with all
		all   bool
	}{
		{[]string{`UID`}, []string{"UID"}, false},
		{[]string{`"constant"`, `1 + 2`}, []string{}, false},
		{[]string{`profile.email ?? loginIDs.emails[0]`, `UID`}, []string{"UID", "loginIDs", "profile"}, false},
		{[]string{`identities[i].provider`}, []string{"i", "identities"}, false},
		{[]string{`filter(identities, .provider == "site")[0].email`}, []string{"identities"}, false},
		{[]string{`map(identities, #.x + #index)`}, []string{"identities"}, false},
		// let variables are not account keys, but the value part reads the account
		{[]string{`let p = profile; p.email`}, []string{"profile"}, false},
		{[]string{`let profile = profile.email; profile`}, []string{"profile"}, false},
		{[]string{`let a = 1; let b = a + x; b`}, []string{"x"}, false},
		{[]string{`(let a = 1; a) + a`}, []string{"a"}, false},
		// builtin and function names are not keys
		{[]string{`lower(trim(profile.email))`}, []string{"profile"}, false},
		// $env with a constant key reads that key; anything else may read all
		{[]string{`$env.UID`, `$env["odd key"].x`, `get($env, "g")`}, []string{"UID", "g", "odd key"}, false},
		{[]string{`$env`}, nil, true},
		{[]string{`UID`, `let k = "UID"; $env[k]`}, nil, true},
		{[]string{`"UID" in $env`}, nil, true},
	}
	for _, tt := range tests {
		doc := "version: 1\ntarget: t\nfields:\n"
		for i, e := range tt.exprs {
			doc += "  f" + strconv.Itoa(i) + ": " + strconv.Quote(e) + "\n"
		}
		keys, all := mustParse(t, doc).Paths()
		if all != tt.all || !reflect.DeepEqual(keys, tt.want) {
			t.Errorf("%q: Paths() = %#v, %v; want %#v, %v", tt.exprs, keys, all, tt.want, tt.all)
		}
	}
}

func TestPathsIncludeFilters(t *testing.T) {
	m := mustParse(t, "version: 1\ntarget: t\nfields:\n  a: UID\nfilters:\n  - name: f\n    when: hasLiteAccount == true\n")
	keys, all := m.Paths()
	if all || !reflect.DeepEqual(keys, []string{"UID", "hasLiteAccount"}) {
		t.Errorf("Paths() = %v, %v", keys, all)
	}
	keys[0] = "changed"
	if k, _ := m.Paths(); k[0] != "UID" {
		t.Error("Paths() exposes internal state")
	}
}

// TestKeyTableFindsEveryKeyAndNothingElse, with keys whose signatures
// collide (same length and first eight bytes) and tables of every size.
func TestKeyTableFindsEveryKeyAndNothingElse(t *testing.T) {
	base := []string{"UID", "profile", "data", "lastLoginTimestamp", "lastLoginLocation", "lastUpdatedTimestamp",
		"lastUpdated", "identities", "a", "", "gigya_created", "gigya_createdX", "gigya_creates"}
	for n := 0; n <= len(base); n++ {
		keys := base[:n]
		tab := newKeyTable(keys)
		for i, k := range keys {
			if got, ok := tab.lookup([]byte(k)); !ok || got != i {
				t.Fatalf("%d keys: lookup(%q) = %d, %v; want %d", n, k, got, ok, i)
			}
		}
		for _, k := range []string{"uid", "profiles", "lastLoginTimestampX", "lastLogin", "gigya_creat", "gigya_createdY", "b"} {
			if got, ok := tab.lookup([]byte(k)); ok {
				t.Fatalf("%d keys: lookup(%q) = %d, found", n, k, got)
			}
		}
	}
	var none keyTable
	if _, ok := none.lookup([]byte("UID")); ok {
		t.Fatal("the empty table found a key")
	}
}
