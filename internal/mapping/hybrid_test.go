package mapping

import (
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
)

// hybridAuth0 is configs/auth0.yaml with its commented login_migration
// filter turned on, as docs/login-migration.md tells users to do.
func hybridAuth0(t testing.TB) []byte {
	t.Helper()
	const commented = "  # - name: login_migration\n  #   when: "
	src := string(readFile(t, auth0Config))
	if !strings.Contains(src, commented) {
		t.Fatalf("%s has no commented login_migration filter", auth0Config)
	}
	return []byte(strings.Replace(src, commented, "  - name: login_migration\n    when: ", 1))
}

// TestHybridFilterLeavesUnverifiableHashesToLogin: with the filter on, the
// users Auth0 cannot verify (imported for a reset without it) are filtered
// by name instead, and no other user is.
func TestHybridFilterLeavesUnverifiableHashesToLogin(t *testing.T) {
	plain, err := Parse("auth0.yaml", readFile(t, auth0Config))
	if err != nil {
		t.Fatal(err)
	}
	hybrid, err := Parse("auth0-hybrid.yaml", hybridAuth0(t))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Version() == hybrid.Version() {
		t.Fatal("turning the filter on does not change the mapping version")
	}
	pe, he := plain.NewEvaluator(), hybrid.NewEvaluator()
	g := sample.New(7, sample.Options{PBKDF2Rounds: 2, BcryptCost: 4})
	filtered := 0
	for range 3000 {
		a := g.Next()
		pr, perr := pe.MapJSON(a.JSON)
		hr, herr := he.MapJSON(a.JSON)
		if (perr == nil) != (herr == nil) {
			t.Fatalf("%s: %v with the filter, %v without", a.UID, herr, perr)
		}
		flagged := false
		for _, n := range pr.Notes {
			flagged = flagged || n.Field == "custom_password_hash"
		}
		unverifiable := a.Algorithm == "md5_crypt" || a.Algorithm == "custom"
		switch {
		case pr.Skip != "":
			if hr.Skip != pr.Skip {
				t.Fatalf("%s: skipped as %q with the filter, %q without", a.UID, hr.Skip, pr.Skip)
			}
		case unverifiable:
			if hr.Skip != "login_migration" || !flagged {
				t.Fatalf("%s (%s): skip %q with the filter; flagged %t without", a.UID, a.Algorithm, hr.Skip, flagged)
			}
			filtered++
		default:
			if hr.Skip != "" || flagged {
				t.Fatalf("%s (%s): skip %q with the filter; flagged %t without", a.UID, a.Algorithm, hr.Skip, flagged)
			}
		}
	}
	if filtered == 0 {
		t.Fatal("the sample had no md5_crypt or custom hash")
	}
	t.Logf("%d of 3000 accounts left to login-time migration", filtered)
}
