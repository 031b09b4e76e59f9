package auth0

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

func okJob(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, jobJSON(strings.TrimPrefix(r.URL.Path, "/api/v2/jobs/"), "pending"))
}

func TestTokenFetchedOnceAndReused(t *testing.T) {
	env := newEnv(t, okJob)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		j, err := env.client.Job(ctx, "job_1")
		if err != nil {
			t.Fatal(err)
		}
		if j.ID != "job_1" || j.Status != "pending" {
			t.Fatalf("job %+v", j)
		}
	}
	if n := env.fake.tokenCalls.Load(); n != 1 {
		t.Fatalf("token fetched %d times, want 1", n)
	}
	env.fake.mu.Lock()
	form := env.fake.lastForm
	env.fake.mu.Unlock()
	want := map[string]string{"grant_type": "client_credentials", "client_id": testClientID,
		"client_secret": testSecret, "audience": env.srv.URL + "/api/v2/"}
	for k, v := range want {
		if form[k] != v {
			t.Errorf("token form %s = %q, want %q", k, form[k], v)
		}
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	env := newEnv(t, okJob)
	env.fake.expiresIn = 3600
	ctx := context.Background()
	if _, err := env.client.Job(ctx, "job_1"); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(58 * time.Minute)
	if _, err := env.client.Job(ctx, "job_1"); err != nil {
		t.Fatal(err)
	}
	if n := env.fake.tokenCalls.Load(); n != 1 {
		t.Fatalf("token fetched %d times before expiry-1m, want 1", n)
	}
	env.clock.Advance(90 * time.Second) // within the last minute
	if _, err := env.client.Job(ctx, "job_1"); err != nil {
		t.Fatal(err)
	}
	if n := env.fake.tokenCalls.Load(); n != 2 {
		t.Fatalf("token fetched %d times, want 2 (renewed a minute before expiry)", n)
	}
}

func TestTokenRefreshedAfter401(t *testing.T) {
	env := newEnv(t, okJob)
	env.fake.valid = func(tok string) bool { return tok != "tok1" } // first token revoked
	if _, err := env.client.Job(context.Background(), "job_1"); err != nil {
		t.Fatal(err)
	}
	if n := env.fake.tokenCalls.Load(); n != 2 {
		t.Fatalf("token fetched %d times, want 2", n)
	}
	if n := env.fake.apiCalls.Load(); n != 2 {
		t.Fatalf("api called %d times, want 2", n)
	}
}

func TestPersistent401IsPermanent(t *testing.T) {
	env := newEnv(t, okJob)
	env.fake.valid = func(string) bool { return false }
	_, err := env.client.Job(context.Background(), "job_1")
	wantFault(t, err, fault.KindPermanent, "unauthorized")
	if n := env.fake.tokenCalls.Load(); n != 2 {
		t.Fatalf("token fetched %d times, want 2 (one refresh only)", n)
	}
}

func TestWrongCredentials(t *testing.T) {
	env := newEnv(t, okJob)
	env.fake.tokenHandler = func(w http.ResponseWriter, r *http.Request) {
		// A hostile/buggy server echoing the secret must not leak it either.
		writeJSON(w, 401, map[string]any{"error": "access_denied", "error_description": "Unauthorized client_secret=" + r.PostForm.Get("client_secret")})
	}
	_, err := env.client.Job(context.Background(), "job_1")
	wantFault(t, err, fault.KindPermanent, "auth0_credentials")
	if !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("error %q lacks Auth0's message", err)
	}
	if n := env.fake.tokenCalls.Load(); n != 1 {
		t.Fatalf("token endpoint called %d times, want 1 (no retry)", n)
	}
	if n := env.fake.apiCalls.Load(); n != 0 {
		t.Fatalf("api called %d times without a token", n)
	}
}

func TestConfigRedaction(t *testing.T) {
	cfg := Config{Domain: "example.eu.auth0.com", ClientID: testClientID, ClientSecret: testSecret}
	for _, s := range []string{cfg.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprint(&cfg)} {
		if strings.Contains(s, testSecret) {
			t.Fatalf("secret in %q", s)
		}
		if !strings.Contains(s, testClientID) || !strings.Contains(s, redacted) {
			t.Fatalf("unexpected rendering %q", s)
		}
	}
	var sb syncbuf.Buffer
	lg := slog.New(slog.NewJSONHandler(&sb, nil))
	lg.Info("cfg", "config", cfg)
	if strings.Contains(sb.String(), testSecret) || !strings.Contains(sb.String(), "example.eu.auth0.com") {
		t.Fatalf("log %s", sb.String())
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Audience != "https://example.eu.auth0.com/api/v2/" || c.base != "https://example.eu.auth0.com" {
		t.Fatalf("defaults: %q %q", c.cfg.Audience, c.base)
	}
	c.tok = "tok-secret-token"
	for _, s := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, testSecret) || strings.Contains(s, "tok-secret-token") {
			t.Fatalf("client rendering leaks: %q", s)
		}
	}
}

