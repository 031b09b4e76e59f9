package loginradius

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// sleeps records the waits instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func simClient(t *testing.T, sim *lrsim.Sim, tweak func(*Config)) (*Client, *sleeps) {
	t.Helper()
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	sl := &sleeps{}
	cfg := Config{APIKey: sim.APIKey(), APISecret: sim.APISecret(), MigrationURL: base, APIURL: base, AllowHTTP: true, Sleep: sl.sleep}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

func TestBulkUpsertAgainstTheSimulator(t *testing.T) {
	sim := lrsim.New(lrsim.Options{BcryptCost: 4})
	c, sl := simClient(t, sim, nil)
	body := `{"Profiles":[{"Uid":"u1","Email":[{"Type":"Primary","Value":"a@example.com"}]},{"Uid":"u2","Email":[{"Type":"Primary","Value":"A@example.com"}]}]}`
	sim.Inject(lrsim.FaultRateLimit, 1)
	sim.Inject(lrsim.Fault503, 1)
	r, err := c.BulkUpsert(t.Context(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.Inserted != 1 || len(r.Failed) != 1 || r.Failed[0].Uid != "u2" || r.Failed[0].Email != "A@example.com" ||
		r.Failed[0].ErrorCode != 936 || !strings.Contains(r.Failed[0].Reason(), "already registered") {
		t.Fatalf("result %+v", r)
	}
	if len(sl.d) != 2 {
		t.Fatalf("a 429 and a 503 must be retried after a wait: %v", sl.d)
	}
	r, err = c.BulkUpsert(t.Context(), []byte(body))
	if err != nil || r.Updated != 1 || r.Inserted != 0 {
		t.Fatalf("again: %+v %v", r, err)
	}
	_, err = c.BulkUpsert(t.Context(), []byte(`{"Profiles":[]}`))
	if kind, code := fault.Classify(err); kind != fault.KindPermanent || code != "invalid_body" {
		t.Fatalf("empty: %v %s %v", kind, code, err)
	}
}

func TestAccountCallsAgainstTheSimulator(t *testing.T) {
	sim := lrsim.New(lrsim.Options{BcryptCost: 4})
	c, _ := simClient(t, sim, nil)
	ctx := t.Context()
	p, err := c.CreateAccount(ctx, []byte(`{"Uid":"a1","Email":[{"Type":"Primary","Value":"a@example.com"}],"FirstName":"A"}`))
	if err != nil || p.Uid() != "a1" {
		t.Fatalf("create: %v %v", p, err)
	}
	_, err = c.CreateAccount(ctx, []byte(`{"Uid":"a2","Email":[{"Type":"Primary","Value":"a@example.com"}]}`))
	if _, code := fault.Classify(err); code != "email_exists" {
		t.Fatalf("duplicate: %s %v", code, err)
	}
	if err := c.UpdateAccount(ctx, "a1", []byte(`{"LastName":"B"}`)); err != nil {
		t.Fatal(err)
	}
	if p, err = c.AccountByUID(ctx, "a1"); err != nil || p["LastName"] != "B" {
		t.Fatalf("by uid: %v %v", p, err)
	}
	if _, err = c.AccountByUID(ctx, "zz"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := c.UpdateAccount(ctx, "zz", []byte(`{}`)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	if p, err = c.AccountByEmail(ctx, "a@example.com"); err != nil || p.Uid() != "a1" {
		t.Fatalf("by email: %v %v", p, err)
	}
	if ok, err := c.EmailExists(ctx, "a@example.com"); err != nil || !ok {
		t.Fatalf("exists: %v %v", ok, err)
	}
	if ok, err := c.EmailExists(ctx, "b@example.com"); err != nil || ok {
		t.Fatalf("not exists: %v %v", ok, err)
	}
	bad, _ := NewClient(Config{APIKey: sim.APIKey(), APISecret: "wrong-secret", APIURL: c.api, MigrationURL: c.migration, AllowHTTP: true})
	_, err = bad.AccountByUID(ctx, "a1")
	if _, code := fault.Classify(err); code != "unauthorized" || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("wrong secret: %s %v", code, err)
	}
	_, err = bad.BulkUpsert(ctx, []byte(`{"Profiles":[{}]}`))
	if _, code := fault.Classify(err); code != "unauthorized" || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("bulk with a wrong secret: %s %v", code, err)
	}
}

// classify is the one place answers become transient or permanent.
func TestClassify(t *testing.T) {
	cases := []struct {
		status int
		body   string
		kind   fault.Kind
		code   string
	}{
		{429, `{"ErrorCode":429,"Message":"Too many requests in a particular time frame"}`, fault.KindTransient, "rate_limited"},
		{500, `{"ErrorCode":950}`, fault.KindTransient, "server_error"},
		{502, `<html>bad gateway</html>`, fault.KindTransient, "server_error"},
		{408, ``, fault.KindTransient, "server_error"},
		{413, ``, fault.KindPermanent, "request_too_large"},
		{400, `{"ErrorCode":7914,"Message":"Post body is invalid"}`, fault.KindPermanent, "invalid_body"},
		{401, `{"ErrorCode":6002,"Message":"Access Unauthorized"}`, fault.KindPermanent, "unauthorized"},
		{403, `{"ErrorCode":936}`, fault.KindPermanent, "email_exists"},
		{403, `{"ErrorCode":938}`, fault.KindPermanent, "not_found"},
		{403, `{"ErrorCode":1234}`, fault.KindPermanent, "lr_1234"},
		{403, ``, fault.KindPermanent, "unauthorized"},
		{418, ``, fault.KindPermanent, "http_418"},
	}
	for _, c := range cases {
		err := classify("op", c.status, []byte(c.body))
		if kind, code := fault.Classify(err); kind != c.kind || code != c.code {
			t.Errorf("%d %s: %v %s, want %v %s", c.status, c.body, kind, code, c.kind, c.code)
		}
	}
}

// Failed items of undocumented shapes are read as far as they go.
func TestParseFailed(t *testing.T) {
	for raw, want := range map[string]Failed{
		`{"Uid":"u1","Email":[{"Type":"Primary","Value":"a@x.com"}],"ErrorCode":936,"Message":"m","Description":"d"}`: {Uid: "u1", Email: "a@x.com", ErrorCode: 936, Message: "m", Description: "d"},
		`{"Profile":{"Uid":"u2","Email":"b@x.com"},"Message":"m"}`:                                                    {Uid: "u2", Email: "b@x.com", Message: "m"},
		`"email already exists"`: {Message: "email already exists"},
		`42`:                     {},
	} {
		got := parseFailed([]byte(raw))
		got.Raw = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", raw, got, want)
		}
		if got := parseFailed([]byte(raw)).Reason(); got == "" {
			t.Errorf("%s: no reason", raw)
		}
	}
}

// A 429 with Retry-After waits that long; the secret of the bulk URL never
// shows in an error; retries run out into a transient error.
func TestRetriesAndRedaction(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
			return
		}
		w.WriteHeader(503)
		_, _ = w.Write([]byte(r.URL.RawQuery)) // echoes the secret
	}))
	defer srv.Close()
	sl := &sleeps{}
	c, err := NewClient(Config{APIKey: "k", APISecret: "s3cr3t/+", MigrationURL: srv.URL, APIURL: srv.URL, AllowHTTP: true, MaxRetries: 2, Sleep: sl.sleep})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.BulkUpsert(t.Context(), []byte(`{}`))
	if !fault.IsTransient(err) || strings.Contains(err.Error(), "s3cr3t") || calls != 3 {
		t.Fatalf("%d calls: %v", calls, err)
	}
	if len(sl.d) != 2 || sl.d[0] != 7*time.Second {
		t.Fatalf("waits %v", sl.d)
	}
	if s := c.cfg.String(); strings.Contains(s, "s3cr3t") {
		t.Fatalf("config string %s", s)
	}
	if _, err := NewClient(Config{APIKey: "k", APISecret: "s", APIURL: "http://x"}); err == nil {
		t.Fatal("plain http accepted without AllowHTTP")
	}
	if _, err := NewClient(Config{APIKey: "k"}); err == nil {
		t.Fatal("no secret accepted")
	}
}

// The rate limiter spaces requests: 20 per second, burst 1, 6 calls take
// at least a quarter second.
func TestRateLimit(t *testing.T) {
	sim := lrsim.New(lrsim.Options{BcryptCost: 4})
	c, _ := simClient(t, sim, func(cfg *Config) { cfg.Rate, cfg.Burst = 20, 1 })
	began := time.Now()
	for range 6 {
		if _, err := c.EmailExists(t.Context(), "a@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(began); d < 240*time.Millisecond {
		t.Fatalf("6 requests at 20/s took %v", d)
	}
}
