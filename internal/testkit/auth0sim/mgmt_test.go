package auth0sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
)

// wantAPIError checks a Management API error: the status, a JSON body
// {statusCode, error, message, errorCode} that agrees with it, and the
// JSON content type.
func wantAPIError(t *testing.T, resp *http.Response, body []byte, status int, errorCode string) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not JSON: %s", body)
	}
	if m["statusCode"] != float64(status) || m["error"] != http.StatusText(status) || m["message"] == "" || m["message"] == nil {
		t.Fatalf("error body %s", body)
	}
	if got, _ := m["errorCode"].(string); got != errorCode {
		t.Fatalf("errorCode %q, want %q: %s", got, errorCode, body)
	}
	return m
}

// tokenScope asks for a token with the given scope parameter.
func (e *env) tokenScope(scope string) (int, map[string]any) {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"sim-client-id"}, "client_secret": {"sim-client-secret"},
		"audience": {e.base + "/api/v2/"}, "scope": {scope}}
	resp, err := http.PostForm(e.base+"/oauth/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, m
}

func decodeJSON[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func names(cs []map[string]any) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c["name"].(string))
	}
	return out
}

func TestConnectionsListing(t *testing.T) {
	e := start(t, auth0sim.Options{Connection: "db", ExtraConnections: []auth0sim.Connection{
		{Name: "google-oauth2", Strategy: "google-oauth2"},
		{Name: "db-2"},
		{Name: "corp", Strategy: "samlp"},
		{Name: "db-3", Strategy: "auth0", ID: "con_AAAAAAAAAAAAAAAA"},
	}})
	get := func(q string) []byte {
		t.Helper()
		resp, b := e.get("/api/v2/connections" + q)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", q, resp.StatusCode, b)
		}
		return b
	}
	all := []string{"db", "google-oauth2", "db-2", "corp", "db-3"}

	t.Run("bare array", func(t *testing.T) {
		cs := decodeJSON[[]map[string]any](t, get(""))
		if got := names(cs); !slices.Equal(got, all) {
			t.Fatalf("names %v", got)
		}
		c := cs[0]
		if c["id"] != e.sim.ConnectionID() || c["strategy"] != "auth0" || c["display_name"] != "db" || c["is_domain_connection"] != false {
			t.Fatalf("connection %v", c)
		}
		if cs[2]["strategy"] != "auth0" || !strings.HasPrefix(cs[2]["id"].(string), "con_") {
			t.Fatalf("defaults of an extra connection %v", cs[2])
		}
	})
	t.Run("offset pages", func(t *testing.T) {
		cs := decodeJSON[[]map[string]any](t, get("?page=1&per_page=2"))
		if got := names(cs); !slices.Equal(got, all[2:4]) {
			t.Fatalf("page 1 %v", got)
		}
		if cs := decodeJSON[[]map[string]any](t, get("?page=9&per_page=2")); len(cs) != 0 {
			t.Fatalf("page past the end %v", cs)
		}
	})
	t.Run("totals", func(t *testing.T) {
		type totals struct {
			Start, Limit, Total int
			Connections         []map[string]any
		}
		body := decodeJSON[totals](t, get("?include_totals=true&page=2&per_page=2"))
		if body.Start != 4 || body.Limit != 2 || body.Total != 5 || !slices.Equal(names(body.Connections), all[4:]) {
			t.Fatalf("totals %+v", body)
		}
		body = decodeJSON[totals](t, get("?include_totals=true&name=db-2"))
		if body.Start != 0 || body.Limit != 100 || body.Total != 1 || !slices.Equal(names(body.Connections), []string{"db-2"}) {
			t.Fatalf("totals by name %+v", body)
		}
	})
	t.Run("checkpoint", func(t *testing.T) {
		type cp struct {
			Connections []map[string]any
			Next        *string
		}
		var got []string
		q := "?include_totals=true&take=2" // what auth0 7.x sends first
		for range 10 {
			b := get(q)
			if strings.Contains(string(b), `"total"`) {
				t.Fatalf("checkpoint page with totals: %s", b)
			}
			page := decodeJSON[cp](t, b)
			got = append(got, names(page.Connections)...)
			if page.Next == nil {
				break
			}
			q = "?include_totals=true&take=2&from=" + url.QueryEscape(*page.Next)
		}
		if !slices.Equal(got, all) {
			t.Fatalf("checkpoint walk %v", got)
		}
		if page := decodeJSON[cp](t, get("?from=")); len(page.Connections) != 5 || page.Next != nil {
			t.Fatalf("from= alone, take 50: %+v", page)
		}
	})
	t.Run("filters", func(t *testing.T) {
		cs := decodeJSON[[]map[string]any](t, get("?strategy=auth0"))
		if got := names(cs); !slices.Equal(got, []string{"db", "db-2", "db-3"}) {
			t.Fatalf("strategy auth0 %v", got)
		}
		cs = decodeJSON[[]map[string]any](t, get("?strategy=samlp&strategy=google-oauth2"))
		if got := names(cs); !slices.Equal(got, []string{"google-oauth2", "corp"}) {
			t.Fatalf("two strategies %v", got)
		}
		cs = decodeJSON[[]map[string]any](t, get("?strategy=auth0&name=db-3"))
		if len(cs) != 1 || cs[0]["id"] != "con_AAAAAAAAAAAAAAAA" {
			t.Fatalf("name and strategy %v", cs)
		}
		if cs = decodeJSON[[]map[string]any](t, get("?name=DB")); len(cs) != 0 {
			t.Fatalf("names match exactly: %v", cs)
		}
	})
	t.Run("fields", func(t *testing.T) {
		cs := decodeJSON[[]map[string]any](t, get("?fields=id,name&name=db"))
		if len(cs) != 1 || len(cs[0]) != 2 || cs[0]["id"] == nil || cs[0]["name"] != "db" {
			t.Fatalf("fields %v", cs)
		}
		cs = decodeJSON[[]map[string]any](t, get("?fields=options,realms&include_fields=false&name=db"))
		if _, ok := cs[0]["options"]; ok || cs[0]["strategy"] != "auth0" {
			t.Fatalf("excluded fields %v", cs)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, q := range []string{"?include_totals=yes", "?per_page=101", "?page=-1", "?take=0", "?take=x", "?from=con_nope", "?include_fields=1"} {
			resp, b := e.get("/api/v2/connections" + q)
			wantAPIError(t, resp, b, 400, "invalid_query_string")
		}
	})
	t.Run("by id", func(t *testing.T) {
		resp, b := e.get("/api/v2/connections/con_AAAAAAAAAAAAAAAA")
		if c := decodeJSON[map[string]any](t, b); resp.StatusCode != 200 || c["name"] != "db-3" {
			t.Fatalf("by id: %d %s", resp.StatusCode, b)
		}
		resp, b = e.get("/api/v2/connections/con_BBBBBBBBBBBBBBBB")
		wantAPIError(t, resp, b, 404, "inexistent_connection")
	})
	t.Run("import into an extra connection", func(t *testing.T) {
		resp, m := e.createJob([]byte(`[{"email":"a@example.com"}]`), map[string]string{"connection_id": "con_AAAAAAAAAAAAAAAA"})
		if resp.StatusCode != 400 || m["errorCode"] != "invalid_body" {
			t.Fatalf("%d %v", resp.StatusCode, m)
		}
	})
}

