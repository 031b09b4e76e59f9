package transform

import (
	"errors"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/auth0verify"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
)

// TestSampleUsersLogInAfterAuth0Mapping is the promise of the migration:
// generated Gigya accounts (whose plaintext passwords the generator knows)
// go through configs/auth0.yaml and the Auth0 validator exactly as in the
// transformer; every user whose hash Auth0 can verify gets a hash that
// verifies with the original password (and not with a wrong one), every
// other user with a password is flagged for a reset, and no user is lost.
func TestSampleUsersLogInAfterAuth0Mapping(t *testing.T) {
	m, err := loadMapping("")
	if err != nil {
		t.Fatal(err)
	}
	validator, err := validatorFor(m)
	if err != nil || validator == nil {
		t.Fatalf("the Auth0 mapping must be validated: %v", err)
	}
	rm := &recordMapper{ev: m.NewEvaluator().WithValidator(validator)}
	g := sample.New(11, sample.Options{PBKDF2Rounds: 20, BcryptCost: 4})
	counts := map[string]int{}
	for range 3000 {
		a := g.Next()
		rec, err := rm.mapRecord(a.JSON)
		switch {
		case err != nil:
			// Only users Auth0 cannot take at all: no email.
			if _, code := fault.Classify(err); code != "required_missing" || a.Email != "" {
				t.Fatalf("%s (%s) rejected: %v", a.UID, a.Kind, err)
			}
			counts["rejected: no email"]++
			continue
		case rec.Skip != "":
			counts["skipped: "+rec.Skip]++
			continue
		}
		var user struct {
			Hash json.RawMessage `json:"custom_password_hash"`
			App  struct {
				Reset bool `json:"password_reset_required"`
			} `json:"app_metadata"`
		}
		if err := json.Unmarshal(rec.Outputs[0], &user); err != nil {
			t.Fatal(err)
		}
		switch {
		case a.Verifiable && a.Password != "":
			ok, err := auth0verify.Verify(user.Hash, a.Password)
			if err != nil || !ok {
				t.Fatalf("%s (%s): the converted hash does not verify with the original password: %v\n%s", a.UID, a.Algorithm, err, user.Hash)
			}
			if bad, _ := auth0verify.Verify(user.Hash, a.Password+"x"); bad {
				t.Fatalf("%s (%s): a wrong password verifies", a.UID, a.Algorithm)
			}
			counts["logs in: "+a.Algorithm]++
		case a.Algorithm != "":
			if user.Hash != nil || !user.App.Reset || len(rec.Notes) != 1 {
				t.Fatalf("%s (%s): an unverifiable hash must be dropped and flagged, got hash %s reset %v", a.UID, a.Algorithm, user.Hash, user.App.Reset)
			}
			var unsupported interface{ Code() string }
			if !errors.As(rec.Notes[0].Err, &unsupported) || unsupported.Code() != "unsupported_password_hash" {
				t.Fatalf("%s: flag reason %v", a.UID, rec.Notes[0].Err)
			}
			counts["reset flagged: "+a.Algorithm]++
		default:
			if user.Hash != nil {
				t.Fatalf("%s has no password but got a hash", a.UID)
			}
			counts["no password"]++
		}
	}
	for k, v := range counts {
		t.Logf("%5d %s", v, k)
	}
	for _, alg := range []string{"pbkdf2_sha512", "pbkdf2_sha256", "pbkdf2", "md5", "sha1", "sha256", "sha512", "bcrypt"} {
		if counts["logs in: "+alg] == 0 {
			t.Errorf("no %s user was proven to log in", alg)
		}
	}
}
