package validate_test

import (
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
)

// BenchmarkAuth0 validates the Gigya example user, as the transformer does
// for every record. The user is valid, so Validate does not modify it and
// one decoded copy serves every iteration.
func BenchmarkAuth0(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts validate.Options
	}{
		{"plain", validate.Options{}},
		{"repairs_enabled", validate.Options{SanitizeMetadataKeys: true, StripAuth0Prefix: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			u := decode(b, janeDoe)
			v := validate.NewAuth0(bc.opts)
			b.ReportAllocs()
			for b.Loop() {
				if res := v.Validate(u); !res.OK() {
					b.Fatal(res.Err())
				}
			}
		})
	}
}

// BenchmarkAuth0Invalid measures a user with three violations, which
// renders paths and messages.
func BenchmarkAuth0Invalid(b *testing.B) {
	u := decode(b, janeDoe)
	u["email"] = "jane"
	u["emails"] = "x"
	u["app_metadata"].(map[string]any)["created_at"] = 1
	v := validate.NewAuth0(validate.Options{})
	b.ReportAllocs()
	for b.Loop() {
		if res := v.Validate(u); len(res.Violations) != 3 {
			b.Fatal(res.Violations)
		}
	}
}

func BenchmarkLoginRadius(b *testing.B) {
	u := decode(b, lrUser)
	v := validate.NewLoginRadius(validate.Options{})
	b.ReportAllocs()
	for b.Loop() {
		if res := v.Validate(u); !res.OK() {
			b.Fatal(res.Err())
		}
	}
}
