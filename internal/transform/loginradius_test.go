package transform

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/lrverify"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
)

// lrMapper is configs/loginradius.yaml with its validator, as the
// transformer runs it.
func lrMapper(t *testing.T) *recordMapper {
	t.Helper()
	m, v := lrMapping(t)
	return &recordMapper{ev: m.NewEvaluator().WithValidator(v)}
}

// lrMapping is configs/loginradius.yaml and the validator it asks for.
func lrMapping(t *testing.T) (*mapping.Mapping, validate.Validator) {
	t.Helper()
	m, err := loadMapping(filepath.Join("..", "..", "configs", "loginradius.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := validatorFor(m)
	if err != nil || v == nil {
		t.Fatalf("the LoginRadius mapping must be validated: %v", err)
	}
	return m, v
}

// lrMap maps one account (JSON) and decodes the profile.
func lrMap(t *testing.T, rm *recordMapper, account string) (map[string]any, mappedRecord) {
	t.Helper()
	rec, err := rm.mapRecord([]byte(account))
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	if len(rec.Outputs) != 1 {
		t.Fatalf("outputs %d (skip %q)", len(rec.Outputs), rec.Skip)
	}
	var u map[string]any
	if err := json.Unmarshal(rec.Outputs[0], &u); err != nil {
		t.Fatal(err)
	}
	return u, rec
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// One test per problem of the LoginRadius mapping that the issue lists;
// each failed on the mapping before the fix.
func TestLoginRadiusMappingProblems(t *testing.T) {
	_, validator := lrMapping(t)
	rm := lrMapper(t)
	base := `"UID":"u1","loginIDs":{"emails":["jane@example.com"]},"profile":{"email":"jane@example.com"}`

	t.Run("isActive false, \"false\" and 0 block the user", func(t *testing.T) {
		for _, v := range []string{`false`, `"false"`, `0`, `"0"`} {
			u, _ := lrMap(t, rm, `{`+base+`,"isActive":`+v+`}`)
			if u["IsActive"] != false {
				t.Errorf("isActive %s: IsActive %v", v, u["IsActive"])
			}
		}
		for _, v := range []string{`true`, `"true"`, `1`, `null`} {
			u, _ := lrMap(t, rm, `{`+base+`,"isActive":`+v+`}`)
			if u["IsActive"] != true {
				t.Errorf("isActive %s: IsActive %v", v, u["IsActive"])
			}
		}
	})

	t.Run("one Primary email; an address in Email or UnverifiedEmail, never both", func(t *testing.T) {
		u, _ := lrMap(t, rm, `{"UID":"u1","loginIDs":{"emails":["a@example.com","B@example.com","c@example.com"],"unverifiedEmails":["c@example.com","d@example.com"]}}`)
		if got := mustJSON(t, u["Email"]); got != `[{"Type":"Primary","Value":"a@example.com"},{"Type":"Secondary","Value":"b@example.com"}]` {
			t.Errorf("Email %s", got)
		}
		if got := mustJSON(t, u["UnverifiedEmail"]); got != `[{"Type":"Secondary","Value":"c@example.com"},{"Type":"Secondary","Value":"d@example.com"}]` {
			t.Errorf("UnverifiedEmail %s", got)
		}
		// Only an unverified login email: it is the Primary, not repeated.
		u, _ = lrMap(t, rm, `{"UID":"u1","isVerified":false,"loginIDs":{"emails":[],"unverifiedEmails":["jane@example.com"]},"profile":{"email":"jane@example.com"}}`)
		if got := mustJSON(t, u["Email"]); got != `[{"Type":"Primary","Value":"jane@example.com"}]` || u["UnverifiedEmail"] != nil || u["EmailVerified"] != false {
			t.Errorf("Email %s UnverifiedEmail %v EmailVerified %v", got, u["UnverifiedEmail"], u["EmailVerified"])
		}
	})

	t.Run("a country name gives Country.Code and Country.Name", func(t *testing.T) {
		u, _ := lrMap(t, rm, `{`+base[:len(base)-1]+`,"country":"Germany"}}`)
		if got := mustJSON(t, u["Country"]); got != `{"Code":"DE","Name":"Germany"}` {
			t.Errorf("Country %s", got)
		}
		u, _ = lrMap(t, rm, `{`+base[:len(base)-1]+`,"country":"Deutschland"}}`)
		if got := mustJSON(t, u["Country"]); got != `{"Name":"Deutschland"}` {
			t.Errorf("an unknown name must be kept: Country %s", got)
		}
		u, _ = lrMap(t, rm, `{`+base+`,"identities":[{"provider":"site","providerUID":"u1","country":"fr"}]}`)
		if got := mustJSON(t, u["Country"]); got != `{"Code":"FR","Name":"France"}` {
			t.Errorf("Country %s", got)
		}
	})

	t.Run("CustomFields are strings; a non-scalar data.terms does not reject the user", func(t *testing.T) {
		u, _ := lrMap(t, rm, `{`+base+`,"data":{"terms":{"tos":{"accepted":true}},"register_referer_url":"https://r.example","register_site":"shop","loyaltyId":7,"optIn":false}}`)
		want := `{"loyaltyId":"7","optIn":"false","register_refer_url":"https://r.example","register_site":"shop","terms":"{\"tos\":{\"accepted\":true}}"}`
		if got := mustJSON(t, u["CustomFields"]); got != want {
			t.Errorf("CustomFields %s", got)
		}
	})

	t.Run("a phone-only user gets a PhoneId", func(t *testing.T) {
		u, _ := lrMap(t, rm, `{"UID":"u2","phoneNumber":"+49 151 12345678","profile":{"firstName":"P"}}`)
		if u["PhoneId"] != "+4915112345678" || u["Email"] != nil {
			t.Errorf("PhoneId %v Email %v", u["PhoneId"], u["Email"])
		}
		if _, err := rm.mapRecord([]byte(`{"UID":"u3","profile":{"firstName":"Nobody"}}`)); err == nil {
			t.Error("a user without any login must be rejected")
		}
	})

	t.Run("social identities are mapped", func(t *testing.T) {
		u, _ := lrMap(t, rm, `{"UID":"u4","profile":{"firstName":"S"},"identities":[
			{"provider":"site","providerUID":"u4"},
			{"provider":"Facebook","providerUID":1234567890,"email":"S@example.com","firstName":"S","photoURL":"https://p.example/s.jpg"},
			{"provider":"twitter","providerUID":"99"}]}`)
		want := `[{"Email":[{"Type":"Primary","Value":"s@example.com"}],"FirstName":"S","ID":"1234567890","ImageUrl":"https://p.example/s.jpg","Provider":"facebook"},{"ID":"99","Provider":"twitter"}]`
		if got := mustJSON(t, u["Identities"]); got != want {
			t.Errorf("Identities %s", got)
		}
	})

	t.Run("every hash LoginRadius documents is converted, as PasswordHash and PasswordEncryption", func(t *testing.T) {
		for alg, hash := range map[string]string{
			"sha512": "kphyg4y5z+ZXjhHwoyNDiu5a5/YdQUEtYttysl2sUgGd4tajVestAzM2+3DnPw7Ar+yj7zbdipDYP5mP7iO3jQ==", // sha512("p"), by openssl dgst
			"md5":    "g4eMkRcTOJAuD+D7l6jEeg==",                                                                 // md5("p"), by openssl dgst
		} {
			u, rec := lrMap(t, rm, `{`+base+`,"password":{"hash":"`+hash+`","hashSettings":{"algorithm":"`+alg+`"}}}`)
			enc, _ := json.Marshal(u["PasswordEncryption"])
			ph, _ := u["PasswordHash"].(string)
			if ok, err := lrverify.Verify(enc, ph, "p"); err != nil || !ok || len(rec.Notes) != 0 || u["Password"] != nil {
				t.Errorf("%s: %s %s: ok=%v err=%v notes %v", alg, ph, enc, ok, err, rec.Notes)
			}
		}
		u, rec := lrMap(t, rm, `{`+base+`,"data":{"terms":true},"password":{"hash":"aGFzaA==","hashSettings":{"algorithm":"custom","url":"https://h.example"}}}`)
		if u["PasswordHash"] != nil || u["PasswordEncryption"] != nil || len(rec.Notes) != 1 ||
			mustJSON(t, u["CustomFields"]) != `{"password_reset_required":"true","terms":"true"}` {
			t.Errorf("custom hash: %v notes %v", u, rec.Notes)
		}
	})

	t.Run("the validator checks UserName, CustomFields and the password shape", func(t *testing.T) {
		bad := map[string]string{
			"UserName":     `{"Uid":"u1","UserName":5,"Email":[{"Type":"Primary","Value":"a@example.com"}]}`,
			"CustomFields": `{"Uid":"u1","CustomFields":{"terms":true},"Email":[{"Type":"Primary","Value":"a@example.com"}]}`,
			"PasswordHash": `{"Uid":"u1","PasswordHash":"abc","Email":[{"Type":"Primary","Value":"a@example.com"}]}`,
		}
		for field, profile := range bad {
			var u map[string]any
			if err := json.Unmarshal([]byte(profile), &u); err != nil {
				t.Fatal(err)
			}
			err := validator.Validate(u).Err()
			if err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("%s: %v", field, err)
			}
		}
	})
}

// TestSampleUsersLogInAfterLoginRadiusMapping: generated accounts through
// configs/loginradius.yaml and its validator. Every user with a verifiable
// hash gets a PasswordHash that verifies with the original password under
// its PasswordEncryption (lrverify, LoginRadius' documented semantics); the
// remote "custom" hashes are flagged; md5_crypt goes through as Crypt_MD5
// (the sample's md5_crypt hashes are of unknown passwords); nobody is lost.
func TestSampleUsersLogInAfterLoginRadiusMapping(t *testing.T) {
	rm := lrMapper(t)
	g := sample.New(11, sample.Options{PBKDF2Rounds: 20, BcryptCost: 4})
	counts := map[string]int{}
	for range 3000 {
		a := g.Next()
		rec, err := rm.mapRecord(a.JSON)
		switch {
		case err != nil:
			k, code := fault.Classify(err)
			t.Fatalf("%s (%s) rejected: %v %s %v", a.UID, a.Kind, k, code, err)
		case rec.Skip != "":
			counts["skipped: "+rec.Skip]++
			continue
		}
		var user struct {
			Hash   string          `json:"PasswordHash"`
			Enc    json.RawMessage `json:"PasswordEncryption"`
			Custom map[string]any  `json:"CustomFields"`
		}
		if err := json.Unmarshal(rec.Outputs[0], &user); err != nil {
			t.Fatal(err)
		}
		switch {
		case a.Verifiable && a.Password != "":
			ok, err := lrverify.Verify(user.Enc, user.Hash, a.Password)
			if err != nil || !ok {
				t.Fatalf("%s (%s): the converted hash does not verify with the original password: %v\n%s %s", a.UID, a.Algorithm, err, user.Enc, user.Hash)
			}
			if bad, _ := lrverify.Verify(user.Enc, user.Hash, a.Password+"x"); bad {
				t.Fatalf("%s (%s): a wrong password verifies", a.UID, a.Algorithm)
			}
			counts["logs in: "+a.Algorithm]++
		case a.Algorithm == "md5_crypt":
			if user.Hash == "" || !strings.HasPrefix(user.Hash, "$1$") {
				t.Fatalf("%s: md5_crypt not carried over: %q", a.UID, user.Hash)
			}
			counts["Crypt_MD5, plaintext unknown: md5_crypt"]++
		case a.Algorithm != "":
			if user.Hash != "" || user.Enc != nil || user.Custom["password_reset_required"] != "true" || len(rec.Notes) != 1 {
				t.Fatalf("%s (%s): an unverifiable hash must be dropped and flagged, got %q %s %v", a.UID, a.Algorithm, user.Hash, user.Enc, user.Custom)
			}
			var unsupported interface{ Code() string }
			if !errors.As(rec.Notes[0].Err, &unsupported) || unsupported.Code() != "unsupported_password_hash" {
				t.Fatalf("%s: flag reason %v", a.UID, rec.Notes[0].Err)
			}
			counts["reset flagged: "+a.Algorithm]++
		default:
			if user.Hash != "" || user.Enc != nil {
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
