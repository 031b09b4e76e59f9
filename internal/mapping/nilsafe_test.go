package mapping

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"
)

// nilSafeAccount is decoded like a real record (ApplyJSON: int64 numbers).
const nilSafeAccount = `{
  "UID": "u1",
  "nul": null,
  "empty": [],
  "profile": {
    "email": "a@b.c",
    "phones": [{"type": "mobile", "number": "+4915112345678"}],
    "nested": {"deep": {"x": 1}}
  },
  "identities": [{"provider": "site"}, {"provider": "facebook", "email": "fb@b.c"}],
  "data": {"list": [10, 20, 30], "m": {"k": "v"}, "n": 0}
}`

// evalOne compiles expression src as the only field "v" and applies it to the
// account; the field's value (nil when omitted) or the error is returned.
func evalOne(t *testing.T, src, account string) (any, error) {
	t.Helper()
	m, err := Parse("nilsafe.yaml", []byte("version: 1\ntarget: t\nomit_empty: false\nfields:\n  v: "+strconv.Quote(src)+"\n"))
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	out, _, err := m.NewEvaluator().ApplyJSON([]byte(account))
	if err != nil {
		return nil, err
	}
	v, ok := out["v"]
	if ok && v == nil {
		t.Fatalf("%q: nil stored in the output instead of omitted", src)
	}
	return v, nil
}

func TestNilSafeAccess(t *testing.T) {
	tests := []struct {
		src  string
		want any
	}{
		// present values still come through
		{`UID`, "u1"},
		{`profile.email`, "a@b.c"},
		{`profile.nested.deep.x`, int64(1)},
		{`identities[0].provider`, "site"},
		{`identities[1].provider`, "facebook"},
		{`identities[-1].provider`, "facebook"},
		{`profile.phones[0].number`, "+4915112345678"},
		{`data.list[2]`, int64(30)},
		{`data["m"]["k"]`, "v"},
		{`identities[0]["provider"]`, "site"},
		{`let k = "k"; data.m[k]`, "v"},
		{`let i = 1; data.list[i]`, int64(20)},
		{`data.n`, int64(0)},
		// missing at every depth
		{`nope`, nil},
		{`nope.x`, nil},
		{`profile.address`, nil},
		{`profile.address.city`, nil},
		{`profile.nested.nope.x.y.z`, nil},
		{`nul.x`, nil},
		{`nul.x.y`, nil},
		{`data.m.nope`, nil},
		{`data["nope"]["k"]`, nil},
		{`data.m["nope"]`, nil},
		{`let k = "nope"; data.m[k]`, nil},
		// indexes: missing, empty, out of range (both ends)
		{`nope[0]`, nil},
		{`nope[0].provider`, nil},
		{`empty[0].provider`, nil},
		{`identities[2].provider`, nil},
		{`identities[99]`, nil},
		{`identities[-3].provider`, nil},
		{`profile.phones[1].number`, nil},
		{`data.list[3]`, nil},
		{`nope.list[0].a[1].b`, nil},
		// what authors write by hand keeps working
		{`identities?.[5]?.provider`, nil},
		{`profile?.nested.deep.x`, int64(1)},
		{`profile.email ?? "x"`, "a@b.c"},
		{`nope.x ?? "dflt"`, "dflt"},
		{`identities[3].email ?? identities[1].email`, "fb@b.c"},
		{`nope.x == nil`, true},
		{`profile.address.city != nil ? "has" : "none"`, "none"},
		// inside predicates and via $env
		{`filter(identities, .provider == "facebook")[0].provider`, "facebook"},
		{`map(identities, .email)`, []any{nil, "fb@b.c"}},
		{`map(identities, .nope.x)`, []any{nil, nil}},
		{`$env.nope.x`, nil},
		{`$env["profile"].email`, "a@b.c"},
		{`$env.profile.nested.deep.x`, int64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := evalOne(t, tt.src, nilSafeAccount)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("= %#v, want %#v", got, tt.want)
			}
		})
	}
}

// Nil-safety covers absence, not type mismatches or builtins given nil:
// those remain errors that name the field.
func TestNilSafeLimits(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{`profile.email.domain`, "invalid operation"}, // a field of a string
		{`identities[true]`, "invalid operation"},     // a bool index on an array
		{`data.m[0]`, "not assignable"},               // an int key on an object
		{`lower(nope)`, "nil"},                        // builtins keep their semantics
		{`len(nope.x)`, "invalid argument for len"},
		{`identities[nope]`, "int(<nil>)"}, // a missing index into an array
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := evalOne(t, tt.src, nilSafeAccount)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "v" || fe.Expr != tt.src {
				t.Fatalf("err = %v, want *FieldError for field v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

// The rewrite must not leave dangling chains: a chain inside an index
// expression, and nested user chains, evaluate like their plain forms.
func TestNilSafeNestedChains(t *testing.T) {
	account := `{"a": {"b": [{"c": 1}, {"c": 2}]}, "i": {"j": 1}}`
	for src, want := range map[string]any{
		`a.b[i.j].c`:          int64(2),
		`a?.b?.[i?.j]?.c`:     int64(2),
		`(a.b[0]).c`:          int64(1),
		`[a.x.y, a.b[0].c]`:   []any{nil, int64(1)},
		`{"k": a.b[5].c}.k`:   nil,
		`a.b[1].c ?? a.x.y.z`: int64(2),
	} {
		got, err := evalOne(t, src, account)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", src, got, want)
		}
	}
}

// A panic inside the VM (integer division by zero) comes back as an error.
func TestRuntimePanicIsFieldError(t *testing.T) {
	_, err := evalOne(t, `10 % data.n`, nilSafeAccount)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "v" {
		t.Fatalf("err = %v, want *FieldError", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("message spans lines: %q", err)
	}
	want := fmt.Sprintf(`field "v" (%q): `, `10 % data.n`)
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want prefix %q", err, want)
	}
}

// Sanity check of the test input itself.
func TestNilSafeAccountIsValidJSON(t *testing.T) {
	var v map[string]any
	if err := json.Unmarshal([]byte(nilSafeAccount), &v); err != nil {
		t.Fatal(err)
	}
}