// importUsers runs one job and waits for it.
func importUsers(t *testing.T, e *env, users []map[string]any) {
	t.Helper()
	if j := e.wait(e.mustJob(users, nil)); j["status"] != "completed" {
		t.Fatalf("job %v", j)
	}
}

func TestUserLookups(t *testing.T) {
	e := start(t, auth0sim.Options{JobDuration: 10 * time.Millisecond, Connection: "db"})
	importUsers(t, e, []map[string]any{
		{"email": "Jane.Doe@Example.com", "email_verified": true, "user_id": "g-1", "given_name": "Jane", "family_name": "Doe",
			"app_metadata": map[string]any{"gigya_uid": "g-1"}, "user_metadata": map[string]any{"locale": "de"},
			"custom_password_hash": pbkdf2Hash(t, "pw")},
		{"email": "bob@example.com", "user_id": "g-2", "name": "Bob", "mfa_factors": []map[string]any{{"email": map[string]any{"value": "bob@example.com"}}}},
		{"email": "carl@example.com", "user_id": "auth0|g-3"},
	})

	t.Run("by id", func(t *testing.T) {
		resp, b := e.get("/api/v2/users/" + url.PathEscape("auth0|g-1"))
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		u := decodeJSON[map[string]any](t, b)
		if u["user_id"] != "auth0|g-1" || u["email"] != "jane.doe@example.com" || u["email_verified"] != true || u["given_name"] != "Jane" ||
			u["created_at"] == nil || u["updated_at"] == nil {
			t.Fatalf("user %s", b)
		}
		if am := u["app_metadata"].(map[string]any); am["gigya_uid"] != "g-1" {
			t.Fatalf("app_metadata %v", am)
		}
		if um := u["user_metadata"].(map[string]any); um["locale"] != "de" {
			t.Fatalf("user_metadata %v", um)
		}
		ids := u["identities"].([]any)
		if len(ids) != 1 {
			t.Fatalf("identities %v", ids)
		}
		if id := ids[0].(map[string]any); id["connection"] != "db" || id["provider"] != "auth0" || id["user_id"] != "g-1" || id["isSocial"] != false {
			t.Fatalf("identity %v", id)
		}
		if _, ok := u["custom_password_hash"]; ok {
			t.Fatal("the hash is returned")
		}
		// The double prefix of "Known pitfalls", item 8, shows in the identity.
		_, b = e.get("/api/v2/users/" + url.PathEscape("auth0|auth0|g-3"))
		if id := decodeJSON[map[string]any](t, b)["identities"].([]any)[0].(map[string]any); id["user_id"] != "auth0|g-3" {
			t.Fatalf("identity of a double-prefixed id %v", id)
		}
		_, b = e.get("/api/v2/users/" + url.PathEscape("auth0|g-2"))
		if u := decodeJSON[map[string]any](t, b); u["mfa_factors"] != nil || u["app_metadata"] != nil {
			t.Fatalf("bob %s", b)
		}
		_, b = e.get("/api/v2/users/" + url.PathEscape("auth0|g-1") + "?fields=user_id,email")
		if u := decodeJSON[map[string]any](t, b); len(u) != 2 {
			t.Fatalf("fields %s", b)
		}
		resp, b = e.get("/api/v2/users/" + url.PathEscape("auth0|nobody"))
		if m := wantAPIError(t, resp, b, 404, "inexistent_user"); m["message"] != "The user does not exist." {
			t.Fatalf("404 %s", b)
		}
	})
	t.Run("by email", func(t *testing.T) {
		_, b := e.get("/api/v2/users-by-email?email=" + url.QueryEscape("jane.doe@example.com"))
		us := decodeJSON[[]map[string]any](t, b)
		if len(us) != 1 || us[0]["user_id"] != "auth0|g-1" {
			t.Fatalf("by email %s", b)
		}
		for _, q := range []string{"Jane.Doe@Example.com", "nobody@example.com"} {
			resp, b := e.get("/api/v2/users-by-email?email=" + url.QueryEscape(q))
			if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != "[]" {
				t.Fatalf("%s: %d %s", q, resp.StatusCode, b)
			}
		}
		resp, b := e.get("/api/v2/users-by-email")
		wantAPIError(t, resp, b, 400, "invalid_query_string")
	})
	t.Run("search", func(t *testing.T) {
		search := func(q string, extra ...string) []string {
			t.Helper()
			v := url.Values{"q": {q}, "search_engine": {"v3"}}
			for i := 0; i+1 < len(extra); i += 2 {
				v.Set(extra[i], extra[i+1])
			}
			resp, b := e.get("/api/v2/users?" + v.Encode())
			if resp.StatusCode != 200 {
				t.Fatalf("q=%s: %d %s", q, resp.StatusCode, b)
			}
			var ids []string
			for _, u := range decodeJSON[[]map[string]any](t, b) {
				ids = append(ids, u["user_id"].(string))
			}
			return ids
		}
		for q, want := range map[string][]string{
			`email:"JANE.DOE@example.com"`:                        {"auth0|g-1"},
			`email:bob@example.com`:                               {"auth0|g-2"},
			`user_id:"auth0|g-2"`:                                 {"auth0|g-2"},
			`user_id:"AUTH0|g-2"`:                                 nil,
			`identities.user_id:"g-1"`:                            {"auth0|g-1"},
			`identities.connection:"db"`:                          {"auth0|g-1", "auth0|g-2", "auth0|auth0|g-3"},
			`email:"bob@example.com" OR user_id:"auth0|g-1"`:      {"auth0|g-1", "auth0|g-2"},
			`email:"bob@example.com" AND user_id:"auth0|g-1"`:     nil,
			`given_name:jane AND email_verified:true`:             {"auth0|g-1"},
			`name:"nobody" OR name:Bob AND email:bob@example.com`: {"auth0|g-2"},
			``: {"auth0|g-1", "auth0|g-2", "auth0|auth0|g-3"},
		} {
			if got := search(q); !slices.Equal(got, want) {
				t.Errorf("q=%s: %v, want %v", q, got, want)
			}
		}
		if got := search("", "sort", "email:-1"); !slices.Equal(got, []string{"auth0|g-1", "auth0|auth0|g-3", "auth0|g-2"}) {
			t.Errorf("sort email:-1 %v", got)
		}
		if got := search("", "page", "1", "per_page", "2"); !slices.Equal(got, []string{"auth0|auth0|g-3"}) {
			t.Errorf("page 1 %v", got)
		}
		resp, b := e.get("/api/v2/users?include_totals=true&per_page=2&q=" + url.QueryEscape(`identities.connection:"db"`))
		tot := decodeJSON[struct {
			Start, Limit, Length, Total int
			Users                       []map[string]any
		}](t, b)
		if resp.StatusCode != 200 || tot.Start != 0 || tot.Limit != 2 || tot.Length != 2 || tot.Total != 3 || len(tot.Users) != 2 {
			t.Fatalf("totals %s", b)
		}
		for _, q := range []string{
			"?q=" + url.QueryEscape(`email:"unterminated`),
			"?q=" + url.QueryEscape(`email:jane*`),
			"?q=" + url.QueryEscape(`(email:a@b.c)`),
			"?q=" + url.QueryEscape(`jane`),
			"?q=" + url.QueryEscape(`email:a@b.c AND`),
			"?q=" + url.QueryEscape(`email:a@b.c NOT name:x`),
			"?q=" + url.QueryEscape(`app_metadata.gigya_uid:"g-1"`),
			"?search_engine=v2",
			"?per_page=101",
			"?page=10&per_page=100",
			"?sort=email",
			"?include_totals=1",
		} {
			resp, b := e.get("/api/v2/users" + q)
			wantAPIError(t, resp, b, 400, "invalid_query_string")
		}
	})
}

