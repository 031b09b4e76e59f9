package auth0

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

const (
	testClientID = "client-abc"
	testSecret   = "s3cr3t-VALUE-never-print"
	testConnID   = "con_ABCDEFGHijklmnop"
)

// fakeClock is an injectable clock whose Sleep advances time instantly.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	if d > 0 {
		f.t = f.t.Add(d)
	}
	return nil
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// fakeAuth0 is a test server: /oauth/token issues tok1, tok2, ...; api handles
// everything else after checking the bearer token against valid.
type fakeAuth0 struct {
	t          *testing.T
	tokenCalls atomic.Int32
	apiCalls   atomic.Int32
	expiresIn  int
	// tokenHandler, when set, replaces the default token endpoint.
	tokenHandler http.HandlerFunc
	// valid reports whether a bearer token is accepted (default: any issued).
	valid func(tok string) bool
	api   http.HandlerFunc
	// lastForm is the last token request form.
	mu       sync.Mutex
	lastForm map[string]string
}

func (f *fakeAuth0) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/token" {
		n := f.tokenCalls.Add(1)
		if err := r.ParseForm(); err != nil {
			f.t.Errorf("token form: %v", err)
		}
		f.mu.Lock()
		f.lastForm = map[string]string{}
		for k := range r.PostForm {
			f.lastForm[k] = r.PostForm.Get(k)
		}
		f.mu.Unlock()
		if f.tokenHandler != nil {
			f.tokenHandler(w, r)
			return
		}
		exp := f.expiresIn
		if exp == 0 {
			exp = 86400
		}
		writeJSON(w, 200, map[string]any{"access_token": "tok" + itoa(int(n)), "token_type": "Bearer", "expires_in": exp})
		return
	}
	f.apiCalls.Add(1)
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	ok := strings.HasPrefix(tok, "tok")
	if f.valid != nil {
		ok = f.valid(tok)
	}
	if !ok {
		writeJSON(w, 401, map[string]any{"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"})
		return
	}
	if f.api == nil {
		http.NotFound(w, r)
		return
	}
	f.api(w, r)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type testEnv struct {
	fake   *fakeAuth0
	srv    *httptest.Server
	clock  *fakeClock
	logs   *syncbuf.Buffer
	client *Client
}

func newEnv(t *testing.T, api http.HandlerFunc, mod ...func(*Config)) *testEnv {
	t.Helper()
	fake := &fakeAuth0{t: t, api: api}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	logs := &syncbuf.Buffer{}
	cfg := Config{
		BaseURL:      srv.URL,
		AllowHTTP:    true,
		ClientID:     testClientID,
		ClientSecret: testSecret,
		MaxRetries:   3,
		Timeout:      5 * time.Second,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:          clock.Now,
		Sleep:        clock.Sleep,
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), testSecret) {
			t.Errorf("client secret leaked into logs:\n%s", logs.String())
		}
		if strings.Contains(logs.String(), "Bearer tok") {
			t.Errorf("token leaked into logs:\n%s", logs.String())
		}
	})
	return &testEnv{fake: fake, srv: srv, clock: clock, logs: logs, client: c}
}

func wantFault(t *testing.T, err error, kind fault.Kind, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error %q, got nil", kind, code)
	}
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a fault.Error", err)
	}
	if k, c := fault.Classify(err); k != kind || c != code {
		t.Fatalf("error %q classified %s/%q, want %s/%q", err, k, c, kind, code)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error contains the client secret: %q", err)
	}
}

func jobJSON(id, status string) map[string]any {
	return map[string]any{"id": id, "type": "users_import", "status": status, "connection_id": testConnID,
		"connection": "Username-Password-Authentication", "created_at": "2023-01-25T17:48:16.543Z"}
}
