package validate_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

func TestResultErr(t *testing.T) {
	if err := (validate.Result{Warnings: []validate.Violation{{Path: "x", Rule: "profile_size", Message: "m"}}}).Err(); err != nil {
		t.Fatalf("Err() without violations = %v, want nil", err)
	}

	u := decode(t, janeDoe)
	u["email"] = "jane"
	u["app_metadata"].(map[string]any)["created_at"] = "2019"
	res := validate.NewAuth0(validate.Options{}).Validate(u)
	err := res.Err()
	if err == nil {
		t.Fatal("Err() = nil for a result with violations")
	}

	kind, code := fault.Classify(fmt.Errorf("transform: %w", err))
	if kind != fault.KindPermanent || code != "schema_violation" {
		t.Errorf("Classify = %v, %q; want permanent, schema_violation", kind, code)
	}
	var ve *validate.ViolationError
	if !errors.As(err, &ve) {
		t.Fatalf("errors.As(*ViolationError) failed for %v", err)
	}
	if !slices.Equal(ve.Violations, res.Violations) {
		t.Errorf("ViolationError.Violations = %+v, want %+v", ve.Violations, res.Violations)
	}
	if !errors.Is(err, validate.ErrViolation) {
		t.Error("errors.Is(err, ErrViolation) = false")
	}
	want := "2 schema violations: app_metadata.created_at: reserved_app_metadata_key: "
	if msg := err.Error(); !strings.HasPrefix(msg, want) || !strings.Contains(msg, "; email: format_email: ") {
		t.Errorf("message = %q, want every violation as path: rule: message, sorted by path", msg)
	}

	// The error owns its copy.
	res.Violations[0].Path = "changed"
	if ve.Violations[0].Path == "changed" {
		t.Error("the error shares the result's slice")
	}
	one := validate.Result{Violations: []validate.Violation{{Path: "email", Rule: "required", Message: "is required"}}}
	if got := one.Err().Error(); got != "1 schema violation: email: required: is required" {
		t.Errorf("one violation: %q", got)
	}
}

func TestBuiltin(t *testing.T) {
	b := validate.Builtin()
	if len(b) != 2 || b["auth0"] == nil || b["loginradius"] == nil {
		t.Fatalf("Builtin() = %v", b)
	}
	b["x"] = nil
	if _, ok := validate.Builtin()["x"]; ok {
		t.Error("Builtin() returns a shared map")
	}
	// Each factory builds its target's validator with the options given.
	u := decode(t, janeDoe)
	u["user_id"] = "auth0|x"
	res := b["auth0"](validate.Options{StripAuth0Prefix: true}).Validate(u)
	if !res.OK() || len(res.Repaired) != 1 {
		t.Errorf("auth0 factory ignored the options: %+v", res)
	}
	if res := b["loginradius"](validate.Options{}).Validate(decode(t, lrUser)); !res.OK() {
		t.Errorf("loginradius factory: %+v", res)
	}
}

func TestParseRepairs(t *testing.T) {
	o, err := validate.ParseRepairs([]string{"sanitize_metadata_keys", "strip_auth0_prefix", "sanitize_metadata_keys"})
	if err != nil || o != (validate.Options{SanitizeMetadataKeys: true, StripAuth0Prefix: true}) {
		t.Errorf("ParseRepairs = %+v, %v", o, err)
	}
	if o, err := validate.ParseRepairs(nil); err != nil || o != (validate.Options{}) {
		t.Errorf("ParseRepairs(nil) = %+v, %v", o, err)
	}
	_, err = validate.ParseRepairs([]string{"sanitize_metadata_keys", "fix_everything"})
	if !errors.Is(err, validate.ErrUnknownRepair) || !strings.Contains(err.Error(), "strip_auth0_prefix") {
		t.Errorf("unknown repair: %v", err)
	}
	for _, n := range validate.RepairNames() {
		if _, err := validate.ParseRepairs([]string{n}); err != nil {
			t.Errorf("RepairNames lists %q, which ParseRepairs rejects", n)
		}
	}
}

