package passhash_test

import (
	"errors"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/auth0verify"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/lrverify"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// FuzzAuth0 feeds arbitrary Gigya fields to the converters. Neither may
// panic; each either refuses with a classified UnsupportedError or returns
// an object that auth0verify accepts as a valid custom_password_hash.
func FuzzAuth0(f *testing.F) {
	f.Add("89v2METlSkX2LKWSQGHCdE4iUkE=", "pbkdf2_sha512", 10000, "YWJjc29tZXRoaW5n==", "")
	f.Add("X03MO1qnZdYdgyfeuILPmQ==", "md5", 1, "", "")
	f.Add("X03MO1qnZdYdgyfeuILPmQ==", "md5", 1, "s4lt", "$salt$password")
	f.Add("X03MO1qnZdYdgyfeuILPmQ==", "md5", 0, "s4lt", "wikipedia$salt$password")
	f.Add("X03MO1qnZdYdgyfeuILPmQ==", "md5", 1, "", "$passwordXYZ")
	f.Add("X03MO1qnZdYdgyfeuILPmQ==", "md5", 1, "\xff", "$password$salt")
	f.Add("$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K", "bcrypt", 1024, "", "")
	f.Add("$2a$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K", "", 0, "pepper", "$password$salt")
	f.Add("$1$abcdefgh$0123456789012345678901", "md5_crypt", 0, "", "")
	f.Add("c2FsdA", "pbkdf2", 1, "-_-_", "")
	f.Add("", "sha256", -5, "=", "$salt")
	f.Fuzz(func(t *testing.T, hash, alg string, rounds int, salt, format string) {
		g := passhash.Gigya{Hash: hash, Algorithm: alg, Rounds: rounds, Salt: salt, Format: format}
		obj, err := passhash.Auth0(g)
		if err != nil {
			checkRefusal(t, err)
		} else {
			js, err := json.Marshal(obj)
			if err != nil {
				t.Fatalf("marshal %#v: %v", obj, err)
			}
			if _, err := auth0verify.Parse(js); err != nil {
				t.Fatalf("auth0verify rejects the converter's output: %v\ninput %+v\n%s", err, g, js)
			}
			// The validator trusts the converter's objects
			// (validate.Converted): they must pass its checks.
			res := validate.NewAuth0(validate.Options{}).Validate(map[string]any{"email": "a@b.example", "custom_password_hash": obj})
			if len(res.Violations)+len(res.Warnings) > 0 {
				t.Fatalf("the Auth0 validator reports the converter's output: %v %v\ninput %+v\n%s", res.Violations, res.Warnings, g, js)
			}
		}
		if lr, err := passhash.LoginRadius(g, passhash.DefaultLoginRadiusOptions()); err != nil {
			checkRefusal(t, err)
		} else {
			enc, err := json.Marshal(lr.Encryption)
			if err != nil {
				t.Fatalf("marshal %#v: %v", lr.Encryption, err)
			}
			// Any password: the output must be well-formed for LoginRadius'
			// rules, whatever it verifies (PBKDF2 is only parsed beyond a
			// few rounds, to keep the fuzzer fast).
			check := func() error { _, err := lrverify.Verify(enc, lr.Hash, "x"); return err }
			if n, _ := lr.Encryption["NumberOfIteration"].(int); n > 1000 {
				check = func() error { _, err := lrverify.Parse(enc); return err }
			}
			if err := check(); err != nil {
				t.Fatalf("lrverify rejects the converter's output: %v\ninput %+v\n%s %s", err, g, enc, lr.Hash)
			}
		}
	})
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var ue *passhash.UnsupportedError
	if !errors.Is(err, passhash.ErrUnsupported) || !errors.As(err, &ue) {
		t.Fatalf("error is not an UnsupportedError: %v", err)
	}
	if kind, code := fault.Classify(err); kind != fault.KindPermanent || code != passhash.CodeUnsupported {
		t.Fatalf("classified %v %q: %v", kind, code, err)
	}
}
