package sample_test

import (
	"fmt"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
)

// Tests of other packages use small work factors; the sequence of users and
// their passwords is the same as with the production-like defaults.
func ExampleGenerator_Next() {
	g := sample.New(1, sample.Options{PBKDF2Rounds: 100, BcryptCost: 4})
	for range 6 {
		a := g.Next()
		fmt.Printf("%s %q verifiable=%v\n", a.Kind, a.Algorithm, a.Verifiable)
	}
	// Output:
	// site "bcrypt" verifiable=true
	// social "" verifiable=false
	// site "pbkdf2_sha512" verifiable=true
	// site "sha512" verifiable=true
	// site "pbkdf2_sha512" verifiable=true
	// multi "pbkdf2_sha512" verifiable=true
}