func TestNewClientValidation(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no domain":    {ClientID: "a", ClientSecret: "b"},
		"http":         {BaseURL: "http://127.0.0.1:1", ClientID: "a", ClientSecret: "b"},
		"no secret":    {Domain: "x.auth0.com", ClientID: "a"},
		"scheme in dn": {Domain: "https://x.auth0.com", ClientID: "a", ClientSecret: "b"},
	} {
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
	if _, err := NewClient(Config{BaseURL: "http://127.0.0.1:1", AllowHTTP: true, ClientID: "a", ClientSecret: "b"}); err != nil {
		t.Errorf("AllowHTTP: %v", err)
	}
}

func TestConnectionID(t *testing.T) {
	var queried atomic.Value
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/connections" {
			http.NotFound(w, r)
			return
		}
		name := r.URL.Query().Get("name")
		queried.Store(name)
		if name == "Username-Password-Authentication" {
			writeJSON(w, 200, []map[string]any{{"id": testConnID, "name": name, "strategy": "auth0"}})
			return
		}
		writeJSON(w, 200, []any{})
	})
	ctx := context.Background()
	id, err := env.client.ConnectionID(ctx, testConnID)
	if err != nil || id != testConnID {
		t.Fatalf("by id: %q %v", id, err)
	}
	if n := env.fake.apiCalls.Load() + env.fake.tokenCalls.Load(); n != 0 {
		t.Fatalf("by id made %d requests", n)
	}
	id, err = env.client.ConnectionID(ctx, "Username-Password-Authentication")
	if err != nil || id != testConnID {
		t.Fatalf("by name: %q %v", id, err)
	}
	if q, _ := queried.Load().(string); q != "Username-Password-Authentication" {
		t.Fatalf("queried name %q", q)
	}
	_, err = env.client.ConnectionID(ctx, "legacy-db")
	wantFault(t, err, fault.KindPermanent, "connection_not_found")
	if !strings.Contains(err.Error(), `"legacy-db"`) || !strings.Contains(err.Error(), "read:connections") {
		t.Fatalf("error %q should name the connection and the scope", err)
	}
}

func TestConnectionIDForbidden(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 403, map[string]any{"statusCode": 403, "error": "Forbidden", "message": "Insufficient scope, expected any of: read:connections", "errorCode": "insufficient_scope"})
	})
	_, err := env.client.ConnectionID(context.Background(), "db")
	wantFault(t, err, fault.KindPermanent, "forbidden")
	if !strings.Contains(err.Error(), "read:connections") {
		t.Fatalf("error %q", err)
	}
}

func TestCreateImportMultipart(t *testing.T) {
	users := []byte(`[{"email":"a@example.com","email_verified":true}]`)
	type got struct {
		fields   map[string]string
		file     string
		filename string
		ctype    string
	}
	ch := make(chan got, 1)
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/jobs/users-imports" {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			t.Errorf("content type %q: %v", r.Header.Get("Content-Type"), err)
			return
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		g := got{fields: map[string]string{}}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("multipart: %v", err)
				return
			}
			b, _ := io.ReadAll(p)
			if p.FormName() == "users" {
				g.file, g.filename, g.ctype = string(b), p.FileName(), p.Header.Get("Content-Type")
			} else {
				g.fields[p.FormName()] = string(b)
			}
		}
		ch <- g
		writeJSON(w, 202, map[string]any{"type": "users_import", "status": "pending", "connection_id": testConnID,
			"connection": "Username-Password-Authentication", "created_at": "2023-01-25T17:48:16.543Z", "id": "job_6nNLiwFZksN0YmRR", "external_id": "batch-7"})
	})
	j, err := env.client.CreateImport(context.Background(), ImportRequest{ConnectionID: testConnID, Users: users, Upsert: true, ExternalID: "batch-7"})
	if err != nil {
		t.Fatal(err)
	}
	if j.ID != "job_6nNLiwFZksN0YmRR" || j.Status != "pending" || j.ConnectionID != testConnID || j.ExternalID != "batch-7" || j.CreatedAt == "" {
		t.Fatalf("job %+v", j)
	}
	g := <-ch
	if g.file != string(users) || g.filename != "users.json" || g.ctype != "application/json" {
		t.Fatalf("users part %q filename %q type %q", g.file, g.filename, g.ctype)
	}
	want := map[string]string{"connection_id": testConnID, "upsert": "true", "external_id": "batch-7", "send_completion_email": "false"}
	for k, v := range want {
		if g.fields[k] != v {
			t.Errorf("field %s = %q, want %q", k, g.fields[k], v)
		}
	}
}