func TestErrorBodies(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	e := start(t, auth0sim.Options{Clock: clk.Now, TokenTTL: time.Hour, Scopes: []string{"read:users", "read:connections", "create:users", "read:logs"}})
	req := func(method, path, token string) (*http.Response, []byte) {
		r, _ := http.NewRequest(method, e.base+path, nil)
		if token != "" {
			r.Header.Set("Authorization", token)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	t.Run("401", func(t *testing.T) {
		for _, h := range []string{"", "Basic abc", "Bearer nope"} {
			resp, b := req("GET", "/api/v2/users/auth0%7Cx", h)
			wantAPIError(t, resp, b, 401, "invalid_token")
		}
	})
	t.Run("403 insufficient scope", func(t *testing.T) {
		code, body := e.tokenScope("read:connections")
		if code != 200 || body["scope"] != "read:connections" {
			t.Fatalf("narrow token: %d %v", code, body)
		}
		narrow := "Bearer " + body["access_token"].(string)
		if resp, _ := req("GET", "/api/v2/connections", narrow); resp.StatusCode != 200 {
			t.Fatalf("granted scope: %d", resp.StatusCode)
		}
		for _, path := range []string{"/api/v2/users/auth0%7Cx", "/api/v2/users", "/api/v2/users-by-email?email=a@b.c", "/api/v2/jobs/job_x", "/api/v2/jobs/job_x/errors"} {
			resp, b := req("GET", path, narrow)
			if m := wantAPIError(t, resp, b, 403, "insufficient_scope"); !strings.HasPrefix(m["message"].(string), "Insufficient scope, expected any of: ") {
				t.Fatalf("%s: %s", path, b)
			}
		}
		code, body = e.tokenScope("read:users delete:users")
		if code != 403 || body["error"] != "access_denied" || !strings.Contains(body["error_description"].(string), "delete:users") {
			t.Fatalf("scope not granted: %d %v", code, body)
		}
	})
	t.Run("404 unknown routes", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v2/nothing"}, {"GET", "/api/v2/"}, {"POST", "/api/v2/users-by-email"}, {"DELETE", "/api/v2/users/auth0%7Cx"}, {"GET", "/"},
		} {
			resp, b := req(c.method, c.path, "Bearer "+e.tok)
			wantAPIError(t, resp, b, 404, "")
		}
	})
	t.Run("429 on the new routes", func(t *testing.T) {
		e.sim.Inject(auth0sim.FaultRateLimit, 1)
		resp, b := req("GET", "/api/v2/users-by-email?email=a@b.c", "Bearer "+e.tok)
		wantAPIError(t, resp, b, 429, "too_many_requests")
		for _, h := range []string{"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("429 without %s", h)
			}
		}
	})
	t.Run("expired", func(t *testing.T) {
		clk.Add(time.Hour + time.Second)
		resp, b := req("GET", "/api/v2/users", "Bearer "+e.tok)
		if m := wantAPIError(t, resp, b, 401, "invalid_token"); !strings.Contains(m["message"].(string), "Expired") {
			t.Fatalf("expired: %s", b)
		}
	})
}