// TestConcurrentUse runs one validator from many goroutines (go test -race).
func TestConcurrentUse(t *testing.T) {
	v := validate.NewAuth0(validate.Options{SanitizeMetadataKeys: true, StripAuth0Prefix: true})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				u := decode(t, janeDoe)
				u["user_metadata"].(map[string]any)["a.b"] = j
				if res := v.Validate(u); !res.OK() || len(res.Repaired) != 1 {
					t.Errorf("result = %+v", res)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestOrderIsStable checks that findings come out in the same order on
// every run, although maps are iterated in random order.
func TestOrderIsStable(t *testing.T) {
	mk := func() map[string]any {
		u := decode(t, janeDoe)
		for i := 0; i < 20; i++ {
			u[fmt.Sprintf("extra%02d", i)] = i
			u["user_metadata"].(map[string]any)[fmt.Sprintf("k.%02d", i)] = i
		}
		return u
	}
	first := validate.NewAuth0(validate.Options{}).Validate(mk()).Err().Error()
	for i := 0; i < 20; i++ {
		if got := validate.NewAuth0(validate.Options{}).Validate(mk()).Err().Error(); got != first {
			t.Fatalf("run %d:\n%s\nfirst:\n%s", i, got, first)
		}
	}
}

// TestMessagesDoNotLeakValues checks that messages never echo personal
// data, so dead-letter errors are safe to log.
func TestMessagesDoNotLeakValues(t *testing.T) {
	u := decode(t, janeDoe)
	u["email"] = "Secret Person <secret.person@private.example>"
	u["phone_number"] = "0049 30 SECRET"
	u["given_name"] = strings.Repeat("Secret", 40)
	u["custom_password_hash"] = jv(t, `{"algorithm":"md5","hash":{"value":"SECRETHASH","encoding":"hex"}}`)
	u["mfa_factors"] = jv(t, `[{"totp":{"secret":"secret"}}]`)
	res := validate.NewAuth0(validate.Options{}).Validate(u)
	if len(res.Violations) < 4 {
		t.Fatalf("violations = %q", keys(res.Violations))
	}
	for _, v := range append(res.Violations, res.Warnings...) {
		if strings.Contains(strings.ToLower(v.Message), "secret") {
			t.Errorf("%s: %s: message echoes the value: %s", v.Path, v.Rule, v.Message)
		}
	}
}

func TestNilUser(t *testing.T) {
	all := validate.Options{SanitizeMetadataKeys: true, StripAuth0Prefix: true}
	if got := keys(validate.NewAuth0(all).Validate(nil).Violations); !slices.Equal(got, []string{"email: required"}) {
		t.Errorf("auth0: %q", got)
	}
	if got := keys(validate.NewLoginRadius(all).Validate(nil).Violations); !slices.Equal(got, []string{": required"}) {
		t.Errorf("loginradius: %q", got)
	}
}

// TestValidateFieldsAsValidate: a user's members as a list, in any order,
// get the findings the map gets, and a repair replaces the value in the list.
func TestValidateFieldsAsValidate(t *testing.T) {
	v := validate.NewAuth0(validate.Options{StripAuth0Prefix: true, SanitizeMetadataKeys: true})
	u := decode(t, janeDoe)
	u["user_id"] = "auth0|123"
	u["app_metadata"] = map[string]any{"created_at": "x", "a.b": 1}
	u["nickname"] = ""
	var f validate.Fields
	for k, val := range u {
		f.Keys = append(f.Keys, k)
		f.Values = append(f.Values, val)
	}
	for _, order := range []string{"as built", "reversed"} {
		g := validate.Fields{Keys: slices.Clone(f.Keys), Values: slices.Clone(f.Values)}
		if order == "reversed" {
			slices.Reverse(g.Keys)
			slices.Reverse(g.Values)
		}
		m := maps.Clone(u)
		want, got := v.Validate(m), v.ValidateFields(&g)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: ValidateFields found\n%v\nValidate\n%v", order, got, want)
		}
		if len(got.Repaired) != 2 {
			t.Fatalf("%s: repaired %v, want the prefix and a metadata key", order, got.Repaired)
		}
		for i, k := range g.Keys {
			if fmt.Sprint(g.Values[i]) != fmt.Sprint(m[k]) {
				t.Errorf("%s: %s is %v in the list, %v in the map", order, k, g.Values[i], m[k])
			}
		}
	}
}

// TestValidateFieldsTakesKeySizes: given key sizes count instead of the
// keys' own (-1 measures the key), and the result is otherwise the same.
func TestValidateFieldsTakesKeySizes(t *testing.T) {
	v := validate.NewAuth0(validate.Options{})
	f := validate.Fields{Keys: []string{"email", "user_id"}, Values: []any{"a@b.example", "x"}}
	if res := v.ValidateFields(&f); len(res.Warnings)+len(res.Violations) != 0 {
		t.Fatalf("plain user: %v", res)
	}
	f.KeySizes = []int{-1, 7}
	if res := v.ValidateFields(&f); len(res.Warnings)+len(res.Violations) != 0 {
		t.Fatalf("true sizes: %v", res)
	}
	f.KeySizes = []int{-1, validate.Auth0ProfileSizeWarn}
	res := v.ValidateFields(&f)
	checkFindings(t, "warnings", res.Warnings, []string{": profile_size"})
}
