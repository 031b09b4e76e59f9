package validate_test

import (
	"fmt"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/segmentio/encoding/json"
)

// FuzzValidate feeds arbitrary JSON objects to every built-in validator,
// with and without repairs. Beyond not panicking it checks that
//   - without repairs the user is not modified;
//   - Err() is nil exactly when there are no violations;
//   - the metadata repair is idempotent: a repaired user needs no more
//     repairs and has no metadata_key_chars violations left.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		janeDoe,
		lrUser,
		`{}`,
		`{"email":null,"app_metadata":null,"mfa_factors":[null,{},{"totp":1}]}`,
		`{"user_metadata":{"a.b":{"c$d":[{"e.f":1}]},"a_b":2},"app_metadata":{"created.at":1}}`,
		`{"user_id":"auth0|auth0|x","custom_password_hash":{"algorithm":"scrypt","hash":{"value":"00","encoding":"hex"},"keylen":1e300}}`,
		`{"custom_password_hash":{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha1$$$$"}}}`,
		`{"custom_password_hash":{"algorithm":"argon2","hash":{"value":"$argon2id$v=$m=,t=,p=$$"}}}`,
		`{"custom_password_hash":{"algorithm":"ldap","hash":{"value":"{}"}}}`,
		`{"Email":[{"Type":null,"Value":["x"]}],"email":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	factories := validate.Builtin()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []validate.Options{{}, {SanitizeMetadataKeys: true, StripAuth0Prefix: true}} {
			for name, factory := range factories {
				var u map[string]any
				if _, err := json.Parse(data, &u, json.UseInt64); err != nil || u == nil {
					return
				}
				before := fmt.Sprint(u)
				res := factory(opts).Validate(u)
				if (res.Err() == nil) != res.OK() {
					t.Fatalf("%s: Err() = %v with %d violations", name, res.Err(), len(res.Violations))
				}
				if opts == (validate.Options{}) {
					if after := fmt.Sprint(u); after != before {
						t.Fatalf("%s: user modified without repairs:\n%s\n%s", name, before, after)
					}
					continue
				}
				if name != "auth0" {
					continue
				}
				again := factory(validate.Options{SanitizeMetadataKeys: true}).Validate(u)
				for _, r := range again.Repaired {
					t.Fatalf("second run repaired again: %+v (first: %+v)", r, res.Repaired)
				}
				for _, v := range again.Violations {
					if v.Rule == validate.RuleMetadataKeyChars {
						t.Fatalf("after the repair: %+v", v)
					}
				}
			}
		}
	})
}
