package auth0sim_test

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
	"golang.org/x/crypto/bcrypt"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t    *testing.T
	sim  *auth0sim.Sim
	base string
	tok  string
}

func start(t *testing.T, o auth0sim.Options) *env {
	t.Helper()
	s := auth0sim.New(o)
	base, stop, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	e := &env{t: t, sim: s, base: base}
	code, body := e.token("sim-client-id", "sim-client-secret")
	if code != 200 {
		t.Fatalf("token: %d %v", code, body)
	}
	e.tok = body["access_token"].(string)
	return e
}

func (e *env) token(id, secret string) (int, map[string]any) {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "audience": {e.base + "/api/v2/"}}
	resp, err := http.PostForm(e.base+"/oauth/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func (e *env) do(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	if e.tok != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+e.tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *env) get(path string) (*http.Response, []byte) {
	req, _ := http.NewRequest("GET", e.base+path, nil)
	return e.do(req)
}

func (e *env) createJob(file []byte, fields map[string]string) (*http.Response, map[string]any) {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("users", "users.json")
	_, _ = fw.Write(file)
	if _, ok := fields["connection_id"]; !ok {
		_ = mw.WriteField("connection_id", e.sim.ConnectionID())
	}
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.base+"/api/v2/jobs/users-imports", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, b := e.do(req)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

func (e *env) mustJob(users any, fields map[string]string) string {
	e.t.Helper()
	b, _ := json.Marshal(users)
	resp, m := e.createJob(b, fields)
	if resp.StatusCode != 202 {
		e.t.Fatalf("create job: %d %v", resp.StatusCode, m)
	}
	return m["id"].(string)
}

func (e *env) wait(id string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, b := e.get("/api/v2/jobs/" + id)
		if resp.StatusCode != 200 {
			e.t.Fatalf("get job: %d %s", resp.StatusCode, b)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if s := m["status"]; s == "completed" || s == "failed" {
			return m
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatal("job did not finish")
	return nil
}

func summaryOf(t *testing.T, m map[string]any) [4]int {
	t.Helper()
	s, ok := m["summary"].(map[string]any)
	if !ok {
		t.Fatalf("no summary in %v", m)
	}
	return [4]int{int(s["inserted"].(float64)), int(s["updated"].(float64)), int(s["failed"].(float64)), int(s["total"].(float64))}
}

func TestToken(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	e := start(t, auth0sim.Options{Clock: clk.Now, TokenTTL: time.Hour})
	code, body := e.token("sim-client-id", "wrong")
	if code != 401 || body["error"] != "access_denied" || body["error_description"] != "Unauthorized" {
		t.Fatalf("wrong secret: %d %v", code, body)
	}
	_, good := e.token("sim-client-id", "sim-client-secret")
	if good["token_type"] != "Bearer" || good["expires_in"] != float64(3600) || !strings.Contains(good["scope"].(string), "create:users") {
		t.Fatalf("token body %v", good)
	}
	// JSON body works too.
	req, _ := http.NewRequest("POST", e.base+"/oauth/token", strings.NewReader(`{"grant_type":"client_credentials","client_id":"sim-client-id","client_secret":"sim-client-secret","audience":"`+e.base+`/api/v2/"}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, b := e.do(req); resp.StatusCode != 200 {
		t.Fatalf("json token: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.get("/api/v2/connections"); resp.StatusCode != 200 {
		t.Fatalf("valid token: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", e.base+"/api/v2/connections", nil)
	req.Header.Set("Authorization", "Bearer nope")
	if resp, _ := e.do(req); resp.StatusCode != 401 {
		t.Fatalf("unknown token: %d", resp.StatusCode)
	}
	clk.Add(time.Hour + time.Second)
	if resp, _ := e.get("/api/v2/connections"); resp.StatusCode != 401 {
		t.Fatalf("expired token: %d", resp.StatusCode)
	}
}

func TestConnections(t *testing.T) {
	e := start(t, auth0sim.Options{Connection: "db"})
	_, b := e.get("/api/v2/connections?name=db")
	var cs []map[string]any
	if err := json.Unmarshal(b, &cs); err != nil || len(cs) != 1 || cs[0]["id"] != e.sim.ConnectionID() || cs[0]["name"] != "db" || cs[0]["strategy"] != "auth0" {
		t.Fatalf("connections %s", b)
	}
	if !strings.HasPrefix(e.sim.ConnectionID(), "con_") || len(e.sim.ConnectionID()) != 20 {
		t.Fatalf("id %q", e.sim.ConnectionID())
	}
	_, b = e.get("/api/v2/connections?name=other")
	if strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("missing connection: %s", b)
	}
}

func TestJobLifecycle(t *testing.T) {
	e := start(t, auth0sim.Options{JobDuration: 50 * time.Millisecond})
	b, _ := json.Marshal([]map[string]any{{"email": "a@example.com", "email_verified": true}, {"email": "b@example.com", "user_id": "42"}})
	resp, m := e.createJob(b, map[string]string{"external_id": "ext-1", "upsert": "false", "send_completion_email": "false"})
	if resp.StatusCode != 202 || m["status"] != "pending" || m["type"] != "users_import" || m["external_id"] != "ext-1" ||
		m["connection_id"] != e.sim.ConnectionID() || m["connection"] != "Username-Password-Authentication" || !strings.HasPrefix(m["id"].(string), "job_") {
		t.Fatalf("create: %d %v", resp.StatusCode, m)
	}
	if got := e.sim.ActiveJobs(); len(got) != 1 || got[0] != m["id"] {
		t.Fatalf("active jobs %v while %v runs", got, m["id"])
	}
	j := e.wait(m["id"].(string))
	if got := e.sim.ActiveJobs(); len(got) != 0 {
		t.Fatalf("active jobs %v after the job ended", got)
	}
	if j["status"] != "completed" || summaryOf(t, j) != [4]int{2, 0, 0, 2} || j["percentage_done"] != float64(100) {
		t.Fatalf("job %v", j)
	}
	u, ok := e.sim.User("B@example.com")
	if !ok || u["user_id"] != "auth0|42" {
		t.Fatalf("user %v", u)
	}
	if len(e.sim.Users()) != 2 {
		t.Fatal("users")
	}
	if resp, _ := e.get("/api/v2/jobs/" + m["id"].(string) + "/errors"); resp.StatusCode != 204 {
		t.Fatalf("errors: %d", resp.StatusCode)
	}
	if st := e.sim.Stats(); st.JobsCreated != 1 || st.JobsCompleted != 1 || st.UsersInserted != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBadRequests(t *testing.T) {
	e := start(t, auth0sim.Options{MaxFileSize: 1000})
	resp, m := e.createJob([]byte(`[]`), map[string]string{"connection_id": "Username-Password-Authentication"})
	if resp.StatusCode != 400 || m["errorCode"] != "invalid_body" || !strings.Contains(m["message"].(string), "^con_[A-Za-z0-9]{16}$") {
		t.Fatalf("conn name: %d %v", resp.StatusCode, m)
	}
	resp, _ = e.createJob([]byte(`[]`), map[string]string{"connection_id": "con_AAAAAAAAAAAAAAAA"})
	if resp.StatusCode != 404 {
		t.Fatalf("unknown conn: %d", resp.StatusCode)
	}
	resp, _ = e.createJob([]byte(`{"email":"a@b.c"}`), nil)
	if resp.StatusCode != 400 {
		t.Fatalf("not array: %d", resp.StatusCode)
	}
	big := []byte(`[{"email":"a@example.com","user_metadata":{"x":"` + strings.Repeat("x", 1000) + `"}}]`)
	resp, m = e.createJob(big, nil)
	if resp.StatusCode != 413 || m["statusCode"] != float64(413) {
		t.Fatalf("too large: %d %v", resp.StatusCode, m)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	e := start(t, auth0sim.Options{JobDuration: 300 * time.Millisecond})
	one := []map[string]any{{"email": "a@example.com"}}
	j1 := e.mustJob(one, nil)
	e.mustJob([]map[string]any{{"email": "b@example.com"}}, nil)
	b, _ := json.Marshal([]map[string]any{{"email": "c@example.com"}})
	resp, m := e.createJob(b, nil)
	if resp.StatusCode != 429 || m["message"] != "There are 2 active import users jobs, please wait until some of them are finished and try again" {
		t.Fatalf("third job: %d %v", resp.StatusCode, m)
	}
	e.wait(j1)
	resp, m = e.createJob(b, nil)
	if resp.StatusCode != 202 {
		t.Fatalf("after completion: %d %v", resp.StatusCode, m)
	}
}

func TestPerUserErrors(t *testing.T) {
	e := start(t, auth0sim.Options{JobDuration: 10 * time.Millisecond})
	e.wait(e.mustJob([]map[string]any{{"email": "old@example.com"}}, nil))
	users := []map[string]any{
		{"email": "not-an-email"},
		{"email": "new@example.com", "user_id": "1"},
		{"email": "NEW@example.com"},                   // duplicate email in file
		{"email": "other@example.com", "user_id": "1"}, // duplicate user_id in file
		{"email": "old@example.com"},                   // exists, upsert=false
		{"email": "ph@example.com", "custom_password_hash": map[string]any{"algorithm": "pbkdf2", "hash": map[string]any{"value": "$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE", "encoding": "utf8"}}, "foo": 1},
	}
	id := e.mustJob(users, nil)
	j := e.wait(id)
	if got := summaryOf(t, j); got != [4]int{1, 0, 5, 6} {
		t.Fatalf("summary %v", got)
	}
	resp, b := e.get("/api/v2/jobs/" + id + "/errors")
	if resp.StatusCode != 200 {
		t.Fatalf("errors: %d", resp.StatusCode)
	}
	var errs []struct {
		User   map[string]any `json:"user"`
		Errors []struct{ Code, Message, Path string }
	}
	if err := json.Unmarshal(b, &errs); err != nil || len(errs) != 5 {
		t.Fatalf("errors body %s", b)
	}
	want := map[string]string{"not-an-email": "FORMAT", "NEW@example.com": "DUPLICATED_USER", "other@example.com": "DUPLICATED_USER", "old@example.com": "DUPLICATED_USER", "ph@example.com": "NOT_PASSED"}
	for _, e := range errs {
		em := e.User["email"].(string)
		if len(e.Errors) == 0 || e.Errors[0].Code != want[em] {
			t.Errorf("%s: %+v", em, e.Errors)
		}
		if em == "old@example.com" && e.Errors[0].Message != "The user already exist and upsert parameter is false" {
			t.Errorf("message %q", e.Errors[0].Message)
		}
		if em == "ph@example.com" {
			h := e.User["custom_password_hash"].(map[string]any)["hash"].(map[string]any)
			if h["value"] != "*****" {
				t.Errorf("not redacted: %v", h)
			}
		}
	}
	if _, ok := e.sim.User("new@example.com"); !ok {
		t.Fatal("new user missing")
	}
	if _, ok := e.sim.User("ph@example.com"); ok {
		t.Fatal("invalid user stored")
	}
}

func pbkdf2Hash(t *testing.T, password string) map[string]any {
	salt := []byte("abcsomething")
	key, err := pbkdf2.Key(sha512.New, password, salt, 10000, 20)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawStdEncoding
	return map[string]any{"algorithm": "pbkdf2", "hash": map[string]any{
		"value": "$pbkdf2-sha512$i=10000,l=20$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key), "encoding": "utf8"}}
}

func TestUpsertAndLogin(t *testing.T) {
	e := start(t, auth0sim.Options{JobDuration: 10 * time.Millisecond})
	bh, err := bcrypt.GenerateFromPassword([]byte("s3cret"), 10)
	if err != nil {
		t.Fatal(err)
	}
	e.wait(e.mustJob([]map[string]any{
		{"email": "b@example.com", "password_hash": string(bh), "user_metadata": map[string]any{"a": 1, "b": 2}},
		{"email": "p@example.com", "custom_password_hash": pbkdf2Hash(t, "hunter2")},
		{"email": "n@example.com"},
	}, nil))

	other, _ := bcrypt.GenerateFromPassword([]byte("other"), 10)
	j := e.wait(e.mustJob([]map[string]any{
		{"email": "b@example.com", "password_hash": string(other), "user_metadata": map[string]any{"c": 3}, "given_name": "Bo"},
	}, map[string]string{"upsert": "true"}))
	if got := summaryOf(t, j); got != [4]int{0, 1, 0, 1} {
		t.Fatalf("upsert summary %v", got)
	}
	u, _ := e.sim.User("b@example.com")
	if um := u["user_metadata"].(map[string]any); len(um) != 1 || um["c"] == nil {
		t.Fatalf("metadata not overwritten: %v", um)
	}
	if u["given_name"] != "Bo" || u["password_hash"] != string(bh) {
		t.Fatalf("upsert result %v", u)
	}

	for _, c := range []struct {
		email, pw string
		want      bool
	}{
		{"b@example.com", "s3cret", true},
		{"b@example.com", "other", false},
		{"p@example.com", "wrong", false},
		{"p@example.com", "hunter2", true},
		{"p@example.com", "hunter2", true}, // now via the re-hashed bcrypt
		{"n@example.com", "", false},
		{"missing@example.com", "x", false},
	} {
		ok, err := e.sim.Login(c.email, c.pw)
		if err != nil || ok != c.want {
			t.Errorf("Login(%s, %s) = %v, %v; want %v", c.email, c.pw, ok, err, c.want)
		}
	}
	if u, _ := e.sim.User("p@example.com"); u["custom_password_hash"] != nil || u["password_hash"] == nil {
		t.Fatalf("not re-hashed after login: %v", u)
	}
}

func TestRateLimit(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	e := start(t, auth0sim.Options{Clock: clk.Now, Rate: 2, Burst: 2})
	for i := range 3 {
		resp, _ := e.get("/api/v2/connections")
		h := resp.Header
		if h.Get("x-ratelimit-limit") != "2" || h.Get("x-ratelimit-reset") == "" || h.Get("x-ratelimit-remaining") == "" {
			t.Fatalf("headers %v", h)
		}
		want := 200
		if i == 2 {
			want = 429
			if h.Get("x-ratelimit-remaining") != "0" || h.Get("x-ratelimit-reset") != "1700000001" {
				t.Fatalf("429 headers %v", h)
			}
		}
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	clk.Add(time.Second)
	if resp, _ := e.get("/api/v2/connections"); resp.StatusCode != 200 {
		t.Fatalf("after refill: %d", resp.StatusCode)
	}
}

func TestFaults(t *testing.T) {
	e := start(t, auth0sim.Options{JobDuration: 10 * time.Millisecond})
	e.sim.Inject(auth0sim.Fault503, 1)
	e.sim.Inject(auth0sim.FaultRateLimit, 1)
	resp, _ := e.get("/api/v2/connections")
	if resp.StatusCode != 429 || resp.Header.Get("x-ratelimit-remaining") != "0" {
		t.Fatalf("injected 429: %d", resp.StatusCode)
	}
	if resp, _ = e.get("/api/v2/connections"); resp.StatusCode != 503 {
		t.Fatalf("injected 503: %d", resp.StatusCode)
	}
	e.sim.Inject(auth0sim.Fault500, 1)
	if resp, _ = e.get("/api/v2/connections"); resp.StatusCode != 500 {
		t.Fatalf("injected 500: %d", resp.StatusCode)
	}
	if resp, _ = e.get("/api/v2/connections"); resp.StatusCode != 200 {
		t.Fatalf("after faults: %d", resp.StatusCode)
	}

	e.sim.Inject(auth0sim.FaultJobFailed, 1)
	id := e.mustJob([]map[string]any{{"email": "a@example.com"}}, nil)
	if j := e.wait(id); j["status"] != "failed" {
		t.Fatalf("job %v", j)
	}
	if resp, _ = e.get("/api/v2/jobs/" + id + "/errors"); resp.StatusCode != 204 {
		t.Fatalf("failed job errors: %d", resp.StatusCode)
	}
	if _, ok := e.sim.User("a@example.com"); ok {
		t.Fatal("user of failed job stored")
	}

	e.sim.Inject(auth0sim.FaultSlowJob, 1)
	start := time.Now()
	e.wait(e.mustJob([]map[string]any{{"email": "a@example.com"}}, nil))
	if time.Since(start) < 100*time.Millisecond {
		t.Fatal("slow job was fast")
	}
	if st := e.sim.Stats(); st.JobsFailed != 1 || st.Injected != 5 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFailedJobErrorsObject(t *testing.T) {
	e := start(t, auth0sim.Options{JobDuration: 10 * time.Millisecond, FailedJobErrorsObject: true})
	e.sim.Inject(auth0sim.FaultJobFailed, 1)
	id := e.mustJob([]map[string]any{{"email": "a@example.com"}}, nil)
	e.wait(id)
	resp, b := e.get("/api/v2/jobs/" + id + "/errors")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"message"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}
