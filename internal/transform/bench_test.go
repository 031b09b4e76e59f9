package transform

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
	"github.com/segmentio/encoding/json"
)

// The reference for BenchmarkMapAuth0: configs/auth0.yaml written by hand in
// Go, the way a team would without a mapping engine — a typed struct decode
// of the fields it needs (segmentio/encoding), plain Go for each field, the
// same password converter, and a map marshalled to JSON.

type hwAccount struct {
	UID                  string `json:"UID"`
	Created              string `json:"created"`
	LastLogin            string `json:"lastLogin"`
	LastUpdated          string `json:"lastUpdated"`
	IsVerified           *bool  `json:"isVerified"`
	IsActive             *bool  `json:"isActive"`
	IsRegistered         *bool  `json:"isRegistered"`
	LoginProvider        string `json:"loginProvider"`
	PhoneNumber          string `json:"phoneNumber"`
	HasLiteAccount       bool   `json:"hasLiteAccount"`
	HasFullAccount       bool   `json:"hasFullAccount"`
	LoginIDs             struct{ Emails []string }
	Emails               struct{ Verified, Unverified []string }
	Profile              hwProfile       `json:"profile"`
	Identities           []hwIdentity    `json:"identities"`
	Subscriptions        map[string]any  `json:"subscriptions"`
	Preferences          map[string]any  `json:"preferences"`
	Data                 map[string]any  `json:"data"`
	Password             map[string]any  `json:"password"`
	CreatedTimestamp     json.RawMessage `json:"createdTimestamp"`
	LastLoginTimestamp   json.RawMessage `json:"lastLoginTimestamp"`
	LastUpdatedTimestamp json.RawMessage `json:"lastUpdatedTimestamp"`
}

type hwProfile struct {
	Email, FirstName, LastName, Nickname, PhotoURL, Country, City, Locale, Gender string
	BirthYear, BirthMonth, BirthDay                                               int
	Phones                                                                        []struct{ Type, Number string }
}

type hwIdentity struct {
	Provider, ProviderUID, PhotoURL, Country string
	IsLoginIdentity                          bool
}

var errHWSkip = fmt.Errorf("skipped")

func handWrittenAuth0(data []byte) ([]byte, error) {
	var a hwAccount
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, err
	}
	if a.HasLiteAccount && !a.HasFullAccount {
		return nil, errHWSkip
	}
	email := a.Profile.Email
	if email == "" && len(a.LoginIDs.Emails) > 0 {
		email = a.LoginIDs.Emails[0]
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil, fmt.Errorf("email required")
	}
	u := map[string]any{"user_id": a.UID, "email": email, "email_verified": a.IsVerified != nil && *a.IsVerified}
	set := func(m map[string]any, k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set(u, "given_name", a.Profile.FirstName)
	set(u, "family_name", a.Profile.LastName)
	set(u, "name", strings.TrimSpace(a.Profile.FirstName+" "+a.Profile.LastName))
	set(u, "nickname", a.Profile.Nickname)
	// Identities: the login identity first, then the others.
	ordered := make([]hwIdentity, 0, len(a.Identities))
	for pass := range 2 {
		for _, id := range a.Identities {
			if id.IsLoginIdentity == (pass == 0) {
				ordered = append(ordered, id)
			}
		}
	}
	picture, country := a.Profile.PhotoURL, a.Profile.Country
	for _, id := range ordered {
		if picture == "" {
			picture = id.PhotoURL
		}
		if country == "" {
			country = id.Country
		}
	}
	set(u, "picture", picture)
	u["blocked"] = a.IsActive != nil && !*a.IsActive
	phone := a.PhoneNumber
	for _, p := range a.Profile.Phones {
		if p.Type == "mobile" {
			phone = p.Number
			break
		}
	}
	if phone == "" && len(a.Profile.Phones) > 0 {
		phone = a.Profile.Phones[0].Number
	}
	if strings.HasPrefix(phone, "+") {
		u["phone_number"] = "+" + strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, phone)
	}
	app := map[string]any{"gigya_uid": a.UID}
	if g, ok, err := passhash.FromAccount(a.Password); err == nil && ok {
		if h, err := passhash.Auth0(g); err == nil {
			u["custom_password_hash"] = h
		} else {
			app["password_reset_required"] = true
		}
	}
	set(app, "gigya_created", hwTime(a.Created))
	set(app, "gigya_last_login", hwTime(a.LastLogin))
	set(app, "gigya_last_updated", hwTime(a.LastUpdated))
	app["gigya_registered"] = a.IsRegistered != nil && *a.IsRegistered
	set(app, "gigya_login_provider", a.LoginProvider)
	emails := map[string]any{}
	if len(a.Emails.Verified) > 0 {
		emails["verified"] = lowerAll(a.Emails.Verified)
	}
	if len(a.Emails.Unverified) > 0 {
		emails["unverified"] = lowerAll(a.Emails.Unverified)
	}
	if len(emails) > 0 {
		app["gigya_emails"] = emails
	}
	if len(a.Identities) > 0 {
		ids := make([]any, len(a.Identities))
		for i, id := range a.Identities {
			ids[i] = map[string]any{"provider": id.Provider, "provider_uid": id.ProviderUID, "login": id.IsLoginIdentity}
		}
		app["gigya_identities"] = ids
	}
	if v := hwClean(a.Subscriptions); v != nil {
		app["gigya_subscriptions"] = v
	}
	if v := hwClean(a.Preferences); v != nil {
		app["gigya_preferences"] = v
	}
	u["app_metadata"] = app
	meta := map[string]any{}
	set(meta, "locale", strings.ReplaceAll(a.Profile.Locale, "_", "-"))
	if len(country) == 2 {
		meta["country"] = strings.ToUpper(country)
	}
	set(meta, "city", a.Profile.City)
	switch a.Profile.Gender {
	case "m":
		meta["gender"] = "male"
	case "f":
		meta["gender"] = "female"
	}
	if a.Profile.BirthYear > 0 && a.Profile.BirthMonth > 0 && a.Profile.BirthDay > 0 {
		meta["birthdate"] = fmt.Sprintf("%04d-%02d-%02d", a.Profile.BirthYear, a.Profile.BirthMonth, a.Profile.BirthDay)
	}
	if v := hwClean(a.Data); v != nil {
		meta["gigya_data"] = v
	}
	if len(meta) > 0 {
		u["user_metadata"] = meta
	}
	return json.Marshal(u)
}