func TestCreateImportValidation(t *testing.T) {
	env := newEnv(t, nil)
	_, err := env.client.CreateImport(context.Background(), ImportRequest{ConnectionID: "Username-Password-Authentication", Users: []byte("[]")})
	wantFault(t, err, fault.KindPermanent, "invalid_request")
	_, err = env.client.CreateImport(context.Background(), ImportRequest{ConnectionID: testConnID})
	wantFault(t, err, fault.KindPermanent, "invalid_request")
	if n := env.fake.apiCalls.Load(); n != 0 {
		t.Fatalf("%d calls", n)
	}
}

func TestCreateImportErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   map[string]any
		kind   fault.Kind
		code   string
		substr string
	}{
		{"413", 413, map[string]any{"statusCode": 413, "error": "Request Entity Too Large", "message": "Payload content length greater than maximum allowed: 512000"}, fault.KindPermanent, "file_too_large", "maximum allowed"},
		{"400", 400, map[string]any{"statusCode": 400, "error": "Bad Request", "message": "Payload validation error: 'String does not match pattern ^con_[A-Za-z0-9]{16}$' on property connection_id", "errorCode": "invalid_body"}, fault.KindPermanent, "invalid_body", "Payload validation error"},
		{"429 slots", 429, map[string]any{"statusCode": 429, "error": "Too Many Requests", "message": "There are 2 active import users jobs, please wait until some of them are finished and try again"}, fault.KindTransient, "job_slots_busy", "2 active import users jobs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, tc.status, tc.body) })
			_, err := env.client.CreateImport(context.Background(), ImportRequest{ConnectionID: testConnID, Users: []byte("[{}]")})
			wantFault(t, err, tc.kind, tc.code)
			if !strings.Contains(err.Error(), tc.substr) {
				t.Fatalf("error %q lacks %q", err, tc.substr)
			}
			if (tc.code == "job_slots_busy") != errors.Is(err, ErrJobSlots) {
				t.Fatalf("errors.Is(ErrJobSlots) wrong for %q", err)
			}
			if n := env.fake.apiCalls.Load(); n != 1 {
				t.Fatalf("%d calls, want 1 (no retry)", n)
			}
			if len(env.clock.Sleeps()) != 0 {
				t.Fatalf("slept %v", env.clock.Sleeps())
			}
		})
	}
}

// sequenceJobs serves the given statuses for GET /api/v2/jobs/job_1, one per call,
// repeating the last.
func sequenceJobs(statuses ...string) (http.HandlerFunc, *atomic.Int32) {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(statuses) {
			i = len(statuses) - 1
		}
		j := jobJSON("job_1", statuses[i])
		if statuses[i] == "completed" {
			j["summary"] = map[string]any{"failed": 1, "updated": 0, "inserted": 2, "total": 3}
		}
		if statuses[i] == "failed" {
			j["status_details"] = "Job timed out"
		}
		writeJSON(w, 200, j)
	}, &n
}

func TestWaitJob(t *testing.T) {
	cases := []struct {
		name     string
		statuses []string
		want     string
		errCode  string
	}{
		{"pending processing completed", []string{"pending", "processing", "completed"}, "completed", ""},
		{"unknown then completed", []string{"pending", "queued_for_magic", "completed"}, "completed", ""},
		{"failed", []string{"pending", "failed"}, "failed", "job_failed"},
		{"expired", []string{"processing", "expired"}, "expired", "job_expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, n := sequenceJobs(tc.statuses...)
			env := newEnv(t, h, func(c *Config) { c.PollInterval = time.Second; c.PollMaxInterval = 2 * time.Second })
			j, err := env.client.WaitJob(context.Background(), "job_1")
			if j.Status != tc.want {
				t.Fatalf("status %q want %q", j.Status, tc.want)
			}
			if tc.errCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				if j.Summary == nil || j.Summary.Inserted != 2 || j.Summary.Failed != 1 || j.Summary.Total != 3 {
					t.Fatalf("summary %+v", j.Summary)
				}
			} else {
				wantFault(t, err, fault.KindPermanent, tc.errCode)
				if !errors.Is(err, ErrJobFailed) {
					t.Fatalf("%v is not ErrJobFailed", err)
				}
			}
			if int(n.Load()) != len(tc.statuses) {
				t.Fatalf("polled %d times, want %d", n.Load(), len(tc.statuses))
			}
			sl := env.clock.Sleeps()
			if len(sl) != len(tc.statuses)-1 {
				t.Fatalf("sleeps %v", sl)
			}
			for _, d := range sl {
				if d < time.Second || d > 2*time.Second {
					t.Fatalf("poll interval %v outside [1s,2s]", d)
				}
			}
		})
	}
}

