package sdk

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
)

const (
	auth0Domain        = "sdk-tenant.auth0.test"
	auth0LimitedDomain = "sdk-limited.auth0.test"
	auth0Connection    = "Username-Password-Authentication"
)

// auth0Input is what auth0.js reads.
type auth0Input struct {
	Domain         string           `json:"domain"`
	Base           string           `json:"base"`
	LimitedDomain  string           `json:"limitedDomain"`
	LimitedBase    string           `json:"limitedBase"`
	ClientID       string           `json:"clientId"`
	ClientSecret   string           `json:"clientSecret"`
	Connection     string           `json:"connection"`
	Users          []map[string]any `json:"users"`
	LookupEmail    string           `json:"lookupEmail"`
	LookupUserID   string           `json:"lookupUserId"`
	JobDeadlineMS  int              `json:"jobDeadlineMs"`
	PollIntervalMS int              `json:"pollIntervalMs"`
}

// mgmtError is a Management API error body.
type mgmtError struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode"`
}

// TestAuth0SDK drives the Auth0 simulator with the auth0 package: a token,
// connection lookups (7.x list with checkpoint paging, the legacy getAll
// with page/per_page/include_totals), an import job created, polled to
// completion and its errors read, the users found by email, id and search,
// and the errors the SDK raises for 404, 400, 401, 403 and 429.
func TestAuth0SDK(t *testing.T) {
	t.Parallel()
	requirePackages(t)

	sim := auth0sim.New(auth0sim.Options{
		Connection: auth0Connection,
		ExtraConnections: []auth0sim.Connection{
			{Name: "google-oauth2", Strategy: "google-oauth2"}, {Name: "legacy-db"}, {Name: "corp", Strategy: "samlp"},
		},
		JobDuration: 200 * time.Millisecond,
	})
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	// One request per second: the rate-limit scenarios run against it.
	limited := auth0sim.New(auth0sim.Options{Connection: auth0Connection, Rate: 1, Burst: 1})
	limitedBase, stopLimited, err := limited.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopLimited)

	users := []map[string]any{
		{"email": "Ada.Lovelace@Example.com", "email_verified": true, "user_id": "gigya-uid-1", "given_name": "Ada", "family_name": "Lovelace",
			"app_metadata": map[string]any{"gigya_uid": "gigya-uid-1"}, "user_metadata": map[string]any{"locale": "en_GB"}},
		{"email": "grace@example.com", "user_id": "gigya-uid-2", "name": "Grace Hopper"},
		{"email": "alan@example.com", "user_id": "gigya-uid-3"},
		{"email": "not-an-email", "user_id": "gigya-uid-4"},
		{"email": "ADA.lovelace@example.com", "user_id": "gigya-uid-5"},
	}
	out := runScript(t, "auth0.js", auth0Input{
		Domain: auth0Domain, Base: base, LimitedDomain: auth0LimitedDomain, LimitedBase: limitedBase,
		ClientID: "sim-client-id", ClientSecret: "sim-client-secret", Connection: auth0Connection,
		Users: users, LookupEmail: "ada.lovelace@example.com", LookupUserID: "auth0|gigya-uid-1",
		JobDeadlineMS: 10_000, PollIntervalMS: 25,
	})

	type conn struct{ ID, Name, Strategy string }
	allNames := []string{auth0Connection, "google-oauth2", "legacy-db", "corp"}
	db := conn{ID: sim.ConnectionID(), Name: auth0Connection, Strategy: "auth0"}

	t.Run("token", func(t *testing.T) {
		tok := result[struct {
			HasToken  bool   `json:"hasToken"`
			TokenType string `json:"tokenType"`
			ExpiresIn int    `json:"expiresIn"`
			Scope     string `json:"scope"`
		}](t, out, "tokenLegacyAuthenticationClient")
		if !tok.HasToken || tok.TokenType != "Bearer" || tok.ExpiresIn != 86400 || !strings.Contains(tok.Scope, "read:users") {
			t.Fatalf("token %+v", tok)
		}
	})
	t.Run("connections", func(t *testing.T) {
		if got := result[[]conn](t, out, "connectionsListByName"); !slices.Equal(got, []conn{db}) {
			t.Errorf("list by name %+v", got)
		}
		if got := result[[]string](t, out, "connectionsListAllPages"); !slices.Equal(got, allNames) {
			t.Errorf("all pages %v", got)
		}
		if got := result[[]string](t, out, "connectionsListByStrategy"); !slices.Equal(got, []string{auth0Connection, "legacy-db"}) {
			t.Errorf("by strategy %v", got)
		}
		lg := result[struct {
			ByName []conn `json:"byName"`
			Totals struct {
				Start, Limit, Total int
				Names               []string
			} `json:"totals"`
		}](t, out, "connectionsGetAllLegacy")
		if !slices.Equal(lg.ByName, []conn{db}) {
			t.Errorf("legacy getAll by name %+v", lg.ByName)
		}
		if tt := lg.Totals; tt.Start != 2 || tt.Limit != 2 || tt.Total != 4 || !slices.Equal(tt.Names, allNames[2:]) {
			t.Errorf("legacy getAll with totals %+v", tt)
		}
	})
	t.Run("import job", func(t *testing.T) {
		type jobBody struct {
			ID           string `json:"id"`
			Type         string `json:"type"`
			Status       string `json:"status"`
			ConnectionID string `json:"connection_id"`
			ExternalID   string `json:"external_id"`
			Summary      *struct{ Inserted, Updated, Failed, Total int }
		}
		j := result[struct {
			Created jobBody `json:"created"`
			Final   jobBody `json:"final"`
			Polls   int     `json:"polls"`
			Errors  []struct {
				User   map[string]any `json:"user"`
				Errors []struct{ Code, Message string }
			} `json:"errors"`
		}](t, out, "importJob")
		c := j.Created
		if !strings.HasPrefix(c.ID, "job_") || c.Type != "users_import" || c.Status != "pending" || c.ConnectionID != sim.ConnectionID() || c.ExternalID != "sdk-conformance" {
			t.Errorf("created %+v", c)
		}
		if f := j.Final; f.Status != "completed" || f.Summary == nil || *f.Summary != (struct{ Inserted, Updated, Failed, Total int }{3, 0, 2, 5}) {
			t.Errorf("final %+v (after %d polls)", f, j.Polls)
		}
		codes := map[string]string{}
		for _, e := range j.Errors {
			if len(e.Errors) > 0 {
				codes[e.User["email"].(string)] = e.Errors[0].Code
			}
		}
		if len(j.Errors) != 2 || codes["not-an-email"] != "FORMAT" || codes["ADA.lovelace@example.com"] != "DUPLICATED_USER" {
			t.Errorf("job errors %+v", j.Errors)
		}
		if _, ok := sim.User("ada.lovelace@example.com"); !ok || len(sim.Users()) != 3 {
			t.Errorf("the tenant holds %d users", len(sim.Users()))
		}
	})
	t.Run("users", func(t *testing.T) {
		checkAda := func(t *testing.T, u map[string]any) {
			t.Helper()
			if u["user_id"] != "auth0|gigya-uid-1" || u["email"] != "ada.lovelace@example.com" || u["email_verified"] != true ||
				u["given_name"] != "Ada" || u["created_at"] == nil || u["updated_at"] == nil {
				t.Fatalf("user %v", u)
			}
			if am, _ := u["app_metadata"].(map[string]any); am["gigya_uid"] != "gigya-uid-1" {
				t.Fatalf("app_metadata %v", u["app_metadata"])
			}
			if um, _ := u["user_metadata"].(map[string]any); um["locale"] != "en_GB" {
				t.Fatalf("user_metadata %v", u["user_metadata"])
			}
			ids, _ := u["identities"].([]any)
			want := map[string]any{"connection": auth0Connection, "provider": "auth0", "user_id": "gigya-uid-1", "isSocial": false}
			if len(ids) != 1 || !mapsEqual(ids[0].(map[string]any), want) {
				t.Fatalf("identities %v", ids)
			}
		}
		t.Run("by email", func(t *testing.T) {
			us := result[[]map[string]any](t, out, "userByEmail")
			if len(us) != 1 {
				t.Fatalf("users %v", us)
			}
			checkAda(t, us[0])
			// Auth0 stores the address lower-cased and matches it exactly.
			if us := result[[]map[string]any](t, out, "userByEmailWithCapitals"); len(us) != 0 {
				t.Fatalf("capitals found %v", us)
			}
		})
		t.Run("by id", func(t *testing.T) { checkAda(t, result[map[string]any](t, out, "userById")) })
		t.Run("search", func(t *testing.T) {
			us := result[[]map[string]any](t, out, "userSearchByEmail")
			if len(us) != 1 {
				t.Fatalf("search by email (any case) %v", us)
			}
			checkAda(t, us[0])
			if ids := result[[]string](t, out, "userSearchByIdentity"); !slices.Equal(ids, []string{"auth0|gigya-uid-1"}) {
				t.Fatalf("search by identity %v", ids)
			}
			if ids := result[[]string](t, out, "userSearchAllPages"); !slices.Equal(ids, []string{"auth0|gigya-uid-1", "auth0|gigya-uid-2", "auth0|gigya-uid-3"}) {
				t.Fatalf("all pages %v", ids)
			}
		})
	})
	for name, want := range map[string]struct {
		status    int
		errorCode string
	}{
		"userNotFound":      {404, "inexistent_user"},
		"badQuery":          {400, "invalid_query_string"},
		"invalidToken":      {401, "invalid_token"},
		"insufficientScope": {403, "insufficient_scope"},
	} {
		t.Run(name, func(t *testing.T) {
			e := result[thrown](t, out, name)
			checkMgmtError(t, e, want.status, want.errorCode)
		})
	}
	t.Run("rate limit", func(t *testing.T) {
		if got := result[[]conn](t, out, "rateLimitedRetried"); len(got) != 1 || got[0].Name != auth0Connection {
			t.Fatalf("retried call %+v", got)
		}
		e := result[thrown](t, out, "rateLimitedNoRetry")
		checkMgmtError(t, e, 429, "too_many_requests")
		if e.Headers["x-ratelimit-limit"] != "1" || e.Headers["x-ratelimit-remaining"] != "0" || e.Headers["x-ratelimit-reset"] == "" {
			t.Fatalf("429 headers %v", e.Headers)
		}
		if n := limited.Stats().Rejected429; n < 2 {
			t.Fatalf("the limited tenant answered %d 429s, want the retried one and the final one", n)
		}
	})
}

// checkMgmtError checks an SDK error: its status, and the Management API's
// JSON body with the same status and the errorCode.
func checkMgmtError(t *testing.T, e thrown, status int, errorCode string) {
	t.Helper()
	var body mgmtError
	if err := json.Unmarshal(e.Body, &body); err != nil {
		t.Fatalf("error body %s is not the Management API's JSON: %v (%+v)", e.Body, err, e)
	}
	if e.StatusCode != status || body.StatusCode != status || body.ErrorCode != errorCode || body.Error == "" || body.Message == "" {
		t.Fatalf("error %d %+v, want %d %s", e.StatusCode, body, status, errorCode)
	}
	if ct := e.Headers["content-type"]; !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