// hwClean drops empty strings, arrays and objects, as Auth0 wants no nulls
// or empty values.
func hwClean(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, c := range x {
			if c = hwClean(c); c != nil {
				out[k] = c
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, c := range x {
			if c = hwClean(c); c != nil {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case string:
		if x == "" {
			return nil
		}
	}
	return v
}

func hwTime(s string) string {
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func lowerAll(in []string) []any {
	out := make([]any, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}

func benchRecords(n int) [][]byte {
	g := sample.New(5, sample.Options{PBKDF2Rounds: 10, BcryptCost: 4})
	out := make([][]byte, n)
	for i := range out {
		out[i] = g.Next().JSON
	}
	return out
}

// TestHandWrittenReferenceMatches makes the benchmark honest: on the
// generated records the hand-written mapping produces exactly the users the
// expr mapping does.
func TestHandWrittenReferenceMatches(t *testing.T) {
	m, err := loadMapping("")
	if err != nil {
		t.Fatal(err)
	}
	rm := &recordMapper{ev: m.NewEvaluator()}
	compared := 0
	for _, rec := range benchRecords(500) {
		got, hwErr := handWrittenAuth0(rec)
		want, err := rm.mapRecord(rec)
		if (err != nil || want.Skip != "") != (hwErr != nil) {
			t.Fatalf("outcomes differ: expr %v/%q, hand-written %v\n%s", err, want.Skip, hwErr, rec)
		}
		if hwErr != nil {
			continue
		}
		var a, b any
		_ = json.Unmarshal(got, &a)
		_ = json.Unmarshal(want.Outputs[0], &b)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatalf("users differ for\n%s\nhand-written %s\nexpr         %s", rec, ja, jb)
		}
		compared++
	}
	t.Logf("%d users identical", compared)
}

// BenchmarkMapAuth0 compares, in one run, the expr mapping (configs/auth0.yaml:
// selective decode, evaluation, encoding; validation reported separately)
// with the hand-written reference, per generated record.
func BenchmarkMapAuth0(b *testing.B) {
	recs := benchRecords(1000)
	m, err := loadMapping("")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("expr", func(b *testing.B) {
		rm := &recordMapper{ev: m.NewEvaluator()}
		i := 0
		for b.Loop() {
			_, _ = rm.mapRecord(recs[i%len(recs)])
			i++
		}
	})
	b.Run("expr+validate", func(b *testing.B) {
		v, _ := validatorFor(m)
		rm := &recordMapper{ev: m.NewEvaluator().WithValidator(v)}
		i := 0
		for b.Loop() {
			_, _ = rm.mapRecord(recs[i%len(recs)])
			i++
		}
	})
	b.Run("handwritten", func(b *testing.B) {
		i := 0
		for b.Loop() {
			_, _ = handWrittenAuth0(recs[i%len(recs)])
			i++
		}
	})
}