func TestWaitJobContext(t *testing.T) {
	h, _ := sequenceJobs("processing")
	env := newEnv(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	env.client.sleep = func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }
	j, err := env.client.WaitJob(ctx, "job_1")
	if !errors.Is(err, context.Canceled) || j.Status != "processing" {
		t.Fatalf("%+v %v", j, err)
	}
}

func TestJobErrors(t *testing.T) {
	t.Run("array", func(t *testing.T) {
		env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/v2/jobs/job_1/errors" {
				t.Errorf("path %s", r.URL.Path)
			}
			_, _ = io.WriteString(w, `[{"user":{"email":"chuck630@example.com","email_verified":true},"errors":[{"code":"DUPLICATED_USER","message":"The user already exist and upsert parameter is false"}]},
			{"user":{"email":"x"},"errors":[{"code":"FORMAT","message":"bad email","path":"email"}]}]`)
		})
		ue, err := env.client.JobErrors(context.Background(), "job_1")
		if err != nil {
			t.Fatal(err)
		}
		if len(ue) != 2 || ue[0].User["email"] != "chuck630@example.com" || ue[0].Errors[0].Code != "DUPLICATED_USER" || ue[1].Errors[0].Path != "email" {
			t.Fatalf("%+v", ue)
		}
	})
	t.Run("object", func(t *testing.T) {
		env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"status": "failed", "message": "Failed to parse users file JSON when importing users."})
		})
		ue, err := env.client.JobErrors(context.Background(), "job_1")
		wantFault(t, err, fault.KindPermanent, "job_failed")
		if ue != nil || !strings.Contains(err.Error(), "Failed to parse users file") || !errors.Is(err, ErrJobFailed) {
			t.Fatalf("%v %v", ue, err)
		}
	})
	t.Run("204", func(t *testing.T) {
		env := newEnv(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
		ue, err := env.client.JobErrors(context.Background(), "job_1")
		if err != nil || ue != nil {
			t.Fatalf("%v %v", ue, err)
		}
	})
}

func TestRateLimitRemainingZeroDelaysNextCall(t *testing.T) {
	var env *testEnv
	var calls atomic.Int32
	var secondAt atomic.Int64
	env = newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		now := env.clock.Now()
		w.Header().Set("X-Ratelimit-Limit", "2")
		if n == 1 {
			w.Header().Set("X-Ratelimit-Remaining", "0")
			w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(now.Add(10*time.Second).Unix(), 10))
		} else {
			secondAt.Store(now.Unix())
			w.Header().Set("X-Ratelimit-Remaining", "1")
			w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(now.Add(time.Second).Unix(), 10))
		}
		okJob(w, r)
	})
	start := env.clock.Now()
	ctx := context.Background()
	if _, err := env.client.Job(ctx, "job_1"); err != nil {
		t.Fatal(err)
	}
	if sl := env.clock.Sleeps(); len(sl) != 0 {
		t.Fatalf("slept before the first call: %v", sl)
	}
	if _, err := env.client.Job(ctx, "job_1"); err != nil {
		t.Fatal(err)
	}
	sl := env.clock.Sleeps()
	if len(sl) != 1 || sl[0] != 10*time.Second {
		t.Fatalf("sleeps %v, want [10s]", sl)
	}
	if got := secondAt.Load() - start.Unix(); got < 10 {
		t.Fatalf("second call %ds after the first, want >= 10s", got)
	}
	// Remaining > 0 again: no more waiting.
	if _, err := env.client.Job(ctx, "job_1"); err != nil {
		t.Fatal(err)
	}
	if sl := env.clock.Sleeps(); len(sl) != 1 {
		t.Fatalf("sleeps %v", sl)
	}
}

func TestRetries(t *testing.T) {
	cases := []struct {
		name      string
		first     func(w http.ResponseWriter, now time.Time)
		wantSleep time.Duration // 0: any backoff within [250ms, 500ms]
	}{
		{"429 retry-after", func(w http.ResponseWriter, now time.Time) {
			w.Header().Set("Retry-After", "3")
			writeJSON(w, 429, map[string]any{"statusCode": 429, "error": "Too Many Requests", "message": "Global limit has been reached"})
		}, 3 * time.Second},
		{"429 reset", func(w http.ResponseWriter, now time.Time) {
			w.Header().Set("X-Ratelimit-Remaining", "0")
			w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(now.Add(7*time.Second).Unix(), 10))
			writeJSON(w, 429, map[string]any{"statusCode": 429, "error": "Too Many Requests", "message": "Too Many Requests"})
		}, 7 * time.Second},
		{"429 bare", func(w http.ResponseWriter, now time.Time) { w.WriteHeader(429) }, 0},
		{"503", func(w http.ResponseWriter, now time.Time) { w.WriteHeader(503) }, 0},
		{"500 global limit", func(w http.ResponseWriter, now time.Time) {
			writeJSON(w, 500, map[string]any{"statusCode": 500, "error": "Internal Server Error", "message": "Global limit has been reached"})
		}, 0},
		{"409 rate limit", func(w http.ResponseWriter, now time.Time) {
			writeJSON(w, 409, map[string]any{"statusCode": 409, "error": "Conflict", "message": "rate limit exceeded"})
		}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var env *testEnv
			var calls atomic.Int32
			env = newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					tc.first(w, env.clock.Now())
					return
				}
				okJob(w, r)
			})
			j, err := env.client.Job(context.Background(), "job_1")
			if err != nil || j.ID != "job_1" {
				t.Fatalf("%+v %v", j, err)
			}
			if calls.Load() != 2 {
				t.Fatalf("calls %d", calls.Load())
			}
			sl := env.clock.Sleeps()
			if len(sl) != 1 {
				t.Fatalf("sleeps %v", sl)
			}
			if tc.wantSleep != 0 && sl[0] != tc.wantSleep {
				t.Fatalf("slept %v want %v", sl[0], tc.wantSleep)
			}
			if tc.wantSleep == 0 && (sl[0] < DefaultBackoffInitial/2 || sl[0] > DefaultBackoffInitial) {
				t.Fatalf("backoff %v", sl[0])
			}
		})
	}
}

func TestRetriesExhaustedIsTransient(t *testing.T) {
	var calls atomic.Int32
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(502) })
	_, err := env.client.Job(context.Background(), "job_1")
	wantFault(t, err, fault.KindTransient, "server_error")
	if calls.Load() != 4 { // 1 + MaxRetries(3)
		t.Fatalf("calls %d", calls.Load())
	}
	sl := env.clock.Sleeps()
	if len(sl) != 3 || sl[2] <= sl[0] {
		t.Fatalf("backoff not growing: %v", sl)
	}
}

func TestNetworkErrorRetriedThenTransient(t *testing.T) {
	env := newEnv(t, okJob)
	env.srv.Close() // connection refused from now on
	_, err := env.client.Job(context.Background(), "job_1")
	wantFault(t, err, fault.KindTransient, "unavailable")
	if len(env.clock.Sleeps()) != 3 {
		t.Fatalf("sleeps %v", env.clock.Sleeps())
	}
}

func TestNotFoundPermanent(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]any{"statusCode": 404, "error": "Not Found", "message": "The job does not exist"})
	})
	_, err := env.client.Job(context.Background(), "job_x")
	wantFault(t, err, fault.KindPermanent, "not_found")
}

func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	var env *testEnv
	var calls atomic.Int32
	env = newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if calls.Add(1) == 1 {
			// Transient error whose body echoes the token: logged on retry.
			writeJSON(w, 503, map[string]any{"message": "overloaded for " + tok})
			return
		}
		writeJSON(w, 400, map[string]any{"statusCode": 400, "message": "bad token " + tok + " / " + testSecret, "errorCode": "invalid_body"})
	})
	_, err := env.client.CreateImport(context.Background(), ImportRequest{ConnectionID: testConnID, Users: []byte("[{}]")})
	wantFault(t, err, fault.KindPermanent, "invalid_body")
	if strings.Contains(err.Error(), "tok1") {
		t.Fatalf("token in error %q", err)
	}
	if strings.Contains(env.logs.String(), "tok1") {
		t.Fatalf("token in logs %s", env.logs.String())
	}
	if !strings.Contains(env.logs.String(), "retrying") {
		t.Fatalf("expected a retry log record, got %s", env.logs.String())
	}
}
